"""The package from its wheel, outside the repository: beside a server's torch, each notebook alone.

Runs only in make test-install (CI). The wheel built from a fresh copy of the repository's files
is installed with its extras into a "server" environment that already has the pinned torch,
numpy, matplotlib and a kernel: ``pip freeze`` before and after shows that no installed package
changed; pip keeps a newer torch where one is installed; a notebook without the package fails at
its first cell, which says what to install; then every lesson and exercise notebook is copied
alone into an empty folder outside the repository and executed there with that environment's
kernel (two at a time).
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
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
    outputs,
    run,
    tracked_copy,
)
from packaging.requirements import Requirement


def pinned(*names: str) -> list[str]:
    """requirements.txt's pins of these packages (name==version)."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = {Requirement(line).name: line for line in lines if re.match(r"[\w.-]+==", line)}
    return [pins[name] for name in names]


def freeze(python: Path) -> set[str]:
    return set(run([python, "-m", "pip", "freeze", "--all"], env=clean_env()).splitlines())


@pytest.fixture(scope="module")
def wheel() -> Path:
    base = WORK / "wheel"
    shutil.rmtree(base, ignore_errors=True)
    source = tracked_copy(base / "source")
    run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", base / "dist", source])
    (found,) = (base / "dist").glob("gdlessons-*.whl")
    return found


@pytest.fixture(scope="module")
def server(wheel):
    """A server's environment (torch, numpy, matplotlib, a kernel), then the wheel installed."""
    venv = wheel.parent.parent / "server"
    python = venv / "bin" / "python"
    run([sys.executable, "-m", "venv", venv], env=clean_env())
    have = pinned("torch", "numpy", "matplotlib", "ipykernel", "nbclient", "nbformat")
    run([python, "-m", "pip", "install", "-q", *have], env=clean_env())
    # A student's notebook where the package is still missing: its first cell says what to do.
    base = venv.parent
    lesson = base / NOTEBOOKS[0].name
    shutil.copy(NOTEBOOKS[0], lesson)
    install_hint.main([str(lesson)])
    missing = (*execute_alone(python, lesson, base / "missing.ipynb"), base / "missing.ipynb")
    before = freeze(python)
    run([python, "-m", "pip", "install", "-q", f"{wheel}[torch,explorers]"], env=clean_env())
    after = freeze(python)
    # Every notebook alone, two at a time, from now on: each test below waits for its own.
    (base / "executed").mkdir()
    with ThreadPoolExecutor(max_workers=2) as pool:
        executions = {
            notebook: pool.submit(
                execute_alone, python, notebook, base / "executed" / notebook.name
            )
            for notebook in NOTEBOOKS
        }
        yield SimpleNamespace(
            python=python,
            base=base,
            before=before,
            after=after,
            missing=missing,
            executions=executions,
        )
        pool.shutdown(cancel_futures=True)


@HEAVY
def test_the_wheel_holds_the_settings_and_the_engine_and_caps_no_torch(wheel):
    with zipfile.ZipFile(wheel) as whl:
        names = set(whl.namelist())
        metadata = next(whl.read(n) for n in names if n.endswith(".dist-info/METADATA")).decode()
    package = ROOT / "src" / "gdlessons"
    for path in [*package.glob("jupyter_settings/*"), package / "engine.py", package / "lab.py"]:
        assert path.relative_to(ROOT / "src").as_posix() in names
    requires = [
        Requirement(line.split(": ", 1)[1])
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ")
    ]
    torch = [r for r in requires if r.name == "torch"]
    assert len(torch) == 1 and torch[0].specifier.contains("2.13.0")
    assert torch[0].specifier.contains("2.14.1") and torch[0].specifier.contains("3.0")


@HEAVY
def test_installing_the_wheel_beside_the_pinned_torch_changes_no_installed_package(server):
    changed = server.before - server.after
    assert not changed, f"installing the wheel changed {sorted(changed)}"
    added = {re.split(r"==| @ ", line)[0] for line in server.after - server.before}
    assert "gdlessons" in added and "altair" in added
    print(f"installing the wheel added {sorted(added)} and changed nothing")


@HEAVY
def test_pip_keeps_a_newer_torch_that_the_server_has(wheel):
    # Only the resolver is asked (--dry-run): a torch 2.14.1 is "installed" as its metadata alone.
    venv = wheel.parent.parent / "newer-torch"
    run([sys.executable, "-m", "venv", venv], env=clean_env())
    python = venv / "bin" / "python"
    site = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).strip()
    )
    info = site / "torch-2.14.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: torch\nVersion: 2.14.1\n")
    (info / "RECORD").write_text("")
    report = venv / "report.json"
    run(
        [python, "-m", "pip", "install", "-q", "--dry-run", "--report", report]
        + [f"{wheel}[torch,explorers]"],
        env=clean_env(),
    )
    to_install = {item["metadata"]["name"] for item in json.loads(report.read_text())["install"]}
    assert "gdlessons" in to_install and "torch" not in to_install, sorted(to_install)


@HEAVY
def test_without_the_package_the_first_cell_fails_and_says_what_to_install(server):
    code, log, executed = server.missing
    assert code != 0 and "No module named 'gdlessons'" in log, log
    nb = json.loads(executed.read_text(encoding="utf-8"))
    first = next(c for c in nb["cells"] if c["cell_type"] == "code")
    assert "".join(first["source"]).startswith(install_hint.hint())
    assert [o["ename"] for o in first["outputs"] if o["output_type"] == "error"] == [
        "ModuleNotFoundError"
    ]


@HEAVY
@pytest.mark.parametrize(
    "notebook", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix()
)
def test_every_notebook_runs_alone_in_an_empty_folder_from_the_wheel(server, notebook):
    code, log = server.executions[notebook].result()
    assert code == 0, log
    out = server.base / "executed" / notebook.name
    errors = [o for o in outputs(out) if o["output_type"] == "error"]
    assert not errors, errors
