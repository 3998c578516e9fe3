"""The browser tests (pytest-playwright): the one Chromium launcher, JupyterLab, the reports.

Playwright cannot download a browser of its own here, so every browser test drives Debian's
Chromium (``apt-get install chromium``) with the flags that keep it from calling home: without them
it tries Google's hosts at every start, and this machine refuses those connections.

The tests read what `make html slides` built (build/html, build/slides): `make check-render`,
`make check-explorers` and `make check-lab` build it first and run them; `make test` leaves this
folder out. Screenshots and reports (axe.md, slide-fit-WxH.md) go to build/render/.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pytest
from browser_helpers import PARTS, ROOT, SHOTS
from installs import jupyter_server

from gdlessons.parallel import free_port

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-sync", "--no-first-run"]
FLAGS += ["--disable-background-networking", "--disable-component-update"]
REPORTS = {  # the reports joined from each test's part, and their headings
    "axe": "# axe-core violations\n\n| page | rule | impact | count | first target |\n"
    "|---|---|---|---:|---|",
    "slide-fit-1280x720": "# Slides that do not fit 1280x720",
    "slide-fit-1920x1080": "# Slides that do not fit 1920x1080",
}


def pytest_report_header() -> str:
    """Which Chromium, and whether this run can reach a network at all (make check-render's own
    network namespace has only a loopback interface, down)."""
    interfaces = sorted(os.listdir("/sys/class/net")) if Path("/sys/class/net").is_dir() else []
    net = "no network" if interfaces in ([], ["lo"]) else "network on"
    return f"{CHROMIUM}: {net}; every request is checked"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The JupyterLab tests (the slowest, mostly waiting on Lab) first, so that xdist's two
    workers finish together; the rest in their order."""
    items.sort(key=lambda item: "lab" not in getattr(item, "fixturenames", ()))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Join each report's parts into build/render/NAME.md: one part a page or deck, written by
    its latest run (on any xdist worker; joined once, by the controller)."""
    if hasattr(session.config, "workerinput"):  # an xdist worker
        return
    for name, heading in REPORTS.items():
        parts = sorted((PARTS / name).glob("*.md"))
        if parts:
            text = "\n".join(p.read_text().rstrip("\n") for p in parts)
            (SHOTS / f"{name}.md").write_text(f"{heading}\n{text}\n")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """The one launcher: Debian's Chromium and the flags above, whatever --browser says."""
    if not Path(CHROMIUM).is_file():
        pytest.exit(f"error: no Chromium at {CHROMIUM}: sudo apt-get install chromium", 1)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": FLAGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """No request may leave the machine: the pages are files and the context is offline (the
    JupyterLab tests, whose pages come from 127.0.0.1, mark themselves offline=False)."""
    return {**browser_context_args, "offline": True}


@pytest.fixture(scope="session")
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


@pytest.fixture
def lab(tmp_path: Path):
    """`make lab` as a student starts it, on a free port, with fresh Lab settings and working copy
    under tmp_path: a dict with url, token, work (tmp_path) and log. Stopped after the test."""
    port, token = free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        JUPYTER_TOKEN=token,
        JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "workspaces"),
    )
    log = tmp_path / "lab.log"
    options = [f"LAB_PORT={port}", "LAB_OPTS=--no-browser", f"WORK_DIR={tmp_path / 'my-work'}"]
    url = f"http://127.0.0.1:{port}"
    command = ["make", "--no-print-directory", "lab", *options]
    with jupyter_server(command, url, token, log, cwd=ROOT, env=env):
        yield {"url": url, "token": token, "work": tmp_path, "log": log}
