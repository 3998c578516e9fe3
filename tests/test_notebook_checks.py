"""The checks conftest.py adds to nbval can fail: a cell that is not safe to re-run, and a notebook
that writes into the repository, are both caught (each run on a scratch notebook and repository)."""

import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]


def run_nbval(tmp_path, *sources):
    """pytest --nbval with this project's conftest on a notebook made of ``sources``, executed."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    first_run, repo = tmp_path / "first-run", tmp_path / "repo"  # stored outputs made elsewhere
    first_run.mkdir()
    repo.mkdir()
    NotebookClient(
        nb, kernel_name="python3", resources={"metadata": {"path": str(first_run)}}
    ).execute()
    nbformat.write(nb, repo / "scratch.ipynb")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "scratch.ipynb"], cwd=repo, check=True)
    env = dict(os.environ, NOTEBOOK_CHECK_ROOT=str(repo), PYTHONPATH=str(ROOT))
    options = "-p conftest --nbval --nbval-current-env -p no:cacheprovider -q scratch.ipynb"
    command = [sys.executable, "-m", "pytest", *options.split()]
    return subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True, timeout=300)


def test_a_cell_that_gives_other_output_when_run_again_fails(tmp_path):
    done = run_nbval(tmp_path, "count = 0", "count += 1\nprint(count)")
    assert done.returncode != 0
    assert "FAILED" in done.stdout and "Cell 1" in done.stdout, done.stdout[-2000:]


def test_a_notebook_that_writes_into_the_repository_fails(tmp_path):
    done = run_nbval(tmp_path, "open('written.txt', 'w').write('state for another notebook')")
    assert done.returncode != 0
    assert "the repository changed while scratch.ipynb ran" in done.stdout, done.stdout[-2000:]


def test_a_safe_notebook_passes(tmp_path):
    done = run_nbval(tmp_path, "w = 0.0\nfor _ in range(3):\n    w += 1.0\nprint(w)")
    assert done.returncode == 0, done.stdout[-2000:]
