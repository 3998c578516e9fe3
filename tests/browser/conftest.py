"""The browser tests (pytest-playwright) drive Debian's Chromium through tools/browser.py.

They read what `make html slides` built (build/html, build/slides): `make check-render` and
`make check-explorers` build it first and run them; `make test` leaves this folder out.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.browser import launch_args

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build/render"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """The one launcher's Chromium and flags (no calls home), whatever --browser says."""
    return {**browser_type_launch_args, **launch_args()}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """No request may leave the machine: the pages are files and the context is offline."""
    return {**browser_context_args, "offline": True}


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS
