"""The README's commands without make, run as written (make test-install), and its JupyterHub text.

The README's text is the input. The quick tests (part of make test) read it: both systems'
commands are there and say the same thing, the nbgitpuller link names a lesson, the install line
is the one tools/install_hint.py writes. The others run only in make test-install (CI): the
Linux/macOS lines of *Without make*, run literally with bash in a fresh copy of the repository's
files (no .venv). JupyterLab then answers on 127.0.0.1 with its token and not without it, opens
the working copy, starts kernels over Unix sockets, with the settings in the new environment;
repo2docker's postBuild installs them there too; lesson 01 executed in that environment with
nbclient shows the kernels' settings (a figure's text).
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from installs import (
    HEAVY,
    NOTEBOOKS,
    ROOT,
    WORK,
    clean_env,
    execute_alone,
    install_hint,
    jupyter_server,
    outputs,
    readme_commands,
    readme_section,
    request,
    run,
    tracked_copy,
)
from jupyter_core.paths import jupyter_runtime_dir

from gdlessons.lab import settings_targets
from gdlessons.parallel import free_port  # outside the range the OS hands out itself


def test_the_readme_gives_two_commands_per_system_and_windows_says_the_same():
    posix, windows = readme_commands("bash"), readme_commands("powershell")
    assert len(posix) == len(windows) == 2
    assert posix[-1] == ".venv/bin/python -m gdlessons.lab"
    # PowerShell's spelling of the same commands: its launcher, its paths, `;` between commands.
    spelled = [
        line.replace("python3 -m venv", "py -m venv")
        .replace(".venv/bin/", ".venv\\Scripts\\")
        .replace(" && ", "; ")
        for line in posix
    ]
    assert windows == spelled


def test_the_nbgitpuller_link_opens_a_lesson_of_this_repository():
    links = re.findall(
        r"https://HUB/hub/user-redirect/git-pull\?\S+", readme_section("On a JupyterHub")
    )
    assert len(links) == 1
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(links[0]).query)
    assert query["repo"] == ["https://github.com/ORG/REPO"] and query["branch"] == ["main"]
    interface, tree, folder, *path = query["urlpath"][0].split("/")
    assert (interface, tree, folder) == ("lab", "tree", "REPO")  # nbgitpuller clones into REPO/
    assert (ROOT.joinpath(*path)).is_file(), f"{'/'.join(path)} is not in the repository"


def test_the_hint_the_readme_shows_is_the_one_the_tool_writes():
    assert install_hint.hint() in readme_section("On a JupyterHub")


@pytest.fixture(scope="module")
def readme():
    """A fresh copy of the repository in which the README's first command has run."""
    base = WORK / "readme"
    shutil.rmtree(base, ignore_errors=True)
    clone = tracked_copy(base / "clone")
    first, second = readme_commands("bash")
    start = time.monotonic()
    run(["bash", "-euo", "pipefail", "-c", first], cwd=clone, env=clean_env())
    venv = clone / ".venv"
    return SimpleNamespace(
        clone=clone, venv=venv, second=second, install_s=time.monotonic() - start, base=base
    )


def settings_in(venv: Path, clone: Path) -> dict[str, bool]:
    """Each settings file: is the package's file installed in `venv`?"""
    found = {}
    for source, target in settings_targets(venv).items():
        source = clone / "src" / "gdlessons" / "jupyter_settings" / source.name
        found[target.name] = target.is_file() and target.read_bytes() == source.read_bytes()
    return found


@HEAVY
def test_the_readmes_second_command_serves_the_working_copy_with_the_settings(readme):
    assert not any(settings_in(readme.venv, readme.clone).values()), "pip installed settings?"
    port, token = free_port(), secrets.token_hex(16)
    log = readme.base / "lab.log"
    env = clean_env(
        JUPYTER_PORT=str(port),  # where the command's JupyterLab listens (it names no port)
        JUPYTER_PORT_RETRIES="0",
        JUPYTER_TOKEN=token,
        BROWSER="true",  # "opens" the browser by running `true URL`
        JUPYTERLAB_SETTINGS_DIR=str(readme.base / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(readme.base / "lab-workspaces"),
    )
    base = f"http://127.0.0.1:{port}"
    with jupyter_server(["bash", "-c", readme.second], base, token, log, cwd=readme.clone, env=env):
        status, listing = request(f"{base}/api/contents/", token)
        names = {item["name"] for item in listing["content"]}
        lessons = {p.name for p in (readme.clone / "notebooks").glob("[0-9]*.ipynb")}
        assert status == 200 and lessons | {"exercises", "solutions"} <= names
        assert (readme.clone / "my-work").is_dir(), "it did not open the working copy"
        assert request(f"{base}/api/contents/")[0] == 403, "answers without the token"
        status, kernel = request(f"{base}/api/kernels", token, method="POST")
        assert status == 201
        sockets, deadline = f"kernel-{kernel['id']}-ipc-*", time.monotonic() + 60
        while len(list(Path(jupyter_runtime_dir()).glob(sockets))) < 5:
            assert time.monotonic() < deadline, "the kernel bound no Unix sockets within 60 s"
            time.sleep(0.5)
        request(f"{base}/api/kernels/{kernel['id']}", token, method="DELETE")
    text = log.read_text()
    assert f"gdlessons' Jupyter settings: written to {readme.venv}" in text
    assert all(settings_in(readme.venv, readme.clone).values())
    assert "without encryption" not in text and "Exception while loading config" not in text


@HEAVY
def test_postbuild_installs_the_settings_in_the_environment_requirements_txt_made(readme):
    for target in settings_targets_of(readme):
        target.unlink(missing_ok=True)
    run(["./postBuild"], cwd=readme.clone, env=clean_env(readme.venv))
    assert all(settings_in(readme.venv, readme.clone).values())


def settings_targets_of(readme) -> list[Path]:
    return list(settings_targets(readme.venv).values())


@HEAVY
def test_a_lesson_runs_in_that_environment_with_the_kernels_settings(readme):
    out = readme.base / "01-executed.ipynb"
    code, log = execute_alone(readme.venv / "bin" / "python", NOTEBOOKS[0], out)
    assert code == 0, log
    texts = [o.get("data", {}).get("text/plain", "") for o in outputs(out)]
    figures = [t for t in texts if "Figure" in t]
    assert figures and all(t.startswith("Figure: ") for t in figures), figures  # the kernel config
    print(f"README's first command (fresh .venv from requirements.txt): {readme.install_s:.0f} s")
