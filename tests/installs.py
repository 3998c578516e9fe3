"""Helpers for make test-install: the README's text, fresh environments, notebooks run alone.

tests/test_readme_commands.py and tests/test_wheel_alone.py use them; make test-install runs the
two files side by side (pytest-xdist, one file per worker). pip takes every package from this
machine's local wheels and indexes (pip's own configuration), torch==2.13.0 from its local CPU
wheel. ``PIP_COMPILE=0`` skips writing .pyc files, which pip would otherwise do for every module
it installs (half of the time, and no part of what is tested).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "test-install"
from tools import install_hint

__all__ = [
    "HEAVY",
    "NOTEBOOKS",
    "ROOT",
    "WORK",
    "clean_env",
    "execute_alone",
    "install_hint",
    "jupyter_server",
    "outputs",
    "readme_commands",
    "readme_section",
    "request",
    "run",
    "stop",
    "tracked_copy",
]

HEAVY = pytest.mark.skipif(
    os.environ.get("GDLESSONS_TEST_INSTALL") != "1",
    reason="fresh environments (minutes): make test-install runs these",
)
# What a student opens alone: the lessons and the exercise notebooks. (The solutions, made into
# the exercises by tools/make_exercises.py, start with the same cells and import the same names.)
NOTEBOOKS = [
    *sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")),
    *sorted((ROOT / "notebooks" / "exercises").glob("[0-9]*.ipynb")),
]
EXECUTE = """\
import sys

import nbformat
from nbclient import NotebookClient

notebook, folder, out = sys.argv[1:]
nb = nbformat.read(notebook, as_version=4)
try:
    NotebookClient(nb, timeout=300, kernel_name="python3", record_timing=False).execute(cwd=folder)
finally:
    nbformat.write(nb, out)
"""


def readme_section(title: str) -> str:
    """The text under the README's heading `title`, up to the next heading (not in code)."""
    lines, inside, fenced = [], False, False
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        fenced ^= line.startswith("```")
        heading = not fenced and re.match(r"#{1,6} ", line)
        if heading:
            inside = line.split(" ", 1)[1] == title
        elif inside:
            lines.append(line)
    assert lines, f"README has no section {title!r}"
    return "\n".join(lines) + "\n"


def readme_commands(shell: str) -> list[str]:
    """The command lines of the README's `shell` block in *Without make*."""
    blocks = re.findall(rf"```{shell}\n(.*?)```", readme_section("Without make"), re.S)
    assert len(blocks) == 1, f"*Without make* needs one ```{shell} block, found {len(blocks)}"
    return [line for line in blocks[0].splitlines() if line.strip()]


def tracked_copy(dest: Path) -> Path:
    """The repository's files as git sees them (tracked and new, not ignored), nothing else."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def clean_env(venv: Path | None = None, **extra: str) -> dict[str, str]:
    """This environment without the project's .venv (as a student's shell), pip's settings kept."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    own = str(ROOT / ".venv")
    path = [p for p in env["PATH"].split(os.pathsep) if not p.startswith(own)]
    env["PATH"] = os.pathsep.join(([str(venv / "bin")] if venv is not None else []) + path)
    return {**env, "PIP_COMPILE": "0", **extra}


def run(command: list, timeout: float = 900, **kwargs) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, **kwargs)
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, command))} exited with {done.returncode}:\n"
            f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}",
            pytrace=False,
        )
    return done.stdout


def execute_alone(python: Path, notebook: Path, out: Path) -> tuple[int, str]:
    """Copy `notebook` alone into an empty folder outside the repository and execute it there."""
    with tempfile.TemporaryDirectory(prefix="gdlessons-alone-") as folder:
        alone = Path(folder) / notebook.name
        shutil.copy(notebook, alone)
        done = subprocess.run(
            [python, "-c", EXECUTE, alone, folder, out],
            cwd=folder,
            env=clean_env(python.parent.parent),
            capture_output=True,
            text=True,
            timeout=600,
        )
        left = sorted(p.name for p in Path(folder).iterdir())
    assert left == [notebook.name], f"{notebook.name} left files in its folder: {left}"
    return done.returncode, done.stdout[-2000:] + done.stderr[-4000:]


def outputs(path: Path) -> list[dict]:
    nb = nbformat.read(path, as_version=4)
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def request(url: str, token: str | None = None, method: str = "GET") -> tuple[int, object]:
    """(status, JSON body or None) of one request to a local Jupyter server, token or not."""
    headers = {"Authorization": f"token {token}"} if token else {}
    req = urllib.request.Request(
        url, headers=headers, method=method, data=b"{}" if method == "POST" else None
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            body = response.read()
            return response.status, json.loads(body) if body else None
    except urllib.error.HTTPError as err:
        return err.code, None


@contextlib.contextmanager
def jupyter_server(
    command: list[str], url: str, token: str, log: Path, **popen: object
) -> Iterator[subprocess.Popen]:
    """Run a command that starts a Jupyter server (in its own process group, output in ``log``);
    yield it once ``url`` answers /api/status with ``token``, and stop it and all it started after.

    The test fails with the log's end if the server exits first or stays silent for 120 s.
    (tests/test_lab.py, tests/browser/conftest.py and tests/test_readme_commands.py use it.)
    """
    with log.open("w") as out:  # the server keeps its own copy of the file
        proc = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **popen
        )
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"{url}/api/status", token):
            if proc.poll() is not None:
                pytest.fail(f"{command} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                pytest.fail(f"{command}: no answer within 120 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield proc
    finally:
        stop(proc)


def _answers(url: str, token: str) -> bool:
    try:
        return request(url, token)[0] == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def stop(proc: subprocess.Popen) -> None:
    """Stop a process and everything it started (its own process group): SIGTERM, then SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
            return
        except subprocess.TimeoutExpired:
            continue
