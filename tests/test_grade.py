"""`make grade`: synthetic submissions of exercise set 01 graded in sandboxes, as a class's would be.

One grading run (module fixture) covers: all right, all wrong, a mix (right, wrong, endless loop, a
network socket, not answered, a forged ✓ line, a cell that overwrites the gradebook), syntax errors
and exceptions, the untouched starter notebook, and a file that is not a notebook. The tests then
read the gradebook, the CSV and the feedback pages, and check that the submissions were not
modified.
"""

import contextlib
import csv
import hashlib
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
from tools import grade

NAME = "01_numpy_gradient_descent_exercises.ipynb"
STARTER = ROOT / "notebooks" / "exercises" / NAME
SOLUTION = ROOT / "notebooks" / "solutions" / NAME.replace("_exercises", "_solutions")
TIMEOUT = 24  # seconds per notebook; each cell gets a third (8 s: an endless loop costs 8 s)


def answer(nb, name, body):
    """The starter notebook with the function ``name`` given this body."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(f"def {name}("):
            head = cell.source.split("# YOUR CODE HERE")[0]
            cell.source = head + body
            return nb
    raise AssertionError(f"no cell defines {name}")


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


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    threading.Thread(target=accept_until_closed, args=(server,), daemon=True).start()
    subs, out = tmp_path_factory.mktemp("submitted"), tmp_path_factory.mktemp("grades")
    for student, nb in [
        ("right", nbformat.read(SOLUTION, as_version=4)),
        ("mixed", mixed(server.getsockname()[1], out / "gradebook.sqlite")),
        ("wrong", wrong()),
        ("broken", broken()),
        ("starter", nbformat.read(STARTER, as_version=4)),
    ]:
        (subs / student).mkdir()
        nbformat.write(nb, subs / student / NAME)
    (subs / "corrupt").mkdir()
    (subs / "corrupt" / NAME).write_bytes(b"\x89 not json")
    earlier = {"earlier": {"ex01_1": ("pass", 1, "✓ Exercise 1.1: right! (graded before)")}}
    grade.write_results(out, earlier, {"ex01_1": 1})  # a gradebook the attack would destroy
    before = digest(subs)
    start = time.monotonic()
    command = [
        sys.executable,
        str(ROOT / "tools" / "grade.py"),
        str(subs),
        "--out",
        str(out),
        "--timeout",
        str(TIMEOUT),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=10 * (TIMEOUT + 30))
    seconds = time.monotonic() - start
    server.close()
    assert done.returncode == 0, done.stdout + done.stderr
    return {"subs": subs, "out": out, "stdout": done.stdout, "seconds": seconds, "before": before}


def grades(out):
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        rows = db.execute("SELECT student, exercise, status, points FROM grades").fetchall()
    return {(student, exercise): (status, points) for student, exercise, status, points in rows}


def test_right_answers_earn_every_point_and_missing_ones_none(graded):
    book = grades(graded["out"])
    assert [book["right", f"ex01_{k}"] for k in range(1, 6)] == [
        ("pass", 1),
        ("pass", 1),
        ("pass", 2),
        ("pass", 2),
        ("pass", 3),
    ]
    assert {book["starter", f"ex01_{k}"] for k in range(1, 6)} == {("todo", 0)}


def test_wrong_answers_earn_nothing_and_are_told_so(graded):
    book = grades(graded["out"])
    assert {book["wrong", f"ex01_{k}"] for k in range(1, 6)} == {("fail", 0)}
    assert "not yet" in (graded["out"] / "feedback" / "wrong.html").read_text()


def test_each_exercise_of_a_mixed_submission_gets_its_own_grade(graded):
    book = grades(graded["out"])
    assert book["mixed", "ex01_1"] == ("pass", 1)
    assert book["mixed", "ex01_2"] == ("fail", 0)  # db forgotten
    assert book["mixed", "ex01_3"] == ("fail", 0)  # an endless loop costs this exercise only
    assert book["mixed", "ex01_4"] == ("fail", 0)  # no network in the sandbox: the connect fails
    assert book["mixed", "ex01_5"] == ("todo", 0)  # printing a forged ✓ line earns nothing


def test_syntax_errors_exceptions_and_a_corrupt_file_get_zero_and_a_clear_line(graded):
    book = grades(graded["out"])
    assert book["broken", "ex01_1"][1] == 0 and book["broken", "ex01_2"] == ("fail", 0)
    assert {book["corrupt", f"ex01_{k}"] for k in range(1, 6)} == {("fail", 0)}
    assert f"{NAME} is not a readable notebook" in graded["stdout"]
    assert "6 students graded" in graded["stdout"]


def test_the_run_is_bounded_and_the_submissions_are_unchanged(graded):
    assert graded["seconds"] < 5 * (TIMEOUT + 30)
    assert digest(graded["subs"]) == graded["before"]


def test_the_gradebook_the_csv_and_the_feedback_agree(graded):
    book = grades(graded["out"])
    assert book["earlier", "ex01_1"] == ("pass", 1)  # the cell that overwrote it changed nothing
    with open(graded["out"] / "grades.csv", newline="") as f:
        table = {row["student"]: row for row in csv.DictReader(f)}
    assert set(table) == {"earlier", "right", "mixed", "wrong", "broken", "starter", "corrupt"}
    for (student, exercise), (_, points) in book.items():
        assert int(table[student][exercise]) == points
    assert int(table["right"]["total"]) == 9 and int(table["mixed"]["total"]) == 1
    page = (graded["out"] / "feedback" / "mixed.html").read_text()
    assert "✓ Exercise 1.1: right!" in page and "Exercise 1.2: not yet" in page


def test_regrading_replaces_rows_instead_of_adding_them(graded, tmp_path):
    first = grades(graded["out"])
    again = tmp_path / "again"
    (again / "corrupt").mkdir(parents=True)
    (again / "corrupt" / NAME).write_bytes(b"still not json")
    command = [
        sys.executable,
        str(ROOT / "tools" / "grade.py"),
        str(again),
        "--out",
        str(graded["out"]),
    ]
    subprocess.run(command, capture_output=True, check=True, timeout=120)
    assert grades(graded["out"]) == first
    with sqlite3.connect(graded["out"] / "gradebook.sqlite") as db:
        (count,) = db.execute("SELECT COUNT(*) FROM grades").fetchone()
    assert count == len(first)


def test_the_grading_notebook_drops_the_submissions_check_cells():
    nb = nbformat.read(SOLUTION, as_version=4)
    calls = grade.exercise_sets()["01"]
    graded = grade.grading_notebook(nb, calls, "SECRET")
    sources = [c.source for c in graded.cells]
    assert not any(s.startswith("check.ex01") for s in sources)
    assert sum("_grader_check.ex01_" in s for s in sources) == 5
    assert "SECRET" in sources[-1]


@pytest.mark.parametrize(
    "argv, says",
    [([], "give the folder of submissions"), (["--jobs", "0"], "--jobs must be 1 or more")],
)
def test_a_wrong_command_line_says_what_to_give(tmp_path, capsys, argv, says):
    folder = [] if not argv else [str(tmp_path)]
    with pytest.raises(SystemExit) as exit_:
        grade.main([*folder, *argv, "--out", str(tmp_path / "grades")])
    assert exit_.value.code == 2 and says in capsys.readouterr().err
