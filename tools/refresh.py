"""Refresh lessons after an edit: outputs re-executed in place, slide metadata, and their exercises.

python -m tools.refresh notebooks/05_modules_minibatches.ipynb   (make refresh LESSON=05)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

from tools import make_exercises, tag_slides
from tools.run_lessons import execute

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="+", type=Path)
    for path in parser.parse_args(argv).lessons:
        nb = nbformat.read(path, as_version=4)
        execute(nb, path.parent)  # a fresh kernel; no execution timestamps
        nbformat.write(nb, path)
        print(f"executed {path}")
        tag_slides.main([str(path)])
        solutions = path.parent / "solutions" / f"{path.stem}_solutions.ipynb"
        if solutions.is_file():
            make_exercises.main([str(solutions)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
