"""The Chat tab's FastChat battle import/export (pipeline.chat.fastchat_votes), as plain functions
the tab wires: an uploaded file in, a report line out; an export written under the data folder."""
from __future__ import annotations

from pipeline.store import Store


def import_battles_file(store: Store, path: str | None) -> str:
    """Import a FastChat battle file into the votes; the Markdown report (first 10 bad lines)."""
    from pipeline.chat import ChatError
    from pipeline.chat.fastchat_votes import import_battles

    if not path:
        raise ChatError("choose a FastChat battle file (.json or .jsonl) first")
    report = import_battles(store, path)
    lines = [f"Imported **{report['imported']}** votes from {report['file']} ({report['already_present']} already "
             f"present, {report['malformed']} bad records); the leaderboard marks them as imported."]
    lines += [f"- line {e['line']}: {e['error']}" for e in report["errors"][:10]]
    return "\n".join(lines)


def export_battles_file(store: Store) -> str:
    """Every vote as a FastChat battle file under the data folder's exports; its path."""
    from pipeline.chat.fastchat_votes import export_battles
    from pipeline.paths import named_path

    return export_battles(store, named_path("exports", "arena-battles", ".json"))["path"]
