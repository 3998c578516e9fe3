"""Slides and the offline site: slide metadata, MathML, alt text, links, and no network.

The browser test itself (headless Chromium: math rendered, images loaded, no request leaving the
machine, axe-core) is `make check-render`; these tests are the fast part, with no browser or npm.
"""

import base64
import doctest
import hashlib
import importlib.metadata
import io
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from PIL import Image
from site_audit import alt_problems, broken_links

ROOT = Path(__file__).resolve().parents[1]

from tools import build_site, run_lessons, series_page, tag_slides, test_portable

LESSONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
ALL_NOTEBOOKS = sorted((ROOT / "notebooks").glob("**/*.ipynb"))


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
        f"run .venv/bin/python -m tools.tag_slides {path.relative_to(ROOT)}"
    )
    assert next(kind for kind in types if kind not in ("skip", "notes")) == "slide", (
        "the first shown cell must open a slide"
    )


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_slide_metadata_is_what_the_lesson_structure_gives(path):
    nb = nbformat.read(path, as_version=4)
    stale = tag_slides.tag_notebook(nb)
    assert not stale, (
        f"slide metadata out of date after an edit ({len(stale)} changes, first: {stale[:5]}): "
        f"run .venv/bin/python -m tools.tag_slides {path.relative_to(ROOT)}"
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
        "slide",
        "skip",
        "slide",
        "fragment",
        "notes",
        "subslide",
        "fragment",
        "subslide",
        "skip",
        "skip",
    ]


def test_a_long_code_cell_gets_a_subslide_of_its_own_with_its_output():
    long = code("\n".join(f"x{i} = {i}" for i in range(12)) + "\nprint(x0)", "0\n")
    cells = [md("## A section\n\nSome text.\n\nMore text."), code("x = 1", "1\n"), long]
    assert tag_slides.slide_types(cells) == ["slide", "fragment", "subslide"]
    assert tag_slides.slide_types(cells[:1] + cells[2:]) == ["slide", "subslide"]


def test_a_wide_figure_counts_by_its_height_on_the_slide():
    def png(size: tuple[int, int]) -> str:
        image = io.BytesIO()
        Image.new("1", size).save(image, "PNG")
        return base64.b64encode(image.getvalue()).decode()

    wide, tall = png((1800, 600)), png((600, 900))  # wide: 300px at 900 wide
    assert tag_slides.image_lines(wide) < tag_slides.IMAGE_LINES < tag_slides.image_lines(tall)
    assert tag_slides.image_lines("not base64") == tag_slides.IMAGE_LINES


def test_a_cell_that_printed_something_is_never_skipped():
    assert tag_slides.slide_types([md("# T"), code("import this", "The Zen of Python\n")]) == [
        "slide",
        "fragment",
    ]


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

    assert tag_slides.main(["--verify", str(copy)]) == 1, "--verify must fail on an untagged lesson"
    assert tag_slides.main([str(copy)]) == 0
    first = copy.read_bytes()
    assert tag_slides.main([str(copy)]) == 0
    assert copy.read_bytes() == first, "a second run must not change the file"
    assert tag_slides.main(["--verify", str(copy)]) == 0
    capsys.readouterr()

    tagged = nbformat.read(copy, as_version=4)
    assert len(tagged.cells) == len(nb.cells)
    for before, after in zip(nb.cells, tagged.cells):
        assert after.metadata.pop("slideshow")["slide_type"] in tag_slides.SLIDE_TYPES
        assert after == before
    assert tagged.cells[0].metadata == nb.cells[0].metadata


def fake_vendor(root: Path) -> Path:
    """Stand-ins for reveal.js from npm, so the decks can be built without npm."""
    for name in [
        "dist/reveal.js",
        "dist/reveal.css",
        "dist/theme/white.css",
        "plugin/notes/notes.js",
    ]:
        (root / "reveal.js" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "reveal.js" / name).write_text("/* stand-in */")
    return root


def digest(paths):
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """What make run / make html (student site), make html SOLUTIONS=1 and make slides write."""
    out = tmp_path_factory.mktemp("site")
    before = digest(ALL_NOTEBOOKS)
    student = run_lessons.site_pages(
        LESSONS
    )  # make run's site; make html gives it the same notebooks
    build_site.build_html(student, out / "html")
    build_site.build_slides(student, out / "slides", fake_vendor(out / "vendor"))
    first = LESSONS[0].stem
    instructor = [LESSONS[0], *(ROOT / "notebooks").glob(f"*/{first}_*.ipynb")]
    build_site.build_html(build_site.page_names(instructor), out / "instructor")
    assert digest(ALL_NOTEBOOKS) == before, "building must not write the notebooks"
    return out


def pages(folder):
    return sorted(folder.rglob("*.html"))


@pytest.mark.parametrize("site", ["html", "slides", "instructor"])
def test_every_link_on_every_built_page_resolves(built, site):
    assert pages(built / site)
    assert broken_links(built / site) == []


def test_the_student_site_names_the_instructors_copy_instead_of_linking_solutions(built):
    exercises = pages(built / "html" / "exercises")
    assert len(exercises) == len(list((ROOT / "notebooks" / "exercises").glob("[0-9]*.ipynb")))
    assert not (built / "html" / "solutions").exists()
    for page in exercises:
        text = page.read_text(encoding="utf-8")
        assert "(in the instructor's copy)" in text and 'href="../solutions/' not in text
    instructor = pages(built / "instructor" / "exercises")[0].read_text(encoding="utf-8")
    assert 'href="../solutions/' in instructor and "(in the instructor's copy)" not in instructor


def test_the_index_links_every_lesson_and_its_exercises(built):
    index = (built / "html" / "index.html").read_text(encoding="utf-8")
    for lesson in LESSONS:
        assert f'href="{lesson.stem}.html"' in index
        assert f'href="exercises/{lesson.stem}_exercises.html"' in index
        goals, _ = build_site.lesson_summary(nbformat.read(lesson, as_version=4))
        text = " ".join(BeautifulSoup(index, "html.parser").get_text().split())
        starts = [re.sub(r"[`*]", "", g)[:20] for g in goals]  # the goals, as rendered
        assert goals and all(start in text for start in starts), (lesson.name, starts)


def test_a_lesson_with_an_explorer_has_a_skip_link_to_it(built):
    page = BeautifulSoup((built / "html" / f"{LESSONS[0].stem}.html").read_text(), "html.parser")
    skips = [a["href"] for a in page.select("a.gd-skip")]
    explorers = [e["id"] for e in page.select(".gd-explorer")]
    assert explorers and skips == ["#gd-main", *(f"#{e}" for e in explorers)]


URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']*)["']|url\(\s*["']?([^"')]*)""", re.IGNORECASE)


def test_built_pages_and_decks_load_nothing_from_the_network_and_no_mathjax(built):
    for page in pages(built / "html") + pages(built / "slides"):
        text = page.read_text(encoding="utf-8")
        remote = [
            u for u in (a or b for a, b in URL.findall(text)) if re.match(r"^(https?:)?//", u)
        ]
        assert not remote, f"{page.name} loads from the network: {remote}"
        assert "mathjax" not in text.lower(), f"{page.name} still loads MathJax"
        scripts = re.findall(r"<script[^>]*src=[\"']([^\"']+)", text)
        assert all(s.startswith("_static/reveal.js/") for s in scripts), scripts


RAW_TEX = re.compile(r"\$[^$]+\$|\$\$|\\[A-Za-z]{2,}")


def visible_text(html):
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "pre", "code", "math"]):
        tag.decompose()
    return soup.get_text(" ")


def test_math_is_mathml_and_no_raw_tex_is_left_on_any_page(built):
    for page in pages(built / "html") + pages(built / "slides"):
        text = page.read_text(encoding="utf-8")
        raw = RAW_TEX.findall(visible_text(text))
        assert not raw, f"{page.relative_to(built)} shows raw TeX: {raw[:5]}"
    lesson = (built / "html" / f"{LESSONS[0].stem}.html").read_text(encoding="utf-8")
    assert lesson.count("<math") > 20 and '<math display="block"' in lesson.replace(
        'xmlns="http://www.w3.org/1998/Math/MathML" ', ""
    )


def formulas(path):
    found = []

    class Collect(build_site.MathMLRenderer):
        def inline_math(self, body):
            found.append((body, "inline"))
            return super().inline_math(body)

        def block_math(self, body):
            found.append((body, "block"))
            return super().block_math(body)

    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "markdown":
            build_site.MarkdownWithMath(renderer=Collect(escape=False)).render(cell.source)
    return found


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=lambda p: p.name)
def test_every_formula_in_the_notebooks_converts_to_mathml(path):
    for tex, display in formulas(path):
        mathml = build_site.tex_to_mathml(tex, display)
        assert mathml.startswith("<math") and "\\" not in mathml, tex


def test_math_inside_code_is_left_alone_and_bad_tex_is_named():
    html = build_site.MarkdownWithMath(renderer=build_site.MathMLRenderer(escape=False)).render(
        "Cost `$x$` is $\\hat y_i$.\n\n```\n$$a$$\n```"
    )
    assert "<code>$x$</code>" in html and "$$a$$" in html and html.count("<math") == 1
    with pytest.raises(ValueError, match=r"cannot convert \$x\^\$ to MathML"):
        build_site.tex_to_mathml("x^")
    with pytest.raises(ValueError, match=r"unknown \\foo"):
        build_site.tex_to_mathml(r"\foo x")


def figure_cell(alt, n=2):
    cell = nbformat.v4.new_code_cell("show(fig)", metadata={"alt": alt} if alt else {})
    png = (  # 1x1 pixel
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQ"
        "AAAABJRU5ErkJggg=="
    )
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": png}) for _ in range(n)
    ]
    return cell


def test_figures_carry_their_alt_text_into_pages_and_decks(tmp_path):
    alts = [
        "Loss against epoch on a log scale: a straight line, so it falls geometrically.",
        "The fitted line y = 1.606 x lies below all four points: ten epochs are not enough.",
    ]
    nb = nbformat.v4.new_notebook(cells=[md("# 01 · A lesson"), figure_cell(alts)])
    nb.metadata.language_info = {"name": "python", "version": "3.11.7"}
    nbformat.write(nb, tmp_path / "01_a.ipynb")
    pages_ = build_site.page_names([tmp_path / "01_a.ipynb"])
    build_site.build_html(pages_, tmp_path / "html")
    build_site.build_slides(pages_, tmp_path / "slides", fake_vendor(tmp_path / "vendor"))
    for page in [tmp_path / "html/01_a.html", tmp_path / "slides/01_a.slides.html"]:
        found = [img.get("alt") for img in BeautifulSoup(page.read_text(), "html.parser")("img")]
        assert found == alts
        assert "Outputs made with Python 3.11.7, torch 2.13.0" in page.read_text()


@pytest.mark.parametrize(
    "alt, why",
    [
        (None, "no alt text"),
        ("Image", "generic alt text 'Image'"),
        ("plot", "generic"),
        ("figure_3.png", "generic"),
        (["A sentence of eight words about the figure."], "figure 2"),
    ],
)
def test_a_missing_or_generic_alt_text_names_the_cell(alt, why):
    nb = nbformat.v4.new_notebook(cells=[md("# T"), figure_cell(alt)])
    problems = alt_problems(nb, "01_a.ipynb")
    assert (
        problems
        and why in "\n".join(problems)
        and problems[0].startswith("01_a.ipynb cell 1 (show(fig))")
    )


def test_every_figure_in_the_lessons_has_an_alt_text_that_says_what_it_shows():
    problems = [
        p for path in LESSONS for p in alt_problems(nbformat.read(path, as_version=4), path.name)
    ]
    assert not problems, (
        f"{len(problems)} figures need a code-cell metadata 'alt' (a sentence: what the figure "
        "shows and what to notice; a list of them when the cell shows several figures):\n"
        + "\n".join(problems)
    )


def test_links_between_lessons_point_at_the_built_pages():
    links = {"02_b.ipynb": "02_b.html", "exercises/02_b_exercises.ipynb": "ex/02_b.html"}
    page = (
        "[next](02_b.ipynb) [practise](exercises/02_b_exercises.ipynb#q1) "
        "[w](https://x.org/a.ipynb) [solved](solutions/02_b_solutions.ipynb) [x](./99_z.ipynb)"
    )
    assert build_site.markdown_html(page, links) == (
        '<p><a href="02_b.html">next</a> <a href="ex/02_b.html#q1">practise</a> '
        '<a href="https://x.org/a.ipynb">w</a> solved <em>(in the instructor\'s copy)</em> '
        "x <em>(not in this copy)</em></p>\n"
    )


def test_the_link_checker_finds_missing_files_and_anchors(tmp_path):
    (tmp_path / "a.html").write_text(
        '<h1 id="top">A</h1><a href="b.html">b</a> <a href="a.html#top">t</a>'
        '<a href="#nowhere">x</a> <img src="data:image/png;base64,AA">'
    )
    assert broken_links(tmp_path) == [
        f"{tmp_path}/a.html: b.html",
        f"{tmp_path}/a.html: #nowhere",
    ]


def test_kernels_our_tools_start_talk_over_ipc_and_never_warn_about_tcp(tmp_path, capfd):
    source = (
        "from ipykernel.connect import get_connection_info\n"
        "print(get_connection_info(unpack=True)['transport'])"
    )
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    run_lessons.execute(nb, tmp_path, timeout=60)
    assert nb.cells[0].outputs[0].text == "ipc\n"
    out, err = capfd.readouterr()
    assert "without encryption" not in out + err


@pytest.mark.parametrize(
    "module", [tag_slides, build_site, series_page, test_portable], ids=lambda m: m.__name__
)
def test_the_tools_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_make_lab_has_rise_for_live_slides():
    assert importlib.metadata.version("jupyterlab_rise") == "0.43.1"
    assert (Path(sys.prefix) / "share/jupyter/labextensions/jupyterlab-rise/package.json").is_file()


def what_make_would_run(target: str) -> str:
    """The commands `make TARGET` runs from nothing (-B: as if .venv were new), not run."""
    done = subprocess.run(["make", "-n", "-B", target], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_instructor_targets_install_first_and_make_run_needs_no_npm_or_dev_tools():
    for target in ("html", "slides", "check-render"):
        assert "-r requirements.txt" in what_make_would_run(target), target
    for target in ("run", "lab"):
        commands = what_make_would_run(target)
        assert "-r requirements.txt" in commands and "requirements-dev" not in commands
        assert "npm" not in commands, target
    assert "-r requirements.txt" in (ROOT / "requirements-dev.txt").read_text()
