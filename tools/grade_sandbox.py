"""nbgrader's Execute preprocessor in a sandbox, with the grader deciding what each check earned.

``nbgrader autograde`` runs the preprocessor named in the course's ``nbgrader_config.py``;
``SandboxedExecute`` takes the place of nbgrader's ``Execute`` there, and wraps it, not forks it:

- a copy of the notebook runs in a fresh kernel, in a temporary folder that holds only it and the
  lessons (the exercises of lesson 02 read the lesson's engine), executed by nbgrader's own
  ``Execute`` in a child process inside the sandbox: limits of ``notebook_timeout`` seconds for
  the notebook (each cell at most ``timeout``, so an endless loop costs one exercise, not the
  run) and ``memory_mib`` MiB of address space; no network and no view of ``hidden`` (the
  solutions, the course with its gradebook, the submissions): a network and mount namespace, as
  root or in a user namespace, then an unprivileged user when the grader is root; where Linux
  allows none of it, the course's log says the isolation is weaker;
- each check cell (nbgrader's autograded test cell, ``check.ex01_1(my_gradient)``, its source
  restored by nbgrader's OverwriteCells) runs through ``grade_tamper.graded_cell``, which reports
  the verdict's status on a line marked with a secret the submission never sees; a check passed
  keeps its output and earns the cell's points as nbgrader records them (``check.POINTS``, from
  the gradebook), anything else gets an error output and 0; what the kernel says about points,
  any value it displays, a printed "✓ ..." line: all ignored;
- what ``grade_tamper`` finds (in the code, or the checks changed at run time) goes into a
  markdown cell at the top of the graded notebook, which the feedback page shows, and into the
  notebook's metadata ``gdlessons_grader`` (``flags``, ``verdicts``) for `make grade`'s report.
"""

from __future__ import annotations

import argparse
import copy
import functools
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade
from traitlets import Integer, List, Unicode

__all__ = ["SandboxedExecute", "sandbox_prefix"]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
FLAG_TITLE = "**Flagged for the instructor:** this submission touches the checks."


class SandboxedExecute(Execute):
    """nbgrader's Execute, run in a sandbox; the check cells graded from the grader's side."""

    notebook_timeout = Integer(60, help="seconds for the whole notebook").tag(config=True)
    memory_mib = Integer(4096, help="MiB of address space for the kernel").tag(config=True)
    hidden = List(Unicode(), help="folders the submission must not see").tag(config=True)

    def preprocess(self, nb, resources, km=None):  # noqa: ANN001, ANN201, ARG002 - nbconvert's
        import gdlessons.check  # noqa: F401 - loads the modules the digests cover
        from tools.grade_tamper import changed, digests, graded_cell, read_report, scan
        from tools.make_exercises import CHECK_CALL

        modules = sorted(m for m in sys.modules if m.split(".")[0] == "gdlessons")
        own, nonce = digests(modules), secrets.token_hex(16)
        run, checks = copy.deepcopy(nb), {}
        for index, cell in enumerate(run.cells):
            call = CHECK_CALL.fullmatch(cell.source.strip()) if is_grade(cell) else None
            if call and cell.cell_type == "code":
                checks[index] = call[1]
        for index, name in checks.items():
            last = index == max(checks)
            run.cells[index].source = graded_cell(
                nonce, name, run.cells[index].source, modules, last
            )
        executed, late = self.run_sandboxed(run)
        flags = scan(
            [c.source if c.cell_type == "code" and not is_grade(c) else "" for c in nb.cells]
        )
        verdicts, touched = {}, {}  # what differs -> the check where it was seen first
        for index, (cell, done) in enumerate(zip(nb.cells, executed.cells, strict=True)):
            if cell.cell_type != "code":
                continue
            cell.outputs = done.get("outputs", [])
            cell.execution_count = done.get("execution_count")
            if index not in checks:
                continue
            report, outputs = {}, []
            for output in cell.outputs:
                if output.output_type == "stream":  # stderr too: only the verdict decides
                    found, text = read_report(output.text, nonce)
                    report = found or report
                    if text:
                        outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text))
                elif output.output_type == "error":
                    outputs.append(output)  # what stopped the check, for the feedback page
            name, errors = checks[index], any(o.output_type == "error" for o in outputs)
            status = "fail" if errors else report.get("status", "fail")
            verdicts[name] = status
            for what in changed(report, own) if report else []:
                touched.setdefault(what, name)
            if status != "pass":  # an error output: nbgrader's SaveAutoGrades records 0
                said = {"todo": "not answered yet", "fail": "not passed"}[status]
                why = report.get("note") or (
                    ""
                    if report
                    else f"no result ({late}the cell "
                    "timed out, crashed the kernel or ran out of memory)"
                )
                evalue = f"{name}: {said}" + (f"; {why}" if why else "")
                error = nbformat.v4.new_output(
                    "error", ename="NotPassed", evalue=evalue, traceback=[evalue]
                )
                outputs.append(error)
            cell.outputs = outputs
        if touched:
            first = next(iter(touched.values()))
            flags.append(
                f"the checks differ from the grader's own at run time (first at {first}): "
                + _first(list(touched), 5)
            )
        nb.metadata["gdlessons_grader"] = {"flags": flags, "verdicts": verdicts}
        if flags:
            lines = "\n".join(f"- {line}" for line in flags)
            nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"{FLAG_TITLE}\n\n{lines}"))
        return nb, resources

    def run_sandboxed(self, nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, str]:
        """``nb`` executed in a sandbox (as far as it got), and a note if it ran out of time."""
        prefix, _ = sandbox_prefix(tuple(Path(p) for p in self.hidden))
        with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
            work = Path(tmp)
            for lesson in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):  # lesson 02's exercises read it
                shutil.copy(lesson, work / lesson.name)
            (work / "exercises").mkdir()
            target = work / "exercises" / "submission.ipynb"
            nbformat.write(nb, target)
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
            limits = ["--timeout", str(self.timeout), "--memory", str(self.memory_mib)]
            child = [*prefix, sys.executable, str(Path(__file__).resolve()), str(target), *limits]
            log = open(work / "grader.log", "w")  # noqa: SIM115 - closed with the folder
            proc = subprocess.Popen(
                child, cwd=tmp, env=env, start_new_session=True, stdout=log, stderr=log
            )
            try:
                proc.wait(timeout=self.notebook_timeout + 30)  # the notebook plus a kernel start
                late = ""
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
                late = f"the notebook ran out of its {self.notebook_timeout} s; "
            log.close()
            return nbformat.read(target, as_version=4), late


def _first(items: list[str], count: int) -> str:
    more = len(items) - count
    return ", ".join(items[:count]) + (f" and {more} more" if more > 0 else "")


def run_one(path: Path, cell_timeout: int, memory_mib: int) -> int:
    """Inside the sandbox: limit memory, execute ``path`` in place with nbgrader's Execute."""
    import resource

    from jupyter_client.manager import AsyncKernelManager

    limit = memory_mib * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    nb = nbformat.read(path, as_version=4)
    # IPC sockets, not TCP: a kernel works with no network; an absolute path, since the kernel
    # runs in the notebook's folder and this process elsewhere.
    km = AsyncKernelManager(
        kernel_name="python3", transport="ipc", ip=str(path.parent.parent / "kernel-ipc")
    )
    try:
        Execute(timeout=cell_timeout).preprocess(
            nb, {"metadata": {"path": str(path.parent)}}, km=km
        )
    finally:
        nbformat.write(nb, path)
    return 0


@functools.cache
def sandbox_prefix(hidden: tuple[Path, ...]) -> tuple[list[str], str]:
    """The command prefix that isolates a child, and how strong the isolation is."""
    mounts = " && ".join(f"mount -t tmpfs none {p}" for p in hidden if p.exists()) or "true"
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


if __name__ == "__main__":  # the child, inside the sandbox
    parser = argparse.ArgumentParser()
    parser.add_argument("notebook", type=Path)
    parser.add_argument("--timeout", type=int, required=True, help="seconds per cell")
    parser.add_argument("--memory", type=int, required=True, help="MiB of address space")
    args = parser.parse_args()
    sys.exit(run_one(args.notebook, args.timeout, args.memory))
