"""Give every cell of a lesson its slide metadata (`slideshow.slide_type`), derived from the lesson.

The rules, applied to each cell in order (the first that matches wins):

1. a cell tag `slides:TYPE` (TYPE one of slide, subslide, fragment, -, skip, notes) sets TYPE by hand;
2. an empty cell, or a code cell that only sets things up (imports, `warnings.filterwarnings`,
   `np.set_printoptions`, ...) and prints nothing, is `skip`: run it before presenting (Run All);
3. a Markdown cell that opens with `# ` or `## ` starts a `slide` (one slide per section),
   one that opens with `### ` starts a `subslide`;
4. a Markdown cell that opens with "Instructor note" / "Speaker notes" (optionally bold or quoted)
   is `notes`: it shows in the speaker view (press `s`), not on the slide;
5. a code cell taller than half a slide with its outputs (a long function, a figure) starts a
   `subslide` of its own, so that the output it exists for is on the slide with it;
6. any other cell builds up the current slide as a `fragment`, unless the slide is full: then it
   starts a `subslide` below it (an estimate in lines of what fits on a 960x700 reveal.js slide,
   figures by their stored size scaled to the slide's width). The decks shrink a slide that is
   still too tall to fit (tools/site_templates/slides.html.j2).

The notebook also gets RISE settings (`metadata.rise`: a theme with bundled fonts, scrolling for
tall slides) where it has none. The result depends only on the cells' content, so running the tool again changes nothing
(idempotent) and new lessons get slides by running it. Nothing else in the notebook is touched; a
file whose metadata is already right is not rewritten.

    python -m tools.tag_slides notebooks/[0-9]*.ipynb           # write the metadata
    python -m tools.tag_slides --check notebooks/[0-9]*.ipynb   # exit 1 if any lesson lacks it
"""

from __future__ import annotations

import argparse
import ast
import base64
import math
import re
import struct
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat

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

# The live slideshow lays slides out at the decks' 960x700 and scales them to the screen, as the
# decks do (the line estimates above assume it); a slide still too tall scrolls.
RISE_SETTINGS = {
    "theme": "serif",
    "scroll": True,
    "transition": "slide",
    "width": 960,
    "height": 700,
}

_NOTES = re.compile(
    r"^\s*(>\s*)?(\*\*|__|\*|_)?\s*(instructor|speaker)(['’]s)?\s+notes?\b", re.IGNORECASE
)
_SETUP_CALLS = {
    "warnings.filterwarnings",
    "warnings.simplefilter",
    "np.set_printoptions",
    "numpy.set_printoptions",
    "torch.set_printoptions",
    "pd.set_option",
}


def is_setup_cell(source: str) -> bool:
    """True for code that only imports or configures (nothing to look at on a slide).

    >>> is_setup_cell("import numpy as np\\nfrom torch import nn  # the layers")
    True
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
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            if ast.unparse(node.value.func) in _SETUP_CALLS:  # np.set_printoptions(...)
                continue
        return False
    return True


def image_lines(png: str) -> float:
    """Lines of a slide that a base64 PNG takes, scaled to the slide's width (IMAGE_LINES if unread).

    >>> png = base64.b64encode(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(8) + struct.pack(">II", 1800, 540)).decode()
    >>> round(image_lines(png), 1)
    10.0
    """
    try:
        head = base64.b64decode(png[:64])
        width, height = struct.unpack(">II", head[16:24])
    except (ValueError, struct.error):
        return IMAGE_LINES
    if head[:8] != b"\x89PNG\r\n\x1a\n" or not width:
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
        if "image/png" in data:
            height += image_lines(data["image/png"])
        elif any(key.startswith("image/") for key in data):
            height += IMAGE_LINES
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


def _tagged_type(cell: dict) -> str | None:
    for tag in cell.get("metadata", {}).get("tags", []):
        if tag.startswith("slides:"):
            wanted = tag.removeprefix("slides:")
            if wanted not in SLIDE_TYPES:
                raise ValueError(
                    f"cell tag {tag!r}: the slide type must be one of {', '.join(SLIDE_TYPES)}"
                )
            return wanted
    return None


def slide_types(cells: Sequence[dict]) -> list[str]:
    """The slide type of each cell (the rules are in this module's docstring).

    >>> slide_types([
    ...     {"cell_type": "markdown", "source": "# 01 · Title"},
    ...     {"cell_type": "code", "source": "import numpy as np", "outputs": []},
    ...     {"cell_type": "markdown", "source": "## A section\\n\\nText."},
    ...     {"cell_type": "code", "source": "print(2)", "outputs": [{"output_type": "stream", "text": "2\\n"}]},
    ...     {"cell_type": "markdown", "source": "**Instructor note:** ask first."},
    ... ])
    ['slide', 'skip', 'slide', 'fragment', 'notes']
    """
    types: list[str] = []
    used = None  # lines used on the current (sub)slide; None before the first slide
    for cell in cells:
        source, code = cell.get("source", ""), cell.get("cell_type") == "code"
        md = cell.get("cell_type") == "markdown"
        kind = _tagged_type(cell)
        if kind is None:
            if not source.strip() or (code and not cell.get("outputs") and is_setup_cell(source)):
                kind = "skip"
            elif md and re.match(r"#{1,2}\s", source.lstrip()):
                kind = "slide"
            elif md and re.match(r"###\s", source.lstrip()):
                kind = "subslide"
            elif md and _NOTES.match(source):
                kind = "notes"
            elif used is None:
                kind = "slide"
            elif code and cell_height(cell) > LINES_PER_SLIDE / 2 and used > 4:
                kind = "subslide"  # more than the slide's heading is above: the cell moves below it
            elif used + cell_height(cell) > LINES_PER_SLIDE:
                kind = "subslide"
            else:
                kind = "fragment"
        if kind in ("slide", "subslide"):
            used = cell_height(cell)
        elif kind in ("fragment", "-"):
            used = (used or 0.0) + cell_height(cell)
        types.append(kind)
    return types


def tag_notebook(nb: nbformat.NotebookNode) -> list[int | str]:
    """Set each cell's `slideshow.slide_type` in place; return the indices of the cells changed.

    Also gives RISE (live slides in JupyterLab) the settings it lacks, from RISE_SETTINGS: a
    reveal.js theme whose fonts are bundled (the default theme fetches web fonts) and scrolling for
    tall slides; settings made by hand are kept. Returns "rise" among the changes if it set any.
    """
    changed: list[int | str] = []
    rise = nb.metadata.setdefault("rise", {})
    if any(key not in rise for key in RISE_SETTINGS):
        for key, value in RISE_SETTINGS.items():
            rise.setdefault(key, value)
        changed.append("rise")
    for index, (cell, kind) in enumerate(zip(nb.cells, slide_types(nb.cells))):
        if cell.metadata.get("slideshow") != {"slide_type": kind}:
            cell.metadata["slideshow"] = {"slide_type": kind}
            changed.append(index)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook needs tagging"
    )
    args = parser.parse_args(argv)
    stale = 0
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        changed = tag_notebook(nb)
        if not changed:
            print(f"ok      {path}")
            continue
        stale += 1
        which = f"{len(changed)}: {', '.join(map(str, changed[:8]))}{' ...' * (len(changed) > 8)}"
        if args.check:
            print(
                f"STALE   {path}: slide metadata missing or out of date ({which})", file=sys.stderr
            )
        else:
            nbformat.write(nb, path)
            print(f"tagged  {path} ({which} changed)")
    if args.check and stale:
        print("run: .venv/bin/python -m tools.tag_slides notebooks/[0-9]*.ipynb", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
