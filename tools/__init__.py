"""The build and maintenance tools of the series: `python -m tools.NAME` from the repository root.

Each module's docstring says what it does; the browser tests are tests/browser/, `make test-compat`
is noxfile.py's. Neither the lessons nor ``gdlessons`` import anything from here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

__all__ = ["ROOT", "update_notebooks"]

ROOT = Path(__file__).resolve().parents[1]


def update_notebooks(paths: Iterable[str | Path], change: Callable, verify: bool, fix: str) -> int:
    """Write each notebook that `change` (in place, returns what changed) changes; with `verify`,
    write nothing and return 1 if one would change."""
    import nbformat  # not at the top: `make fresh-copy` runs tools.working_copy without the venv

    stale = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        if not (changed := change(nb)):
            print(f"ok      {path}")
            continue
        stale += 1
        which = ", ".join(map(str, changed[:8])) + " ..." * (len(changed) > 8)
        if not verify:
            nbformat.write(nb, path)
        print(f"{'STALE  ' if verify else 'updated'} {path} ({len(changed)} changed: {which})")
    if verify and stale:
        print(f"{stale} notebook(s) out of date: run {fix}", file=sys.stderr)
        return 1
    return 0
