"""The data-parallel workers under ``spawn``, the only start method Windows has.

``train_data_parallel`` starts its workers with ``forkserver`` where the platform has it (Linux,
macOS) and with ``spawn`` elsewhere (Windows). Under ``spawn`` each worker is a fresh Python that
imports the worker function by name and receives its arguments pickled: the code path a Windows
laptop runs. Linux has ``spawn`` too, so these tests make the platform report ``spawn`` alone (as
Windows does) and check that the workers really are spawned and give the same numbers: in this
process, and in a Jupyter kernel running the lesson's own cells (a notebook's ``__main__`` is not
a file a spawned worker could re-import).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import torch.multiprocessing as mp

from gdlessons import make_linear_data
from gdlessons.parallel import train_data_parallel

ROOT = Path(__file__).resolve().parents[1]
from tools.run_lessons import execute

ONLY_SPAWN = """\
# As on Windows: the platform offers only spawn; record the start method the workers get.
import torch.multiprocessing as mp

start_methods = []
_start_processes = mp.start_processes


def _recording_start_processes(*args, **kwargs):
    start_methods.append(kwargs.get("start_method"))
    return _start_processes(*args, **kwargs)


mp.get_all_start_methods = lambda: ["spawn"]
mp.start_processes = _recording_start_processes
"""


def only_spawn(monkeypatch) -> list[str]:
    """Make this process's platform offer spawn alone; return the start methods used."""
    used: list[str] = []
    start_processes = mp.start_processes

    def recording(*args, **kwargs):
        used.append(kwargs.get("start_method"))
        return start_processes(*args, **kwargs)

    monkeypatch.setattr(mp, "get_all_start_methods", lambda: ["spawn"])
    monkeypatch.setattr(mp, "start_processes", recording)
    return used


def test_spawned_workers_give_the_numbers_forkserver_workers_give(monkeypatch):
    X, y = make_linear_data(64, w=[2.0, -3.4], b=4.2, noise=0.01, seed=0)
    args = dict(lr=0.1, num_epochs=5, w0=[0.0, 0.0], b0=0.0, world_size=2)
    forked = train_data_parallel(X, y, **args)
    used = only_spawn(monkeypatch)
    spawned = train_data_parallel(X, y, **args)
    assert used == ["spawn"]
    np.testing.assert_array_equal(spawned.w, forked.w)
    np.testing.assert_array_equal(spawned.b, forked.b)
    np.testing.assert_array_equal(spawned.loss, forked.loss)


def lesson_cells_with_workers() -> tuple[Path, list, list[int]]:
    """The lesson that calls train_data_parallel: its code cells up to the last one that uses
    a run of the workers, and the indices of the cells from the first call on."""
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        calls = [i for i, c in enumerate(cells) if "train_data_parallel(" in c.source]
        if calls:
            names = {
                m for c in cells for m in re.findall(r"(\w+) = train_data_parallel\(", c.source)
            }
            last = max(i for i, c in enumerate(cells) if any(n in c.source for n in names))
            return path, cells[: last + 1], list(range(calls[0], last + 1))
    raise AssertionError("no lesson calls train_data_parallel")


def test_the_lessons_worker_cells_give_their_stored_outputs_under_spawn_in_a_kernel(tmp_path):
    path, cells, checked = lesson_cells_with_workers()
    assert checked and all(cells[i].outputs for i in checked), "nothing stored to compare with"
    nb = nbformat.v4.new_notebook(metadata=nbformat.read(path, as_version=4).metadata)
    nb.cells = [
        nbformat.v4.new_code_cell(ONLY_SPAWN),
        *(nbformat.v4.new_code_cell(c.source) for c in cells),
        nbformat.v4.new_code_cell("print(start_methods)"),
    ]
    execute(nb, tmp_path, timeout=180)
    calls = sum(c.source.count("train_data_parallel(") for c in cells)
    assert nb.cells[-1].outputs[0].text.strip() == str(["spawn"] * calls)
    for i in checked:
        stored = [o.get("text") for o in cells[i].outputs]
        assert [o.get("text") for o in nb.cells[1 + i].outputs] == stored, cells[i].source
