"""How fast the series is to learn from, measured against floors on this machine.

    python benchmarks/bench.py [--out build/bench.md] [--quick] [--no-setup] [--only steps,lessons,setup]

Three sections, printed as Markdown tables and written to ``--out``:

1. **steps**: the cost of one gradient-descent step (``train_numpy``, ``train_autograd``,
   ``train_nn`` and, as the baseline, the classic loop written out inline) at n = 4 ... 1e7 float32
   samples. At large n each step is set against a *floor*: a plain NumPy reduction (``np.dot(X, y)``)
   or copy over the same bytes, the least a step that reads X and y can cost on this machine.
2. **lessons**: wall time of each ``notebooks/[0-9]*.ipynb`` executed in a fresh kernel, next to a
   kernel that only starts and imports numpy and torch; and the whole ``pytest --nbval`` run.
3. **setup**: ``make setup`` from nothing (a fresh venv in a temp dir) and the size of the venv.
   Skipped with ``--no-setup`` or ``BENCH_SETUP=0`` (it takes a minute or two).

The machine may be shared, so every number is a median over repeats, and the repeats of the things
that are compared are interleaved. Targets are ratios measured in the same run, never absolute times.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]
LR = 0.01

# ---------------------------------------------------------------------------------------------
# 1. steps
# ---------------------------------------------------------------------------------------------


def inline_numpy(X: np.ndarray, y: np.ndarray, num_epochs: int) -> list[tuple[float, float]]:
    """The classic loop of lesson 01, written out, recording (w, loss) each epoch as History does."""
    w, rows = np.float32(0.0), []
    for _ in range(num_epochs):
        y_hat = w * X
        loss = ((y_hat - y) ** 2).mean()
        dw = (2 * X * (y_hat - y)).mean()
        rows.append((float(w), float(loss)))
        w = w - LR * dw
    return rows


def inline_autograd(X: Any, y: Any, num_epochs: int) -> list[tuple[float, float]]:
    """The classic loop of lesson 02: autograd computes dw."""
    import torch

    w, rows = torch.tensor(0.0, requires_grad=True), []
    for _ in range(num_epochs):
        loss = ((w * X - y) ** 2).mean()
        rows.append((w.item(), loss.item()))
        loss.backward()
        with torch.no_grad():
            w -= LR * w.grad
            w.grad.zero_()
    return rows


def inline_nn(X: Any, y: Any, num_epochs: int) -> list[tuple[float, float]]:
    """The classic loop of lesson 03: nn.Linear, nn.MSELoss, torch.optim.SGD."""
    import torch
    from torch import nn

    model = nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        model.weight.zero_()
    loss_fn, optimizer = nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=LR)
    rows = []
    for _ in range(num_epochs):
        loss = loss_fn(model(X), y)
        rows.append((model.weight.item(), loss.item()))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return rows


def _once(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(fns: dict[str, Callable[[], Any]], repeats: int) -> dict[str, float]:
    """Median seconds of each function; round r runs every function once (so noise hits all alike)."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for name, fn in fns.items():  # warm-up: imports, first-touch of memory, torch's lazy init
        fn()
    gc.disable()  # a collection would land in a random run; collect between rounds instead
    try:
        for _ in range(repeats):
            gc.collect()
            for name, fn in fns.items():
                times[name].append(_once(fn))
    finally:
        gc.enable()
    return {name: statistics.median(ts) for name, ts in times.items()}


EPOCHS = {4: 200, 1000: 100, 100_000: 10, 10_000_000: 5}  # per timed run: long enough to time well


def bench_steps(sizes: list[int], quick: bool) -> tuple[list[dict[str, Any]], dict[str, float]]:
    """Time per step of each trainer and of the inline loops, and the NumPy floors at large n.

    Every method runs ``epochs`` epochs and 1 epoch, alternately; the time per step is the
    difference of the medians over ``epochs - 1`` (what one more epoch costs), and the call overhead
    (input checks, setting up, the History) is what a 1-epoch run costs beyond one step.
    """
    import torch

    from gdlessons import train_autograd, train_nn, train_numpy

    rows, ratios = [], {}
    for n in sizes:
        epochs = EPOCHS.get(n, 10)
        repeats = 3 if quick else (5 if n >= 10**6 else 7 if n >= 10**5 else 15)
        rng = np.random.default_rng(0)
        X = rng.standard_normal(n, dtype=np.float32)
        y = (2 * X + 0.1 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        X2, y2 = Xt.reshape(n, 1), yt.reshape(n, 1)
        methods: dict[str, Callable[[int], Any]] = {
            "numpy: inline": lambda e: inline_numpy(X, y, e),
            "numpy: train_numpy": lambda e: train_numpy(X, y, LR, e),
            "autograd: inline": lambda e: inline_autograd(Xt, yt, e),
            "autograd: train_autograd": lambda e: train_autograd(X, y, LR, e),
            "nn: inline": lambda e: inline_nn(X2, y2, e),
            "nn: train_nn": lambda e: train_nn(X, y, LR, e),
        }
        fns: dict[str, Callable[[], Any]] = {}
        for name, method in methods.items():
            fns[name] = lambda method=method: method(epochs)
            fns[name + " (1 epoch)"] = lambda method=method: method(1)
        floors = {}
        if n >= 10**5:
            out = np.empty_like(X)
            floors = {"floor: np.dot(X, y)": lambda: np.dot(X, y), "floor: copy X": lambda: np.copyto(out, X)}
        medians = interleaved({**fns, **floors}, repeats)
        floor = min(medians[k] for k in floors) if floors else None
        nbytes = 2 * n * X.itemsize  # what a step must read: X and y
        for name in methods:
            step = max(medians[name] - medians[name + " (1 epoch)"], 0.0) / (epochs - 1)
            kind = name.split(":")[0]
            row = {"n": n, "epochs": epochs, "method": name, "step_s": step,
                   "call_s": max(medians[name + " (1 epoch)"] - step, 0.0)}
            if name.endswith("inline"):
                base = step
            else:
                row["vs_inline"] = step / base
                ratios[f"{kind} n={n:g} vs inline"] = step / base
            if floor is not None:
                row["gbps"] = nbytes / step / 1e9
                row["vs_floor"] = step / floor
                if not name.endswith("inline"):
                    ratios[f"{kind} n={n:g} vs floor"] = step / floor
            rows.append(row)
        for name in floors:
            rows.append({"n": n, "epochs": 1, "method": name, "step_s": medians[name],
                         "gbps": nbytes / medians[name] / 1e9, "vs_floor": medians[name] / floor})
    return rows, ratios


def steps_table(rows: list[dict[str, Any]]) -> str:
    out = ["| n | method | time per step | vs inline | GB/s | vs floor | call overhead |",
           "|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        call = r.get("call_s")
        out.append(
            f"| {r['n']:.0e} | {r['method']} | {_dur(r['step_s'])} | {_fmt(r.get('vs_inline'), 'x')} | "
            f"{_fmt(r.get('gbps'), '', 1)} | {_fmt(r.get('vs_floor'), 'x')} | {'' if call is None else _dur(call)} |"
        )
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# 2. lessons
# ---------------------------------------------------------------------------------------------

FLOOR_NOTEBOOK = "import numpy\nimport torch"


def run_notebook(nb: Any, cwd: Path) -> float:
    """Seconds to start a fresh kernel, execute every cell of ``nb`` and shut the kernel down."""
    from nbclient import NotebookClient

    client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(cwd)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def bench_lessons(repeats: int) -> tuple[list[tuple[str, float]], float, float, dict[str, float]]:
    import nbformat

    lessons = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
    floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FLOOR_NOTEBOOK)])
    floor_nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    fns: dict[str, Callable[[], float]] = {"kernel floor (start + import numpy, torch)": lambda: run_notebook(floor_nb, ROOT / "notebooks")}
    for path in lessons:
        fns[path.name] = lambda path=path: run_notebook(nbformat.read(path, as_version=4), path.parent)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(fn())
    medians = [(name, statistics.median(ts)) for name, ts in times.items()]
    floor = medians[0][1]
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *NBVAL, "notebooks"],
                          cwd=ROOT, capture_output=True, text=True)
    nbval = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
        print("WARNING: the nbval run failed; its time is still reported.", file=sys.stderr)
    ratios = {}
    for name, t in medians[1:]:
        ratios[f"lesson {name[:2]} seconds"] = t
    run_by_nbval = [p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    ratios["nbval notebooks"] = len(run_by_nbval)
    ratios["nbval vs sum of lesson floors"] = nbval / (floor * len(run_by_nbval))
    ratios["nbval vs sum of lesson times"] = nbval / sum(t for _, t in medians[1:])
    return medians, floor, nbval, ratios


def lessons_table(medians: list[tuple[str, float]], floor: float, nbval: float) -> str:
    out = ["| notebook | wall time (fresh kernel) | vs kernel floor |", "|---|---:|---:|"]
    for name, t in medians:
        out.append(f"| {name} | {t:.2f} s | {t / floor:.1f}x |")
    lessons = len(medians) - 1
    out.append(f"| sum of the {lessons} lessons | {sum(t for _, t in medians[1:]):.2f} s | "
               f"{sum(t for _, t in medians[1:]) / floor:.1f}x |")
    out.append(f"| `pytest --nbval notebooks` (every notebook, exercises too) | {nbval:.2f} s | {nbval / floor:.1f}x |")
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# 3. setup
# ---------------------------------------------------------------------------------------------


def _du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def bench_setup() -> dict[str, Any]:
    """``make setup`` in a fresh copy of the files it reads (so the real .venv and tree are untouched)."""
    with tempfile.TemporaryDirectory(prefix="gdlessons-setup-") as tmp:
        work = Path(tmp)
        for name in ("Makefile", "requirements.txt", "pyproject.toml", "README.md"):
            shutil.copy2(ROOT / name, work / name)
        shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if not p.startswith(str(ROOT)))
        start = time.perf_counter()
        proc = subprocess.run(["make", "setup"], cwd=work, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit("make setup failed in a fresh directory")
        fresh = _du(work / ".venv")
    return {"seconds": seconds, "fresh_venv_bytes": fresh, "repo_venv_bytes": _du(ROOT / ".venv")}


# ---------------------------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------------------------


def _fmt(v: float | None, suffix: str, digits: int = 2) -> str:
    return "" if v is None else f"{v:.{digits}f}{suffix}"


def _dur(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines() if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    blas = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS") if k in os.environ}
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, NumPy {np.__version__}, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads); load average {load}"
        + (f"; env {blas}" if blas else "")
    )


NOTES = """\
## Notes: where the time goes

- **NumPy** (`train_numpy`): a step is one blocked pass (`_loss_and_gradient` in `numpy_gd.py`): per
  block of 64Ki samples (in L2 cache) `r = X*w - y` is written into a scratch row, then
  `loss = r·r/n`, `dw = 2 r·X/n` (and `db = 2 r·1/n`) are BLAS dot products, summed over blocks in
  float64. No step allocates an n-sized array (the plain expressions made five per step, each mapped
  and zeroed fresh by the kernel: about 4x slower at n = 1e7). What is left above the floor is the
  two elementwise passes (`*w`, `-y`) that NumPy cannot fuse into the dot products.
- **torch** (`train_autograd`, `train_nn`): above 256Ki samples a step runs block by block and adds
  each block's gradient into `.grad` (gradient accumulation), so autograd's temporaries stay in
  cache instead of being n-sized fresh allocations. The floor is still out of reach: autograd runs
  about ten kernels per step for `((X*w - y)**2).mean()` (forward and backward), each a full pass with
  its own output, where the floor is one pass; `nn.Linear` on (n, 1) inputs is a matrix product
  with an inner dimension of 1 (forward) and a (1, n) @ (n, 1) product (weight gradient), which MKL
  runs far below a dot's bandwidth. torch also runs each kernel on all cores (intra-op threads): on
  a machine shared with other work a kernel waits for its slowest thread, so torch's times vary much
  more than NumPy's from run to run.
- **small n**: the helpers check their inputs once per call and then loop on private kernels; a
  History row is a few float stores. At n = 4 a step is dominated by Python and torch dispatch, the
  same in the helper and in the inline loop.
- **lessons**: most of a lesson's time is the kernel start and `import torch` (the floor row).
  Beyond it: `import matplotlib` and the figures, and, in every lesson that builds a
  `torch.optim.SGD`, its first construction, which imports `torch._dynamo` (about 1.3 s here, paid
  once per kernel; `train_nn` pays it too). The nbval run executes every notebook under
  `notebooks/` (lessons, exercises and solutions), each in its own kernel, so its floor is one kernel
  floor per notebook.
"""

TARGETS = [
    # (label, key in ratios, limit, how the ratio is read)
    ("numpy step at n=1e7 within 2x of the floor", "numpy n=1e+07 vs floor", 2.0),
    ("autograd step at n=1e7 within 3x of the floor", "autograd n=1e+07 vs floor", 3.0),
    ("nn step at n=1e7 within 3x of the floor", "nn n=1e+07 vs floor", 3.0),
    ("train_numpy at n=4 vs inline loop <= 1.1", "numpy n=4 vs inline", 1.1),
    ("train_autograd at n=4 vs inline loop <= 1.1", "autograd n=4 vs inline", 1.1),
    ("train_nn at n=4 vs inline loop <= 1.1", "nn n=4 vs inline", 1.1),
    ("nbval run <= 1.5x the sum of the floors of the notebooks it runs", "nbval vs sum of lesson floors", 1.5),
]


def targets_table(ratios: dict[str, float]) -> str:
    out = ["| target | measured | met |", "|---|---:|:---:|"]
    targets = list(TARGETS)
    for key in sorted(k for k in ratios if k.startswith("lesson ")):
        limit = 20.0 if key[7:9] in ("04", "05") else 10.0
        targets.append((f"lesson {key[7:9]} <= {limit:g} s", key, limit))
    for label, key, limit in targets:
        if key in ratios:
            unit = " s" if key.endswith("seconds") else "x"
            out.append(f"| {label} | {ratios[key]:.2f}{unit} | {'yes' if ratios[key] <= limit else '**no**'} |")
    if "nbval notebooks" in ratios:
        out.append(f"| (nbval runs {ratios['nbval notebooks']:.0f} notebooks: the lessons, exercises and solutions) | | |")
    if "nbval vs sum of lesson times" in ratios:
        out.append(f"| (for reference) nbval run vs the sum of the lesson times | {ratios['nbval vs sum of lesson times']:.2f}x | |")
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench.md")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and sizes (a smoke run)")
    parser.add_argument("--no-setup", action="store_true", help="skip timing `make setup` (also BENCH_SETUP=0)")
    parser.add_argument("--only", default="steps,lessons,setup", help="comma-separated sections to run")
    args = parser.parse_args()
    sections = set(args.only.split(","))
    if args.no_setup or os.environ.get("BENCH_SETUP", "1") == "0":
        sections.discard("setup")
    began = time.perf_counter()
    parts = ["# gdlessons benchmark", "", f"This machine: {machine()}.", ""]
    ratios: dict[str, float] = {}

    def emit(text: str) -> None:
        print(text, flush=True)
        parts.append(text)

    if "steps" in sections:
        sizes = [4, 1000, 100_000] + ([] if args.quick else [10_000_000])
        rows, r = bench_steps(sizes, args.quick)
        ratios.update(r)
        emit("## 1. One gradient-descent step (float32, no bias)\n")
        emit("Each method runs 1 epoch and k epochs (k = "
             + ", ".join(f"{EPOCHS[n]} at n = {n:.0e}" for n in sizes if n in EPOCHS)
             + "), interleaved; time per step = (median k-epoch run - median 1-epoch run) / (k - 1). "
             "Call overhead = the rest of a 1-epoch run: input checks, set-up, History. GB/s counts "
             "the bytes a step must read (X and y, 8n); the floor is the faster of `np.dot(X, y)` "
             "and a copy of X, over the same bytes.\n")
        emit(steps_table(rows) + "\n")
    if "lessons" in sections:
        medians, floor, nbval, r = bench_lessons(1 if args.quick else 3)
        ratios.update(r)
        emit("## 2. Lessons\n")
        emit("Each notebook executed top to bottom in a fresh kernel (nbclient), median of the repeats; the "
             "floor is a kernel that only starts and imports numpy and torch.\n")
        emit(lessons_table(medians, floor, nbval) + "\n")
    if "setup" in sections:
        s = bench_setup()
        emit("## 3. Setup\n")
        emit(f"| what | measured |\n|---|---:|\n| `make setup` from nothing (fresh venv, this machine's pip cache) | "
             f"{s['seconds']:.1f} s |\n| size of that fresh .venv | {s['fresh_venv_bytes'] / 2**20:.0f} MiB |\n"
             f"| size of this checkout's .venv | {s['repo_venv_bytes'] / 2**20:.0f} MiB |\n")
    emit("## Targets\n")
    emit(targets_table(ratios) + "\n")
    emit(NOTES)
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    emit(f"`make bench` took {time.perf_counter() - began:.0f} s (load average at the end: {load}).")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
