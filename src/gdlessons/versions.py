"""Which versions this process runs, and one line when they are not the ones the outputs came from.

The numbers stored in the notebooks were made with the versions in ``PINNED`` (requirements.txt
pins the same). Other versions almost always work, but the last printed digits of a float can
differ, so ``import gdlessons`` prints ONE line to stderr (not a warning: a filter set to "error"
must not turn it into an exception), once per process and the workers it starts, when the running
torch or NumPy is another. Versions come from package metadata: torch is never imported here.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Mapping

__all__ = ["PINNED", "mismatch_message", "versions", "warn_if_not_pinned"]

PINNED = {"numpy": "2.4.6", "torch": "2.13.0", "matplotlib": "3.11.2"}
NOTE_ENV = "GDLESSONS_VERSION_NOTE"  # the line once printed: a worker that inherits it stays quiet


def versions() -> dict[str, str]:
    """The versions of Python, numpy, torch and matplotlib here ("not installed" if missing).

    >>> list(versions())
    ['python', 'numpy', 'torch', 'matplotlib']
    """
    found = {"python": platform.python_version()}
    for name in ("numpy", "torch", "matplotlib"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def mismatch_message(found: Mapping[str, str] | None = None) -> str | None:
    """The one-line note when torch or numpy is not the pinned version (``+cpu`` ignored).

    >>> mismatch_message({"numpy": "2.4.6", "torch": "2.13.0+cpu"}) is None
    True
    >>> print(mismatch_message({"numpy": "2.4.6", "torch": "2.14.1"}))
    gdlessons: stored outputs were made with torch 2.13.0 and numpy 2.4.6; you have torch 2.14.1 ...
    """
    found = versions() if found is None else found
    mine = {name: found.get(name, "not installed").split("+")[0] for name in ("torch", "numpy")}
    other = [f"{n} {v}" for n, v in mine.items() if v not in ("not installed", PINNED[n])]
    if not other:
        return None
    return (
        f"gdlessons: stored outputs were made with torch {PINNED['torch']} and numpy "
        f"{PINNED['numpy']}; you have {' and '.join(other)} - last digits may differ "
        "(run gdlessons.versions())"
    )


def warn_if_not_pinned() -> str | None:
    """Print the note (if any) to stderr, once per process tree; return it."""
    message = mismatch_message()
    if message is None or os.environ.get(NOTE_ENV) == message:
        return None
    os.environ[NOTE_ENV] = message
    print(message, file=sys.stderr, flush=True)
    return message
