"""Grade a class's exercise notebooks on nbgrader's own workflow: `make grade`.

``SUBMISSIONS/STUDENT_ID/NN_name_exercises.ipynb`` is graded as exercise set ``NN``; OUT becomes
the nbgrader course ``gdlessons`` (README, *For instructors*), its autograde executing in
``tools.grade_sandbox.SandboxedExecute``. Re-grading a student replaces their grades.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import functools
import os
import shutil
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins import ExportPlugin
from sqlalchemy.exc import SAWarning
from traitlets.config.loader import PyFileConfigLoader

from tools import ROOT

__all__ = ["ExerciseCsv", "assignments", "course", "main"]

warnings.filterwarnings("ignore", category=SAWarning)  # nbgrader's own sessions: harmless
SOLUTIONS = ROOT / "notebooks" / "solutions"
FORMGRADER = "nbgrader.server_extensions.formgrader"
CONFIG = """\
# The gdlessons course, written by `make grade` (python -m tools.grade): edit that, not this file.
import sys

from nbgrader.converters import Autograde
from nbgrader.preprocessors import Execute

sys.path.insert(0, {root!r})  # nbgrader imports the grader's preprocessor and export from there
from tools.make_exercises import CODE_STUB, TEXT_STUB  # noqa: E402

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "gdlessons"
c.CourseDirectory.root = {out!r}
c.ClearSolutions.code_stub = CODE_STUB
c.ClearSolutions.text_stub = TEXT_STUB
c.OverwriteCells.add_missing_cells = True  # a deleted check cell is put back, and run
c.Autograde.autograde_preprocessors = [  # nbgrader's own, with its Execute in a sandbox
    "tools.grade_sandbox.SandboxedExecute" if step is Execute else step
    for step in Autograde.autograde_preprocessors.default()
]
c.SandboxedExecute.notebook_timeout = {timeout}
c.SandboxedExecute.timeout = max(5, {timeout} // 3)
c.SandboxedExecute.memory_mib = {memory}
c.SandboxedExecute.hidden = {hidden!r}
c.ExportApp.plugin_class = "tools.grade.ExerciseCsv"
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


@functools.cache
def nbgrader_api(out: Path) -> NbGraderAPI:
    """nbgrader's API on the course in OUT, configured by its ``nbgrader_config.py``."""
    config = PyFileConfigLoader("nbgrader_config.py", str(out)).load_config()
    return NbGraderAPI(CourseDirectory(config=config), config=config)


def course(out: Path, args: argparse.Namespace, hidden: list[Path]) -> NbGraderAPI:
    """OUT as an nbgrader course, every assignment generated from its solution notebook."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"root": str(ROOT), "out": str(out), "hidden": [str(p) for p in hidden]}
    config = CONFIG.format_map(vars(args) | paths)
    (out / "nbgrader_config.py").write_text(config, encoding="utf-8")
    api = nbgrader_api(out)
    for assignment, notebook in assignments().values():
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


def flags(graded: Path) -> list[str]:
    """The flags the grader wrote into an autograded notebook (none if it is not there)."""
    try:
        return list(nbformat.read(graded, as_version=4).metadata["gdlessons_grader"]["flags"])
    except (OSError, ValueError, KeyError):
        return []


class ExerciseCsv(ExportPlugin):
    """``nbgrader export``'s CSV, with auto and manual points, a column per exercise, the flags."""

    def export(self, gradebook: Gradebook) -> None:  # noqa: D102 - nbgrader's
        coursedir, rows, cells = CourseDirectory(config=self.config), [], set()
        for assignment in gradebook.assignments:
            for student in gradebook.students:
                row = {"assignment": assignment.name, "student_id": student.id}
                try:
                    submission = gradebook.find_submission(assignment.name, student.id)
                except MissingEntry:  # nothing (readable) submitted: nbgrader gives 0 too
                    rows.append({**row, "score": 0.0, "max_score": assignment.max_score})
                    continue
                graded = Path(coursedir.format_path("autograded", student.id, assignment.name))
                grades = [g for nb in submission.notebooks for g in nb.grades]
                written = [g for g in grades if g.cell.cell_type == "markdown"]
                row |= {
                    "score": submission.score,
                    "max_score": submission.max_score,
                    "auto_score": submission.code_score,  # the check cells
                    "manual_score": submission.written_score,  # the written answers scored
                    "needs_manual_grade": sum(g.needs_manual_grade for g in written),
                    "flagged": any(nb.flagged for nb in submission.notebooks),
                    "flags": " | ".join(
                        f for nb in submission.notebooks for f in flags(graded / f"{nb.name}.ipynb")
                    ),
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


def grade_student(out: Path, student: Path) -> tuple[str, list[str], bool]:
    """Autograde one student's notebooks: their line, notes, and whether they were flagged."""
    api, sets, notes, found = nbgrader_api(out), assignments(), [], []
    with api.gradebook as gb:
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
            with api.gradebook as gb, contextlib.suppress(MissingEntry):
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
        graded = flags(out / "autograded" / student.name / assignment / f"{notebook}.ipynb")
        found += [f"{path.name}: {line}" for line in graded]
        with api.gradebook as gb:
            gb.find_submission_notebook(notebook, assignment, student.name).flagged = bool(graded)
            gb.db.commit()
        api.generate_feedback(assignment, student.name)  # feedback/STUDENT/ASSIGNMENT/*.html
    with api.gradebook as gb:
        subs = gb.find_student(student.name).submissions
        auto = sum(sub.code_score for sub in subs)  # nbgrader's: the check cells' points
        written = sum(g.needs_manual_grade for s in subs for nb in s.notebooks for g in nb.grades)
    line = f"{student.name}: {auto:g} points by the checks, {written} written answers to read"
    return line + (" FLAGGED" if found else ""), notes + [f"flag: {f}" for f in found], bool(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, nargs="?")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "grades")
    parser.add_argument("--timeout", type=int, default=60, help="seconds per notebook")
    parser.add_argument("--memory", type=int, default=4096, help="MiB of memory per notebook")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="students at a time")
    args = parser.parse_args(argv)
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

    # nbgrader's gradebook runs `alembic`, and kernels start from this Python: its bin/ first.
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    out = args.out.resolve()
    hidden = [SOLUTIONS, out, args.submissions.resolve()]
    api = course(out, args, hidden)
    print(f"grading {args.submissions} with sandbox isolation: {sandbox_prefix(tuple(hidden))[1]}")
    students = sorted(p for p in args.submissions.iterdir() if p.is_dir())
    problems = flagged = 0
    # nbgrader's apps are not thread-safe: a process per student at a time, each mostly waiting
    with ProcessPoolExecutor(args.jobs) as pool:
        todo = {pool.submit(grade_student, out, student): student for student in students}
        for done in as_completed(todo):
            try:
                line, notes, flag = done.result()
            except Exception as err:  # noqa: BLE001 - a worker died (memory?): say so, go on
                line, notes, flag = f"{todo[done].name}: not graded", [repr(err)], False
            print(line + "".join(f"\n  {note}" for note in notes), flush=True)
            problems += any(not note.startswith("flag: ") for note in notes)
            flagged += flag
    with api.gradebook as gb:
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
