"""The exercise notebooks: generated from the solutions (never drifting), complete, and checked.

The solution notebook in notebooks/solutions/ is the single source; tools/make_exercises.py writes
the student notebook in notebooks/exercises/ with every answer replaced by a starter. These tests
fail when someone edits one side by hand, when an exercise has no check, or when the stored check
outputs are not "✓" in the solutions and "not answered yet" in the student version.
"""

import doctest
import re
from pathlib import Path

import nbformat
import pytest

from gdlessons import check
from tools import make_exercises

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("[0-9]*_solutions.ipynb"))
EXERCISES = sorted((ROOT / "notebooks" / "exercises").glob("[0-9]*_exercises.ipynb"))
LESSONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
CHECK_CALL = re.compile(r"^check\.(ex\d\d_\d+)\(", re.MULTILINE)


tool = make_exercises


def read(path):
    return nbformat.read(path, as_version=4)


def check_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)]


def stdout(cell):
    return "".join(o.text for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


def name(path):
    return path.name


def test_every_solution_has_a_student_notebook_and_back():
    assert SOLUTIONS, "no solution notebooks"
    assert [tool.exercise_path(p) for p in SOLUTIONS] == EXERCISES


def test_every_exercise_set_belongs_to_a_lesson():
    lessons = {p.stem for p in LESSONS}
    assert {p.stem.removesuffix("_solutions") for p in SOLUTIONS} <= lessons


@pytest.mark.parametrize("lesson", LESSONS, ids=name)
def test_a_lesson_links_only_to_exercises_that_exist(lesson):
    for cell in read(lesson).cells:
        for link in re.findall(r"\((exercises/[^)]+\.ipynb)\)", cell.source):
            assert (lesson.parent / link).exists(), (
                f"{lesson.name} links to {link}, which does not exist"
            )


@pytest.mark.parametrize("solution", SOLUTIONS, ids=name)
def test_the_student_notebook_is_generated_from_the_solution(solution):
    generated = tool.student_notebook(read(solution), solution.name)
    committed = read(tool.exercise_path(solution))
    want = [(c.cell_type, c.source) for c in generated.cells]
    have = [(c.cell_type, c.source) for c in committed.cells]
    assert have == want, (
        "the student notebook drifted: run `make exercises` (edit the solution, never the exercise)"
    )


@pytest.mark.parametrize("solution", SOLUTIONS, ids=name)
def test_every_answer_has_a_starter_and_no_solution_leaks(solution):
    blocks = sum(
        c.source.count("### BEGIN SOLUTION") for c in read(solution).cells if c.cell_type == "code"
    )
    student = read(tool.exercise_path(solution))
    text = "\n".join(c.source for c in student.cells)
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert "BEGIN SOLUTION" not in text and "END SOLUTION" not in text
    assert blocks >= 3, "each exercise set has at least 3 exercises"
    assert code.count("# YOUR CODE HERE") == blocks


@pytest.mark.parametrize("solution", SOLUTIONS, ids=name)
def test_each_lesson_checks_every_exercise_of_its_own_once(solution):
    used = [
        m
        for c in read(solution).cells
        if c.cell_type == "code"
        for m in CHECK_CALL.findall(c.source)
    ]
    lessons = {name.split("_")[0] for name in used}  # exNN: the checks' number, not the file's
    assert len(lessons) == 1, f"{solution.name} calls the checks of several lessons: {sorted(used)}"
    prefix = f"{lessons.pop()}_"
    own = sorted(n for n in check.__all__ if n.startswith(prefix))
    assert sorted(used) == own, f"{solution.name} calls {sorted(used)}, check has {own}"
    assert 3 <= len(own) <= 5


@pytest.mark.parametrize("solution", SOLUTIONS, ids=name)
def test_the_solutions_pass_every_check(solution):
    for cell in check_cells(read(solution)):
        out = stdout(cell)
        assert out.startswith("✓ Exercise") and out.count("\n") == 1, f"{cell.source}: {out!r}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=name)
def test_the_student_notebook_runs_and_says_not_answered_yet(exercise):
    for cell in check_cells(read(exercise)):
        out = stdout(cell)
        assert out.startswith("… Exercise") and "not answered yet" in out, f"{cell.source}: {out!r}"


def student(*cells):
    nb = nbformat.v4.new_notebook(cells=list(cells))
    return [c.source for c in tool.student_notebook(nb, "x_solutions.ipynb").cells]


def test_a_solution_block_becomes_a_starter_at_its_indentation():
    source = (
        "def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
    )
    starter = "def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError\n"
    assert student(nbformat.v4.new_code_cell(source + "\n\nprint('kept')")) == [
        starter + "\n\nprint('kept')"
    ]


def test_the_student_notebook_has_no_outputs():
    cell = nbformat.v4.new_code_cell("print(1)", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    nb = tool.student_notebook(nbformat.v4.new_notebook(cells=[cell]))
    assert nb.cells[0].outputs == [] and nb.cells[0].execution_count is None


@pytest.mark.parametrize(
    "source",
    [
        "### BEGIN SOLUTION\nlr = 0.1\n### END SOLUTION",  # a top-level raise stops the notebook
        "def f():\n    ### BEGIN SOLUTION\n    return 1",
        "def f():\n    return 1\n    ### END SOLUTION",
        "def f():\n" + "    ### BEGIN SOLUTION\n" * 2 + "    ### END SOLUTION\n" * 2,
    ],
    ids=["top_level", "no_end", "no_begin", "nested"],
)
def test_bad_markers_are_refused_with_the_notebook_and_cell(source):
    with pytest.raises(tool.MarkerError, match=r"x_solutions.ipynb, cell 0: "):
        student(nbformat.v4.new_code_cell(source))


def test_a_written_answer_becomes_a_prompt_cell_graded_by_hand():
    source = (
        "Why?\n\n<!-- BEGIN SOLUTION -->\nBecause |1 - lr L| < 1.\n<!-- END SOLUTION -->\n\nNext."
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(source)])
    cells = tool.student_notebook(nb, "x_solutions.ipynb").cells
    assert [c.source for c in cells] == ["Why?", "**Your answer:** *write it here.*", "Next."]
    answer = cells[1].metadata["nbgrader"]
    assert answer["grade"] and answer["solution"] and answer["points"] == tool.WRITTEN_POINTS


def test_a_solution_notebook_must_be_named_solutions():
    with pytest.raises(tool.MarkerError, match="NN_name_solutions.ipynb"):
        tool.exercise_path(Path("notebooks/solutions/01_a.ipynb"))


def test_verify_mode_reports_the_exercises_up_to_date(capsys):
    assert tool.main(["--verify"]) == 0
    assert capsys.readouterr().out.count("ok ") == len(SOLUTIONS)


def test_the_tools_examples_run():
    assert doctest.testmod(tool).failed == 0
