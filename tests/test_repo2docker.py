"""The files repo2docker reads (Binder, a JupyterHub image) agree with requirements.txt.

repo2docker itself needs Docker, which CI does not have: what it would do is checked from its rules
(repo2docker's Python buildpack): no file that would make it pick another buildpack or ignore
requirements.txt, a Python that pyproject.toml accepts and CI tests, requirements that install from
the repository alone, and a postBuild that is executable and installs the Jupyter settings.
tests/test_readme_commands.py runs postBuild for real, in an environment made from
requirements.txt.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import tomllib
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
REPO2DOCKER_DEFAULT_PYTHON = "3.10"  # repo2docker's Python when runtime.txt does not name one
# Files that make repo2docker use another buildpack than Python's (Docker, Julia, Nix, R, conda,
# pipenv), or read its configuration from a binder/ folder instead of the top level.
OTHER_BUILDPACKS = [
    "Dockerfile",
    "Project.toml",
    "JuliaProject.toml",
    "REQUIRE",
    "default.nix",
    "install.R",
    "DESCRIPTION",
    "environment.yml",
    "environment.yaml",
    "Pipfile",
    "Pipfile.lock",
    "binder",
    ".binder",
]


def tracked(path: str) -> bool:
    done = subprocess.run(
        ["git", "ls-files", "--error-unmatch", path], cwd=ROOT, capture_output=True
    )
    return done.returncode == 0 or (ROOT / path).exists()


def test_repo2docker_builds_from_requirements_txt_with_its_python_buildpack():
    assert (ROOT / "requirements.txt").is_file()
    found = [name for name in OTHER_BUILDPACKS if tracked(name)]
    assert not found, f"repo2docker would not use requirements.txt + postBuild because of {found}"


def test_the_python_repo2docker_installs_is_one_that_pyproject_accepts_and_ci_tests():
    requires = SpecifierSet(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    )
    runtime = ROOT / "runtime.txt"
    if runtime.exists():  # repo2docker fails the build when pyproject.toml refuses this version
        match = re.fullmatch(r"python-(\d+\.\d+)", runtime.read_text().strip())
        assert match, f"runtime.txt must read python-X.Y, not {runtime.read_text()!r}"
        version = match[1]
        assert version == "{}.{}".format(*sys.version_info[:2]), "CI tests another Python"
    else:
        version = REPO2DOCKER_DEFAULT_PYTHON
    assert Version(version) in requires


def requirement_lines() -> list[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return [line.split(" #")[0].strip() for line in lines if line.strip() and line[0] != "#"]


def test_requirements_install_from_the_repository_alone():
    # repo2docker runs `pip install -r requirements.txt` at the top of the repository, before
    # postBuild: every local path must be there, and nothing may point pip at another index.
    for line in requirement_lines():
        assert not line.startswith(("--index-url", "-i ", "--extra-index-url", "--find-links")), (
            line
        )
        path = line.removeprefix("-e ").strip()
        if path.startswith((".", "/")):
            assert not path.startswith("/"), f"an absolute path cannot exist in the image: {line}"
            assert (ROOT / path).exists(), f"requirements.txt names {path}, which is missing"
    assert "torch==2.13.0" in requirement_lines()  # the image gets the pinned torch too


def test_postbuild_is_executable_and_installs_the_settings_as_make_setup_does():
    mode = subprocess.run(
        ["git", "ls-files", "--stage", "postBuild"], cwd=ROOT, capture_output=True, text=True
    ).stdout.split()
    assert mode and mode[0] == "100755", "git must store postBuild as executable"
    script = (ROOT / "postBuild").read_text()
    assert script.startswith("#!/bin/bash\n") and "set -euo pipefail" in script
    commands = [line for line in script.splitlines() if line and not line.startswith(("#", "set"))]
    makefile = (ROOT / "Makefile").read_text()
    assert commands == ["python -m gdlessons.lab --settings-only"]
    assert "$(PY) -m gdlessons.lab --settings-only" in makefile  # the same step as make setup
