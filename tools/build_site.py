"""Render the lessons for reading and presenting offline: an HTML site and reveal.js slide decks.

Both are made from the committed notebooks and their stored outputs (which CI checks against a
fresh run), so nothing is executed and nothing under notebooks/ is written. Every page loads its
scripts from files copied next to it (MathJax 3, reveal.js, installed by `make` with npm into
build/vendor/), never from a CDN, so build/html/ and build/slides/ can be copied to a USB stick and
opened from the file system.

    python tools/build_site.py html   --out build/html   --vendor build/vendor/node_modules notebooks/[0-9]*.ipynb
    python tools/build_site.py slides --out build/slides --vendor build/vendor/node_modules notebooks/[0-9]*.ipynb
"""

from __future__ import annotations

import argparse
import html
import os
import posixpath
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter, SlidesExporter
from vega_bundle import needs_vega, write_bundle  # tools/: the explorers' offline scripts

__all__ = ["lesson_title", "inline_markdown", "link_notebooks", "index_page", "build_html", "build_slides", "main"]

TEMPLATES = Path(__file__).resolve().parent / "site_templates"
STATIC = "_static"
# What each output needs from the npm packages (source under --vendor, destination under _static/).
MATHJAX_FILES = {"mathjax/es5/tex-svg-full.js": "mathjax/tex-svg-full.js"}
REVEAL_FILES = {
    "reveal.js/dist/reveal.js": "reveal.js/dist/reveal.js",
    "reveal.js/dist/reveal.css": "reveal.js/dist/reveal.css",
    "reveal.js/dist/theme": "reveal.js/dist/theme",
    "reveal.js/plugin/notes/notes.js": "reveal.js/plugin/notes/notes.js",
    "reveal.js/LICENSE": "reveal.js/LICENSE",
}
_RELATIVE_IMAGE = re.compile(r"""!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img[^>]*\ssrc=["']([^"']+)["']""")


def lesson_title(nb: nbformat.NotebookNode, fallback: str) -> str:
    """The lesson's title: the text of its first `# ` heading, or `fallback`.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# 01 · By hand\\n\\nText.")])
    >>> lesson_title(nb, "01_x")
    '01 · By hand'
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+?)\s*#*\s*$", cell.source, re.MULTILINE)
            if match:
                return match.group(1)
    return fallback


def inline_markdown(text: str) -> str:
    """Escape `text` for HTML, keeping `code` spans as <code>.

    >>> inline_markdown("03 · `nn.Linear` & <SGD>")
    '03 · <code>nn.Linear</code> &amp; &lt;SGD&gt;'
    """
    parts = text.split("`")
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p) for i, p in enumerate(parts))


def plain_text(text: str) -> str:
    """A title without Markdown marks, for <title>.

    >>> plain_text("03 · `nn.Linear` and **SGD**")
    '03 · nn.Linear and SGD'
    """
    return re.sub(r"[`*_]", "", text)


def link_notebooks(page: str, here: str, targets: dict[str, str]) -> str:
    """Point links to rendered notebooks at their pages; other links are left alone.

    `here` is the folder of the page's notebook and `targets` maps notebook paths to page paths, all
    relative to the notebooks' root, with "/" separators.

    >>> targets = {"02_autograd.ipynb": "02_autograd.html", "exercises/02_autograd.ipynb": "exercises/02_autograd.html"}
    >>> link_notebooks('<a href="02_autograd.ipynb#top">02</a> <a href="x.ipynb">x</a>', "", targets)
    '<a href="02_autograd.html#top">02</a> <a href="x.ipynb">x</a>'
    >>> link_notebooks('<a href="exercises/02_autograd.ipynb">e</a>', "", targets)
    '<a href="exercises/02_autograd.html">e</a>'
    >>> link_notebooks('<a href="../02_autograd.ipynb">back</a>', "exercises", targets)
    '<a href="../02_autograd.html">back</a>'
    """

    def repl(match: re.Match) -> str:
        quote, ref, anchor = match.group(1), match.group(2), match.group(3) or ""
        if re.match(r"^[a-z][a-z0-9+.-]*:|^/", ref, re.IGNORECASE):
            return match.group(0)
        target = targets.get(posixpath.normpath(posixpath.join(here, ref)))
        if target is None:
            return match.group(0)
        return f"href={quote}{posixpath.relpath(target, here or '.')}{anchor}{quote}"

    return re.sub(r"""href=(["'])([^"'#?]+?\.ipynb)(#[^"']*)?\1""", repl, page)


def index_page(lessons: Sequence[tuple[str, str, Sequence[tuple[str, str]]]], title: str) -> str:
    """The lesson list: one line per (page, lesson title, [(label, page of its exercises...)]).

    >>> page = index_page([("01_a.html", "01 · A", [("exercises", "exercises/01_a.html")])], "Lessons")
    >>> '<a href="01_a.html">01 · A</a> <span class="more">· <a href="exercises/01_a.html">exercises</a></span>' in page
    True
    """

    def line(href: str, name: str, more: Sequence[tuple[str, str]]) -> str:
        extra = "".join(f' · <a href="{html.escape(h)}">{html.escape(label)}</a>' for label, h in more)
        extra = f' <span class="more">{extra.strip()}</span>' if extra else ""
        return f'  <li><a href="{html.escape(href)}">{inline_markdown(name)}</a>{extra}</li>'

    items = "\n".join(line(*entry) for entry in lessons)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{html.escape(title)}</title>
<style>
  body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 46em;
         margin: 3em auto; padding: 0 1em; line-height: 1.5; color: #222; }}
  h1 {{ font-size: 1.8em; }}
  ol {{ list-style: none; padding: 0; }}
  li {{ margin: 0.4em 0; font-size: 1.15em; }}
  code {{ background: #f3f3f3; padding: 0 0.2em; border-radius: 3px; }}
  .more {{ font-size: 0.85em; color: #555; }}
  a {{ color: #0b57d0; text-decoration: none; }} a:hover {{ text-decoration: underline; }}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p>The lessons, in teaching order. Each page reads offline and prints cleanly (File &rarr; Print).</p>
<ol class="lessons">
{items}
</ol>
</body>
</html>
"""


def _copy_assets(vendor: Path, files: dict[str, str], out: Path) -> None:
    for source, target in files.items():
        src, dst = vendor / source, out / STATIC / target
        if not src.exists():
            raise SystemExit(f"--vendor {vendor}: {source} is missing; `make html slides` installs it with npm")
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst, dirs_exist_ok=True)
        else:
            shutil.copy2(src, dst)


def _copy_local_images(nb: nbformat.NotebookNode, notebook_dir: Path, out: Path) -> None:
    """Copy images that Markdown cells link by relative path (attachments are inlined by nbconvert)."""
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for match in _RELATIVE_IMAGE.finditer(cell.source):
            ref = match.group(1) or match.group(2)
            if re.match(r"^[a-z][a-z0-9+.-]*:", ref, re.IGNORECASE) or ref.startswith("/"):
                continue  # data:, attachment:, http: ... or absolute
            src = (notebook_dir / ref).resolve()
            if src.is_file():
                dst = out / ref
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)


def _exporter(cls: type, template_name: str, template_file: str, **traits):
    return cls(template_name=template_name, template_file=template_file, extra_template_paths=[str(TEMPLATES)], **traits)


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise SystemExit(f"notebooks: {path} is not under {root}; give notebooks from one folder tree") from None


def _render(exporter, path: Path, root: Path, out: Path, page: str, targets: dict[str, str]) -> str:
    """Render one notebook to out/page; return its title."""
    nb = nbformat.read(path, as_version=4)
    title = lesson_title(nb, path.stem)
    nb.metadata["title"] = plain_text(title)  # the page's <title>; the file on disk is not written
    here = posixpath.dirname(page)
    resources = {
        "metadata": {"name": path.stem, "path": str(path.parent)},
        "offline_static": posixpath.relpath(STATIC, here or "."),
        "offline_index": posixpath.relpath("index.html", here or "."),
    }
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    target = out / page
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(link_notebooks(body, posixpath.dirname(_relative(path, root)), targets), encoding="utf-8")
    _copy_local_images(nb, path.parent, target.parent)
    return title


def build_html(lessons: Sequence[Path], out: Path, vendor: Path, title: str, extras: Sequence[Path] = ()) -> Path:
    """Write out/index.html and a page per lesson, and per extra notebook (exercises); return the index.

    Pages mirror the notebooks' folders (notebooks/exercises/01_x.ipynb -> out/exercises/01_x.html),
    so links between notebooks keep working; the index lists the lessons, one line each, with a link
    to any extra notebook of the same name (its exercises).
    """
    root = Path(os.path.commonpath([p.resolve().parent for p in lessons]))
    out.mkdir(parents=True, exist_ok=True)
    _copy_assets(vendor, MATHJAX_FILES, out)
    if needs_vega([*lessons, *extras]):
        write_bundle(out / STATIC)
    exporter = _exporter(HTMLExporter, "lab", "lesson.html.j2")
    targets = {_relative(p, root): posixpath.splitext(_relative(p, root))[0] + ".html" for p in [*lessons, *extras]}
    lines = []
    for path in [*lessons, *extras]:
        page = targets[_relative(path, root)]
        name = _render(exporter, path, root, out, page, targets)
        print(f"html    {out / page}")
        if path in lessons:
            more = [(posixpath.dirname(targets[_relative(e, root)]), targets[_relative(e, root)]) for e in extras if e.stem == path.stem]
            lines.append((page, name, more))
    index = out / "index.html"
    index.write_text(index_page(lines, title), encoding="utf-8")
    print(f"html    {index}")
    return index


def build_slides(lessons: Sequence[Path], out: Path, vendor: Path, extras: Sequence[Path] = (), site: str = "../html") -> list[Path]:
    """Write one reveal.js deck per lesson, out/NN_name.slides.html; return their paths.

    Links between lessons go to their decks; links to the extra notebooks (exercises) go to their
    pages in the HTML site, at `site` relative to `out`.
    """
    root = Path(os.path.commonpath([p.resolve().parent for p in lessons]))
    out.mkdir(parents=True, exist_ok=True)
    _copy_assets(vendor, {**MATHJAX_FILES, **REVEAL_FILES}, out)
    if needs_vega(lessons):
        write_bundle(out / STATIC)
    exporter = _exporter(SlidesExporter, "reveal", "slides.html.j2", reveal_url_prefix=f"{STATIC}/reveal.js", reveal_theme="white")
    targets = {_relative(p, root): posixpath.splitext(_relative(p, root))[0] + ".slides.html" for p in lessons}
    targets |= {_relative(p, root): f"{site}/" + posixpath.splitext(_relative(p, root))[0] + ".html" for p in extras}
    decks = []
    for path in lessons:
        page = targets[_relative(path, root)]
        _render(exporter, path, root, out, page, targets)
        decks.append(out / page)
        print(f"slides  {decks[-1]}")
    return decks


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["html", "slides"])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--vendor", type=Path, default=Path("build/vendor/node_modules"))
    parser.add_argument("--title", default="Gradient descent, step by step")
    parser.add_argument("--extra", nargs="*", type=Path, default=[], help="more notebooks (exercises): html renders them, slides links to them")
    parser.add_argument("--site", default="../html", help="slides: where the HTML site is, relative to --out")
    args = parser.parse_args(argv)
    missing = [str(p) for p in [*args.notebooks, *args.extra] if not p.is_file()]
    if missing:
        parser.error(f"notebooks: no such file: {', '.join(missing)}")
    if args.what == "html":
        build_html(args.notebooks, args.out, args.vendor, args.title, args.extra)
    else:
        build_slides(args.notebooks, args.out, args.vendor, args.extra, args.site)
    return 0


if __name__ == "__main__":
    sys.exit(main())
