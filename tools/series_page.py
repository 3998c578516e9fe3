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
import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

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

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1a1a1a; background: #fff; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 0.95rem; }
pre span { display: block; }
pre .new { background: #fff1c2; }
pre .gutter { display: inline; color: #555; user-select: none; }
table { border-collapse: collapse; } th, td { border: 1px solid #bbb; padding: 0.3rem 0.6rem;
       vertical-align: top; text-align: left; }
a { color: #0056a3; } .missing { color: #5a3d00; }
"""


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
    e = html.escape
    parts = [
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>The training loop across the series</title>\n<style>{STYLE}</style>\n</head>",
        '<body>\n<a href="#main">Skip to the loops</a> · <a href="index.html">All lessons</a>',
        '<main id="main">\n<h1>The training loop across the series</h1>',
        "<p>Every lesson trains with the same loop: predict, measure the loss, get the gradient, "
        "step. Here is each lesson's loop (its cell tagged <code>loop</code>), with the lines "
        'that are <span class="new" style="background:#fff1c2">new or changed</span> against '
        "the lesson before marked <code>+</code>. Then the notation the series uses.</p>",
    ]
    missing = [f"{lp.number:02d}" for lp in all_loops if lp.source is None]
    if missing:
        parts.append(
            f'<p class="missing">No loop cell (tag <code>loop</code>) yet in lesson(s) '
            f"{', '.join(missing)}: they are left out.</p>"
        )
    previous: Loop | None = None
    for lp in all_loops:
        if lp.source is None:
            continue
        label = e(lp.title or f"Lesson {lp.number:02d}")
        href = links.get(lp.name or "")
        heading = f'<a href="{e(href)}">{label}</a>' if href else label
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
        body = "".join(
            f'<span class="{"new" if kind == "+" else "same"}"><span class="gutter">{kind} </span>'
            f"{e(line)}</span>"
            for kind, line in lines
        )
        parts += [f'<h2 id="lesson-{lp.number:02d}">{heading}</h2>', f"<p>{note}</p>"]
        parts.append(f"<pre><code>{body}</code></pre>")
        previous = lp
    parts += ['<h2 id="notation">Notation</h2>', "<table>"]
    parts.append("<tr><th>symbol</th><th>meaning</th><th>from lesson</th></tr>")
    parts += [f"<tr><td>{e(s)}</td><td>{e(m)}</td><td>{e(w)}</td></tr>" for s, m, w in NOTATION]
    parts += ["</table>", "</main>", "</body>", "</html>", ""]
    return "\n".join(parts)


def write(pages: Mapping[str, Path], out: Path) -> list[str]:
    """Write out/loop.html for the notebooks ``pages`` (as build_html names them); return the
    index's Markdown lines that link to it."""
    links = {name: name.removesuffix(".ipynb") + ".html" for name in pages if "/" not in name}
    out.mkdir(parents=True, exist_ok=True)
    (out / PAGE).write_text(page_html(loops(pages), links), encoding="utf-8")
    return ["", f"[The training loop across the lessons, and the notation]({PAGE})"]
