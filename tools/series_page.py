"""The page that ties the series together: the training loop of lessons 01-08 aligned, and the notation.

Each lesson tags its canonical training-loop code cell ``loop``. ``write`` shows those cells one
under the other, the lines new or changed against the previous lesson's loop marked (``difflib``),
names the lessons with no such cell yet, and ends with the notation sheet: build/html/loop.html,
filled in tools/site_templates/loop.html.j2 (``build_site.build_html`` writes it, and links it
from the index).

>>> marked("a = 1\\nb = 2", "a = 1\\nb = 3\\nc = 4")
[(' ', 'a = 1'), ('+', 'b = 3'), ('+', 'c = 4')]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import jinja2
from nbformat import NotebookNode

__all__ = ["LESSONS", "PAGE", "Loop", "loops", "marked", "page_html", "write"]

LESSONS = range(1, 9)  # the lessons whose loops the page aligns: 01 to 08
PAGE = "loop.html"
TEMPLATES = jinja2.FileSystemLoader(Path(__file__).resolve().parent / "site_templates")
TEMPLATE = jinja2.Environment(
    loader=TEMPLATES,
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


class Loop(NamedTuple):
    """One lesson's loop cell: its number, notebook name, title and source (None: no cell)."""

    number: int
    name: str | None
    title: str
    source: str | None


def loops(notebooks: Mapping[str, NotebookNode]) -> list[Loop]:
    """Lessons 01-08 in order, each with its first ``loop`` cell (source None where none).

    ``notebooks``: by their site name (``05_modules_minibatches.ipynb``), titled as
    ``build_site`` titles them (``metadata.title``); only top-level ``NN_*.ipynb`` count.
    """
    found = {}
    for name, nb in notebooks.items():
        if (m := re.fullmatch(r"(\d\d)_[^/]+\.ipynb", name)) and int(m[1]) in LESSONS:
            code = [c for c in nb.cells if c.cell_type == "code"]
            tagged = [c.source.rstrip() for c in code if "loop" in c.metadata.get("tags", [])]
            title = nb.metadata.get("title", "")
            found[int(m[1])] = Loop(int(m[1]), name, title, tagged[0] if tagged else None)
    return [found.get(n, Loop(n, None, "", None)) for n in LESSONS]


def marked(before: str | None, after: str) -> list[tuple[str, str]]:
    """``after``'s lines, each marked "+" (new or changed against ``before``) or " " (the same)."""
    old, new = ([] if before is None else before.splitlines()), after.splitlines()
    kinds = ["+"] * len(new)
    matcher = difflib.SequenceMatcher(a=[s.strip() for s in old], b=[s.strip() for s in new])
    for block in matcher.get_matching_blocks():
        kinds[block.b : block.b + block.size] = [" "] * block.size
    return list(zip(kinds, new))


def page_html(all_loops: Sequence[Loop], links: Mapping[str, str]) -> str:
    """The page: the loops (links to their lessons from ``links``, name -> href), notation."""
    shown, previous = [], None
    for lp in [lp for lp in all_loops if lp.source is not None]:
        lines = marked(previous and previous.source, lp.source)
        note = "The first loop of the series: every line is new."
        if previous is not None:
            changed = sum(kind == "+" for kind, _ in lines)
            dropped = len(previous.source.splitlines()) - (len(lines) - changed)
            note = (
                f"Against lesson {previous.number:02d}: {changed} line(s) new or changed, "
                f"{len(lines) - changed} the same, {max(dropped, 0)} dropped."
            )
        shown.append((lp, links.get(lp.name or ""), note, lines))
        previous = lp
    missing = [f"{lp.number:02d}" for lp in all_loops if lp.source is None]
    return TEMPLATE.get_template("loop.html.j2").render(loops=shown, missing=missing)


def write(notebooks: Mapping[str, NotebookNode], out: Path) -> list[str]:
    """Write out/loop.html for ``notebooks`` (as ``loops`` takes them); return the index's
    Markdown lines that link to it."""
    links = {name: name.removesuffix(".ipynb") + ".html" for name in notebooks if "/" not in name}
    out.mkdir(parents=True, exist_ok=True)
    (out / PAGE).write_text(page_html(loops(notebooks), links), encoding="utf-8")
    return ["", f"[The training loop across the lessons, and the notation]({PAGE})"]
