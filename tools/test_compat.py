"""Run the unit tests and every notebook with the oldest and the newest numpy and matplotlib.

Two throwaway environments under build/compat/: "oldest" installs numpy and matplotlib exactly at
the lower bounds pyproject.toml declares, "newest" leaves them unpinned (pip takes PyPI's newest).
Both get the torch pin of requirements.txt on the pip command line (pip takes the local CPU wheel
and never resolves a CUDA build), the rest of requirements.txt and requirements-dev.txt without
their numpy and matplotlib pins (pytest, nbval, the jupyter stack, nbgrader...), and the package.
Then:

unit tests: `pytest tests src` (the doctests in src/ included; nbval is not run, since it compares
  stored outputs whose last digits may differ with other versions) without
  tests/test_lab.py  starts a JupyterLab server.
  The rest reads the stored notebooks or builds pages with stand-ins: no browser, no npm.
notebooks: every notebooks/**/*.ipynb executed top to bottom by nbclient in a fresh kernel of
  that environment, outputs not compared, kept in build/compat/ENV/executed/. Any stderr a cell
  writes besides gdlessons' version note is listed as a note.

Prints a table row per environment and the first line of each failure; exits 1 if anything
failed. Downloads from PyPI and takes minutes: `make test-compat` (CI does not run it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "compat"
VARIED = ("numpy", "matplotlib")
LEFT_OUT = ("tests/test_lab.py",)


def requirements(env: str) -> list[str]:
    """pip arguments: the requirements files' pins, numpy and matplotlib as `env` says, the package."""
    files = ("requirements.txt", "requirements-dev.txt")  # dev: nbgrader, which the tests import
    lines = [ln.strip() for name in files for ln in (ROOT / name).read_text().splitlines()]
    pins = [ln for ln in lines if ln and not ln.startswith(("#", "-e", "-r"))]
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lower = dict(re.fullmatch(r"([a-z]+)>=([\d.]+).*", d).groups() for d in declared)
    varied = [f"{name}=={lower[name]}" if env == "oldest" else name for name in VARIED]
    return [p for p in pins if p.split("==")[0] not in VARIED] + varied + ["-e", str(ROOT)]


def run(cmd: list, env_dir: Path, log: str = "") -> subprocess.CompletedProcess:
    """Run cmd with env_dir's bin first on PATH (kernel.json's `python` is that env's)."""
    env = dict(
        os.environ,
        VIRTUAL_ENV=str(env_dir),
        PYTHONHASHSEED="0",
        OMP_NUM_THREADS="1",
        COLUMNS="200",
        HYPOTHESIS_STORAGE_DIRECTORY=str(ROOT / "build" / "hypothesis"),
    )
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    done = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env, capture_output=True, text=True)
    if log:
        (env_dir / log).write_text(done.stdout + done.stderr)
    return done


def execute_notebooks(paths: list[str], out: Path) -> None:
    """(Inside an environment.) Execute each notebook into out/ and print, as JSON,
    {path: [error or None, [first line of each stderr output but the version note]]}."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import sys; sys.prefix")])
    NotebookClient(probe, kernel_name="python3").execute()
    prefix = probe.cells[0].outputs[0]["data"]["text/plain"].strip("'")
    assert prefix == sys.prefix, f"the kernel runs in {prefix}, not in {sys.prefix}"
    results = {}
    for path in map(Path, paths):
        nb, error = nbformat.read(path, as_version=4), None
        try:
            NotebookClient(
                nb,
                timeout=300,
                kernel_name="python3",
                resources={"metadata": {"path": str(path.parent)}},
            ).execute()
        except CellExecutionError as err:
            error = f"{err.ename}: {err.evalue}".splitlines()[0]
        except Exception as err:  # a dead kernel, a timeout: one line, and on to the next
            error = f"{type(err).__name__}: {err}".splitlines()[0]
        stderr = [
            o.text.strip().splitlines()[0]
            for c in nb.cells
            for o in c.get("outputs", [])
            if o.get("name") == "stderr" and o.text.strip()
        ]
        results[str(path)] = [error, [t for t in stderr if not t.startswith("gdlessons:")]]
        (out / path.parent).mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / path)
    print(json.dumps(results))


def check_env(env: str, reuse: bool) -> dict:
    """Build (or reuse) build/compat/ENV, run the unit tests and the notebooks: one table row."""
    env_dir, row = OUT / env, {"env": env, "failures": [], "notes": []}
    py = env_dir / "bin" / "python"
    if not (reuse and py.exists()):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(env_dir)], check=True)
        print(f"[{env}] pip install {' '.join(requirements(env))}", flush=True)
        pip = run([py, "-m", "pip", "install", "--quiet", *requirements(env)], env_dir, "pip.log")
        if pip.returncode:
            return {**row, "failures": [f"pip install failed: see {env_dir / 'pip.log'}"]}
    probe = run(
        [py, "-c", "import json, gdlessons; print(json.dumps(gdlessons.versions()))"], env_dir
    )
    if probe.returncode:
        why = (probe.stderr.strip().splitlines() or [f"exit {probe.returncode}"])[-1]
        return {**row, "failures": [f"import gdlessons failed: {why}"]}
    row.update(json.loads(probe.stdout))
    print(f"[{env}] {probe.stdout.strip()}: unit tests ...", flush=True)
    ignore = [arg for path in LEFT_OUT for arg in ("--ignore", path)]
    tests = run(
        [
            py,
            "-m",
            "pytest",
            "tests",
            "src",
            "-q",
            "-rfE",
            "--continue-on-collection-errors",
            *ignore,
        ],
        env_dir,
        "pytest.log",
    )
    tail = (tests.stdout.strip().splitlines() or [tests.stderr.strip()])[-1]
    counts = {k: int(n) for n, k in re.findall(r"(\d+) (passed|failed|error)", tail)}
    row["tests"] = f"{counts.get('passed', 0)}/{counts.get('failed', 0) + counts.get('error', 0)}"
    row["failures"] = [ln for ln in tests.stdout.splitlines() if ln.startswith(("FAILED", "ERROR"))]
    if tests.returncode and not row["failures"]:
        row["failures"] = [f"pytest exit {tests.returncode}: {tail}"]
    print(f"[{env}] {tail}: notebooks ...", flush=True)
    paths = sorted(
        str(p.relative_to(ROOT))
        for p in ROOT.glob("notebooks/**/*.ipynb")
        if ".ipynb_checkpoints" not in p.parts
    )
    done = run(
        [py, __file__, "--out", env_dir / "executed", "--execute", *paths], env_dir, "notebooks.log"
    )
    try:
        results = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        results = {"notebooks": [f"runner failed: see {env_dir / 'notebooks.log'}", []]}
    failed = [f"FAILED {path}: {error}" for path, (error, _) in results.items() if error]
    row["notebooks"] = f"{len(results) - len(failed)}/{len(failed)}"
    row["failures"] += failed
    row["notes"] = [f"{path}: stderr: {ln}" for path, (_, lns) in results.items() for ln in lns]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--envs", nargs="+", choices=["oldest", "newest"], default=["oldest", "newest"]
    )
    parser.add_argument("--reuse", action="store_true", help="keep an environment already built")
    parser.add_argument("--execute", nargs="+", help=argparse.SUPPRESS)  # inside an environment
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)  # where --execute writes
    args = parser.parse_args()
    if args.execute:
        execute_notebooks(args.execute, args.out)
        return 0
    rows = [check_env(env, args.reuse) for env in args.envs]
    cols = ["env", "python", "numpy", "matplotlib", "torch", "tests", "notebooks"]
    head = {"tests": "unit tests passed/failed", "notebooks": "notebooks executed/failed"}
    print("\n| " + " | ".join(head.get(c, c) for c in cols) + " |")
    print("|" + "---|" * len(cols))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "?")) for c in cols) + " |")
    for row in rows:
        for failure in row["failures"]:
            print(f"  {row['env']}: {failure[:160]}")
        for note in row["notes"]:
            print(f"  {row['env']}: note: {note[:160]}")
    return 1 if any(row["failures"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
