"""The page that ties the series together: the training loop of lessons 01-08 aligned, and the notation.

Each lesson tags its canonical training-loop code cell with the cell tag ``loop``. This module reads
those cells (by pattern: ``NN_*.ipynb``, tag ``loop``), shows them one under the other with the
lines that are new or changed against the previous lesson's loop marked (``difflib``), lists the
lessons that have no such cell yet, and ends with a short notation sheet. ``build_site.build_html``
writes it as ``loop.html`` beside the lesson pages (``make html``) and links it from the index.

>>> [(kind, line) for kind, line in marked("a = 1\\nb = 2", "a = 1\\nb = 3\\nc = 4")]
[(' ', 'a = 1'), ('+', 'b = 3'), ('+', 'c = 4')]
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

import jinja2
from nbformat import read

__all__ = ["LESSONS", "PAGE", "Loop", "loops", "marked", "page_html", "write"]

LESSONS = range(1, 9)  # the lessons whose loops the page aligns: 01 to 08
PAGE = "loop.html"
TAG = "loop"
LESSON_NAME = re.compile(r"^(\d\d)_[^/]+\.ipynb$")

# The notation sheet: (symbol, what it means, where it first appears).
NOTATION = [
    (
        "d/dw, ∂/∂w",
        "the derivative of the loss with respect to one parameter: d when the loss has "
        "only that one (lesson 01's J(w)), ∂ when it has several and the others are held fixed "
        "(J(w, b) from lesson 04)",
        "01, 04",
    ),
    (
        "∇J",
        "the gradient: all the partial derivatives at once, (∂J/∂w, ∂J/∂b); it points uphill, "
        "so gradient descent steps along −∇J",
        "04",
    ),
    (
        "g",
        "the gradient used by one update step: ∇J on the full batch, or its estimate on a "
        "mini-batch",
        "05, 06",
    ),
    ("ℓᵢ", "the loss of sample i alone, here (ŷᵢ − yᵢ)²", "05"),
    (
        "J, 𝔼[·]",
        "J = (1/N) Σᵢ ℓᵢ, the mean loss over the N samples; 𝔼[·] is an average over the "
        "random choice of a mini-batch, and 𝔼[∇J_B] = ∇J",
        "01, 05",
    ),
    (
        "L",
        "the largest curvature of the loss (its Lipschitz constant of the gradient): gradient "
        "descent converges only for lr < 2/L; L = 2·mean(x²) for ŷ = w x",
        "01",
    ),
    (
        "λᵢ, κ",
        "the curvatures along the Hessian's eigen-directions, and the condition number "
        "κ = λmax/λmin: the narrowness of the valley",
        "06",
    ),
    (
        "epoch, step",
        "an epoch is one pass over all the samples; a step is one parameter update. "
        "Full batch: one step per epoch; batches of B: about N/B steps per epoch",
        "01, 05",
    ),
    (
        "ŷ (y_hat)",
        "the model's prediction: ŷ = w x in 01-03, ŷ = X Wᵀ + b from 04; the prediction at "
        "x = 5 is 5 w (+ b)",
        "01",
    ),
]

# The page's HTML: tools/site_templates/loop.html.j2 (autoescaped).
TEMPLATE = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parent / "site_templates"),
    autoescape=True,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
).get_template("loop.html.j2")


class Loop(NamedTuple):
    """One lesson's loop cell: its number, notebook name, title and source (None: no cell)."""

    number: int
    name: str | None
    title: str
    source: str | None


def _title(cells: Sequence) -> str:
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    found = re.findall(r"(?m)^# (.+)", text)
    return re.sub(r"[`*_$\\]", "", found[0]).strip() if found else ""


def loops(pages: Mapping[str, Path]) -> list[Loop]:
    """Lessons 01-08 in order, each with its ``loop`` cell (source None where there is none).

    ``pages``: notebooks by their site name (``05_modules_minibatches.ipynb``); only top-level
    ``NN_*.ipynb`` count. A lesson with several tagged cells shows the first.
    """
    found: dict[int, Loop] = {}
    for name, path in pages.items():
        m = LESSON_NAME.match(name)
        if not m or int(m[1]) not in LESSONS:
            continue
        cells = read(path, as_version=4).cells
        tagged = [c for c in cells if c.cell_type == "code" and TAG in c.metadata.get("tags", [])]
        source = tagged[0].source.rstrip() if tagged else None
        found[int(m[1])] = Loop(int(m[1]), name, _title(cells), source)
    return [found.get(n, Loop(n, None, "", None)) for n in LESSONS]


def marked(before: str | None, after: str) -> list[tuple[str, str]]:
    """``after``'s lines, each marked "+" (new or changed against ``before``) or " " (the same)."""
    old, new = ([] if before is None else before.splitlines()), after.splitlines()
    kinds = ["+"] * len(new)
    matcher = difflib.SequenceMatcher(a=[s.strip() for s in old], b=[s.strip() for s in new])
    for block in matcher.get_matching_blocks():
        for j in range(block.b, block.b + block.size):
            kinds[j] = " "
    return list(zip(kinds, new))


def page_html(all_loops: Sequence[Loop], links: Mapping[str, str]) -> str:
    """The page: the loops (links to their lessons from ``links``, name -> href), notation."""
    shown, previous = [], None
    for lp in [lp for lp in all_loops if lp.source is not None]:
        lines = marked(None if previous is None else previous.source, lp.source)
        if previous is None:
            note = "The first loop of the series: every line is new."
        else:
            changed = sum(kind == "+" for kind, _ in lines)
            kept = len(lines) - changed
            dropped = len(previous.source.splitlines()) - kept
            note = (
                f"Against lesson {previous.number:02d}: {changed} line(s) new or changed, "
                f"{kept} the same, {max(dropped, 0)} dropped."
            )
        shown.append((lp, links.get(lp.name or ""), note, lines))
        previous = lp
    missing = [f"{lp.number:02d}" for lp in all_loops if lp.source is None]
    return TEMPLATE.render(loops=shown, missing=missing, notation=NOTATION)


def write(pages: Mapping[str, Path], out: Path) -> list[str]:
    """Write out/loop.html for the notebooks ``pages`` (as build_html names them); return the
    index's Markdown lines that link to it."""
    links = {name: name.removesuffix(".ipynb") + ".html" for name in pages if "/" not in name}
    out.mkdir(parents=True, exist_ok=True)
    (out / PAGE).write_text(page_html(loops(pages), links), encoding="utf-8")
    return ["", f"[The training loop across the lessons, and the notation]({PAGE})"]
