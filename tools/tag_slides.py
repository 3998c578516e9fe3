"""Give every cell of a lesson its slide metadata (`slideshow.slide_type`), derived from the lesson.

The rules are `slide_types`' (a hand-set cell tag `slides:TYPE` first), plus RISE settings where
the notebook has none; the result depends only on the cells, so a second run changes nothing.
"""

from __future__ import annotations

import argparse
import ast
import base64
import io
import math
import re
import sys
from collections.abc import Sequence

import nbformat
from PIL import Image

from tools import update_notebooks

__all__ = ["SLIDE_TYPES", "RISE_SETTINGS", "LINES_PER_SLIDE", "cell_height", "is_setup_cell"]
__all__ += ["slide_types", "tag_notebook", "main"]

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
# What fits on one slide, in lines of 20px text (reveal.js 960x700, nbconvert's CSS).
LINES_PER_SLIDE = 26
CHARS_PER_LINE = 80
IMAGE_LINES = 19  # a figure whose size cannot be read: a 640x480 one is 480px on a 700px slide
LINE_PX = 700 / LINES_PER_SLIDE  # one line of a slide in pixels
SLIDE_PX = 900  # the width a figure may take on the slide; wider ones are scaled down
EXPLORER_LINES = LINES_PER_SLIDE  # an explorer (a Vega-Lite chart with its sliders) fills a slide
OUTPUT_LINES_SHOWN = 30  # longer outputs are cut by the scrolling of the slide anyway

# RISE (live slides in JupyterLab) lays slides out at the decks' 960x700 and scales them to the
# screen; a theme whose fonts are bundled (the default fetches web fonts); a tall slide scrolls.
RISE_SETTINGS = dict(theme="serif", scroll=True, transition="slide", width=960, height=700)

_NOTES = re.compile(
    r"^\s*(>\s*)?(\*\*|__|\*|_)?\s*(instructor|speaker)(['’]s)?\s+notes?\b", re.IGNORECASE
)
_SETUP_CALLS = {"warnings.filterwarnings", "warnings.simplefilter", "pd.set_option"}
_SETUP_CALLS |= {f"{lib}.set_printoptions" for lib in ("np", "numpy", "torch")}


def is_setup_cell(source: str) -> bool:
    """True for code that only imports or configures (nothing to look at on a slide).

    >>> is_setup_cell("import warnings\\nwarnings.filterwarnings('ignore', category=UserWarning)")
    True
    >>> is_setup_cell("X, y = toy_data()")
    False
    """
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]  # magics
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return False
    if not tree.body:
        return bool(source.strip())  # only magics
    statements = [n for n in tree.body if not isinstance(n, (ast.Import, ast.ImportFrom))]
    calls = [n.value if isinstance(n, ast.Expr) else n for n in statements]  # a call, or no setup
    return all(isinstance(c, ast.Call) and ast.unparse(c.func) in _SETUP_CALLS for c in calls)


def image_lines(png: str) -> float:
    """Lines of a slide a base64 PNG takes at the slide's width (IMAGE_LINES if unreadable)."""
    try:
        width, height = Image.open(io.BytesIO(base64.b64decode(png))).size
    except (ValueError, OSError):  # not base64, not an image
        return IMAGE_LINES
    return height * min(1.0, SLIDE_PX / width) / LINE_PX


def _text_lines(text: str) -> float:
    lines = text.splitlines()
    return sum((math.ceil(len(ln) / CHARS_PER_LINE) if ln.strip() else 0.5 for ln in lines), 0.0)


def cell_height(cell: dict) -> float:
    """How many lines of a slide the cell takes, roughly: wrapped text, outputs, figures.

    >>> cell_height({"cell_type": "markdown", "source": "## A title\\n\\nOne line of text."})
    3.5
    >>> cell_height({"cell_type": "code", "source": "print(1)", "outputs": [{"output_type": "stream", "text": "1\\n"}]})
    4.0
    """
    source = cell.get("source", "")
    if cell.get("cell_type") == "markdown":  # headings are big, display math taller than a line
        headings = sum(line.lstrip().startswith("#") for line in source.splitlines())
        return _text_lines(source) + headings + source.count("$$") / 2
    height = 1.0 + _text_lines(source)  # the input box and its padding
    output_lines = 0.0
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if any(key.startswith("image/") for key in data):  # a size read from PNGs only
            height += image_lines(data.get("image/png", ""))
        elif any(key.startswith("application/vnd.vegalite") for key in data):
            height += EXPLORER_LINES
        elif out.get("output_type") == "stream":
            output_lines += _text_lines(out.get("text", ""))
        elif "text/plain" in data or out.get("output_type") == "error":
            text = data.get("text/plain", "\n".join(out.get("traceback", [])))
            output_lines += _text_lines(text)
    if output_lines:
        height += 1.0 + min(output_lines, OUTPUT_LINES_SHOWN)
    return height


def slide_types(cells: Sequence[dict]) -> list[str]:
    """The slide type of each cell: the first rule that matches wins (tests/test_render.py)."""
    types: list[str] = []
    used = None  # lines used on the current (sub)slide; None before the first slide
    for cell in cells:
        source, code = cell.get("source", ""), cell.get("cell_type") == "code"
        md = cell.get("cell_type") == "markdown"
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t.startswith("slides:")]
        if tags:  # set by hand
            kind = tags[0].removeprefix("slides:")
            if kind not in SLIDE_TYPES:
                raise ValueError(
                    f"cell tag {tags[0]!r}: the slide type must be one of {', '.join(SLIDE_TYPES)}"
                )
        elif not source.strip() or (code and not cell.get("outputs") and is_setup_cell(source)):
            kind = "skip"  # nothing to show: Run All before presenting runs it
        elif md and re.match(r"#{1,2}\s", source.lstrip()):
            kind = "slide"  # one slide per section
        elif md and re.match(r"###\s", source.lstrip()):
            kind = "subslide"
        elif md and _NOTES.match(source):
            kind = "notes"  # "Instructor note": the speaker view (press s)
        elif used is None:
            kind = "slide"
        elif code and cell_height(cell) > LINES_PER_SLIDE / 2 and used > 4:
            kind = "subslide"  # a tall cell goes below, on a slide with its output
        elif used + cell_height(cell) > LINES_PER_SLIDE:
            kind = "subslide"  # the slide is full: continue below it
        else:
            kind = "fragment"  # builds up the current slide
        if kind in ("slide", "subslide"):
            used = cell_height(cell)
        elif kind in ("fragment", "-"):
            used = (used or 0.0) + cell_height(cell)
        types.append(kind)
    return types


def tag_notebook(nb: nbformat.NotebookNode) -> list[int | str]:
    """Set the slide types and missing RISE settings in place; return the cells changed ("rise")."""
    changed: list[int | str] = []
    rise = nb.metadata.get("rise", {})
    if any(key not in rise for key in RISE_SETTINGS):
        nb.metadata["rise"] = RISE_SETTINGS | rise
        changed.append("rise")
    for index, (cell, kind) in enumerate(zip(nb.cells, slide_types(nb.cells))):
        if cell.metadata.get("slideshow") != {"slide_type": kind}:
            cell.metadata["slideshow"] = {"slide_type": kind}
            changed.append(index)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+")
    parser.add_argument("--verify", action="store_true", help="exit 1 if a notebook needs tagging")
    args = parser.parse_args(argv)
    fix = "python -m tools.tag_slides notebooks/[0-9]*.ipynb"
    return update_notebooks(args.notebooks, tag_notebook, args.verify, fix)


if __name__ == "__main__":
    sys.exit(main())
