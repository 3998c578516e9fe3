"""Which versions this process runs, and one line when they are not the ones the outputs came from.

The numbers stored in the notebooks (the ones nbval compares) were made with the versions in
:data:`PINNED`. Other versions almost always work, but the last printed digits of a float can
differ. ``import gdlessons`` calls :func:`warn_if_not_pinned`, which then prints ONE line to
stderr, once per process and its children, when the running torch or NumPy is not the pinned one::

    gdlessons: stored outputs were made with torch 2.13.0 and numpy 2.4.6; you have torch 2.14.1 \
- last digits may differ (run gdlessons.versions())

It is printed, not raised with :mod:`warnings`: a warning filter set to "error" (as this
project's pytest settings are) must never turn it into an exception, and Python's warning format
takes two lines. Versions are read from the installed packages' metadata, so nothing here imports
torch, and a machine without torch gets no line about it.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import TextIO

__all__ = ["NOTE_ENV", "NOT_INSTALLED", "PINNED", "mismatch_message", "versions",
           "warn_if_not_pinned"]

NOT_INSTALLED = "not installed"

PINNED: Mapping[str, str] = MappingProxyType(
    {"numpy": "2.4.6", "torch": "2.13.0", "matplotlib": "3.11.2"}
)
"""The versions the stored notebook outputs were made with (requirements.txt pins the same)."""

NOTE_ENV = "GDLESSONS_VERSION_NOTE"
"""The environment variable that holds the line once printed: a process that finds its own line
there (a later call, or a data-parallel worker that inherited it) stays silent."""


def versions() -> dict[str, str]:
    """The versions of Python, numpy, torch and matplotlib running here, in that order.

    A package that is not installed shows as ``"not installed"``; torch is never imported.
    Compare them with :data:`PINNED` when your numbers differ from the stored ones.

    >>> from gdlessons import versions
    >>> list(versions())
    ['python', 'numpy', 'torch', 'matplotlib']
    >>> all(isinstance(v, str) and v for v in versions().values())
    True
    """
    found = {"python": platform.python_version()}
    for name in ("numpy", "torch", "matplotlib"):
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = NOT_INSTALLED
    return found


def mismatch_message(found: Mapping[str, str] | None = None) -> str | None:
    """The one-line note for torch or numpy versions other than :data:`PINNED`, else None.

    ``found`` maps package names to versions (default: :func:`versions`). A local build label
    such as ``+cpu`` is ignored, and torch that is not installed is no mismatch.

    >>> mismatch_message({"numpy": "2.4.6", "torch": "2.13.0+cpu"}) is None
    True
    >>> print(mismatch_message({"numpy": "2.4.6", "torch": "2.14.1"}))
    gdlessons: stored outputs were made with torch 2.13.0 and numpy 2.4.6; you have torch 2.14.1 ...
    """
    found = versions() if found is None else found
    other = [
        f"{name} {found[name]}"
        for name in ("torch", "numpy")
        if found.get(name, NOT_INSTALLED) != NOT_INSTALLED
        and found[name].split("+")[0] != PINNED[name]
    ]
    if not other:
        return None
    return (
        f"gdlessons: stored outputs were made with torch {PINNED['torch']} and numpy "
        f"{PINNED['numpy']}; you have {' and '.join(other)} - last digits may differ "
        "(run gdlessons.versions())"
    )


def warn_if_not_pinned(stream: TextIO | None = None) -> str | None:
    """Print :func:`mismatch_message` as one line to ``stream`` (stderr), once per process tree.

    Returns the line it printed, or None: with the pinned versions, or when this process or the
    one that started it (the data-parallel workers) has printed the same line already; the
    environment variable :data:`NOTE_ENV` remembers it. It never raises, whatever the stream.

    >>> import io
    >>> out = io.StringIO()
    >>> line = warn_if_not_pinned(out)  # None with the pinned versions
    >>> out.getvalue().splitlines() == ([] if line is None else [line])
    True
    """
    message = mismatch_message()
    if message is None or os.environ.get(NOTE_ENV) == message:
        return None
    os.environ[NOTE_ENV] = message
    try:
        stream = sys.stderr if stream is None else stream
        stream.write(message + "\n")
        stream.flush()
    except (AttributeError, OSError, ValueError):  # no stderr (pythonw), closed, unwritable
        pass
    return message
