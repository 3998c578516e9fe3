"""Execute the lessons headless into build/run/ (notebooks/ is only read), then build its site.

A fresh kernel per lesson over IPC (Unix sockets, never TCP); exit status 1 if one fails. The site
(OUT/html) has the executed lessons and the committed exercises. --in-place (`make refresh`) stores
the outputs in the notebooks given instead, and builds no site.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert.preprocessors import CoalesceStreamsPreprocessor
from traitlets.config import Config

from tools.build_site import build_html, page_names

__all__ = ["execute", "main", "site_pages"]


def execute(nb: nbformat.NotebookNode, cwd: Path, timeout: int = 300) -> None:
    """Execute `nb` in place in a fresh python3 kernel started in `cwd`, over IPC."""
    with tempfile.TemporaryDirectory(prefix="kernel-") as tmp:
        ipc = {"transport": "ipc", "ip": f"{tmp}/ipc", "connection_file": f"{tmp}/kernel.json"}
        # record_timing=False: no execution timestamps in the cells' metadata (no diff per run)
        config = Config(KernelManager=ipc)
        client = NotebookClient(nb, timeout=timeout, record_timing=False, config=config)
        client.execute(cwd=str(cwd))
    # One stream output per print run, however the kernel flushed it (consecutive ones merged).
    CoalesceStreamsPreprocessor().preprocess(nb, {})


def site_pages(lessons: Sequence[Path]) -> dict[str, Path]:
    """The notebooks `make run` shows: the lessons, then the exercises next to them."""
    return page_names([*lessons, *sorted(lessons[0].parent.glob("exercises/[0-9]*.ipynb"))])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("build/run"))
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell")
    parser.add_argument("--in-place", action="store_true", help="write the outputs back")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    pages, failed = site_pages(args.notebooks), 0
    for name, path in list(pages.items())[: len(args.notebooks)]:
        start, nb, error = time.perf_counter(), nbformat.read(path, as_version=4), ""
        try:
            execute(nb, path.parent, args.timeout)
            pages[name] = path if args.in_place else args.out / path.name
            nbformat.write(nb, pages[name])
        except CellExecutionError as err:
            error, failed = str(err).strip().splitlines()[-1], failed + 1
        status, seconds = "FAIL" if error else "ok  ", time.perf_counter() - start
        print(f"{status} {path.name:<40} {seconds:5.1f} s  {error}", flush=True)
    if not failed and not args.in_place:
        build_html(pages, args.out / "html", "Gradient descent, step by step (run by make run)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
