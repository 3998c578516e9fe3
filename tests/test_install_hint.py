"""tools/install_hint.py on a scratch copy of the notebooks: one line, once, and nothing else.

The tool is run by an instructor or maintainer on notebooks/ (it edits lessons, exercises and
solutions in place); here it only ever runs on copies. It must put the install line at the top of
every notebook's first code cell, change nothing else (outputs, counts, metadata), be idempotent,
keep each exercise notebook what tools/make_exercises.py makes from its solution, and pass ruff.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
from tools import install_hint, make_exercises


@pytest.fixture
def scratch(tmp_path) -> Path:
    """A copy of notebooks/, src/ (first-party imports) and the ruff settings, as a repository."""
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for path in install_hint.notebooks(tmp_path / "notebooks"):  # as before the tool first ran
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        if first.source.startswith(install_hint.HINT_START):
            first.source = first.source.split("\n", 1)[1]
            nbformat.write(nb, path)
    return tmp_path


def test_every_notebook_of_the_series_carries_the_line():
    assert install_hint.main([str(p) for p in install_hint.notebooks()] + ["--verify"]) == 0


def code_cells(path: Path) -> list:
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def test_every_notebook_gets_the_line_first_and_nothing_else_changes(scratch):
    paths = install_hint.notebooks(scratch / "notebooks")
    assert len(paths) == len(install_hint.notebooks()) >= 18
    before = {path: nbformat.read(path, as_version=4) for path in paths}
    assert install_hint.main([str(p) for p in paths]) == 0
    line = install_hint.hint()
    assert '%pip install "gdlessons[torch,explorers]"' in line and len(line) <= 100
    for path, old in before.items():
        new = nbformat.read(path, as_version=4)
        first = next(i for i, c in enumerate(new.cells) if c.cell_type == "code")
        assert new.cells[first].source == f"{line}\n{old.cells[first].source}"
        new.cells[first].source = old.cells[first].source
        assert new == old, f"{path.name}: something besides the first line changed"


def test_running_it_again_changes_no_byte_and_a_new_source_replaces_the_line(scratch):
    paths = [str(p) for p in install_hint.notebooks(scratch / "notebooks")]
    install_hint.main(paths)
    once = {p: Path(p).read_bytes() for p in paths}
    assert install_hint.main([*paths, "--verify"]) == 0
    install_hint.main(paths)
    assert {p: Path(p).read_bytes() for p in paths} == once
    install_hint.main([*paths, "--source", "git+https://example.org/gd.git"])
    first = code_cells(Path(paths[0]))[0].source.splitlines()
    assert first[0].endswith('"gdlessons[torch,explorers] @ git+https://example.org/gd.git"')
    assert not first[1].startswith(install_hint.HINT_START)  # replaced, not added again


def test_verify_mode_names_the_notebooks_without_the_line_and_writes_nothing(scratch, capsys):
    path = install_hint.notebooks(scratch / "notebooks")[0]
    data = path.read_bytes()
    assert install_hint.main([str(path), "--verify"]) == 1
    assert path.read_bytes() == data
    assert path.name in capsys.readouterr().out


def test_exercises_stay_what_their_solutions_make_and_ruff_accepts_the_notebooks(scratch):
    install_hint.main([str(p) for p in install_hint.notebooks(scratch / "notebooks")])
    solutions = sorted((scratch / "notebooks" / "solutions").glob("[0-9]*.ipynb"))
    assert make_exercises.main(["--verify", *map(str, solutions)]) == 0
    ruff = Path(sys.executable).with_name("ruff")
    for command in (
        [ruff, "check", "--no-cache", "."],
        [ruff, "format", "--no-cache", "--check", "."],
    ):
        done = subprocess.run(command, cwd=scratch, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
