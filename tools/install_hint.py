"""Put one comment line at the top of every notebook's first code cell: what to install when it is alone.

A notebook opened on its own (Colab, a JupyterHub, nbgrader's release/) fails at its first
`from gdlessons import ...` when the package is missing; its first line says what to run there,
with every extra the package declares (one answer to "what do I install"). Only that line
changes (a line written before is replaced), so stored outputs stay valid and each exercise set
stays what tools/make_exercises.py makes from its solutions.

    python -m tools.install_hint                    # every notebook under notebooks/
    python -m tools.install_hint --verify           # exit status 1 if a notebook lacks the line
    python -m tools.install_hint --source git+https://github.com/ORG/REPO   # from the repository
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import nbformat
import tomllib

from tools import ROOT, update_notebooks

__all__ = ["EXTRAS", "HINT_START", "add_hint", "hint", "main", "notebooks"]

HINT_START = "# Needs gdlessons."
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = tuple(PYPROJECT["project"]["optional-dependencies"])  # torch, explorers
_PACKAGE = re.compile(r"^\s*(from gdlessons\b|import gdlessons\b)", re.M)


def notebooks(root: Path = ROOT / "notebooks") -> list[Path]:
    """The lessons, exercises and solutions (numbered notebooks), sorted."""
    return sorted(
        p for f in ("", "exercises", "solutions") for p in (root / f).glob("[0-9]*.ipynb")
    )


def hint(source: str | None = None) -> str:
    """The comment line: what to install (from ``source``, a pip URL, if given).

    >>> print(hint())
    # Needs gdlessons. Missing (Colab, a hub)? Run: %pip install "gdlessons[torch,explorers]"
    >>> print(hint("git+https://example.org/gd.git").split("Run: ")[1])
    %pip install "gdlessons[torch,explorers] @ git+https://example.org/gd.git"
    """
    requirement = f"gdlessons[{','.join(EXTRAS)}]" + (f" @ {source}" if source else "")
    return f'{HINT_START} Missing (Colab, a hub)? Run: %pip install "{requirement}"'


def add_hint(nb: nbformat.NotebookNode, source: str | None = None) -> list[str]:
    """Put the line first in the first code cell (in place), replacing one written before, if the
    notebook uses the package; return ["install line"] if that changed the cell."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not _PACKAGE.search("\n".join(cell.source for cell in code)):
        return []
    lines = code[0].source.split("\n")
    if lines[0].startswith(HINT_START):  # written before: replaced
        lines = lines[1:]
    new = "\n".join([hint(source), *lines])
    if new == code[0].source:
        return []
    code[0].source = new
    return ["install line"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="default: every numbered notebook")
    parser.add_argument("--source", help='where pip gets gdlessons, e.g. "git+https://..."')
    parser.add_argument("--verify", action="store_true", help="only report notebooks to update")
    args = parser.parse_args(argv)
    change = partial(add_hint, source=args.source)
    return update_notebooks(
        args.paths or notebooks(), change, args.verify, "python -m tools.install_hint"
    )


if __name__ == "__main__":
    sys.exit(main())
