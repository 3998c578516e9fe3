"""Write the exercises, notebooks/exercises/NN_name_exercises.ipynb, from the solutions.

nbgrader's ClearSolutions turns each `### BEGIN SOLUTION` ... `### END SOLUTION` block (inside a
function, so the notebook still runs) into `# YOUR CODE HERE` + `raise NotImplementedError`, and
`<!-- BEGIN SOLUTION -->` ... `<!-- END SOLUTION -->` into a prompt; then both are executed.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearOutputPreprocessor
from nbgrader.preprocessors import ClearSolutions

from tools.run_lessons import execute

__all__ = ["MarkerError", "exercise_path", "main", "student_notebook"]

SOLUTIONS = Path(__file__).resolve().parents[1] / "notebooks" / "solutions"
CODE_STUB = {"python": "# YOUR CODE HERE\nraise NotImplementedError"}
TEXT_STUB = "**Your answer:** *write it here.*"


class MarkerError(ValueError):
    """Solution markers that are unbalanced or nested, or would stop the student notebook."""


class _ClearSolutions(ClearSolutions):
    def preprocess_cell(self, cell, resources, index):
        if cell.source.count("BEGIN SOLUTION") != cell.source.count("END SOLUTION"):
            raise MarkerError(f"cell {index}: unbalanced BEGIN SOLUTION / END SOLUTION markers")
        if cell.cell_type == "code" and re.search(r"(?m)^#+ BEGIN SOLUTION", cell.source):
            raise MarkerError(f"cell {index}: a top-level solution block would stop the notebook")
        try:
            return super().preprocess_cell(cell, resources, index)
        except RuntimeError as err:  # nbgrader's nested markers
            raise MarkerError(f"cell {index}: {err}") from None


def exercise_path(solution: Path) -> Path:
    """Where the student version of a solution notebook goes.

    >>> exercise_path(Path("notebooks/solutions/01_a_solutions.ipynb")).as_posix()
    'notebooks/exercises/01_a_exercises.ipynb'
    """
    if not solution.name.endswith("_solutions.ipynb"):
        raise MarkerError(f"{solution}: name a solution notebook NN_name_solutions.ipynb")
    return (
        solution.parent.parent / "exercises" / solution.name.replace("_solutions.", "_exercises.")
    )


def student_notebook(solution: nbformat.NotebookNode, name: str = "?") -> nbformat.NotebookNode:
    """A student copy of `solution`: every solution block replaced by its stub, outputs cleared."""
    clear = _ClearSolutions(code_stub=CODE_STUB, text_stub=TEXT_STUB, enforce_metadata=False)
    try:
        nb = clear.preprocess(copy.deepcopy(solution), {})[0]
    except MarkerError as err:
        raise MarkerError(f"{name}, {err}") from None
    return ClearOutputPreprocessor().preprocess(nb, {})[0]


def _sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def main(argv: Sequence[str] | None = None) -> int:
    """Regenerate (or --check) the exercises of the solutions given, by default all."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solutions", nargs="*", type=Path, help="default: notebooks/solutions/*")
    parser.add_argument("--check", action="store_true", help="only check the exercises match")
    args = parser.parse_args(argv)
    stale = 0
    try:
        for path in args.solutions or sorted(SOLUTIONS.glob("[0-9]*_solutions.ipynb")):
            target, solution = exercise_path(path), nbformat.read(path, as_version=4)
            if args.check:
                have = nbformat.read(target, as_version=4) if target.is_file() else solution
                ok = _sources(have) == _sources(student_notebook(solution, path.name))
                stale += not ok
                print(f"{'ok   ' if ok else 'STALE'} {target}")
                continue
            execute(solution, path.parent)
            nbformat.write(solution, path)
            student = student_notebook(solution, path.name)
            target.parent.mkdir(parents=True, exist_ok=True)
            execute(student, target.parent)
            nbformat.write(student, target)
            print(f"wrote {path} and {target}")
    except MarkerError as err:
        parser.exit(2, f"make_exercises: {err}\n")
    if stale:
        print(
            "stale: run `make exercises` (edit the solutions, never the exercises)", file=sys.stderr
        )
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
