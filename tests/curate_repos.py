"""Real git repositories for the curate tests, built commit by commit with the git CLI."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, env=GIT_ENV, check=True, capture_output=True,
                          text=True).stdout.strip()


def make_repo(path: Path, commits: list[tuple[str, dict[str, str | bytes | None]]]) -> Path:
    """A repo whose history is `commits`: (message, {path: new content, or None to delete})."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    for message, files in commits:
        for rel, content in files.items():
            target = path / rel
            if content is None:
                git(path, "rm", "-q", rel)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
            git(path, "add", rel)
        git(path, "commit", "-q", "--allow-empty", "-m", message)
    return path


def file_url(path: Path) -> str:
    return Path(path).resolve().as_uri()


PLAYER_V1 = "extends Node\n\nfunc jump(force):\n\tvelocity.y = -force\n\tplay('jump')\n\treturn true\n"
PLAYER_V2 = ("extends Node\n\nfunc jump(force):\n\tif not is_on_floor():\n\t\treturn false\n"
             "\tvelocity.y = -force\n\tplay('jump')\n\treturn true\n")
GAME_REPO = [
    ("Add the player script with jumping", {
        "project.godot": "config_version=5\n\n[application]\nconfig/name=\"Game\"\n",
        "player.gd": PLAYER_V1,
        "util.py": "def clamp(v, lo, hi):\n    # keep in range\n    return max(lo, min(hi, v))\n",
    }),
    ("Fix double jump when the player is in the air", {"player.gd": PLAYER_V2}),
    ("Merge branch 'dev' into main for the release", {"util.py": "def clamp(v, lo, hi):\n    return max(lo, min(hi, v))\n"}),
    ("Update both files in one commit please", {"player.gd": PLAYER_V2 + "\n", "util.py": "x = 1\n"}),
]
