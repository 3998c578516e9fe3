"""Write the student exercise notebooks from the solution notebooks, so the two never drift.

The single source of each exercise set is ``notebooks/solutions/NN_<lesson>.ipynb``. In it, the
answers sit between markers:

Code cells::

    def my_gradient(X, y, y_hat):
        ### BEGIN SOLUTION
        return float(np.mean(2 * X * (y_hat - y)))
        ### END SOLUTION

becomes, in ``notebooks/exercises/NN_<lesson>.ipynb``::

    def my_gradient(X, y, y_hat):
        # YOUR CODE HERE
        raise NotImplementedError

Defining the function does not raise, so the student notebook runs top to bottom; the check then
catches the NotImplementedError and prints "not answered yet". A value answer names what the
student starts with: ``### BEGIN SOLUTION (student: lr = None)`` becomes ``lr = None  # YOUR CODE
HERE``. A block at the top level of a cell must have such a replacement (a bare ``raise`` there
would stop the notebook).

Markdown cells: ``<!-- BEGIN SOLUTION -->`` … ``<!-- END SOLUTION -->`` becomes
``**Your answer:** *write it here.*``.

    python tools/make_exercises.py            # execute the solutions, then write and execute the exercises
    python tools/make_exercises.py --check    # only check that the exercises match (exit 1 if not)
    python tools/make_exercises.py notebooks/solutions/01_numpy_gradient_descent.ipynb   # just one
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "notebooks" / "solutions"
EXERCISES = ROOT / "notebooks" / "exercises"

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?:[ \t]*\(student:[ \t]*(?P<student>.*)\))?[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
MD_BLOCK = re.compile(r"<!-- BEGIN SOLUTION -->.*?<!-- END SOLUTION -->", re.DOTALL)
MD_ANSWER = "**Your answer:** *write it here.*"


class MarkerError(ValueError):
    """The solution markers of a cell are unbalanced or would make the student notebook raise."""


def student_code(source: str) -> str:
    """The student version of a code cell's source: each solution block replaced by a starter.

    >>> print(student_code("def f(x):\\n    ### BEGIN SOLUTION\\n    return 2 * x\\n    ### END SOLUTION"))
    def f(x):
        # YOUR CODE HERE
        raise NotImplementedError
    >>> print(student_code("### BEGIN SOLUTION (student: lr = None)\\nlr = 0.1\\n### END SOLUTION"))
    lr = None  # YOUR CODE HERE
    """
    out: list[str] = []
    block: re.Match[str] | None = None
    for number, line in enumerate(source.splitlines(), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if block is None and begin:
            block = begin
        elif block is None and end:
            raise MarkerError(f"line {number}: ### END SOLUTION without a ### BEGIN SOLUTION before it")
        elif block is not None and begin:
            raise MarkerError(f"line {number}: ### BEGIN SOLUTION inside another solution block")
        elif block is not None and end:
            out.append(_starter(block, number))
            block = None
        elif block is None:
            out.append(line)
    if block is not None:
        raise MarkerError("### BEGIN SOLUTION without ### END SOLUTION")
    return "\n".join(out)


def _starter(begin: re.Match[str], line: int) -> str:
    indent, student = begin["indent"], begin["student"]
    if student is not None:
        return f"{indent}{student.strip()}  # YOUR CODE HERE"
    if not indent:
        raise MarkerError(
            f"line {line}: a solution block at the top level of a cell needs a value to start from, "
            "e.g. '### BEGIN SOLUTION (student: lr = None)'; a bare raise there would stop the notebook"
        )
    return f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError"


def student_markdown(source: str) -> str:
    """The student version of a markdown cell: each answer block replaced by a prompt.

    >>> student_markdown("Why? <!-- BEGIN SOLUTION -->Because 2/L.<!-- END SOLUTION -->")
    'Why? **Your answer:** *write it here.*'
    """
    if source.count("<!-- BEGIN SOLUTION -->") != source.count("<!-- END SOLUTION -->"):
        raise MarkerError("unbalanced <!-- BEGIN SOLUTION --> / <!-- END SOLUTION --> markers")
    return MD_BLOCK.sub(MD_ANSWER, source)


def student_notebook(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student notebook for a solution notebook: same cells, answers replaced, outputs cleared."""
    nb = copy.deepcopy(solution)
    for index, cell in enumerate(nb.cells):
        try:
            if cell.cell_type == "code":
                cell.source = student_code(cell.source)
                cell.outputs, cell.execution_count = [], None
            elif cell.cell_type == "markdown":
                cell.source = student_markdown(cell.source)
        except MarkerError as err:
            raise MarkerError(f"{name}, cell {index}: {err}") from None
    return nb


def execute(nb: nbformat.NotebookNode, path: Path) -> None:
    """Execute in place in a fresh kernel, with the lessons' settings (cwd = the notebook's folder)."""
    from nbclient import NotebookClient

    os.environ["PYTHONHASHSEED"] = "0"  # inherited by the kernel
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("solutions", nargs="*", type=Path, help="solution notebooks (default: all)")
    parser.add_argument("--check", action="store_true", help="only check that the exercise notebooks match")
    parser.add_argument("--no-execute", action="store_true", help="write the exercise sources without executing")
    args = parser.parse_args()
    paths = args.solutions or sorted(SOLUTIONS.glob("[0-9]*.ipynb"))
    stale = 0
    for path in paths:
        path = path.resolve()
        target = EXERCISES / path.name
        if args.check:
            want = [(c.cell_type, c.source) for c in student_notebook(nbformat.read(path, as_version=4), path.name).cells]
            have = [(c.cell_type, c.source) for c in nbformat.read(target, as_version=4).cells] if target.exists() else None
            ok = want == have
            stale += not ok
            print(f"{'ok   ' if ok else 'STALE'} {target.relative_to(ROOT)}")
            continue
        solution = nbformat.read(path, as_version=4)
        if not args.no_execute:
            execute(solution, path)
            nbformat.write(solution, path)
        student = student_notebook(solution, path.name)
        if not args.no_execute:
            execute(student, target)
        EXERCISES.mkdir(parents=True, exist_ok=True)
        nbformat.write(student, target)
        print(f"wrote {path.relative_to(ROOT)} and {target.relative_to(ROOT)}")
    if stale:
        print("run: python tools/make_exercises.py   (the solutions notebook is the source)", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
