"""The hosted profile: on under SPACE_ID (a Hugging Face Space) or STUDIO_HOSTED=1."""
from __future__ import annotations

import os


def enabled(env=None) -> bool:
    env = os.environ if env is None else env
    return bool(env.get("SPACE_ID")) or (env.get("STUDIO_HOSTED") or "").strip() == "1"
