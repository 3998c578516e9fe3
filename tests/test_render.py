"""Slides and the offline site: every lesson carries slide metadata, and what is built needs no network.

The browser check itself (math rendered, images loaded, no request leaving the machine, in headless
Chromium) is `make check-render`; these tests are the fast part that needs no browser and no npm.
"""

import doctest
import hashlib
import importlib.metadata
import re
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import build_site  # noqa: E402
import check_render  # noqa: E402
import tag_slides  # noqa: E402

LESSONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


def md(source, **metadata):
    return nbformat.v4.new_markdown_cell(source, metadata=metadata)


def code(source, *outputs, **metadata):
    cell = nbformat.v4.new_code_cell(source, metadata=metadata)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text) for text in outputs]
    return cell


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_lesson_carries_slide_metadata(path):
    nb = nbformat.read(path, as_version=4)
    types = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]
    missing = [i for i, kind in enumerate(types) if kind not in tag_slides.SLIDE_TYPES]
    assert not missing, (
        f"{len(missing)} of {len(types)} cells have no slide type (first: {missing[:5]}): "
        f"run .venv/bin/python tools/tag_slides.py {path.relative_to(ROOT)}"
    )
    assert next(kind for kind in types if kind not in ("skip", "notes")) == "slide", "the first shown cell must open a slide"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_slide_metadata_is_what_the_lesson_structure_gives(path):
    nb = nbformat.read(path, as_version=4)
    stale = tag_slides.tag_notebook(nb)
    assert not stale, (
        f"slide metadata out of date after an edit ({len(stale)} changes, first: {stale[:5]}): "
        f"run .venv/bin/python tools/tag_slides.py {path.relative_to(ROOT)}"
    )


def test_slides_follow_the_lesson_structure():
    cells = [
        md("# 01 · A lesson\n\nWhat it teaches."),
        code("import numpy as np\nfrom torch import nn"),
        md("## A section\n\nSome text."),
        code("print(1)", "1\n"),
        md("**Instructor note:** pause here and ask."),
        md("### A sub-section"),
        code("x = 1"),
        code("\n".join(f"print({i})" for i in range(30)), "".join(f"{i}\n" for i in range(30))),
        md("Hand-tagged.", tags=["slides:skip"]),
        code(""),
    ]
    assert tag_slides.slide_types(cells) == [
        "slide", "skip", "slide", "fragment", "notes", "subslide", "fragment", "subslide", "skip", "skip",
    ]


def test_a_cell_that_printed_something_is_never_skipped():
    assert tag_slides.slide_types([md("# T"), code("import this", "The Zen of Python\n")]) == ["slide", "fragment"]


def test_a_bad_slide_tag_names_the_allowed_types():
    with pytest.raises(ValueError, match="slides:bogus.*one of slide, subslide"):
        tag_slides.slide_types([md("# T", tags=["slides:bogus"])])


def test_tagging_is_idempotent_and_touches_only_slide_metadata(tmp_path, capsys):
    source = LESSONS[0]
    copy = tmp_path / source.name
    nb = nbformat.read(source, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("slideshow", None)
    nbformat.write(nb, copy)

    assert tag_slides.main(["--check", str(copy)]) == 1, "--check must fail on an untagged lesson"
    assert tag_slides.main([str(copy)]) == 0
    first = copy.read_bytes()
    assert tag_slides.main([str(copy)]) == 0
    assert copy.read_bytes() == first, "a second run must not change the file"
    assert tag_slides.main(["--check", str(copy)]) == 0
    capsys.readouterr()

    tagged = nbformat.read(copy, as_version=4)
    assert len(tagged.cells) == len(nb.cells)
    for before, after in zip(nb.cells, tagged.cells):
        assert after.metadata.pop("slideshow")["slide_type"] in tag_slides.SLIDE_TYPES
        assert after == before
    assert tagged.cells[0].metadata == nb.cells[0].metadata


def fake_vendor(root: Path) -> Path:
    """Stand-ins for the npm files, so the pages can be built without npm."""
    for name in [*build_site.MATHJAX_FILES, *build_site.REVEAL_FILES]:
        path = root / name
        if name.endswith("theme"):
            path.mkdir(parents=True)
            (path / "white.css").write_text("/* theme */")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("/* stand-in */")
    return root


def digest(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)""", re.IGNORECASE)


def test_built_pages_and_decks_load_nothing_from_the_network(tmp_path):
    lessons = LESSONS[:2]
    before = digest(LESSONS)
    vendor = fake_vendor(tmp_path / "vendor")
    index = build_site.build_html(lessons, tmp_path / "html", vendor, "Lessons")
    decks = build_site.build_slides(lessons, tmp_path / "slides", vendor)
    assert digest(LESSONS) == before, "building must not write the notebooks"

    pages = [index, *(tmp_path / "html").glob("[0-9]*.html"), *decks]
    assert len(pages) == 1 + 2 * len(lessons)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        urls = [a or b for a, b in URL.findall(text)]
        remote = [u for u in urls if re.match(r"^(https?:)?//", u.strip())]
        assert not remote, f"{page.name} loads from the network: {remote}"
        if page != index:
            assert "_static/mathjax/tex-svg-full.js" in text
    for lesson in lessons:
        assert f'href="{lesson.stem}.html"' in index.read_text(encoding="utf-8")


def test_links_between_lessons_point_at_the_built_pages():
    targets = {"02_b.ipynb": "02_b.html", "exercises/02_b.ipynb": "exercises/02_b.html"}
    page = '<a href="02_b.ipynb">next</a> <a href="exercises/02_b.ipynb#q1">practise</a> <a href="https://x.org/a.ipynb">w</a>'
    assert build_site.link_notebooks(page, "", targets) == (
        '<a href="02_b.html">next</a> <a href="exercises/02_b.html#q1">practise</a> <a href="https://x.org/a.ipynb">w</a>'
    )


def test_the_browser_check_runs_chromium_without_network_services():
    required = {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"}
    assert required <= set(check_render.CHROMIUM_FLAGS)
    assert check_render.offsite(["file:///a.html", "data:,x", "http://127.0.0.1/x", "https://cdn/x.js"]) == [
        "http://127.0.0.1/x", "https://cdn/x.js"]


@pytest.mark.parametrize("module", [tag_slides, build_site, check_render], ids=lambda m: m.__name__)
def test_the_tools_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_make_lab_has_rise_for_live_slides():
    assert importlib.metadata.version("jupyterlab_rise") == "0.43.1"
    assert (Path(sys.prefix) / "share/jupyter/labextensions/jupyterlab-rise/package.json").is_file()


def test_instructor_targets_depend_on_setup():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("html", "slides", "check-render"):
        line = re.search(rf"^{target}:([^#\n]*)", makefile, re.MULTILINE)
        assert line and "setup" in line.group(1).split(), f"make {target} must depend on setup"
