"""Write the exercises, notebooks/exercises/NN_name_exercises.ipynb, from the solutions.

``mark_cells`` makes a solution notebook nbgrader's source notebook; nbgrader's preprocessors then
do what ``nbgrader generate_assignment`` does. ``--verify`` only says whether they are up to date.
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
from nbgrader.preprocessors import ClearSolutions, ComputeChecksums, LockCells

from gdlessons.check import POINTS
from tools import ROOT
from tools.run_lessons import execute

__all__ = ["CHECK_CALL", "MarkerError", "WRITTEN_POINTS", "exercise_path", "main", "mark_cells"]
__all__ += ["student_notebook"]

SOLUTIONS = ROOT / "notebooks" / "solutions"
CODE_STUB = {"python": "# YOUR CODE HERE\nraise NotImplementedError"}
TEXT_STUB = "**Your answer:** *write it here.*"
# A check cell: only the call, `check.ex01_1(my_gradient)`; its points are check.POINTS["ex01_1"].
CHECK_CALL = re.compile(r"^check\.(ex\d\d_\d+)\(.*\)\s*$", re.MULTILINE)
WRITTEN_POINTS = 1  # each written answer, scored by hand in nbgrader's formgrader
_WRITTEN = re.compile(r"(?s)(.*?)(<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->)\n?(.*)")
_EXERCISE = re.compile(r"^## Exercise (\d+)\.(\d+)", re.MULTILINE)


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
    """Where the student version of a solution notebook goes: ../exercises/NN_name_exercises.ipynb."""
    if not solution.name.endswith("_solutions.ipynb"):
        raise MarkerError(f"{solution}: name a solution notebook NN_name_solutions.ipynb")
    name = solution.name.replace("_solutions.", "_exercises.")
    return solution.parent.parent / "exercises" / name


def _nbgrader(cell: nbformat.NotebookNode, grade_id: str, **kind: bool | int) -> None:
    flags = {"grade": False, "solution": False, "locked": False, **kind}
    cell.metadata["nbgrader"] = {"grade_id": grade_id, "schema_version": 3, **flags}


def mark_cells(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The solution notebook as nbgrader's source notebook (in place; marking twice changes nothing):
    a cell with a ``### BEGIN SOLUTION`` block (inside a function, so the notebook runs) is an
    answer cell; a check cell ``check.exNN_M(...)`` a locked test cell worth ``POINTS[exNN_M]``;
    a ``<!-- BEGIN SOLUTION -->`` written answer a markdown cell of its own graded by hand.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
    ...     "## Exercise 1.2 · Why?\\n\\n<!-- BEGIN SOLUTION -->\\nBecause.\\n<!-- END SOLUTION -->\\n\\nThen."),
    ...     nbformat.v4.new_code_cell("check.ex01_2(f)")])
    >>> [(c.source[:14], c.metadata.get("nbgrader", {})) for c in mark_cells(nb).cells[1:]]  # doctest: +NORMALIZE_WHITESPACE
    [('<!-- BEGIN SOL', {'grade_id': 'ex01_2_written', 'schema_version': 3, 'grade': True,
      'solution': True, 'locked': False, 'points': 1}),
     ('Then.', {}),
     ('check.ex01_2(f', {'grade_id': 'ex01_2', 'schema_version': 3, 'grade': True,
      'solution': False, 'locked': True, 'points': 1})]
    """
    cells, exercise = [], "ex00_0"
    for cell in solution.cells:
        parts = _WRITTEN.fullmatch(cell.source) if cell.cell_type == "markdown" else None
        if parts is None:
            cells.append(cell)
            continue
        texts = zip((part.strip("\n") for part in parts.groups()), ("", "-answer", "-after"))
        for number, (text, suffix) in enumerate((t, sfx) for t, sfx in texts if t):
            part = cell if number == 0 else nbformat.v4.new_markdown_cell()  # ids that stay put
            if number and cell.get("id"):
                part.id = cell.id + suffix
            part.source = text
            cells.append(part)
    used: set[str] = set()
    for index, cell in enumerate(cells):
        heading = _EXERCISE.search(cell.source) if cell.cell_type == "markdown" else None
        if heading:
            exercise = f"ex{int(heading[1]):02d}_{heading[2]}"
        call = CHECK_CALL.fullmatch(cell.source.strip()) if cell.cell_type == "code" else None
        defined = re.search(r"^def (\w+)\(", cell.source, re.MULTILINE)
        if call:
            _nbgrader(cell, call[1], grade=True, locked=True, points=POINTS[call[1]])
        elif "BEGIN SOLUTION" in cell.source and cell.cell_type == "markdown":
            grade_id = f"{exercise}_written"
            grade_id += f"_{index}" if grade_id in used else ""  # two in one exercise
            _nbgrader(cell, grade_id, grade=True, solution=True, points=WRITTEN_POINTS)
        elif "BEGIN SOLUTION" in cell.source:
            _nbgrader(cell, defined[1] if defined else f"answer_{index}", solution=True)
        used.add(cell.metadata.get("nbgrader", {}).get("grade_id", ""))
    solution.cells = cells
    return solution


def student_notebook(solution: nbformat.NotebookNode, name: str = "?") -> nbformat.NotebookNode:
    """A student copy of `solution`, as ``nbgrader generate_assignment`` makes it, outputs cleared."""
    clear = _ClearSolutions(code_stub=CODE_STUB, text_stub=TEXT_STUB)
    try:
        nb = clear.preprocess(mark_cells(copy.deepcopy(solution)), {})[0]
    except MarkerError as err:
        raise MarkerError(f"{name}, {err}") from None
    for preprocessor in (LockCells(), ComputeChecksums(), ClearOutputPreprocessor()):
        nb = preprocessor.preprocess(nb, {})[0]
    return nb


def _sources(nb: nbformat.NotebookNode) -> list[tuple[str, str, dict]]:
    return [(c.cell_type, c.source, c.metadata.get("nbgrader", {})) for c in nb.cells]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solutions", nargs="*", type=Path, help="default: notebooks/solutions/*")
    parser.add_argument("--verify", action="store_true", help="only say if they match")
    args = parser.parse_args(argv)
    stale = 0
    try:
        for path in args.solutions or sorted(SOLUTIONS.glob("[0-9]*_solutions.ipynb")):
            target, solution = exercise_path(path), nbformat.read(path, as_version=4)
            if args.verify:
                have = nbformat.read(target, as_version=4) if target.is_file() else solution
                ok = _sources(have) == _sources(student_notebook(solution, path.name))
                stale += not ok
                print(f"{'ok   ' if ok else 'STALE'} {target}")
                continue
            execute(mark_cells(solution), path.parent)
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
