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

__all__ = ["CHROMIUM", "FLAGS", "launch", "launch_args"]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-sync", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update"]


def launch_args(chromium: str = CHROMIUM) -> dict[str, Any]:
    """Playwright's launch arguments for ``chromium`` (tests/browser's pytest-playwright uses them).

    >>> launch_args("/bin/sh")["args"] == FLAGS
    True
    """
    if not Path(chromium).is_file():
        sys.exit(f"error: no Chromium at {chromium}: sudo apt-get install chromium")
    return {"executable_path": chromium, "args": FLAGS}


def launch(playwright: Any, chromium: str = CHROMIUM) -> Any:
    """Start ``chromium`` headless with ``FLAGS``; exit with a one-line hint if it is missing."""
    return playwright.chromium.launch(**launch_args(chromium))
