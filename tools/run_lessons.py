"""Execute lessons headless into an output folder: executed notebooks and an offline HTML site.

The committed notebooks are only read, never written. Each lesson runs in a fresh kernel; one line per
lesson is printed, and the exit status is non-zero if any lesson fails (the line names the error).
The HTML pages are rendered from the executed notebooks by tools/build_site.py, with MathJax copied
next to them (no CDN), so build/run/html/index.html opens offline.

    python tools/run_lessons.py --out build/run --vendor build/vendor/node_modules notebooks/0*.ipynb
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_site import build_html  # noqa: E402  (a sibling script, not part of the package)


def run_lesson(path: Path, out: Path, timeout: int) -> str | None:
    """Execute `path` into out/NAME.ipynb; return None, or the error that stopped it."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    except CellExecutionError as err:
        return str(err).strip().splitlines()[-1]
    nbformat.write(nb, out / path.name)
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/run"))
    parser.add_argument("--vendor", type=Path, default=Path("build/vendor/node_modules"))
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    executed = []
    for path in args.notebooks:
        start = time.perf_counter()
        error = run_lesson(path, args.out, args.timeout)
        seconds = time.perf_counter() - start
        print(f"{'FAIL' if error else 'ok  '} {path.name:<40} {seconds:5.1f} s  {error or args.out / path.name}", flush=True)
        if not error:
            executed.append(args.out / path.name)
    if len(executed) < len(args.notebooks):
        return 1
    build_html(executed, args.out / "html", args.vendor, "Gradient descent, step by step (executed by make run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
