"""nbgrader's Execute preprocessor in a sandbox, with the grader deciding what each check earned.

``SandboxedExecute`` wraps nbgrader's ``Execute`` (the course's config puts it in its place): a copy
of the notebook runs in a temporary folder with only the lessons beside it, in a child process
(``__main__`` below) inside ``sandbox_prefix``: no network, no view of ``hidden``, user nobody
where the grader is root (`make grade` says what Linux allowed), ``notebook_timeout`` s per
notebook and ``timeout`` per cell (an endless loop costs one exercise), ``memory_mib`` MiB. Each
check cell runs as ``grade_tamper.graded_cell``: a pass earns the cell's points from nbgrader's
gradebook, anything else an error output and 0. The flags go into a markdown cell at the top
(the feedback page shows it) and into the metadata ``gdlessons_grader`` (``flags``, ``verdicts``).
"""

from __future__ import annotations

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
from nbformat.v4 import new_markdown_cell, new_output
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade
from traitlets import Integer, List, Unicode

__all__ = ["SandboxedExecute", "sandbox_prefix"]

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
FLAG_TITLE = "**Flagged for the instructor:** this submission touches the checks."
LOST = "the cell timed out, crashed the kernel or ran out of memory"


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
        code = [c.source if c.cell_type == "code" else "" for c in nb.cells]
        calls = [CHECK_CALL.fullmatch(s.strip()) for s in code]
        checks = {i: m[1] for i, m in enumerate(calls) if m and is_grade(nb.cells[i])}
        run = copy.deepcopy(nb)
        for i, name in checks.items():
            run.cells[i].source = graded_cell(nonce, name, code[i], modules, i == max(checks))
        executed, late = self.run_sandboxed(run)
        flags = scan([s if not is_grade(c) else "" for s, c in zip(code, nb.cells)])
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
                if output.output_type == "stream":  # stderr too: only the report decides
                    found, text = read_report(output.text, nonce)
                    report = found or report
                    if text:
                        outputs.append(new_output("stream", name="stdout", text=text))
                elif output.output_type == "error":
                    outputs.append(output)  # what stopped the check, for the feedback page
            name = checks[index]
            errors = any(o.output_type == "error" for o in outputs)
            verdicts[name] = status = "fail" if errors else report.get("status", "fail")
            for what in changed(report, own):
                touched.setdefault(what, name)
            if status != "pass":  # an error output: nbgrader's SaveAutoGrades records 0
                why = report.get("note") or ("" if report else f"no result ({late}{LOST})")
                said = {"todo": "not answered yet", "fail": "not passed"}[status]
                evalue = f"{name}: {said}" + (f"; {why}" if why else "")
                outputs.append(
                    new_output("error", ename="NotPassed", evalue=evalue, traceback=[evalue])
                )
            cell.outputs = outputs
        if touched:
            what, first = list(touched), next(iter(touched.values()))
            listed = ", ".join(what[:5]) + (f" and {len(what) - 5} more" if len(what) > 5 else "")
            flags.append(
                f"the checks differ from the grader's own at run time (first at {first}): {listed}"
            )
        nb.metadata["gdlessons_grader"] = {"flags": flags, "verdicts": verdicts}
        if flags:
            lines = "\n".join(f"- {line}" for line in flags)
            nb.cells.insert(0, new_markdown_cell(f"{FLAG_TITLE}\n\n{lines}"))
        return nb, resources

    def run_sandboxed(self, nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, str]:
        """``nb`` executed in a sandbox (as far as it got), and a note if it ran out of time."""
        prefix, _ = sandbox_prefix(tuple(Path(p) for p in self.hidden))
        with tempfile.TemporaryDirectory(prefix="grade-") as tmp:
            for lesson in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"):  # lesson 02's exercises read it
                shutil.copy(lesson, tmp)
            target = Path(tmp, "exercises", "submission.ipynb")
            target.parent.mkdir()
            nbformat.write(nb, target)
            for path, mode in ((tmp, 0o777), (target.parent, 0o777), (target, 0o666)):
                os.chmod(path, mode)  # the unprivileged user writes here, and only here
            env = dict(
                os.environ,
                HOME=tmp,
                IPYTHONDIR=f"{tmp}/.ipython",
                MPLCONFIGDIR=f"{tmp}/.mpl",
                JUPYTER_RUNTIME_DIR=f"{tmp}/.runtime",
                PYTHONDONTWRITEBYTECODE="1",
            )
            limits = [str(self.timeout), str(self.memory_mib)]
            child = [*prefix, sys.executable, str(Path(__file__).resolve()), str(target), *limits]
            proc = subprocess.Popen(
                child,
                cwd=tmp,
                env=env,
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                proc.wait(timeout=self.notebook_timeout + 30)  # the notebook plus a kernel start
                late = ""
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
                late = f"the notebook ran out of its {self.notebook_timeout} s; "
            return nbformat.read(target, as_version=4), late


@functools.cache
def sandbox_prefix(hidden: tuple[Path, ...]) -> tuple[list[str], str]:
    """The command prefix that isolates a child, and how strong the isolation is."""

    def works(command: list[str]) -> bool:
        return subprocess.run(command, capture_output=True).returncode == 0

    mounts = " && ".join(f"mount -t tmpfs none {p}" for p in hidden if p.exists()) or "true"
    drop = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    unshare, as_is = ["unshare", "--mount", "--net"], ["sh", "-c", f'{mounts} && exec "$@"', "sh"]
    if os.geteuid() == 0 and works([*unshare, "true"]):
        runs = "import os, sys; sys.exit(not os.access(os.path.realpath(sys.executable), os.X_OK))"
        if works([*drop, sys.executable, "-c", runs]):  # can nobody start our Python?
            return [*unshare, "sh", "-c", f'{mounts} && exec {" ".join(drop)} "$@"', "sh"], "full"
        return [*unshare, *as_is], "namespaces (as root)"  # a checkout private to root: stay root
    if works(["unshare", "--user", "--map-root-user", *unshare[1:], "true"]):
        return ["unshare", "--user", "--map-root-user", *unshare[1:], *as_is], "user namespace"
    return [], "none: no network or mount namespace here, submissions could reach both"


if __name__ == "__main__":  # the child, inside the sandbox: NOTEBOOK CELL_TIMEOUT MEMORY_MIB
    import resource

    from jupyter_client.manager import AsyncKernelManager

    path, limit = Path(sys.argv[1]), int(sys.argv[3]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    nb = nbformat.read(path, as_version=4)
    # IPC sockets, not TCP: a kernel works with no network; an absolute path, since the kernel
    # runs in the notebook's folder and this process elsewhere.
    km = AsyncKernelManager(
        kernel_name="python3", transport="ipc", ip=str(path.parent.parent / "kernel-ipc")
    )
    try:
        Execute(timeout=int(sys.argv[2])).preprocess(
            nb, {"metadata": {"path": str(path.parent)}}, km=km
        )
    finally:
        nbformat.write(nb, path)
