"""Synthetic but realistic instruction pairs for benchmarks: functions in Python, GDScript and
JavaScript with made-up identifiers, comments, loops and branches (3–40 lines), instructions
phrased the way the labeller phrases them, plus planted near-duplicates and eval leaks."""
from __future__ import annotations

import random
import re

NOUNS = ("player enemy bullet score level inventory item weapon health mana timer camera path node "
         "tile map grid cell queue stack buffer packet socket message user account order invoice cart "
         "price token parser lexer config setting file record row column table index cache session").split()
VERBS = ("update spawn load save parse render compute apply reset validate find sort merge filter "
         "build encode decode send receive open close move rotate scale clamp normalize").split()
LANGUAGES = ("python", "gdscript", "javascript")


def identifier(rng: random.Random, camel: bool = False) -> str:
    words = [rng.choice(VERBS), rng.choice(NOUNS)] + ([rng.choice(NOUNS)] if rng.random() < 0.4 else [])
    if camel:
        return words[0] + "".join(w.title() for w in words[1:])
    return "_".join(words)


def _body_lines(rng: random.Random, lang: str, names: list[str], depth: int = 1) -> list[str]:
    ind = ("\t" if lang == "gdscript" else "    ") * depth
    end = ";" if lang == "javascript" else ""
    lines = []
    for _ in range(rng.randint(2, 9) if depth == 1 else rng.randint(1, 3)):
        a, b = rng.choice(names), rng.choice(names)
        kind = rng.random()
        if kind < 0.15:
            lines.append(f"{ind}{'#' if lang != 'javascript' else '//'} {rng.choice(VERBS)} the {rng.choice(NOUNS)} "
                         f"before the {rng.choice(NOUNS)} changes")
        elif kind < 0.35 and depth < 3:
            cond = f"{a} > {rng.randint(0, 100)}"
            head = {"python": f"if {cond}:", "gdscript": f"if {cond}:", "javascript": f"if ({cond}) {{"}[lang]
            lines.append(ind + head)
            lines += _body_lines(rng, lang, names, depth + 1)
            if lang == "javascript":
                lines.append(ind + "}")
        elif kind < 0.5 and depth < 3:
            it = rng.choice(names)
            head = {"python": f"for item in {it}:", "gdscript": f"for item in {it}:",
                    "javascript": f"for (const item of {it}) {{"}[lang]
            lines.append(ind + head)
            lines.append(ind + ("\t" if lang == "gdscript" else "    ") + f"{b} += item.{rng.choice(NOUNS)}{end}")
            if lang == "javascript":
                lines.append(ind + "}")
        else:
            call = identifier(rng, camel=lang == "javascript")
            decl = {"python": "", "gdscript": "var " if rng.random() < 0.3 else "", "javascript": "let "}[lang]
            lines.append(f"{ind}{decl}{a} = {call}({b}, {rng.randint(1, 999)}){end}")
    return lines


def synthetic_function(rng: random.Random, lang: str | None = None) -> tuple[str, str, str]:
    """(language, function name, code)."""
    lang = lang or rng.choice(LANGUAGES)
    name = identifier(rng, camel=lang == "javascript")
    names = [rng.choice(NOUNS) + rng.choice(("", "s", "_count", "_list")) for _ in range(4)]
    args = ", ".join(names[:2])
    head = {"python": f"def {name}({args}):", "gdscript": f"func {name}({args}):",
            "javascript": f"function {name}({args}) {{"}[lang]
    lines = [head]
    if lang == "python" and rng.random() < 0.5:
        lines.append(f'    """{rng.choice(VERBS).title()} the {rng.choice(NOUNS)} for the {rng.choice(NOUNS)}."""')
    for _ in range(rng.randint(1, 3)):
        lines += _body_lines(rng, lang, names)
    ret = {"python": f"    return {names[2]}", "gdscript": f"\treturn {names[2]}", "javascript": f"    return {names[2]};\n}}"}
    lines.append(ret[lang])
    return lang, name, "\n".join(lines) + "\n"


def instruction_for(rng: random.Random, lang: str, name: str) -> str:
    words = re.split(r"_|(?=[A-Z])", name)
    what = " ".join(w.lower() for w in words if w)
    return (f"Write a {lang if lang != 'gdscript' else 'GDScript'} function that {what}"
            f"{rng.choice(['', ' and returns the result', ' given the current state', ' for every item in a list'])}.")


def mutate(rng: random.Random, code: str) -> str:
    """A near-duplicate: a renamed identifier, a changed constant, re-indentation or a dropped line."""
    choice = rng.random()
    if choice < 0.35:
        names = re.findall(r"\b[a-z]+_[a-z_]+\b", code)
        if names:
            old = rng.choice(names)
            return code.replace(old, old + "_v2")
    if choice < 0.6:
        return re.sub(r"\b\d+\b", lambda m: str(int(m.group()) + 1), code, count=1)
    if choice < 0.8:
        return code.replace("    ", "  ")
    lines = code.splitlines()
    if len(lines) > 4:
        del lines[rng.randrange(1, len(lines) - 1)]
    return "\n".join(lines) + "\n"


def pairs(n: int, seed: int = 0, near_dup_rate: float = 0.0) -> list[dict]:
    """n pairs (instruction/output/language); near_dup_rate of them mutate an earlier pair's code."""
    rng = random.Random(seed)
    out: list[dict] = []
    for i in range(n):
        if out and rng.random() < near_dup_rate:
            donor = rng.choice(out)
            out.append({"instruction": donor["instruction"], "output": mutate(rng, donor["output"]),
                        "language": donor["language"], "dup_of": donor["n"], "n": i})
            continue
        lang, name, code = synthetic_function(rng)
        out.append({"instruction": instruction_for(rng, lang, name), "output": code, "language": lang, "n": i})
    return out
