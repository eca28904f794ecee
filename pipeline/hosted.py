"""The hosted profile: on under SPACE_ID (a Hugging Face Space) or STUDIO_HOSTED=1."""
from __future__ import annotations

import os


def enabled() -> bool:
    return bool(os.environ.get("SPACE_ID")) or os.environ.get("STUDIO_HOSTED", "").strip() == "1"
