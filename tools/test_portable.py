"""Every notebook's stored outputs, re-checked where a CPU or a setting differs (`make test-portable`).

Two nbval runs, each cell once, on every core: the kernel on an emulated older CPU (``QEMU``, no
AVX), then natively with ``ATEN_CPU_CAPABILITY=default`` and ``OMP_NUM_THREADS`` unset.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tools import ROOT

__all__ = ["QEMU", "kernelspec", "main"]

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
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="*", default=["notebooks"], help="default: all of them")
    notebooks = p.parse_args(argv).notebooks
    if shutil.which(QEMU[0]) is None:
        p.exit(2, f"make test-portable needs {QEMU[0]}: sudo apt-get install qemu-user-static\n")
    pytest = [sys.executable, "-m", "pytest", "-n", "auto", "--dist", "loadfile", *NBVAL]
    env = dict(os.environ, NOTEBOOK_RERUN="0")
    native = {k: v for k, v in env.items() if k != "OMP_NUM_THREADS"}
    jupyter_path = str(kernelspec(ROOT / "build" / "portable"))
    runs = {
        "qemu": (["--nbval-kernel-name", KERNEL], env | {"JUPYTER_PATH": jupyter_path}),
        "native": (["--nbval-current-env"], native | {"ATEN_CPU_CAPABILITY": "default"}),
    }
    failed = []
    for name, (options, run_env) in runs.items():
        print(f"== test-portable, {name}: {' '.join([*options, *notebooks])}", flush=True)
        if subprocess.run([*pytest, *options, *notebooks], cwd=ROOT, env=run_env).returncode:
            failed.append(name)
    if failed:
        print(
            f"test-portable: the stored outputs do not hold in the {failed} run(s)", file=sys.stderr
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
