"""Execute lessons headless into an output folder: an executed notebook and an HTML page each.

The committed notebooks are only read, never written. Prints one line per lesson and exits
non-zero if any lesson fails, naming the cell that raised.

    python tools/run_lessons.py --out build notebooks/01_numpy_gradient_descent.ipynb ...
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def run_lesson(path: Path, out: Path, timeout: int) -> tuple[bool, str]:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        return False, str(err).strip().splitlines()[-1]
    (out / "executed").mkdir(parents=True, exist_ok=True)
    (out / "html").mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, out / "executed" / path.name)
    html, _ = HTMLExporter().from_notebook_node(nb)
    page = out / "html" / path.with_suffix(".html").name
    page.write_text(html, encoding="utf-8")
    return True, str(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build"))
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    args = parser.parse_args()
    failed = 0
    for path in args.notebooks:
        start = time.perf_counter()
        ok, detail = run_lesson(path, args.out, args.timeout)
        failed += not ok
        status = "ok  " if ok else "FAIL"
        print(f"{status} {path.name:<40} {time.perf_counter() - start:5.1f} s  {detail}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
