"""`python -m gdlessons.lab`: make lab's settings and command line, without make.

The settings live once, in the package (gdlessons/jupyter_settings/); `make setup`, repo2docker's
postBuild and `python -m gdlessons.lab` all install them with the same function. Here they are
installed into scratch prefixes (never over a file that is not ours), and the command that
`python -m gdlessons.lab` would start is compared with the one `make lab` starts (`make -n lab`):
same server options, same working copy, same environment. JupyterLab itself is not started here:
tests/test_lab.py starts it with make lab, and tests/test_readme_commands.py with the README's
commands.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from jupyter_core.paths import ENV_CONFIG_PATH

from gdlessons import lab

ROOT = Path(__file__).resolve().parents[1]


def test_make_setup_installed_the_packages_own_files_where_jupyter_reads_them():
    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("not make setup's .venv (make test-compat's environments have no settings)")
    for source, target in lab.settings_targets(sys.prefix).items():
        assert target.read_bytes() == source.read_bytes(), f"{target} is not {source}"
    assert str(Path(sys.prefix, "etc", "jupyter")) in ENV_CONFIG_PATH


def test_the_settings_have_one_home_in_the_package():
    files = sorted(p.name for p in lab.SETTINGS.iterdir() if not p.name.startswith("__"))
    assert files == sorted(lab._TARGETS)
    assert not list((ROOT / "jupyter-env").glob("*config*")), "a copy of the settings is left"


def test_settings_install_into_a_fresh_environment_once(tmp_path):
    written = lab.install_settings(tmp_path)
    assert len(written) == 3
    for source, target in lab.settings_targets(tmp_path).items():
        assert target.read_bytes() == source.read_bytes()
    assert lab.install_settings(tmp_path) == []  # up to date: nothing written again


def test_a_copy_make_setup_wrote_before_is_replaced(tmp_path):
    target = lab.settings_targets(tmp_path)[lab.SETTINGS / "ipython_kernel_config.py"]
    target.parent.mkdir(parents=True)
    target.write_text(
        "# The lessons' kernels: `make setup` copies this file to .venv/etc/ipython/\n"
    )
    assert target in lab.install_settings(tmp_path)
    assert target.read_text() == (lab.SETTINGS / "ipython_kernel_config.py").read_text()


def test_a_settings_file_that_is_not_ours_is_never_overwritten(tmp_path, capsys):
    target = tmp_path / "etc" / "jupyter" / "jupyter_server_config.py"
    target.parent.mkdir(parents=True)
    target.write_text("c.ServerApp.port = 9000  # the hub's own\n")
    with pytest.raises(lab.SettingsError, match="not gdlessons' settings.*Merge"):
        lab.install_settings(tmp_path)
    assert target.read_text() == "c.ServerApp.port = 9000  # the hub's own\n"
    assert lab.main(["--settings-only", "--prefix", str(tmp_path)]) == 1
    assert str(target) in capsys.readouterr().err


def test_an_environment_that_cannot_be_written_gets_a_clear_message(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(lab.SettingsError, match="cannot write .*virtual environment"):
        lab.install_settings(blocker)


def make_lab_commands(work_dir: Path, port: int) -> tuple[list[str], list[str]]:
    """What `make lab` runs: the working copy's sync, then JupyterLab (its arguments)."""
    done = subprocess.run(
        ["make", "-n", "--no-print-directory", "lab", f"LAB_PORT={port}", f"WORK_DIR={work_dir}"]
        + ["LAB_OPTS=--no-browser"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [shlex.split(line) for line in done.stdout.replace("\\\n", " ").splitlines()]
    sync = next(line for line in lines if "tools.working_copy" in line)
    server = next(line for line in lines if line[1:2] == ["lab"])  # (make setup's may come first)
    return sync, server


def make_exports() -> dict[str, str]:
    return dict(re.findall(r"^export (\w+) := (\S+)$", (ROOT / "Makefile").read_text(), re.M))


@pytest.fixture
def started(monkeypatch):
    """Run lab.main without starting JupyterLab: what it would run, with which environment."""
    calls = {}

    def serve(command, env):
        calls["server"], calls["env"] = command, env
        return 0

    real_run = subprocess.run

    def run(command, **kwargs):  # the working copy is made for real (in a scratch folder)
        if "tools.working_copy" in " ".join(map(str, command)):
            calls["sync"] = (command, kwargs["cwd"])
        return real_run(command, **kwargs)

    monkeypatch.setattr(lab, "_serve", serve)
    monkeypatch.setattr(lab.subprocess, "run", run)
    return calls


def test_in_a_clone_it_starts_what_make_lab_starts(started, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    work_dir = tmp_path / "my-work"
    options = ["--port", "9999", "--work-dir", str(work_dir), "--prefix", str(tmp_path / "env")]
    assert lab.main([*options, "--no-browser"]) == 0
    sync, server = make_lab_commands(work_dir, 9999)
    command, cwd = started["sync"]
    assert cwd == ROOT and command[1:] == sync[1:]
    assert Path(command[0]).name.startswith("python") and Path(sync[0]).name == "python"
    ours = started["server"]
    assert ours[:3] == [sys.executable, "-m", "jupyterlab"] and server[1] == "lab"
    assert sorted(ours[3:]) == sorted(server[2:])  # ip, port, root_dir, allow-root, options
    for name in ("PYTHONHASHSEED", "OMP_NUM_THREADS"):
        assert started["env"][name] == make_exports()[name] == lab.ENVIRONMENT[name]
    assert started["env"]["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)


def test_outside_a_clone_it_opens_the_current_folder_on_loopback(started, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    shutil.copy(min((ROOT / "notebooks").glob("[0-9]*.ipynb")), tmp_path)
    assert lab.main(["--prefix", str(tmp_path / "env")]) == 0
    assert "sync" not in started  # no working copy: these notebooks are the student's own
    assert "--ServerApp.ip=127.0.0.1" in started["server"]
    assert "--ServerApp.root_dir=." in started["server"]
    assert not [arg for arg in started["server"] if "token" in arg.lower()]  # token login stays


def test_a_folder_that_does_not_exist_is_refused(started, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)
    assert lab.main([str(tmp_path / "nowhere"), "--prefix", str(tmp_path / "env")]) == 2
    assert "is not a folder" in capsys.readouterr().err and "server" not in started
