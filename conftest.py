"""What `make test` checks on the notebooks, on top of nbval's strict output comparison.

nbval executes every notebook in a fresh kernel and compares each cell's outputs with the stored
ones. In the same kernel, this plugin runs every code cell a **second** time and checks again: the
second run must match the stored outputs too, and the first run exactly (images by content), so
every cell is safe to re-run, as students do all the time. One execution of each notebook serves
both checks.

Order independence follows from fresh kernels plus one more check made here: running a notebook
leaves the repository as it was (`git status` unchanged: nothing written, nothing changed), so no
notebook can hand state to another, and any order of the notebooks gives the same outputs.

One line per notebook is printed when its last cell is done, so a long run shows its progress.
"""

from __future__ import annotations

import copy
import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

# The repository whose `git status` must not change (tests point it at a scratch repository).
ROOT = Path(os.environ.get("NOTEBOOK_CHECK_ROOT", Path(__file__).resolve().parent))


# NOTEBOOK_RERUN=0 runs each cell once (make test-portable: the re-run check is make test's).
RERUN = os.environ.get("NOTEBOOK_RERUN", "1") != "0"


def _git_status() -> str:
    """What git sees changed or new in the repository (ignored build outputs left out)."""
    command = ["git", "status", "--porcelain", "--untracked-files=all"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True).stdout


def _seen(outputs) -> list:
    """A cell's outputs as a student sees them: text as is, images by content hash."""
    seen = []
    for out in outputs:
        for mime, value in sorted(out.get("data", {}).items()):
            text = value if isinstance(value, str) else "".join(value)
            seen.append(
                (mime, hashlib.sha256(text.encode()).hexdigest() if "image" in mime else text)
            )
        if "text" in out:
            seen.append((out.get("name"), out["text"]))
    return seen


def _is_nbval_cell(item) -> bool:
    return type(item).__name__ == "IPyNbCell"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    stored = copy.deepcopy(item.cell.outputs) if _is_nbval_cell(item) else None
    result = yield  # nbval ran the cell once and compared it with the stored outputs
    if _is_nbval_cell(item) and not item.options.get("skip") and RERUN:
        first = _seen(item.test_outputs or [])
        item.cell.outputs = stored  # nbval merges the stored stream outputs in place: start afresh
        item.runtest()  # again, in the same kernel, compared with the stored outputs again
        if _seen(item.test_outputs or []) != first:
            pytest.fail(
                f"cell {item.cell_num} gives other output when run a second time (a training "
                f"cell must re-create its parameters):\n{item.cell.source}",
                pytrace=False,
            )
    return result


class NotebookProgress:
    """Per notebook: the repository is unchanged after it ran, and a line when it is done."""

    def __init__(self, config):
        self.config = config
        self.cells: dict[str, int] = {}
        self.failed: set[str] = set()
        self.start = time.monotonic()
        self.status = _git_status()
        # Cells run twice only under nbval (make test); nbmake (make test-compat) runs them once.
        nbval = config.getoption("nbval", False) or config.getoption("nbval_lax", False)
        self.twice = RERUN and nbval

    def count(self, nodeids) -> None:
        if not self.cells:
            for nodeid in nodeids:
                if ".ipynb::" in nodeid:
                    notebook = nodeid.split("::")[0]
                    self.cells[notebook] = self.cells.get(notebook, 0) + 1

    def pytest_collection_finish(self, session):
        self.count(item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        self.count(ids)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item, nextitem):
        result = yield
        last = nextitem is None or nextitem.parent is not item.parent
        if _is_nbval_cell(item) and last and (now := _git_status()) != self.status:
            changed = sorted(set(now.splitlines()) ^ set(self.status.splitlines()))
            raise AssertionError(
                f"the repository changed while {item.parent.name} ran ({'; '.join(changed[:3])}):"
                " a notebook must not write files (another one could read them, and outputs "
                "would depend on the order). Edited a file during `make test`? Run it again."
            )
        return result

    def pytest_runtest_logreport(self, report):
        if ".ipynb::" not in report.nodeid:
            return
        notebook = report.nodeid.split("::")[0]
        if report.failed:
            self.failed.add(notebook)
        if report.when == "teardown" and notebook in self.cells:
            self.cells[notebook] -= 1
            if self.cells[notebook] == 0:
                verdict = (
                    "FAILED"
                    if notebook in self.failed
                    else "ok" + ", every cell run twice" * self.twice
                )
                reporter = self.config.pluginmanager.get_plugin("terminalreporter")
                seconds = time.monotonic() - self.start
                if reporter is not None:
                    reporter.write_line(f"{notebook}: {verdict} ({seconds:.0f} s into the run)")


def pytest_configure(config):
    config.pluginmanager.register(NotebookProgress(config), "notebook-progress")
