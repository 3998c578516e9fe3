"""The page that ties the series together (tools/series_page.py): every lesson's loop, its links.

Every lesson 01-08 whose notebook has a code cell tagged `loop` appears on build/html/loop.html with a
link to its own page, a lesson without one is named as missing, the lines new against the previous
loop are marked, and every link on the page (and the index's link to it) resolves in a built site.
"""

import re
from pathlib import Path

import nbformat
from site_audit import broken_links

from tools import build_site, series_page

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def tagged(path):
    cells = nbformat.read(path, as_version=4).cells
    return any("loop" in c.metadata.get("tags", []) for c in cells if c.cell_type == "code")


def test_every_lesson_with_a_loop_cell_appears_with_a_link_that_resolves(tmp_path):
    notebooks = {p.name: nbformat.read(p, as_version=4) for p in LESSONS}
    for name in [*notebooks, "index.ipynb"]:  # the pages build_html writes beside it
        (tmp_path / name.replace(".ipynb", ".html")).write_text("<html></html>")
    series_page.write(notebooks, tmp_path)
    page = (tmp_path / series_page.PAGE).read_text(encoding="utf-8")
    with_loop = [p for p in LESSONS if tagged(p) and int(p.name[:2]) in series_page.LESSONS]
    assert with_loop, "no lesson tags its training loop `loop`"
    for path in with_loop:
        assert f'href="{path.stem}.html"' in page, f"{path.name}'s loop is not on the page"
        assert f'id="lesson-{path.name[:2]}"' in page
    missing = [
        f"{n:02d}" for n in series_page.LESSONS if f"{n:02d}" not in {p.name[:2] for p in with_loop}
    ]
    if missing:
        assert f"lesson(s) {', '.join(missing)}" in page
    assert broken_links(tmp_path) == []


def notebook(loop=None, title="T"):
    cells = [nbformat.v4.new_markdown_cell(f"# {title}")]
    if loop is not None:
        cells.append(nbformat.v4.new_code_cell(loop, metadata={"tags": ["loop"]}))
    cells.append(nbformat.v4.new_code_cell("print('not the loop')"))
    return nbformat.v4.new_notebook(cells=cells, metadata={"title": title})


def test_changed_lines_are_marked_against_the_previous_loop_and_gaps_are_named():
    first = "for epoch in range(num_epochs):\n    w = w - lr * dw"
    third = "for epoch in range(num_epochs):\n    loss.backward()\n    w = w - lr * dw"
    notebooks = {
        "01_a.ipynb": notebook(first, "01 · A"),
        "02_b.ipynb": notebook(None, "02 · B"),
        "03_c.ipynb": notebook(third, "03 · C"),
        "09_z.ipynb": notebook("x = 1", "09 · Z"),  # not 01-08
    }
    found = series_page.loops(notebooks)
    assert [lp.number for lp in found if lp.source] == [1, 3]
    page = series_page.page_html(found, {"01_a.ipynb": "01_a.html", "03_c.ipynb": "03_c.html"})
    assert "lesson(s) 02, 04, 05, 06, 07, 08" in page
    assert "09 · Z" not in page and '<a href="03_c.html">03 · C</a>' in page
    assert "Against lesson 01: 1 line(s) new or changed, 2 the same, 0 dropped." in page
    new = re.findall(r'<span class="new">.*?</span>(.*?)</span>', page)
    assert new[-1] == "    loss.backward()"


def test_the_built_site_links_the_page_from_its_index(tmp_path):
    lesson = next(p for p in LESSONS if tagged(p))
    build_site.build_html(build_site.page_names([lesson]), tmp_path)
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f'href="{series_page.PAGE}"' in index
    assert broken_links(tmp_path) == []
