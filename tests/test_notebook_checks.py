"""The checks conftest.py adds to nbval can fail: a cell that is not safe to re-run, and a notebook
that writes into the repository, are both caught, and a safe notebook passes. One nbval run of this
project's conftest over three scratch notebooks in a scratch repository serves the three tests."""

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def stdout(text):
    return nbformat.v4.new_output("stream", name="stdout", text=text)


# name -> cells (source, the output a first run stores). Collected in name order: the notebook that
# writes runs last, since after it the scratch repository stays changed for every later notebook.
NOTEBOOKS = {
    "a_rerun_unsafe": [("count = 0", []), ("count += 1\nprint(count)", [stdout("1\n")])],
    "b_safe": [("w = 0.0\nfor _ in range(3):\n    w += 1.0\nprint(w)", [stdout("3.0\n")])],
    "z_writes": [("with open('written.txt', 'w') as f:\n    f.write('state for another')", [])],
}


@pytest.fixture(scope="module")
def nbval_run(tmp_path_factory):
    """(pytest's output, {notebook: its progress line}) of `pytest --nbval` on the notebooks."""
    repo = tmp_path_factory.mktemp("repo")
    for name, cells in NOTEBOOKS.items():
        nb = nbformat.v4.new_notebook()
        for source, outputs in cells:
            nb.cells.append(nbformat.v4.new_code_cell(source, outputs=outputs, execution_count=1))
        nbformat.write(nb, repo / f"{name}.ipynb")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    env = dict(os.environ, NOTEBOOK_CHECK_ROOT=str(repo), PYTHONPATH=str(ROOT))
    options = "-p conftest --nbval --nbval-current-env -p no:cacheprovider -p no:xdist -rf"
    command = [sys.executable, "-m", "pytest", *options.split(), *(f"{n}.ipynb" for n in NOTEBOOKS)]
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
    lines = dict(re.findall(r"^(\w+)\.ipynb: (.*) \(\d+ s into the run\)$", done.stdout, re.M))
    return done.stdout, lines


def test_a_cell_that_gives_other_output_when_run_again_fails(nbval_run):
    out, lines = nbval_run
    assert lines["a_rerun_unsafe"] == "FAILED", out[-3000:]
    assert "FAILED a_rerun_unsafe.ipynb::Cell 1" in out, out[-3000:]
    assert "'1\\n' == '2\\n'" in out, out[-3000:]  # the stored 1, the second run's 2


def test_a_notebook_that_writes_into_the_repository_fails(nbval_run):
    out, lines = nbval_run
    assert lines["z_writes"] == "FAILED", out[-3000:]
    assert "the repository changed while z_writes.ipynb ran" in out, out[-3000:]


def test_a_safe_notebook_passes(nbval_run):
    out, lines = nbval_run
    assert lines["b_safe"] == "ok, every cell run twice", out[-3000:]
    assert "b_safe.ipynb::" not in "".join(re.findall(r"^(?:FAILED|ERROR) .*$", out, re.M))
