"""Grade a class's exercise notebooks with the exercises' own self-checks: `make grade`.

    python -m tools.grade SUBMISSIONS [--out build/grades] [--timeout 60] [--memory 4096] [--jobs N]

SUBMISSIONS holds one folder per student with their notebooks, the layout of nbgrader's
``submitted/``: ``SUBMISSIONS/STUDENT_ID/NN_name_exercises.ipynb``. Each notebook is matched to its
exercise set by its number ``NN``, and graded in a sandbox of its own:

- a copy runs in a fresh kernel, in a temporary folder that holds only it and the lessons (the
  exercises of lesson 02 read the lesson's engine), never the original, which is not modified;
- its check cells are dropped and the checks are called by the grader, with the calls written in
  the exercise set itself; points come from the verdicts the checks return, read through a line
  marked with a secret the submission never sees, so a printed "✓ ..." earns nothing;
- limits: ``--timeout`` seconds per notebook (each cell at most a third of it, so an endless loop
  costs one exercise, not the run), ``--memory`` MiB of address space; no network and no view of
  the solutions or the gradebook (a network and mount namespace, as root or in a user namespace,
  then an unprivileged user when the grader is root; where Linux allows none of it, a line says
  the isolation is weaker).

``--jobs`` notebooks are graded at a time (default: one per core); each has its own sandbox, kernel
and limits, and the results do not depend on the order.

Results: ``OUT/gradebook.sqlite`` (tables ``students``, ``exercises``, ``grades``; re-grading
replaces a student's rows, never duplicates them; the file is rewritten whole, then renamed),
``OUT/grades.csv`` (a row per student, a column per exercise, the total) and one feedback page per
student, ``OUT/feedback/STUDENT_ID.html``, with every check line. One line per student on the
terminal, a summary at the end.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

from gdlessons.check import POINTS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
CHECK_CALL = re.compile(r"^check\.(ex\d\d_\d+)\(.*\)\s*$", re.MULTILINE)


def exercise_sets() -> dict[str, list[tuple[str, str]]]:
    """Lesson number -> [(check name, the check call written in the exercise set), ...]."""
    sets = {}
    for path in sorted((NOTEBOOKS / "exercises").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        calls = [
            (m[1], m[0])
            for c in nb.cells
            if c.cell_type == "code"
            for m in CHECK_CALL.finditer(c.source)
        ]
        sets[path.name[:2]] = calls
    return sets


def grading_notebook(submission: nbformat.NotebookNode, calls: list, nonce: str):
    """The submission's code cells without its check cells, then the grader's checks."""
    cells = [
        c for c in submission.cells if c.cell_type == "code" and not CHECK_CALL.search(c.source)
    ]
    cells = [nbformat.v4.new_code_cell(c.source) for c in cells]
    cells.append(
        nbformat.v4.new_code_cell("from gdlessons import check as _grader_check\n_verdicts = {}")
    )
    for name, call in calls:  # one cell per check: a timeout costs that exercise only
        call = call.replace("check.", "_grader_check.", 1)
        cells.append(nbformat.v4.new_code_cell(f"_verdicts[{name!r}] = {call}"))
    report = "{k: (v.status, v.points, v.message) for k, v in _verdicts.items()}"
    cells.append(nbformat.v4.new_code_cell(f"import json\nprint({nonce!r} + json.dumps({report}))"))
    return nbformat.v4.new_notebook(cells=cells, metadata=submission.get("metadata", {}))


def run_one(path: Path, cell_timeout: int, memory_mib: int) -> int:
    """Inside the sandbox: limit memory, execute ``path`` in place (errors and timeouts kept)."""
    import resource

    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    limit = memory_mib * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    nb = nbformat.read(path, as_version=4)
    # IPC sockets, not TCP: a kernel works with no network; an absolute path, since the kernel
    # runs in the notebook's folder and this process elsewhere.
    sockets = str(path.parent.parent / "kernel-ipc")
    km = AsyncKernelManager(kernel_name="python3", transport="ipc", ip=sockets)
    client = NotebookClient(
        nb,
        km=km,
        timeout=cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    finally:
        nbformat.write(nb, path)
    return 0


def sandbox_prefix(hidden: list[Path]) -> tuple[list[str], str]:
    """The command prefix that isolates a child, and how strong the isolation is."""
    mounts = " && ".join(f"mount -t tmpfs none {p}" for p in hidden if p.exists())
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if os.geteuid() == 0 and _works(["unshare", "--mount", "--net", "true"]):
        runs = "import os, sys; sys.exit(not os.access(os.path.realpath(sys.executable), os.X_OK))"
        if _works([*drop, sys.executable, "-c", runs]):  # can nobody start our Python?
            script = f'{mounts} && exec {" ".join(drop)} "$@"'
            return ["unshare", "--mount", "--net", "sh", "-c", script, "sh"], "full"
        script = f'{mounts} && exec "$@"'  # this checkout is private to root: stay root inside
        return ["unshare", "--mount", "--net", "sh", "-c", script, "sh"], "namespaces (as root)"
    if _works(["unshare", "--user", "--map-root-user", "--mount", "--net", "true"]):
        userns = ["unshare", "--user", "--map-root-user", "--mount", "--net"]
        return [*userns, "sh", "-c", f'{mounts} && exec "$@"', "sh"], "user namespace"
    return [], "none: no network or mount namespace here, submissions could reach both"


def _works(command: list[str]) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def grade_notebook(path: Path, calls: list, args, prefix: list[str]) -> dict:
    """check name -> (status, points, message) for one submitted notebook."""
    try:
        submission = nbformat.read(path, as_version=4)
    except Exception as err:  # noqa: BLE001 - whatever is wrong with the file, say it and go on
        return {"error": f"{path.name} is not a readable notebook ({type(err).__name__}); graded 0"}
    nonce = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
        work = Path(tmp)
        for lesson in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):  # lesson 02's exercises read the lesson
            shutil.copy(lesson, work / lesson.name)
        (work / "exercises").mkdir()
        target = work / "exercises" / "submission.ipynb"
        nbformat.write(grading_notebook(submission, calls, nonce), target)
        for folder in (work, work / "exercises"):
            folder.chmod(0o777)  # the unprivileged user writes here, and only here
        target.chmod(0o666)
        env = dict(
            os.environ,
            HOME=tmp,
            IPYTHONDIR=f"{tmp}/.ipython",
            MPLCONFIGDIR=f"{tmp}/.mpl",
            JUPYTER_RUNTIME_DIR=f"{tmp}/.runtime",
            PYTHONDONTWRITEBYTECODE="1",
        )
        child = [
            *prefix,
            sys.executable,
            str(Path(__file__).resolve()),
            "--run-one",
            str(target),
            "--timeout",
            str(args.timeout),
            "--memory",
            str(args.memory),
        ]
        log = open(work / "grader.log", "w")  # noqa: SIM115 - closed with the folder
        proc = subprocess.Popen(
            child, cwd=tmp, env=env, start_new_session=True, stdout=log, stderr=log
        )
        try:
            proc.wait(timeout=args.timeout + 30)  # the notebook's time plus starting a kernel
            late = ""
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            late = f"the notebook ran out of its {args.timeout} s; "
        executed = nbformat.read(target, as_version=4)
    lines = [o.get("text", "") for o in executed.cells[-1].get("outputs", [])]
    found = [
        line[len(nonce) :] for text in lines for line in text.splitlines() if line.startswith(nonce)
    ]
    verdicts = json.loads(found[0]) if found else {}
    result = {}
    for name, _ in calls:
        result[name] = verdicts.get(name) or (
            "fail",
            0,
            f"✗ {name}: no result ({late}the cell "
            "timed out, crashed the kernel or ran out of memory)",
        )
    return result


def write_results(out: Path, grades: dict, points: dict) -> None:
    """Gradebook (merged with the last one, written whole, then renamed), CSV, feedback pages."""
    out.mkdir(parents=True, exist_ok=True)
    book, rows = out / "gradebook.sqlite", {}
    try:
        with sqlite3.connect(book) as old:
            for student, name, status, got, message in old.execute("SELECT * FROM grades"):
                rows[student, name] = (status, got, message)
    except sqlite3.Error:
        pass  # no gradebook yet, or not a readable one: it is written anew
    for student, result in grades.items():
        rows = {k: v for k, v in rows.items() if k[0] != student}  # re-grading replaces a student
        rows.update({(student, name): tuple(v) for name, v in result.items()})
    new = out / "gradebook.sqlite.new"
    new.unlink(missing_ok=True)
    with sqlite3.connect(new) as db:
        db.execute("CREATE TABLE exercises (name TEXT PRIMARY KEY, max_points INTEGER NOT NULL)")
        db.execute("CREATE TABLE students (id TEXT PRIMARY KEY)")
        db.execute(
            "CREATE TABLE grades (student TEXT REFERENCES students(id), exercise TEXT "
            "REFERENCES exercises(name), status TEXT, points INTEGER, message TEXT, "
            "PRIMARY KEY (student, exercise))"
        )
        db.executemany("INSERT INTO exercises VALUES (?, ?)", sorted(points.items()))
        db.executemany(
            "INSERT INTO students VALUES (?)", [(s,) for s in sorted({s for s, _ in rows})]
        )
        db.executemany(
            "INSERT INTO grades VALUES (?, ?, ?, ?, ?)",
            [(*key, *value) for key, value in sorted(rows.items())],
        )
    db.close()
    os.replace(new, book)
    students = sorted({s for s, _ in rows})
    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", *sorted(points), "total", "max"])
        for s in students:
            got = [rows.get((s, name), ("", 0, ""))[1] for name in sorted(points)]
            writer.writerow([s, *got, sum(got), sum(points.values())])
    (out / "feedback").mkdir(exist_ok=True)
    for s in students:
        items = "".join(
            f"<li><pre>{html.escape(rows[s, n][2])}</pre> {rows[s, n][1]}/{points[n]}</li>"
            for n in sorted(points)
            if (s, n) in rows
        )
        page = (
            f'<!DOCTYPE html><html lang="en"><meta charset="utf-8"><title>Feedback: '
            f"{html.escape(s)}</title><h1>Feedback for {html.escape(s)}</h1><ol>{items}</ol></html>"
        )
        (out / "feedback" / f"{s}.html").write_text(page, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "grades")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per notebook")
    parser.add_argument("--memory", type=int, default=4096, help="MiB of memory per notebook")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="notebooks graded at a time"
    )
    parser.add_argument("--run-one", type=Path, help=argparse.SUPPRESS)  # inside the sandbox
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, not {args.jobs}")
    if args.run_one:
        return run_one(args.run_one, max(5, args.timeout // 3), args.memory)
    if args.submissions is None or not args.submissions.is_dir():
        parser.error(
            "give the folder of submissions, one subfolder per student: "
            "make grade SUBMISSIONS=path/to/submitted"
        )
    sets = exercise_sets()
    points = {name: POINTS[name] for calls in sets.values() for name, _ in calls}
    args.out.mkdir(parents=True, exist_ok=True)  # so that the sandbox can hide it
    hidden = [NOTEBOOKS / "solutions", args.out.resolve(), args.submissions.resolve()]
    prefix, strength = sandbox_prefix(hidden)
    print(f"grading {args.submissions} with sandbox isolation: {strength}")
    students = sorted(p for p in args.submissions.iterdir() if p.is_dir())
    work = [
        (path, sets.get(path.name[:2])) for st in students for path in sorted(st.glob("*.ipynb"))
    ]

    def grade(job: tuple[Path, list | None]) -> dict | None:
        path, calls = job
        return grade_notebook(path, calls, args, prefix) if calls else None

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # a job mostly waits on its sandbox
        done = dict(zip([path for path, _ in work], pool.map(grade, work)))
    grades, problems = {}, 0
    for student in students:
        result, notes = {}, []
        for path in sorted(student.glob("*.ipynb")):
            calls, graded = sets.get(path.name[:2]), done[path]
            if calls is None:
                notes.append(f"{path.name}: no exercise set numbered {path.name[:2]}, skipped")
                continue
            if "error" in graded:
                notes.append(graded["error"])
                graded = {name: ("fail", 0, f"✗ {graded['error']}") for name, _ in calls}
            result.update(graded)
        grades[student.name] = result
        problems += bool(notes)
        total = sum(v[1] for v in result.values())
        print(
            f"{student.name}: {total} points, {len(result)} exercises graded"
            + "".join(f"\n  {note}" for note in notes)
        )
    write_results(args.out, grades, points)
    print(
        f"{len(grades)} students graded ({problems} with notes); gradebook, grades.csv and "
        f"feedback pages in {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
