"""An Ollama Modelfile whose TEMPLATE is the model's own chat template, in Ollama's Go syntax.

Ollama does not run Jinja, so the tokenizer's template is translated by rendering it (through the
tokenizer itself) on a conversation of marked placeholders and reading off what surrounds each
role's content: a prefix and a suffix per role, the generation prompt, and the default system
message the template adds when none is given (SmolLM2's does; it becomes SYSTEM). The result is
checked by rebuilding a second, different conversation from those pieces and comparing it with the
tokenizer's own rendering; a template that does not decompose this way (one that reorders or
rewrites messages) is refused with a message instead of shipping a wrong TEMPLATE.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pipeline.models import ModelError

ROLES = ("system", "user", "assistant")
PREFERRED = ("q4_k_m", "q8_0", "f16")  # what `Modelfile` (no suffix) points at, the common choice first


@dataclass
class ChatLayout:
    prefix: dict[str, str]
    suffix: dict[str, str]
    generation: str
    default_system: str | None
    bos: str

    def render(self, messages: list[dict], add_generation_prompt: bool = True) -> str:
        """The conversation as the layout writes it: what the Go template below produces."""
        if self.default_system and not any(m["role"] == "system" for m in messages):
            messages = [{"role": "system", "content": self.default_system}] + messages
        text = self.bos + "".join(self.prefix[m["role"]] + m["content"] + self.suffix[m["role"]] for m in messages)
        return text + (self.generation if add_generation_prompt else "")

    def go_template(self) -> str:
        def esc(s: str) -> str:  # literal text inside a Go template: only "{{" needs care
            return s.replace("{{", '{{ "{{" }}')

        # No "{{-" trimming: it would eat the newlines that are part of the template's own text.
        # Ollama gathers system messages into .System, so the range writes users and assistants.
        branches = []
        for i, role in enumerate(("user", "assistant")):
            head = "{{ if" if i == 0 else "{{ else if"
            branches.append(f'{head} eq .Role "{role}" }}}}{esc(self.prefix[role])}{{{{ .Content }}}}'
                            f'{esc(self.suffix[role])}')
        system = ("{{ if .System }}" + esc(self.prefix["system"]) + "{{ .System }}" + esc(self.suffix["system"])
                  + "{{ end }}")
        return (system + "{{ range .Messages }}" + "".join(branches) + "{{ end }}{{ end }}"
                + esc(self.generation))

    def stops(self) -> list[str]:
        marks = {s.strip() for s in self.suffix.values() if s.strip()}
        return sorted(marks)


def _split(text: str, marks: list[str]) -> list[str]:
    pieces, rest = [], text
    for mark in marks:
        if mark not in rest:
            raise ModelError("the chat template does not keep each message's content as it is")
        before, rest = rest.split(mark, 1)
        pieces.append(before)
    return pieces + [rest]


def derive_layout(tokenizer) -> ChatLayout:
    """Per-role prefix/suffix of `tokenizer`'s chat template (see the module's docstring)."""
    if not getattr(tokenizer, "chat_template", None):
        raise ModelError("the model has no chat template to put in a Modelfile")

    def render(msgs, gen):
        return tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=gen)

    marks = ["\x01S1\x01", "\x01U1\x01", "\x01A1\x01", "\x01U2\x01"]
    convo = [{"role": r, "content": m} for r, m in zip(("system", "user", "assistant", "user"), marks)]
    plain, with_gen = render(convo, False), render(convo, True)
    if not with_gen.startswith(plain):
        raise ModelError("the chat template's generation prompt does not follow the conversation")
    generation = with_gen[len(plain):]
    p0, p1, p2, p3, p4 = _split(plain, marks)
    suffix_user = p4
    if not p2.startswith(suffix_user) or not p1.startswith(suffix_user):
        raise ModelError("the chat template ends messages differently per role; no Modelfile TEMPLATE fits")
    # Messages end alike in every layout seen so far (ChatML, Llama 3, Zephyr…): the system's suffix is
    # taken to be the user's, and the check below proves it for this template.
    prefix_user = p1[len(suffix_user):]
    prefix_asst = p2[len(suffix_user):]
    if not p3.endswith(prefix_user):
        raise ModelError("the chat template starts a user message differently after an answer")
    suffix_asst = p3[:len(p3) - len(prefix_user)]
    # A template that writes {{ bos_token }} itself (Llama 3): the BOS is the tokenizer's to add, as
    # llama.cpp and Ollama do from the GGUF's add_bos_token, so it stays out of the TEMPLATE.
    bos = getattr(tokenizer, "bos_token", None) or ""
    bos = bos if bos and "bos_token" in tokenizer.chat_template and p0.startswith(bos) else ""
    layout = ChatLayout(prefix={"system": p0[len(bos):], "user": prefix_user, "assistant": prefix_asst},
                        suffix={"system": suffix_user, "user": suffix_user, "assistant": suffix_asst},
                        generation=generation, default_system=None, bos=bos)
    # A default system message: what the template writes before the first user message when none is given.
    alone = render([{"role": "user", "content": marks[1]}], True)
    head = alone.split(marks[1], 1)[0][len(bos):]
    if head != prefix_user:
        sys_text = head[:len(head) - len(prefix_user)] if head.endswith(prefix_user) else ""
        p, s = layout.prefix["system"], layout.suffix["system"]
        if not (sys_text.startswith(p) and sys_text.endswith(s)):
            raise ModelError("the chat template adds text before the first message that is not a system message")
        layout.default_system = sys_text[len(p):len(sys_text) - len(s)]
    check = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "def f(x):\n    return x"},
             {"role": "assistant", "content": "A function."}, {"role": "user", "content": "And {{ this }}?"}]
    for msgs in (check, check[1:], check[1:2]):
        if layout.render(msgs) != render(msgs, True):
            raise ModelError("the chat template does not decompose into per-role prefixes and suffixes")
    return layout


def modelfile_text(gguf_name: str, layout: ChatLayout) -> str:
    lines = [f"FROM ./{gguf_name}", "", f'TEMPLATE """{layout.go_template()}"""']
    if layout.default_system:
        lines.append(f'SYSTEM """{layout.default_system}"""')
    for stop in layout.stops():
        lines.append(f'PARAMETER stop "{stop}"')
    return "\n".join(lines) + "\n"


def write_modelfiles(out_dir: Path, files: dict[str, Path], model_folder: Path) -> dict[str, Path]:
    """`Modelfile.<quant>` per file and `Modelfile` for the preferred one; {quant: path}."""
    from transformers import AutoTokenizer

    try:
        layout = derive_layout(AutoTokenizer.from_pretrained(str(model_folder)))
        text = lambda name: modelfile_text(name, layout)
    except ModelError as exc:
        # The GGUFs stay usable: Ollama then reads the chat template stored in the GGUF itself.
        why = str(exc)
        text = lambda name: f"FROM ./{name}\n\n# No TEMPLATE: {why}\n"
    written = {}
    for quant, path in files.items():
        target = out_dir / f"Modelfile.{quant}"
        target.write_text(text(path.name), encoding="utf-8")
        written[quant] = target
    main = next((q for q in PREFERRED if q in files), next(iter(files)))
    (out_dir / "Modelfile").write_text(text(files[main].name), encoding="utf-8")
    return written
