"""Grade a class's exercise notebooks on nbgrader's own workflow: `make grade`.

    python -m tools.grade SUBMISSIONS [--out build/grades] [--timeout 60] [--memory 4096]

SUBMISSIONS holds one folder per student with their notebooks: ``SUBMISSIONS/STUDENT_ID/
NN_name_exercises.ipynb``, each matched to its exercise set by its number ``NN``. OUT becomes an
nbgrader course (course id ``gdlessons``): ``nbgrader_config.py``, ``source/`` (the solution
notebooks, with nbgrader's cell metadata), ``release/`` (``nbgrader generate_assignment``: the
student notebooks), ``submitted/STUDENT_ID/ASSIGNMENT/`` (the submissions, copied; the originals
are never modified), ``autograded/``, ``feedback/`` and ``gradebook.db``, nbgrader's gradebook.
Each submission is graded by ``nbgrader autograde``, whose execution the course's config hands to
``tools.grade_sandbox.SandboxedExecute`` (sandbox, time and memory limits; points from the
grader, never from the kernel; flags for code that touches the checks, see ``tools.grade_tamper``).

Then: ``grades.csv`` (``nbgrader export`` with this module's ``ExerciseCsv``: a row per student
and assignment, auto and manual points, a column per exercise, the flags), one feedback page per
submission (``nbgrader generate_feedback``), and one line per student on the terminal. The
written answers wait in nbgrader's formgrader. Re-grading a student replaces their grades.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import ExportPlugin
from sqlalchemy.exc import SAWarning
from traitlets import Unicode
from traitlets.config.loader import PyFileConfigLoader

from tools.make_exercises import CODE_STUB, TEXT_STUB

__all__ = ["ExerciseCsv", "assignments", "course", "main"]

ROOT = Path(__file__).resolve().parents[1]
FORMGRADER = "nbgrader.server_extensions.formgrader"
SOLUTIONS = ROOT / "notebooks" / "solutions"
CONFIG = """\
# The gdlessons course, written by `make grade` (python -m tools.grade): edit that, not this file.
import sys

sys.path.insert(0, {root!r})  # nbgrader imports the grader's preprocessor and export from there
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "gdlessons"
c.CourseDirectory.root = {out!r}
c.ClearSolutions.code_stub = {code_stub!r}
c.ClearSolutions.text_stub = {text_stub!r}
c.OverwriteCells.add_missing_cells = True  # a deleted check cell is put back, and run
c.Autograde.autograde_preprocessors = [
    "tools.grade_sandbox.SandboxedExecute",  # nbgrader's Execute, in a sandbox
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]
c.SandboxedExecute.notebook_timeout = {timeout}
c.SandboxedExecute.timeout = {cell_timeout}
c.SandboxedExecute.memory_mib = {memory}
c.SandboxedExecute.hidden = {hidden!r}
c.ExportApp.plugin_class = "tools.grade.ExerciseCsv"
c.ExerciseCsv.autograded = {autograded!r}
"""


def assignments() -> dict[str, tuple[str, str]]:
    """Exercise set number -> (nbgrader assignment id, notebook id), from the solutions.

    >>> assignments()["01"]
    ('01_numpy_gradient_descent', '01_numpy_gradient_descent_exercises')
    """
    found = {}
    for path in sorted(SOLUTIONS.glob("[0-9][0-9]_*_solutions.ipynb")):
        assignment = path.name.removesuffix("_solutions.ipynb")
        found[path.name[:2]] = (assignment, f"{assignment}_exercises")
    return found


def course(out: Path, args: argparse.Namespace, hidden: list[Path]) -> NbGraderAPI:
    """OUT as an nbgrader course, every assignment generated from its solution notebook."""
    out.mkdir(parents=True, exist_ok=True)
    settings = {
        "root": str(ROOT),
        "out": str(out),
        "code_stub": CODE_STUB,
        "text_stub": TEXT_STUB,
        "timeout": args.timeout,
        "cell_timeout": max(5, args.timeout // 3),
        "memory": args.memory,
        "hidden": [str(p) for p in hidden],
        "autograded": str(out / "autograded"),
    }
    (out / "nbgrader_config.py").write_text(CONFIG.format(**settings), encoding="utf-8")
    config = PyFileConfigLoader("nbgrader_config.py", str(out)).load_config()
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for number, (assignment, notebook) in assignments().items():
        source = out / "source" / assignment / f"{notebook}.ipynb"
        solution = (SOLUTIONS / f"{assignment}_solutions.ipynb").read_bytes()
        release = out / "release" / assignment / f"{notebook}.ipynb"
        if source.is_file() and source.read_bytes() == solution and release.is_file():
            continue  # generated before from this very solution
        source.parent.mkdir(parents=True, exist_ok=True)
        source.write_bytes(solution)
        done = api.generate_assignment(assignment)
        if not done["success"]:
            raise SystemExit(f"nbgrader generate_assignment {assignment} failed:\n{done['log']}")
    return api


class ExerciseCsv(ExportPlugin):
    """``nbgrader export``'s CSV, with auto and manual points, a column per exercise, the flags."""

    autograded = Unicode("autograded", help="the course's autograded folder").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:  # noqa: D102 - nbgrader's
        rows, cells = [], set()
        for assignment in gradebook.assignments:
            for student in gradebook.students:
                row = {"assignment": assignment.name, "student_id": student.id}
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:  # nothing (readable) submitted: nbgrader gives 0 too
                    rows.append({**row, "score": 0.0, "max_score": assignment.max_score})
                    continue
                grades = [g for nb in submission.notebooks for g in nb.grades]
                auto = [
                    g for g in grades if g.auto_score is not None and g.cell.cell_type == "code"
                ]
                manual = [g for g in grades if g.cell.cell_type == "markdown"]
                flags = [line for nb in submission.notebooks for line in self.flags(nb)]
                row |= {
                    "score": submission.score,
                    "max_score": submission.max_score,
                    "auto_score": sum(g.score for g in auto),
                    "manual_score": sum(g.score for g in manual if not g.needs_manual_grade),
                    "needs_manual_grade": sum(g.needs_manual_grade for g in manual),
                    "flagged": any(nb.flagged for nb in submission.notebooks),
                    "flags": " | ".join(flags),
                }
                row |= {g.name: g.score for g in grades if not g.needs_manual_grade}
                cells |= {g.name for g in grades}
                rows.append(row)
        keys = ["assignment", "student_id", "score", "max_score", "auto_score", "manual_score"]
        keys += ["needs_manual_grade", "flagged", "flags", *sorted(cells)]
        with open(self.to or "grades.csv", "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, keys)
            writer.writeheader()
            writer.writerows(rows)

    def flags(self, notebook) -> list[str]:  # noqa: ANN001 - a SubmittedNotebook
        """The flags the grader wrote into the autograded notebook."""
        path = Path(self.autograded, notebook.student.id, notebook.assignment.name)
        try:
            nb = nbformat.read(path / f"{notebook.name}.ipynb", as_version=4)
        except (OSError, ValueError):
            return []
        return list(nb.metadata.get("gdlessons_grader", {}).get("flags", []))


def grade_student(api: NbGraderAPI, out: Path, student: Path) -> tuple[str, list[str], bool]:
    """Autograde one student's notebooks: their line, notes, and whether they were flagged."""
    sets, notes, flags = assignments(), [], []
    db = api.coursedir.db_url
    with Gradebook(db, "gdlessons") as gb:
        gb.update_or_create_student(student.name)
    for path in sorted(student.glob("*.ipynb")):
        if path.name[:2] not in sets:
            notes.append(f"{path.name}: no exercise set numbered {path.name[:2]}, skipped")
            continue
        assignment, notebook = sets[path.name[:2]]
        target = out / "submitted" / student.name / assignment
        shutil.rmtree(target, ignore_errors=True)
        try:
            nbformat.read(path, as_version=4)
        except Exception as err:  # noqa: BLE001 - whatever is wrong with the file, say it, go on
            notes.append(f"{path.name} is not a readable notebook ({type(err).__name__}); graded 0")
            with Gradebook(db, "gdlessons") as gb, contextlib.suppress(MissingEntry):
                gb.remove_submission(assignment, student.name)  # an earlier grade stands no more
            for folder in ("autograded", "feedback"):
                shutil.rmtree(out / folder / student.name / assignment, ignore_errors=True)
            continue
        target.mkdir(parents=True)
        shutil.copy(path, target / f"{notebook}.ipynb")
        done = api.autograde(assignment, student.name)
        if not done["success"]:
            notes.append(f"{path.name}: nbgrader autograde failed: {done['log'].strip()[-300:]}")
            continue
        graded = out / "autograded" / student.name / assignment / f"{notebook}.ipynb"
        found = nbformat.read(graded, as_version=4).metadata.get("gdlessons_grader", {})
        flags += [f"{path.name}: {line}" for line in found.get("flags", [])]
        with Gradebook(db, "gdlessons") as gb:
            gb.find_submission_notebook(notebook, assignment, student.name).flagged = bool(
                found.get("flags")
            )
            gb.db.commit()
        api.generate_feedback(assignment, student.name)  # feedback/STUDENT/ASSIGNMENT/*.html
    with Gradebook(db, "gdlessons") as gb:
        auto = written = 0
        for sub in gb.find_student(student.name).submissions:
            grades = [g for nb in sub.notebooks for g in nb.grades]
            auto += sum(g.score for g in grades if g.cell.cell_type == "code")
            written += sum(g.needs_manual_grade for g in grades)
    line = f"{student.name}: {auto:g} points by the checks, {written} written answers to read"
    line += " FLAGGED" if flags else ""
    return line, notes + [f"flag: {f}" for f in flags], bool(flags)


def _children(out: Path, students: list[Path], jobs: int) -> Iterator[dict]:
    """Grade the students in ``jobs`` processes (nbgrader's apps are one per process), each
    student's result as soon as it is there."""
    groups = [students[k::jobs] for k in range(jobs) if students[k::jobs]]
    results: queue.Queue[dict | None] = queue.Queue()

    def run(group: list[Path]) -> None:
        command = [sys.executable, "-m", "tools.grade", "--out", str(out), "--students"]
        with subprocess.Popen(
            [*command, *map(str, group)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as child:
            left = {p.name for p in group}
            for line in child.stdout:
                result = json.loads(line)
                left.discard(result["student"])
                results.put(result)
            why = (child.stderr.read().strip() or "no output").splitlines()[-1]
        for name in sorted(left):  # the child died before it got to them
            results.put(
                {"student": name, "line": f"{name}: not graded", "notes": [why], "flagged": False}
            )
        results.put(None)

    for group in groups:
        threading.Thread(target=run, args=(group,), daemon=True).start()
    for _ in groups:  # each child's results end with a None
        yield from iter(results.get, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "grades")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per notebook")
    parser.add_argument("--memory", type=int, default=4096, help="MiB of memory per notebook")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="students graded at a time"
    )
    parser.add_argument("--students", type=Path, nargs="+", help=argparse.SUPPRESS)  # a child
    args = parser.parse_args(argv)
    # nbgrader's gradebook runs `alembic`, and kernels start from this Python: its bin/ first.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own, harmless
    out = args.out.resolve()
    if args.students:
        config = PyFileConfigLoader("nbgrader_config.py", str(out)).load_config()
        api = NbGraderAPI(CourseDirectory(config=config), config=config)
        for student in args.students:
            line, notes, flagged = grade_student(api, out, student)
            result = {"student": student.name, "line": line, "notes": notes, "flagged": flagged}
            print(json.dumps(result), flush=True)
        return 0
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, not {args.jobs}")
    if args.timeout < 1 or args.memory < 256:
        parser.error("--timeout must be 1 s or more and --memory 256 MiB or more")
    if args.submissions is None or not args.submissions.is_dir():
        parser.error(
            "give the folder of submissions, one subfolder per student: "
            "make grade SUBMISSIONS=path/to/submitted"
        )
    from tools.grade_sandbox import sandbox_prefix

    hidden = [SOLUTIONS, out, args.submissions.resolve()]
    api = course(out, args, hidden)
    print(f"grading {args.submissions} with sandbox isolation: {sandbox_prefix(tuple(hidden))[1]}")
    students = sorted(p for p in args.submissions.iterdir() if p.is_dir())
    problems = flagged = 0
    for done in _children(out, students, args.jobs):  # a child mostly waits on its kernels
        print(done["line"] + "".join(f"\n  {note}" for note in done["notes"]), flush=True)
        problems += any(not note.startswith("flag: ") for note in done["notes"])
        flagged += done["flagged"]
    with Gradebook(api.coursedir.db_url, "gdlessons") as gb:
        ExerciseCsv(config=api.config, to=str(out / "grades.csv")).export(gb)
    print(
        f"{len(students)} students graded ({problems} with notes, {flagged} flagged); "
        f"gradebook.db, grades.csv and feedback/ in {out}\n"
        f"written answers, in nbgrader's formgrader: cd {out} && {Path(sys.executable).parent}/"
        f"jupyter server --ServerApp.jpserver_extensions=\"{{'{FORMGRADER}': True}}\"\n"
        "  (.venv keeps formgrader off for the students' Lab), then open /formgrader"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
