"""`make test-compat`: the unit tests and every notebook with the oldest and newest numpy/matplotlib.

Two nox sessions, ``compat(versions='oldest')`` and ``compat(versions='newest')``, each in a
throwaway environment under build/compat/. "oldest" installs numpy and matplotlib exactly at the
lower bounds pyproject.toml declares (its only source), "newest" leaves them unpinned (PyPI's
newest). Everything else comes from requirements.txt and requirements-dev.txt with their numpy and
matplotlib pins taken out, and torch keeps its pin, so pip takes the local CPU wheel and never
resolves a CUDA build.

In each: ``pytest tests src`` (the doctests of src/ too; tests/test_lab.py is left out: it starts
a JupyterLab server with make setup's settings; so is tests/browser/, make check-*'s, which needs
the built site and Chromium), then every notebook executed top to bottom by
nbmake in a fresh kernel of that environment, outputs not compared (their last digits may differ
with other versions: nbval's strict comparison is make test's, on the pins).

    make test-compat                                  # both sessions (downloads from PyPI)
    .venv/bin/nox -s "compat(versions='oldest')"      # one
    .venv/bin/nox -R -s "compat(versions='newest')"   # reuse an environment already built
"""

from __future__ import annotations

import re

import nox

nox.options.envdir = "build/compat"
nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True

VARIED = ("numpy", "matplotlib")  # the dependencies whose range pyproject.toml declares
LEFT_OUT = ("tests/test_lab.py", "tests/browser")


def requirements(versions: str) -> list[str]:
    """pip arguments: the requirements files' pins, numpy and matplotlib as ``versions`` says."""
    lines = []
    for name in ("requirements.txt", "requirements-dev.txt"):  # dev: nbgrader, which tests import
        with open(name, encoding="utf-8") as f:
            lines += [re.sub(r"\s+#.*", "", ln).strip() for ln in f]  # as pip: inline comments
    pins = [ln for ln in lines if ln and not ln.startswith(("#", "-e", "-r"))]
    declared = nox.project.load_toml("pyproject.toml")["project"]["dependencies"]
    lower = dict(re.fullmatch(r"([a-z]+)>=([\d.]+).*", d).groups() for d in declared)
    varied = [f"{name}=={lower[name]}" if versions == "oldest" else name for name in VARIED]
    return [p for p in pins if p.split("==")[0] not in VARIED] + varied


@nox.session
@nox.parametrize("versions", ["oldest", "newest"])
def compat(session: nox.Session, versions: str) -> None:
    """The unit tests and every notebook with numpy and matplotlib at one end of their range."""
    session.install(*requirements(versions), "nbmake==1.5.5", "-e", ".")
    session.run("python", "-c", "import gdlessons, json; print(json.dumps(gdlessons.versions()))")
    env = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    ignore = [arg for path in LEFT_OUT for arg in ("--ignore", path)]
    session.run("pytest", "tests", "src", "-q", "-rfE", *ignore, env=env)
    session.run(
        "pytest",
        "--nbmake",
        "--nbmake-timeout=300",
        "-q",
        "notebooks",
        env=env,
    )
