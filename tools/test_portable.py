"""Every notebook's stored outputs, re-checked where a CPU or a setting differs from the machine
that stored them (`make test-portable`).

`make test` compares each notebook with its stored outputs on this machine's CPU (AVX2 or AVX-512
kernels in torch and numpy) with one thread. A student's laptop, a hosted CI runner or a JupyterHub
node computes with other kernels and other thread counts, and any stored digit that depends on them
fails there. Two more nbval runs over every notebook catch that here:

1. the kernel on an emulated older CPU, ``qemu-x86_64-static -cpu Nehalem`` (no AVX: torch takes
   its DEFAULT kernels and numpy its baseline loops). Only the kernel is emulated: processes it
   starts with a new program (``torchrun``, the forkserver of lesson 08's workers) run natively;
2. natively, with ``ATEN_CPU_CAPABILITY=default`` and ``OMP_NUM_THREADS`` unset (a student's own
   ``jupyter lab`` does not set it, so torch uses every core).

Each cell is run once in each (the re-run check is ``make test``'s), on every core (xdist).
Usage: ``python -m tools.test_portable [NOTEBOOK ...]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["QEMU", "kernelspec", "main"]

ROOT = Path(__file__).resolve().parent.parent
QEMU = ["qemu-x86_64-static", "-cpu", "Nehalem"]
KERNEL = "gdlessons-nehalem"
NBVAL = ["--nbval", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "-p", "no:cacheprovider"]


def kernelspec(folder: Path, python: str = sys.executable) -> Path:
    """Write a kernelspec that starts ``python``'s IPython kernel under QEMU; return JUPYTER_PATH.

    >>> import tempfile
    >>> spec = kernelspec(Path(tempfile.mkdtemp()), "/usr/bin/python3")
    >>> json.loads((spec / "kernels" / KERNEL / "kernel.json").read_text())["argv"][:4]
    ['qemu-x86_64-static', '-cpu', 'Nehalem', '/usr/bin/python3']
    """
    argv = [*QEMU, python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec = {"argv": argv, "display_name": "Python 3 (emulated Nehalem CPU)", "language": "python"}
    (folder / "kernels" / KERNEL).mkdir(parents=True, exist_ok=True)
    (folder / "kernels" / KERNEL / "kernel.json").write_text(json.dumps(spec, indent=1))
    return folder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", default=["notebooks"], help="default: all of them")
    args = p.parse_args(argv)
    if shutil.which(QEMU[0]) is None:
        print(
            f"make test-portable needs {QEMU[0]}: install Debian's qemu-user-static "
            "(sudo apt-get install qemu-user-static)",
            file=sys.stderr,
        )
        return 2
    pytest = [sys.executable, "-m", "pytest", "-n", "auto", "--dist", "loadfile", *NBVAL]
    env = dict(os.environ, NOTEBOOK_RERUN="0")
    runs = {
        "qemu": (
            [*pytest, "--nbval-kernel-name", KERNEL, *args.notebooks],
            env | {"JUPYTER_PATH": str(kernelspec(ROOT / "build" / "portable"))},
        ),
        "native": (
            [*pytest, "--nbval-current-env", *args.notebooks],
            {k: v for k, v in env.items() if k != "OMP_NUM_THREADS"}
            | {"ATEN_CPU_CAPABILITY": "default"},
        ),
    }
    failed = []
    for name, (command, run_env) in runs.items():
        print(f"== test-portable, {name}: {' '.join(command[3:])}", flush=True)
        if subprocess.run(command, cwd=ROOT, env=run_env).returncode:
            failed.append(name)
    if failed:
        print(
            f"test-portable: the stored outputs do not hold in the {failed} run(s)", file=sys.stderr
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
