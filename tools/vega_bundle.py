"""vega + vega-lite + vega-embed as one offline script for the explorers, from Python alone.

The lesson pages draw Vega-Lite outputs (gdlessons.explorers) with vega-embed. Its scripts come from
vl-convert-python's ``javascript_bundle()`` (a wheel from PyPI, pinned in requirements.txt): no
npm, no Node, no network, so ``make run`` needs Python only. The Vega-Lite version is the one the
installed Altair writes. The minified bundle keeps no licence headers, so a notice goes first.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import nbformat

__all__ = ["VEGALITE_MIME", "BUNDLE", "needs_vega", "write_bundle"]

VEGALITE_MIME = "application/vnd.vegalite.v5+json"
BUNDLE = "vega/vega-embed-bundle.js"  # under the site's static folder


def needs_vega(notebooks: list[Path]) -> bool:
    """Whether any of the notebooks has a stored Vega-Lite output."""
    return any(
        VEGALITE_MIME in out.get("data", {})
        for path in notebooks
        for cell in nbformat.read(path, as_version=4).cells
        for out in cell.get("outputs", [])
    )


def write_bundle(static: Path) -> Path:
    """Write static/vega/vega-embed-bundle.js (kept when already made by the same versions)."""
    import altair as alt
    import vl_convert as vlc

    vl = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])  # "5.20" for Altair 5.5
    notice = (
        f"/* vega-embed {vlc.get_vega_embed_version()}, vega {vlc.get_vega_version()}, vega-lite "
        f"{vl}, bundled with their dependencies by vl-convert-python {version('vl-convert-python')}"
        " (javascript_bundle). vega, vega-lite, vega-embed: BSD-3-Clause, Copyright (c) the "
        "University of Washington Interactive Data Lab; their dependencies: BSD-3-Clause, ISC, MIT"
        " (see each package's licence on npm). */\n"
    )
    target = static / BUNDLE
    if not (target.is_file() and target.read_text(encoding="utf-8").startswith(notice)):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(notice + vlc.javascript_bundle(vl_version=vl), encoding="utf-8")
    return target
