"""Put one comment line at the top of every notebook's first code cell: what to install when it is alone.

A lesson, exercise or solution notebook opened on its own (Colab, a JupyterHub's assignment folder,
nbgrader's release/) fails at its first `from gdlessons import ...` when the package is missing.
The first code cell then starts with the one line that says what to run there, e.g.

    # Needs gdlessons. Missing (Colab, a hub)? Run: %pip install "gdlessons[torch,explorers]"

with every extra the package declares (torch, and Altair for the explorers): many notebooks need
torch only through gdlessons, and one line for all gives one answer to "what do I install". No
install machinery: a comment the student reads. The tool is idempotent: a line it wrote before is
replaced (never added twice), and nothing else changes (no output, execution count or metadata),
so the stored outputs stay valid and the exercises stay what tools/make_exercises.py makes from
their solutions (the same line goes into both).

    python -m tools.install_hint                    # every notebook under notebooks/
    python -m tools.install_hint --check            # exit status 1 if a notebook lacks the line
    python -m tools.install_hint --source git+https://github.com/ORG/REPO   # from the repository
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
import tomllib

__all__ = ["EXTRAS", "HINT_START", "apply", "hint", "hinted_source", "main", "notebooks"]

ROOT = Path(__file__).resolve().parents[1]
HINT_START = "# Needs gdlessons."
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS = tuple(PYPROJECT["project"]["optional-dependencies"])  # torch, explorers
_PACKAGE = re.compile(r"^\s*(from gdlessons\b|import gdlessons\b)", re.M)


def notebooks(root: Path = ROOT / "notebooks") -> list[Path]:
    """The lessons, exercises and solutions (numbered notebooks), sorted."""
    return sorted(
        path
        for folder in (root, root / "exercises", root / "solutions")
        for path in folder.glob("[0-9]*.ipynb")
    )


def hint(source: str | None = None) -> str:
    """The comment line: what to install (from ``source``, a pip URL, if given).

    >>> print(hint())
    # Needs gdlessons. Missing (Colab, a hub)? Run: %pip install "gdlessons[torch,explorers]"
    >>> print(hint("git+https://example.org/gd.git").split("Run: ")[1])
    %pip install "gdlessons[torch,explorers] @ git+https://example.org/gd.git"
    """
    requirement = f"gdlessons[{','.join(EXTRAS)}]"
    if source:
        requirement += f" @ {source}"
    return f'{HINT_START} Missing (Colab, a hub)? Run: %pip install "{requirement}"'


def hinted_source(cell_source: str, line: str) -> str:
    """The cell's source with ``line`` first, replacing a hint line written before.

    >>> hinted_source("# Needs gdlessons. old\\nimport gdlessons", "# Needs gdlessons. new")
    '# Needs gdlessons. new\\nimport gdlessons'
    """
    lines = cell_source.split("\n")
    if lines and lines[0].startswith(HINT_START):
        lines = lines[1:]
    return "\n".join([line, *lines])


def apply(path: Path, source: str | None = None, write: bool = True) -> bool:
    """Add or update the line in one notebook; True if it changed (or, with write=False, would)."""
    nb = nbformat.read(path, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    everything = "\n".join(cell.source for cell in code)
    if not code or not _PACKAGE.search(everything):
        return False  # a notebook that does not use the package needs no line
    new = hinted_source(code[0].source, hint(source))
    if new == code[0].source:
        return False
    if write:
        code[0].source = new
        nbformat.write(nb, path)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Update the notebooks given (default: all); --check only reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="default: every numbered notebook")
    parser.add_argument("--source", help='where pip gets gdlessons, e.g. "git+https://..."')
    parser.add_argument("--check", action="store_true", help="only report notebooks to update")
    args = parser.parse_args(argv)
    paths = args.paths or notebooks()
    changed = [path for path in paths if apply(path, args.source, write=not args.check)]
    for path in changed:
        print(f"{'needs the line' if args.check else 'updated'}: {path}")
    if not changed:
        print(f"all {len(paths)} notebooks carry the line")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
