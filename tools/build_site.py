"""Render notebooks and their stored outputs as an offline HTML site or reveal.js slide decks.

nbconvert does the work, configured by ``CONFIG``; this module adds what it has no
setting for: MathML math, figures' alt text (cell metadata "alt"), links to notebooks pointed at
their pages, the index, the loop page, and vega-embed for the explorers (vl-convert-python's
offline bundle: no npm, no network).

>>> markdown_html("[next](../02_b.ipynb#q1), [solved](s.ipynb)", {"../02_b.ipynb": "../02_b.html"})
'<p><a href="../02_b.html#q1">next</a>, solved <em>(not in this copy)</em></p>\\n'
"""

from __future__ import annotations

import argparse
import functools
import os
import posixpath
import re
import shutil
import sys
import unicodedata
from collections.abc import Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

import jinja2
from latex2mathml.converter import convert
from nbconvert import HTMLExporter, SlidesExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath
from nbformat import NotebookNode, read, v4
from traitlets.config import Config

from gdlessons.versions import PINNED
from tools import series_page  # loop.html: the loops of 01-08 aligned, the notation

__all__ = ["alt", "build_html", "build_slides", "figures", "main"]
__all__ += ["lesson_summary", "markdown2html", "markdown_html", "needs_vega", "page_names"]
__all__ += ["tex_to_mathml", "VEGALITE_MIME", "write_bundle"]

HERE = Path(__file__).resolve().parent
PINS = [(name, PINNED[name]) for name in ("torch", "numpy", "matplotlib")]  # the pages' footer
TITLE = "Gradient descent, step by step"
IMAGES = {"image/png", "image/jpeg"}
VARIANT = re.compile(r'<mi mathvariant="(double-struck|script|bold)">([A-Za-z])</mi>')
VEGALITE_MIME = "application/vnd.vegalite.v5+json"


def _letter(m: re.Match[str]) -> str:
    name = f"{m[1]} {'capital' if m[2].isupper() else 'small'} {m[2]}"
    try:
        return f"<mi>{unicodedata.lookup('mathematical ' + name)}</mi>"
    except KeyError:  # ℝ, ℒ, ... are among the letterlike symbols
        return f"<mi>{unicodedata.lookup(name)}</mi>"


def tex_to_mathml(tex: str, display: str = "inline") -> str:
    r"""MathML for TeX; \mathbb, \mathcal letters as Unicode (MathML Core has no mathvariant).

    >>> "\U0001d53c" in tex_to_mathml(r"\mathbb E\left[\hat y\right]", "block")
    True
    """
    try:
        mathml = VARIANT.sub(_letter, convert(tex, display=display))
    except Exception as err:  # noqa: BLE001  (latex2mathml raises many kinds)
        raise ValueError(f"cannot convert ${tex}$ to MathML ({err!r}): simplify the TeX") from None
    if unknown := re.findall(r"\\[A-Za-z]+", mathml):  # latex2mathml passes these through
        raise ValueError(f"cannot convert ${tex}$ to MathML: unknown {', '.join(unknown)}")
    return mathml


class MathMLRenderer(IPythonRenderer):
    """nbconvert's Markdown renderer, math as MathML; ``links``: notebook -> page (None: as is)."""

    def __init__(self, *args: Any, links: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.links = links

    def inline_math(self, body: str) -> str:
        return tex_to_mathml(body)

    def block_math(self, body: str) -> str:
        return tex_to_mathml(body, "block")

    def link(self, text: str, url: str, title: str | None = None) -> str:
        path, hash_, anchor = url.partition("#")
        if self.links is None or ":" in path or not path.endswith(".ipynb"):
            return super().link(text, url, title)
        if (page := self.links.get(posixpath.normpath(path))) is None:
            where = "in the instructor's copy" if "solutions" in path else "not in this copy"
            return f"{text} <em>({where})</em>"  # the student site leaves the solutions out
        return super().link(text, page + hash_ + anchor, title)


def markdown_html(source: str, links: dict[str, str] | None = None, **renderer: Any) -> str:
    """Markdown as HTML: math as MathML, links to notebooks pointed at their pages (``links``)."""
    markdown = MarkdownWithMath(renderer=MathMLRenderer(escape=False, links=links, **renderer))
    return markdown.render(source)


@jinja2.pass_context
def markdown2html(context: jinja2.runtime.Context, source: str) -> str:
    """The templates' Markdown filter: ``markdown_html``, local images embedded."""
    resources, attachments = context["resources"], context.get("cell", {}).get("attachments", {})
    path = resources["metadata"]["path"]
    return markdown_html(
        source, resources["gd"]["links"], embed_images=True, attachments=attachments, path=path
    )


def figures(cell: NotebookNode) -> list[tuple[NotebookNode, str | None]]:
    """A code cell's image outputs, each with its alt text: metadata "alt", a str or a list."""
    alt = cell.metadata.get("alt")
    alts = [alt] if isinstance(alt, str) else list(alt or [])
    images = [o for o in cell.get("outputs", []) if IMAGES & o.get("data", {}).keys()]
    return [(o, alts[k] if k < len(alts) else None) for k, o in enumerate(images)]


def alt(output: NotebookNode, cell: NotebookNode) -> str | None:
    """The templates' alt filter: the alt text ``figures`` gives this image output of the cell."""
    return next((text for o, text in figures(cell) if o is output), None)


CONFIG = Config(  # nbconvert's: templates in tools/site_templates/, the filters above
    TemplateExporter={
        "extra_template_paths": [str(HERE / "site_templates")],
        "filters": {"markdown2html": markdown2html, "alt": alt},
    },
    HTMLExporter={"template_name": "lab", "template_file": "lesson.html.j2"},
    SlidesExporter={"template_name": "reveal", "template_file": "slides.html.j2"},
)
CONFIG.SlidesExporter.reveal_url_prefix = "_static/reveal.js"  # build_slides copies reveal.js there
CONFIG.SlidesExporter.reveal_theme = "white"


def page_names(notebooks: Sequence[Path]) -> dict[str, Path]:
    """Each notebook by its path relative to the notebooks' common folder.

    >>> list(page_names([Path("nb/01_a.ipynb"), Path("nb/exercises/01_a_exercises.ipynb")]))
    ['01_a.ipynb', 'exercises/01_a_exercises.ipynb']
    """
    root = Path(os.path.commonpath([p.resolve().parent for p in notebooks]))
    return {p.resolve().relative_to(root).as_posix(): p for p in notebooks}


def needs_vega(notebooks: list[Path]) -> bool:
    """Whether any of the notebooks has a stored Vega-Lite output (an explorer)."""
    cells = (c for path in notebooks for c in read(path, as_version=4).cells)
    return any(VEGALITE_MIME in o.get("data", {}) for c in cells for o in c.get("outputs", []))


def write_bundle(static: Path) -> Path:
    """Write static/vega/vega-embed-bundle.js for the installed Altair's Vega-Lite, a licence
    notice first (the minified bundle has none); kept when made by the same versions."""
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
    target = static / "vega/vega-embed-bundle.js"  # where vega_explorer.html.j2 loads it
    if not (target.is_file() and target.read_text(encoding="utf-8").startswith(notice)):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(notice + vlc.javascript_bundle(vl_version=vl), encoding="utf-8")
    return target


def _render(
    exporter: HTMLExporter, nb: NotebookNode, name: str, src: Path, out: Path, targets: dict
) -> str:
    """Render `nb` (read from folder `src`) to out/targets[name]; return its title."""
    md = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    title = (re.findall(r"(?m)^# (.+)", md) or [name])[0].strip()
    nb.metadata["title"] = re.sub(r"[`*_$\\]", "", title)
    rel = functools.partial(posixpath.relpath, start=posixpath.dirname(targets[name]) or ".")
    gd = {"links": {rel(n): rel(t) for n, t in targets.items()}, "static": rel("_static")}
    gd |= {"index": None if name == "index.ipynb" else rel("index.html"), "pins": PINS}
    try:
        page = exporter.from_notebook_node(nb, {"metadata": {"path": str(src)}, "gd": gd})[0]
    except ValueError as err:
        raise SystemExit(f"{src / posixpath.basename(name)}: {err}") from None
    (out / targets[name]).parent.mkdir(parents=True, exist_ok=True)
    (out / targets[name]).write_text(page, encoding="utf-8")
    return title


GOALS = re.compile(
    r"(?i)\*\*After this lesson you can\*\*\s*\n((?:[-*] .*(?:\n(?![-*] |\n).*)*\n?)+)"
)
TIME = re.compile(
    r"(?i)\b(?:time|duration)\b\W{0,4}(?:about |around |~)?(\d+(?:[–-]\d+)? ?(?:min(?:utes)?|h(?:ours?)?))"
)


def lesson_summary(nb: NotebookNode) -> tuple[list[str], str | None]:
    r"""A lesson's goals (the list after "**After this lesson you can**") and its time, if it says.

    >>> cell = v4.new_markdown_cell("# 01 · A\n\n**Time:** about 45 min\n\n**After this lesson you can**\n- add;\n- subtract.")
    >>> lesson_summary(v4.new_notebook(cells=[cell]))
    (['add;', 'subtract.'], '45 min')
    """
    md = "\n\n".join(c.source for c in nb.cells[:3] if c.cell_type == "markdown")
    goals = GOALS.search(md)
    items = re.split(r"\n[-*] ", "\n" + goals[1].strip()) if goals else []
    time = TIME.search(md)
    return [" ".join(i.split()) for i in items if i.strip()], time[1] if time else None


def build_html(pages: dict[str, Path], out: Path, title: str = TITLE) -> None:
    """Write a page per notebook (`page_names`) and out/index.html: the lessons in order, each
    with its time, goals and the notebooks in sub-folders named after it (exercises/01_a_...)."""
    exporter = HTMLExporter(config=CONFIG)
    if needs_vega(list(pages.values())):
        write_bundle(out / "_static")
    targets = {n: n.removesuffix(".ipynb") + ".html" for n in [*pages, "index.ipynb"]}
    lines = [
        f"# {title}\n\nThe lessons in teaching order, each with what you can do after it and its "
        "exercises. Every page reads offline and prints.\n"
    ]
    notebooks = {name: read(path, as_version=4) for name, path in pages.items()}
    for name, nb in notebooks.items():
        heading = _render(exporter, nb, name, pages[name].parent, out, targets)
        if "/" in name:
            continue
        sub = re.compile(rf"([^/]+)/{re.escape(name.removesuffix('.ipynb'))}_")
        more = [f"[{m[1]}]({e})" for e in pages if (m := sub.match(e))]
        goals, time = lesson_summary(nb)
        lines.append(f"## [{heading}]({name})\n")
        lines += [f"*{time}*\n"] if time else []
        lines += ["After this lesson you can:\n", *[f"- {g}" for g in goals], ""] if goals else []
        lines += [f"Practice: {' · '.join(more)}\n"] if more else []
    lines += series_page.write(notebooks, out)  # and the index links to it
    cell = v4.new_markdown_cell("\n".join(lines), id="lessons")  # an id the same every build
    index = v4.new_notebook(cells=[cell], metadata=nb.metadata)
    _render(exporter, index, "index.ipynb", pages[name].parent, out, targets)


def build_slides(pages: dict[str, Path], out: Path, vendor: Path) -> None:
    """Write a reveal.js deck per lesson, out/NN_name.slides.html; other notebooks link ../html."""
    if not (vendor / "reveal.js/dist/reveal.js").is_file():
        raise SystemExit(f"--vendor {vendor}: no reveal.js/dist/reveal.js; run `make slides`")
    skip = shutil.ignore_patterns("css", "js", "*.html", "*.md", "*.json")
    dst = out / "_static/reveal.js"
    shutil.copytree(vendor / "reveal.js", dst, dirs_exist_ok=True, ignore=skip)
    exporter = SlidesExporter(config=CONFIG)
    if needs_vega(list(pages.values())):
        write_bundle(out / "_static")
    targets = {n: f"../html/{n[:-6]}.html" if "/" in n else f"{n[:-6]}.slides.html" for n in pages}
    for name in [n for n in pages if "/" not in n]:
        _render(exporter, read(pages[name], as_version=4), name, pages[name].parent, out, targets)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["html", "slides"])
    parser.add_argument("notebooks", nargs="+", type=Path, help="lessons and their exercises")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--vendor", type=Path, default=Path("build/vendor/node_modules"))
    args = parser.parse_args(argv)
    if missing := [str(p) for p in args.notebooks if not p.is_file()]:
        parser.error(f"no such notebook: {', '.join(missing)}")
    pages = page_names(args.notebooks)
    if args.what == "html":
        build_html(pages, args.out)
        print(f"html   {len(pages)} pages and index.html -> {args.out}/")
    else:  # a deck per lesson; the other notebooks are linked on the site
        build_slides(pages, args.out, args.vendor)
        print(f"slides {sum('/' not in n for n in pages)} decks (one per lesson) -> {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
