"""`make grade`: synthetic submissions of exercise set 01 graded on nbgrader's workflow, in sandboxes.

One grading run (module fixture) covers: all right, all wrong, a mix (right, wrong, endless loop, a
network socket, not answered, a forged ✓ line, a cell that overwrites the gradebook), syntax errors
and exceptions, the untouched starter notebook, a file that is not a notebook, and two students
who patch the checks (setattr on gdlessons.check; a re-import under another name). The tests then
read nbgrader's gradebook through its API, the CSV, the feedback pages, and check that the
submissions were not modified.
"""

import contextlib
import csv
import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from gdlessons.check import POINTS
from tools import grade, grade_tamper

# nbgrader's gradebook API warns about its own SQLAlchemy sessions (adding a submission): harmless
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")
ROOT = Path(__file__).resolve().parents[1]
NAME = "01_numpy_gradient_descent_exercises.ipynb"
ASSIGNMENT, NOTEBOOK = grade.assignments()["01"]
STARTER = ROOT / "notebooks" / "exercises" / NAME
SOLUTION = ROOT / "notebooks" / "solutions" / NAME.replace("_exercises", "_solutions")
TIMEOUT = 24  # seconds per notebook; each cell gets a third (8 s: an endless loop costs 8 s)
EXERCISES = [f"ex01_{k}" for k in range(1, 6)]
PATCH = """import gdlessons.check as _c, gdlessons.check.core as _core
for _n in list(_core.POINTS):
    setattr(_c, _n, lambda *a, _n=_n, **k: _core.Verdict(_n, "pass", "right", 999, 1))"""
REIMPORT = """grading = __import__("gdlessons.check", fromlist=["check"])
for name in grading.POINTS:
    vars(grading)[name] = lambda *a, _n=name, **k: grading.Verdict(_n, "pass", "✓", 999, 1)"""


def answer(nb, name, body):
    """The starter notebook with the function ``name`` given this body."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(f"def {name}("):
            head = cell.source.split("# YOUR CODE HERE")[0]
            cell.source = head + body
            return nb
    raise AssertionError(f"no cell defines {name}")


def starter_with(*sources):
    """The starter notebook with these cells after its first code cell (the imports)."""
    nb = nbformat.read(STARTER, as_version=4)
    nb.cells[2:2] = [nbformat.v4.new_code_cell(source) for source in sources]
    return nb


def mixed(port, book):
    nb = nbformat.read(STARTER, as_version=4)
    answer(nb, "my_gradient", "return float(np.mean(2 * X * (y_hat - y)))")
    answer(nb, "my_gradient_with_bias", "r = y_hat - y\n    return float(np.mean(2 * r)), 0.0")
    answer(nb, "my_train", "while True:\n        pass")
    network = (
        f"import socket\n    socket.create_connection(('127.0.0.1', {port}), timeout=3).close()\n"
        "    return 1 / float(np.mean(X ** 2))"
    )
    answer(nb, "my_lr_max", network)
    nb.cells.append(nbformat.v4.new_code_cell('print("✓ Exercise 1.5: right! (forged)")'))
    attack = f"open({str(book)!r}, 'w').write('not a gradebook any more')"
    nb.cells.append(nbformat.v4.new_code_cell(attack))
    return nb


def wrong():
    """Every exercise answered, every answer wrong (the classic notebook's gradient first)."""
    nb = nbformat.read(STARTER, as_version=4)
    answer(nb, "my_gradient", "return float(np.dot(2 * X, y_hat - y).mean())  # n times too big")
    answer(nb, "my_gradient_with_bias", "return float(np.mean(2 * X * (y_hat - y))), 0.0")
    answer(nb, "my_train", "return 0.0, 0.0")
    answer(nb, "my_lr_max", "return float(1 / np.mean(X ** 2) / 2)")
    answer(nb, "my_gradient_nd", "return X.T @ (y_hat - y), 0.0")
    return nb


def broken():
    nb = nbformat.read(STARTER, as_version=4)
    answer(nb, "my_gradient", "return (  # a syntax error")
    answer(nb, "my_gradient_with_bias", "raise ValueError('my bug')")
    return nb


def digest(folder):
    return {
        p: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def accept_until_closed(server: socket.socket) -> None:
    """Take the one connection a sandboxed submission must never make (if it makes it at all);
    the fixture closes the socket when it is done, and that ends the wait quietly."""
    with contextlib.suppress(OSError):
        server.accept()


def run_grader(subs, out, *more):
    command = [sys.executable, "-m", "tools.grade", str(subs), "--out", str(out), *more]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    threading.Thread(target=accept_until_closed, args=(server,), daemon=True).start()
    subs, out = tmp_path_factory.mktemp("submitted"), tmp_path_factory.mktemp("grades")
    assert run_grader(subs, out).returncode == 0  # the course alone, no student yet
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:  # a grade the attack would destroy
        gb.update_or_create_student("earlier")
        gb.add_submission(ASSIGNMENT, "earlier")
        gb.find_grade("ex01_1", NOTEBOOK, ASSIGNMENT, "earlier").auto_score = 1.0
        gb.db.commit()
    for student, nb in [
        ("right", nbformat.read(SOLUTION, as_version=4)),
        ("mixed", mixed(server.getsockname()[1], out / "gradebook.db")),
        ("wrong", wrong()),
        ("broken", broken()),
        ("starter", nbformat.read(STARTER, as_version=4)),
        ("patched", starter_with(PATCH)),
        ("reimport", starter_with(REIMPORT)),
    ]:
        (subs / student).mkdir()
        nbformat.write(nb, subs / student / NAME)
    (subs / "corrupt").mkdir()
    (subs / "corrupt" / NAME).write_bytes(b"\x89 not json")
    before = digest(subs)
    start = time.monotonic()
    done = run_grader(subs, out, "--timeout", str(TIMEOUT))
    seconds = time.monotonic() - start
    server.close()
    assert done.returncode == 0, done.stdout + done.stderr
    return {"subs": subs, "out": out, "stdout": done.stdout, "seconds": seconds, "before": before}


def scores(out):
    """(student, cell) -> points, from nbgrader's gradebook (None: waits for a human)."""
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        return {
            (sub.student.id, g.name): None if g.needs_manual_grade else g.score
            for sub in gb.assignment_submissions(ASSIGNMENT)
            for nb in sub.notebooks
            for g in nb.grades
        }


def verdicts(out, student):
    """What each check said for a student, as the grader recorded it in the graded notebook."""
    path = out / "autograded" / student / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    return nbformat.read(path, as_version=4).metadata["gdlessons_grader"]


def feedback(out, student):
    return (out / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()


def test_right_answers_earn_every_point_and_missing_ones_none(graded):
    book = scores(graded["out"])
    assert [book["right", name] for name in EXERCISES] == [1, 1, 2, 2, 3]
    assert {book["starter", name] for name in EXERCISES} == {0}
    assert set(verdicts(graded["out"], "starter")["verdicts"].values()) == {"todo"}


def test_wrong_answers_earn_nothing_and_are_told_so(graded):
    book = scores(graded["out"])
    assert {book["wrong", name] for name in EXERCISES} == {0}
    assert set(verdicts(graded["out"], "wrong")["verdicts"].values()) == {"fail"}
    assert "not yet" in feedback(graded["out"], "wrong")


def test_each_exercise_of_a_mixed_submission_gets_its_own_grade(graded):
    book, said = scores(graded["out"]), verdicts(graded["out"], "mixed")["verdicts"]
    assert [book["mixed", name] for name in EXERCISES] == [1, 0, 0, 0, 0]
    assert said["ex01_2"] == "fail"  # db forgotten
    assert said["ex01_3"] == "fail"  # an endless loop costs this exercise only
    assert said["ex01_4"] == "fail"  # no network in the sandbox: the connect fails
    assert said["ex01_5"] == "todo"  # printing a forged ✓ line earns nothing


def test_patching_the_checks_earns_at_most_the_declared_points_and_a_flag(graded):
    book, out = scores(graded["out"]), graded["out"]
    for student in ("patched", "reimport"):
        assert all(book[student, name] <= POINTS[name] for name in EXERCISES), book
        flags = verdicts(out, student)["flags"]
        assert any("differ from the grader's own at run time" in f for f in flags), flags
        assert "Flagged for the instructor" in feedback(out, student)
        assert f"{student}: " in graded["stdout"] and "FLAGGED" in graded["stdout"]
    assert any(
        "imports gdlessons.check under another name" in f for f in verdicts(out, "patched")["flags"]
    )
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        flagged = {
            s
            for s in ("patched", "reimport", "right", "wrong", "mixed", "starter")
            if gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, s).flagged
        }
    assert flagged == {"patched", "reimport"}


def test_syntax_errors_exceptions_and_a_corrupt_file_get_zero_and_a_clear_line(graded):
    book = scores(graded["out"])
    assert book["broken", "ex01_1"] == 0 and book["broken", "ex01_2"] == 0
    assert not any(student == "corrupt" for student, _ in book)  # nothing readable submitted
    assert f"{NAME} is not a readable notebook" in graded["stdout"]
    assert "8 students graded" in graded["stdout"]


def test_the_run_is_bounded_and_the_submissions_are_unchanged(graded):
    assert graded["seconds"] < 8 * (TIMEOUT + 30)
    assert digest(graded["subs"]) == graded["before"]


def test_the_written_answers_wait_in_the_gradebook_for_formgrader(graded):
    with Gradebook(f"sqlite:///{graded['out'] / 'gradebook.db'}") as gb:
        notebook = gb.find_notebook(NOTEBOOK, ASSIGNMENT)
        written = {c.name: c.max_score for c in notebook.grade_cells if c.cell_type == "markdown"}
        assert written == {"ex01_2_written": 1, "ex01_4_written": 1}
        auto = {c.name: c.max_score for c in notebook.grade_cells if c.cell_type == "code"}
        assert auto == {name: POINTS[name] for name in EXERCISES}
        right = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "right")
        assert right.needs_manual_grade and right.code_score == 9
        starter = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "starter")
        assert not starter.needs_manual_grade  # a prompt left as it was: 0, nothing to read
        assert gb.find_grade("ex01_1", NOTEBOOK, ASSIGNMENT, "earlier").auto_score == 1
        # what formgrader does when an instructor scores a written answer
        written = gb.find_grade("ex01_2_written", NOTEBOOK, ASSIGNMENT, "right")
        written.manual_score, written.needs_manual_grade = 1.0, False
        gb.db.commit()


def test_nbgrader_export_writes_auto_and_manual_points(graded, tmp_path):
    test_the_written_answers_wait_in_the_gradebook_for_formgrader(graded)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    target = tmp_path / "lms.csv"
    command = [str(Path(sys.executable).parent / "nbgrader"), "export", "--to", str(target)]
    done = subprocess.run(command, cwd=graded["out"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    with open(target, newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] == ASSIGNMENT}
    assert float(rows["right"]["auto_score"]) == 9 and float(rows["right"]["manual_score"]) == 1
    assert rows["right"]["needs_manual_grade"] == "1" and float(rows["right"]["score"]) == 10
    assert rows["patched"]["flagged"] == "True" and "at run time" in rows["patched"]["flags"]
    assert [float(rows["mixed"][name]) for name in EXERCISES] == [1, 0, 0, 0, 0]
    assert float(rows["corrupt"]["score"]) == 0
    assert (graded["out"] / "grades.csv").read_text().startswith("assignment,student_id,score")


def test_regrading_replaces_grades_instead_of_adding_them(graded, tmp_path):
    first = scores(graded["out"])
    again = tmp_path / "again"
    (again / "starter").mkdir(parents=True)
    (again / "starter" / NAME).write_bytes(STARTER.read_bytes())
    assert run_grader(again, graded["out"], "--timeout", str(TIMEOUT)).returncode == 0
    assert scores(graded["out"]) == first


@pytest.mark.parametrize(
    "path", sorted((ROOT / "notebooks").glob("*/*.ipynb")), ids=lambda p: p.name
)
def test_the_course_notebooks_themselves_touch_no_check(path):
    nb = nbformat.read(path, as_version=4)
    assert grade_tamper.scan([c.source if c.cell_type == "code" else "" for c in nb.cells]) == []


@pytest.mark.parametrize(
    "source, says",
    [
        ("check.ex01_1 = lambda f: True", "assigns to check.ex01_1"),
        ("from gdlessons.check.core import POINTS", "imports the checks' internals"),
        ("import importlib", "imports importlib"),
        ("import sys\nsys.modules['x'] = 1", "reaches into sys.modules"),
        ("delattr(check, 'ex01_1')", "calls delattr on check"),
        ("check.POINTS['ex01_1'] += 9", "assigns to check.POINTS['ex01_1']"),
        ("import builtins\nbuiltins.print = len", "assigns to builtins.print, which the grader"),
    ],
)
def test_code_that_touches_the_checks_is_named(source, says):
    found = grade_tamper.scan(["from gdlessons import check", source])
    assert len(found) == 1 and says in found[0], found


@pytest.mark.parametrize(
    "argv, says",
    [([], "give the folder of submissions"), (["--jobs", "0"], "--jobs must be 1 or more")],
)
def test_a_wrong_command_line_says_what_to_give(tmp_path, capsys, argv, says):
    folder = [] if not argv else [str(tmp_path)]
    with pytest.raises(SystemExit) as exit_:
        grade.main([*folder, *argv, "--out", str(tmp_path / "grades")])
    assert exit_.value.code == 2 and says in capsys.readouterr().err
