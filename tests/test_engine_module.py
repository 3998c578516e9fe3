"""gdlessons.engine is lesson 02's engine, and every notebook runs without the repository around it.

The lesson's cells tagged ``engine`` are the one place the engine is written and read; the module
is generated from them (tools/make_engine.py) so that a notebook opened on its own, with gdlessons
installed from a wheel, can import it. These tests fail as soon as the two differ, and when a
notebook's code reads a file of the repository (``../02_autograd_by_hand.ipynb`` and the like).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

import gdlessons.engine

ROOT = Path(__file__).resolve().parents[1]
from tools import make_engine

NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("[0-9]*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def test_the_engine_module_is_exactly_the_lessons_engine_cells():
    lesson, cells = make_engine.engine_cells()
    expected = make_engine.module_text(lesson, cells)
    assert Path(gdlessons.engine.__file__).read_text(encoding="utf-8") == expected, (
        f"src/gdlessons/engine.py differs from the cells of {lesson.name} tagged 'engine': "
        "run python -m tools.make_engine (make refresh LESSON=02 does)"
    )
    for cell in cells:  # nothing of the lesson left out, nothing added in between
        assert cell in expected


def test_the_modules_names_are_the_ones_the_lesson_defines():
    _, cells = make_engine.engine_cells()
    namespace: dict = {}
    exec(compile("\n\n".join(cells), "engine cells", "exec"), namespace)
    assert gdlessons.engine.__all__ == ["Value", "as_value", "add", "mul", "power", "backward"]
    for name in gdlessons.engine.__all__:
        assert name in namespace
    w = gdlessons.engine.Value(3.0)
    loss = (w * w + 1.0) ** 2  # w is used twice: backward_step must add
    loss.backward()
    assert (loss.data, w.grad) == (100.0, 120.0)


def test_a_stale_module_is_reported_with_what_to_run(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "engine.py"
    stale.write_text(Path(gdlessons.engine.__file__).read_text().replace("+=", "="))
    monkeypatch.setattr(make_engine, "ENGINE_MODULE", stale)
    monkeypatch.setattr(make_engine, "ROOT", tmp_path)
    assert make_engine.main(["--verify"]) == 1
    assert "python -m tools.make_engine" in capsys.readouterr().err


READS_A_FILE = re.compile(r"""["'][^"'\n]*(\.\./|\.ipynb\b)""")


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix()
)
def test_no_notebook_code_reads_a_file_of_the_repository(path):
    """A notebook copied alone into an empty folder (Colab, a hub) must still run."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not READS_A_FILE.search(cell.source), (
                f"this cell names a file next to the notebook; import it from gdlessons instead:"
                f"\n{cell.source}"
            )
