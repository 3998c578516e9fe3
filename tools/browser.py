"""The one Chromium every browser check uses: Debian's, started headless by Playwright, offline.

Playwright cannot download a browser of its own here, so the checks drive Debian's Chromium
(``apt-get install chromium``) with the flags that keep it from calling home: without them it tries
Google's hosts at every start, and this machine refuses those connections.

>>> CHROMIUM, "--disable-background-networking" in FLAGS
('/usr/bin/chromium', True)
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM", "FLAGS", "launch"]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-sync", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update"]


def launch(playwright: Any, chromium: str = CHROMIUM) -> Any:
    """Start ``chromium`` headless with ``FLAGS``; exit with a one-line hint if it is missing."""
    if not Path(chromium).is_file():
        sys.exit(f"error: no Chromium at {chromium}: sudo apt-get install chromium")
    return playwright.chromium.launch(executable_path=chromium, args=FLAGS)
