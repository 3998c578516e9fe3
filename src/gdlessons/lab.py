"""JupyterLab on the lessons with this project's settings, on any system: ``python -m gdlessons.lab``.

What ``make lab`` does, without make (Windows, macOS, an environment made with plain pip):

1. copy this project's Jupyter settings (the files in ``gdlessons/jupyter_settings/``) into the
   environment that runs this Python, where Jupyter and IPython read them: the kernels' figure
   display, the server's kernels over IPC sockets and RISE's slideshow settings, JupyterLab's
   defaults (no "Jupyter news?" pop-up). ``make setup`` and repo2docker's ``postBuild`` run this
   step alone (``--settings-only``); a file there that is not ours is never overwritten;
2. in a clone of the repository (a ``notebooks/`` folder next to ``tools/working_copy.py``), make
   or update the student's working copy ``my-work/`` with that tool, exactly as ``make lab`` does;
3. start JupyterLab on that folder (elsewhere: on the current folder) from this environment,
   listening on 127.0.0.1 only, with its token login, ``PYTHONHASHSEED=0`` and one BLAS thread
   (and, on Windows, ``USE_LIBUV=0`` for torch.distributed).

    python -m gdlessons.lab                     # in the clone, or in a folder of notebooks
    python -m gdlessons.lab --port 8890 --no-browser
    python -m gdlessons.lab --settings-only     # only step 1 (make setup, postBuild)

Options that this command does not know are passed on to ``jupyter lab``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "ENVIRONMENT",
    "SETTINGS",
    "SettingsError",
    "install_settings",
    "lab_command",
    "main",
    "settings_targets",
]

SETTINGS = Path(__file__).resolve().parent / "jupyter_settings"
# Where each settings file goes, under an environment's prefix: where Jupyter and IPython look.
_TARGETS = {
    "ipython_kernel_config.py": "etc/ipython/ipython_kernel_config.py",
    "jupyter_server_config.py": "etc/jupyter/jupyter_server_config.py",
    "lab-overrides.json5": "share/jupyter/lab/settings/overrides.d/gdlessons.json5",
}
# A file already there is ours (replaced) when it says so; the second mark is in the copies that
# `make setup` made before the settings moved into the package.
_OURS = ("gdlessons' Jupyter settings", "`make setup` copies this file to")
# What make lab's environment sets for the server and its kernels (see the Makefile): no output
# depends on hash randomization, and the lessons' tiny models run fastest on one BLAS thread.
ENVIRONMENT = {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
if os.name == "nt":  # torch's Windows builds have lacked libuv, which its TCP rendezvous (lesson
    ENVIRONMENT["USE_LIBUV"] = "0"  # 06's workers, torchrun) asks for unless told not to


class SettingsError(RuntimeError):
    """A settings file cannot be installed: the message says where and what to do."""


def settings_targets(prefix: str | os.PathLike[str]) -> dict[Path, Path]:
    """Each settings file of the package and where it goes in the environment ``prefix``.

    >>> targets = settings_targets("/env")
    >>> sorted(target.relative_to("/env").as_posix() for target in targets.values())[1]
    'etc/jupyter/jupyter_server_config.py'
    """
    return {SETTINGS / name: Path(prefix, *where.split("/")) for name, where in _TARGETS.items()}


def install_settings(prefix: str | os.PathLike[str] = sys.prefix) -> list[Path]:
    """Copy the settings into the environment ``prefix``; return the files it wrote.

    A file that is already up to date is left alone, and a file that another tool or the
    environment's owner put there is never overwritten (``SettingsError`` says which).
    """
    written = []
    for source, target in settings_targets(prefix).items():
        text = source.read_text(encoding="utf-8")
        if target.exists():
            current = target.read_text(encoding="utf-8", errors="replace")
            if current == text:
                continue
            if not any(mark in current for mark in _OURS):
                raise SettingsError(
                    f"{target} exists and is not gdlessons' settings: it was left as it is. "
                    f"Merge {source} into it by hand, or move it away and run this again."
                )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as err:
            raise SettingsError(
                f"cannot write {target} ({err.strerror}): run this from a virtual environment "
                "you own (README, 'Without make'), or ask whoever manages this Python."
            ) from None
        written.append(target)
    return written


def lab_command(root_dir: str | os.PathLike[str], options: Sequence[str] = ()) -> list[str]:
    """The ``jupyter lab`` command line: this environment's JupyterLab on 127.0.0.1 only.

    The token login stays on (the URL printed carries the token); ``options`` come last, as
    ``make lab``'s ``LAB_OPTS`` do.

    >>> lab_command("my-work", ["--no-browser"])[1:5]
    ['-m', 'jupyterlab', '--ServerApp.ip=127.0.0.1', '--ServerApp.root_dir=my-work']
    """
    command = [sys.executable, "-m", "jupyterlab", "--ServerApp.ip=127.0.0.1"]
    command.append(f"--ServerApp.root_dir={root_dir}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # as make lab: root runs it too (containers)
        command.append("--allow-root")
    return [*command, *options]


def _working_copy(clone: Path, work_dir: str) -> Path:
    """In a clone: make or update the working copy with the repository's own tool."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.working_copy",
            "sync",
            "--source",
            "notebooks",
            "--dest",
            work_dir,
        ],
        cwd=clone,
        check=True,
    )
    return clone / work_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: install the settings, then start JupyterLab (see the module's docstring)."""
    parser = argparse.ArgumentParser(
        prog="python -m gdlessons.lab",
        description=__doc__.split("\n\n")[0],
        epilog="Other options go to jupyter lab (e.g. --no-browser).",
    )
    parser.add_argument("folder", nargs="?", help="what JupyterLab opens (default: see above)")
    parser.add_argument("--port", type=int, help="default 8888, or the next free one")
    parser.add_argument("--work-dir", default="my-work", help="the working copy in a clone")
    parser.add_argument("--settings-only", action="store_true", help="install the settings, exit")
    parser.add_argument("--prefix", default=sys.prefix, help="the environment (default: this one)")
    args, options = parser.parse_known_args(argv)
    try:
        written = install_settings(args.prefix)
        print(
            f"gdlessons' Jupyter settings: {'written to' if written else 'already in'} {args.prefix}"
        )
    except SettingsError as err:
        print(f"gdlessons.lab: {err}", file=sys.stderr)
        if args.settings_only:
            return 1
        print("gdlessons.lab: JupyterLab starts without them.", file=sys.stderr)
    if args.settings_only:
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        print(
            "gdlessons.lab: JupyterLab is not installed in this environment: in the clone, "
            "pip install -r requirements.txt; elsewhere, pip install jupyterlab",
            file=sys.stderr,
        )
        return 1
    clone = Path.cwd()
    in_clone = (clone / "notebooks").is_dir() and (clone / "tools" / "working_copy.py").is_file()
    if args.folder is None and in_clone:
        folder = _working_copy(clone, args.work_dir)
    else:
        folder = Path(args.folder or ".")
    if not folder.is_dir():
        print(
            f"gdlessons.lab: {folder} is not a folder: name one that holds notebooks",
            file=sys.stderr,
        )
        return 2
    if args.port is not None:
        options = [f"--ServerApp.port={args.port}", *options]
    env = dict(os.environ, **ENVIRONMENT)
    # As make lab: this environment's commands (python, torchrun) come first for the kernels.
    env["PATH"] = os.pathsep.join([sysconfig.get_path("scripts"), env.get("PATH", "")])
    return _serve(lab_command(folder, options), env)


def _serve(command: list[str], env: dict[str, str]) -> int:
    """Run JupyterLab until it stops; its exit status."""
    server = subprocess.Popen(command, env=env)
    while True:
        try:
            return server.wait()
        except KeyboardInterrupt:  # Ctrl+C reaches JupyterLab too, which asks to confirm
            continue


if __name__ == "__main__":
    sys.exit(main())
