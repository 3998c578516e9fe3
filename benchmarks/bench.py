"""What users wait for, measured against floors on this machine: `make bench`.

    python -m benchmarks.bench [--out build/bench.md] [--repeats 3] [--no-setup] [--quick]

Each round measures, one after the other (so a busy moment hits all of them alike):

- **floor A**: every notebook (lessons, exercises, solutions) executed once, one after the other,
  each in a fresh kernel: the least any check of the stored outputs must do;
- **warm `make test`**: the whole test command with `.venv` in place;
- **each lesson's Run All** in a fresh kernel, next to its **bare-kernel floor**: a fresh kernel
  that runs only the lesson's imports (its setup cells and the import lines of other cells);
- **`make setup` from nothing**: a fresh `.venv` in a temporary copy of the files it reads.

The report gives medians over the rounds and the ratios the project aims at (make test <= 1.5 x
floor A, every lesson <= 2.5 x its floor, make setup <= 2 min), then, for information only, the
cost of one gradient-descent step at n = 1e7 against a NumPy reduction over the same bytes.
"""

from __future__ import annotations

import argparse
import ast
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

from tools.tag_slides import is_setup_cell

ROOT = Path(__file__).resolve().parent.parent

ALL_NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
LESSONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def execute(nb: nbformat.NotebookNode, folder: Path) -> float:
    """Seconds to start a fresh kernel and run every code cell of ``nb`` (in ``folder``)."""
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(folder)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def setup_only(path: Path) -> nbformat.NotebookNode:
    """The lesson's setup cells and every import of its other cells: what any run must pay.

    A lesson imports some modules where it first uses them (``from gdlessons.explorers import
    lr_explorer`` loads Altair); those imports count in the floor, the calls after them do not.
    """
    nb = nbformat.read(path, as_version=4)
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if is_setup_cell(cell.source):
            cells.append(cell)
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # IPython magics: nothing imported there
            continue
        imports = [
            ast.get_source_segment(cell.source, node)
            for node in tree.body
            if isinstance(node, (ast.Import, ast.ImportFrom))
        ]
        if imports:
            cells.append(nbformat.v4.new_code_cell("\n".join(imports)))
    nb.cells = cells
    return nb


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def make_setup_from_nothing() -> tuple[float, int]:
    """Seconds of `make setup` in a fresh copy of what it reads, and the size of that .venv."""
    with tempfile.TemporaryDirectory(prefix="gdlessons-setup-") as tmp:
        work = Path(tmp)
        for name in ("Makefile", "requirements.txt", "pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, work / name)
        for folder in ("src", "tools", "jupyter-env"):
            shutil.copytree(
                ROOT / folder,
                work / folder,
                ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
            )
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS")}
        env["PATH"] = os.pathsep.join(
            p for p in env["PATH"].split(os.pathsep) if not p.startswith(str(ROOT))
        )
        start = time.perf_counter()
        done = subprocess.run(["make", "setup"], cwd=work, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"make setup failed in a fresh directory:\n{done.stderr[-2000:]}")
        size = sum(f.stat().st_size for f in (work / ".venv").rglob("*") if f.is_file())
    return seconds, size


def step_times(n: int, num_epochs: int = 3) -> dict[str, float]:
    """Seconds per gradient-descent step at n float32 samples, and a NumPy floor (information)."""
    from gdlessons import train_autograd, train_nn, train_numpy

    rng = np.random.default_rng(0)
    X = rng.standard_normal(n, dtype=np.float32)
    y = 2 * X
    times = {"np.dot(X, y): reads X and y once": _best(lambda: np.dot(X, y))}
    for train in (train_numpy, train_autograd, train_nn):
        times[train.__name__] = _best(lambda t=train: t(X, y, 0.01, num_epochs)) / num_epochs
    return times


def _best(fn, repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench.md")
    parser.add_argument("--repeats", type=int, default=3, help="rounds (medians; at least 3)")
    parser.add_argument("--no-setup", action="store_true", help="skip `make setup` from nothing")
    parser.add_argument("--quick", action="store_true", help="one round, small n: a smoke run")
    args = parser.parse_args()
    rounds = 1 if args.quick else max(3, args.repeats)
    setup = not (args.no_setup or args.quick or os.environ.get("BENCH_SETUP") == "0")

    samples: dict[str, list[float]] = {}

    def keep(name: str, seconds: float) -> None:
        samples.setdefault(name, []).append(seconds)
        print(f"  {name}: {seconds:.1f} s", flush=True)

    for r in range(rounds):
        print(f"round {r + 1} of {rounds}", flush=True)
        keep("floor A", sum(execute(nbformat.read(p, 4), p.parent) for p in ALL_NOTEBOOKS))
        keep("make test", timed(["make", "--no-print-directory", "test"]))
        for lesson in LESSONS:
            keep(f"{lesson.stem} floor", execute(setup_only(lesson), lesson.parent))
            keep(f"{lesson.stem}", execute(nbformat.read(lesson, 4), lesson.parent))
        if setup:
            seconds, size = make_setup_from_nothing()
            keep("make setup", seconds)
    med = {name: statistics.median(values) for name, values in samples.items()}

    stamp = datetime.date.today().isoformat()
    lines = [
        f"# make bench, {stamp}",
        "",
        f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"medians of {rounds} interleaved round(s).",
        "",
        "| what | measured | floor | ratio | target |",
        "|---|---:|---:|---:|---:|",
        f"| `make test` (warm) | {med['make test']:.0f} s | floor A {med['floor A']:.0f} s "
        f"| {med['make test'] / med['floor A']:.2f}x | <= 1.5x |",
    ]
    for lesson in LESSONS:
        run, floor = med[lesson.stem], med[f"{lesson.stem} floor"]
        lines.append(
            f"| {lesson.stem} Run All | {run:.1f} s | kernel + imports {floor:.1f} s "
            f"| {run / floor:.2f}x | <= 2.5x |"
        )
    if setup:
        lines.append(f"| `make setup` from nothing | {med['make setup']:.0f} s | | | <= 120 s |")
        lines.append(f"| size of that `.venv` | {size / 2**20:.0f} MiB | | | |")
    n = 10**5 if args.quick else 10**7
    steps = step_times(n)
    floor = steps.pop("np.dot(X, y): reads X and y once")
    lines += [
        "",
        f"Information only: one step at n = {n:.0e} float32 samples (best of 3).",
        "",
        "| trainer | per step | np.dot(X, y) floor | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in steps.items():
        lines.append(
            f"| `{name}` | {seconds * 1e3:.1f} ms | {floor * 1e3:.1f} ms | {seconds / floor:.0f}x |"
        )
    report = "\n".join(lines) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report, encoding="utf-8")
    print("\n" + report + f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
