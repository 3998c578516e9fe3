"""Every notebook is safe to run twice: executing each code cell two times in a row, in a fresh kernel
top to bottom, gives the same outputs the second time as the first.

A student re-runs cells all the time. A training cell that continued from the last run (instead of
re-creating its parameters) would print different numbers the second time, and this test fails.
It also proves each notebook runs alone, in a fresh kernel, with nothing from another notebook, and that
no cell writes a warning to stderr.
"""

import hashlib
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def summary(outputs):
    """What a student sees, in comparable form (images by content hash)."""
    seen = []
    for out in outputs:
        if out.output_type == "stream":  # a stream may arrive in several chunks: join them
            if seen and seen[-1][0] == out.name:
                seen[-1] = (out.name, seen[-1][1] + out.text)
            else:
                seen.append((out.name, out.text))
        elif out.output_type == "error":
            seen.append(("error", out.ename, out.evalue))
        else:
            for mime, data in sorted(out.get("data", {}).items()):
                text = data if isinstance(data, str) else str(data)
                seen.append((mime, hashlib.sha256(text.encode()).hexdigest() if mime.startswith("image/") else text))
    return seen


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix())
def test_running_every_cell_twice_gives_the_same_output(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            client.execute_cell(cell, index)
            first = summary(cell.outputs)
            client.execute_cell(cell, index)
            second = summary(cell.outputs)
            assert second == first, f"cell {index} gives different output when run again:\n{cell.source}"
            stderr = [text for name, *text in first if name == "stderr"]
            assert not stderr, f"cell {index} wrote to stderr (a warning?): {stderr}\n{cell.source}"
