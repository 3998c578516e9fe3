"""`make lab` is safe on a shared network and has no papercuts for a student.

The server is started exactly as `make lab` does (on a free port, without a browser, with its
working copy and Lab settings under build/test-lab/ so a real my-work/ is never touched). The tests
list the lessons through Jupyter's REST API with the token, check it is refused without the token
and not reachable on another interface, start a kernel and read the server log, and check the
installed JupyterLab extensions and the working copy. The browser tests (RISE, console errors, the
news pop-up, the dark theme) are tests/browser/test_lab_browser.py (`make check-lab`).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from jupyter_core.paths import jupyter_runtime_dir
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SCRATCH = ROOT / "build" / "test-lab"
from installs import jupyter_server, request

from gdlessons.parallel import free_port
from tools import working_copy


def other_address() -> str | None:
    """A non-loopback address of this machine, or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # UDP connect sends nothing; it only picks a route
            address = s.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


@pytest.fixture(scope="module")
def lab():
    """`make lab` on a free port; yields (base url, port, token, log file)."""
    port, token = free_port(), secrets.token_hex(16)
    scratch = SCRATCH / "server"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    log = scratch / "lab.log"
    env = dict(
        os.environ,
        JUPYTER_TOKEN=token,
        JUPYTERLAB_SETTINGS_DIR=str(scratch / "settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(scratch / "workspaces"),
    )
    base = f"http://127.0.0.1:{port}"
    command = ["make", "--no-print-directory", "lab", f"LAB_PORT={port}", "LAB_OPTS=--no-browser"]
    command.append(f"WORK_DIR={scratch / 'my-work'}")
    with jupyter_server(command, base, token, log, cwd=ROOT, env=env):
        yield base, port, token, log


def test_lab_lists_the_lessons_with_its_token_and_refuses_without(lab):
    base, _, token, _ = lab
    status, listing = request(f"{base}/api/contents/", token)
    assert status == 200
    names = {item["name"] for item in listing["content"]}
    assert {path.name for path in (ROOT / "notebooks").glob("[0-9]*.ipynb")} <= names
    assert {"exercises", "solutions"} <= names
    assert not {name for name in names if name.endswith(".css")}, "RISE's .css files are shown"
    assert request(f"{base}/api/contents/")[0] == 403
    assert request(f"{base}/api/contents/", "wrong-token")[0] == 403


def test_lab_listens_on_loopback_only(lab):
    _, port, _, _ = lab
    address = other_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address to try")
    with socket.socket() as s:
        s.settimeout(2)
        assert s.connect_ex((address, port)) != 0, f"JupyterLab is reachable on {address}:{port}"


def test_a_kernel_talks_over_ipc_without_the_unencrypted_tcp_warning(lab):
    base, _, token, log = lab
    status, kernel = request(f"{base}/api/kernels", token, method="POST")
    assert status == 201, status
    pattern, deadline = f"kernel-{kernel['id']}-ipc-*", time.monotonic() + 60
    # shell, iopub, stdin, control, heartbeat: 5 Unix sockets once the kernel is up
    while len(list(Path(jupyter_runtime_dir()).glob(pattern))) < 5:
        assert time.monotonic() < deadline, "the kernel bound no IPC sockets within 60 s"
        time.sleep(0.5)
    assert request(f"{base}/api/kernels/{kernel['id']}", token, method="DELETE")[0] == 204
    text = log.read_text()
    assert "Kernel started" in text  # the kernel's own output goes to this log too
    assert "without encryption" not in text
    assert "Exception while loading config file" not in text


def test_make_lab_never_disables_the_token():
    done = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True)
    makefile = done.stdout  # the commands make lab runs
    assert done.returncode == 0 and "--ServerApp.ip=127.0.0.1" in makefile
    for unsafe in (
        "token=''",
        'token=""',
        "--ServerApp.token= ",
        "disable_check_xsrf",
        "--ip=0.0.0.0",
    ):
        assert unsafe not in makefile


def test_no_installed_labextension_is_incompatible_with_this_jupyterlab():
    listing = subprocess.run(
        [VENV_BIN / "jupyter", "labextension", "list"],
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ, NO_COLOR="1"),
    )
    text = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)
    extensions = [line.split() for line in text.splitlines() if re.search(r" v\d", line)]
    assert extensions, text
    assert [ext for ext in extensions if "X" in ext] == [], text
    assert "jupyterlab-rise" in {ext[0] for ext in extensions}
    assert "incompatible" not in text


def test_working_copy_is_made_once_and_never_overwritten(tmp_path):
    source, dest = tmp_path / "notebooks", tmp_path / "my-work"
    shutil.copytree(ROOT / "notebooks", source, ignore=shutil.ignore_patterns(".*"))
    report = working_copy.sync(source, dest)
    lessons = sorted(p.relative_to(source) for p in source.rglob("*.ipynb"))
    assert report.created and sorted(p.relative_to(dest) for p in dest.rglob("*.ipynb")) == lessons
    assert (dest / "rise.css").exists() and (dest / "exercises" / "rise.css").exists()
    mine = dest / lessons[0]
    mine.write_text("my own work")
    (source / "07_new_lesson.ipynb").write_text("{}")  # a lesson that arrives with `git pull`
    report = working_copy.sync(source, dest)
    assert not report.created and report.added == [Path("07_new_lesson.ipynb")]
    assert mine.read_text() == "my own work"
    assert (dest / "07_new_lesson.css").exists()


def test_fresh_copy_moves_the_old_file_aside_and_never_deletes_it(tmp_path):
    source, dest = ROOT / "notebooks", tmp_path / "my-work"
    working_copy.sync(source, dest)
    lesson = sorted(source.glob("[0-9]*.ipynb"))[1]  # the second lesson
    (dest / lesson.name).write_text("my own work")
    fresh, old = working_copy.fresh_copy(source, dest, lesson.name[:2])
    assert fresh.read_bytes() == lesson.read_bytes()
    assert old is not None and old.parent == dest and old.read_text() == "my own work"
    assert old.name.startswith(f"{lesson.stem}.old-")
    for bad in ("", "0", "99", "exercises/99"):
        with pytest.raises(working_copy.LessonError, match="LESSON|matches"):
            working_copy.find_lesson(source, bad)


def test_make_fresh_copy_without_lesson_says_what_to_do(tmp_path):
    done = subprocess.run(
        ["make", "--no-print-directory", "fresh-copy", f"WORK_DIR={tmp_path / 'w'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "LESSON=03" in done.stderr and len(done.stderr.strip().splitlines()) <= 2


def test_running_a_lesson_in_the_working_copy_changes_no_committed_file():
    dest = SCRATCH / "my-work"
    shutil.rmtree(dest, ignore_errors=True)
    before = git_status()
    working_copy.sync(ROOT / "notebooks", dest)
    path = dest / min((ROOT / "notebooks").glob("[0-9]*.ipynb")).name
    notebook = nbformat.read(path, as_version=4)
    NotebookClient(notebook, timeout=120, resources={"metadata": {"path": str(dest)}}).execute()
    nbformat.write(notebook, path)  # as JupyterLab saves it
    assert git_status() == before
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "my-work/01_lesson.ipynb"], cwd=ROOT, check=False
    )
    assert ignored.returncode == 0, "my-work/ (the default working copy) is not git-ignored"


def git_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
