"""The built site and decks in headless Chromium, as a reader gets them (`make check-render`).

- ``test_page_renders``, for every page: MathML and no raw TeX; all figures shown, loaded, with a
  real alt text; no script or console error; no request off the machine or failed; Tab reaches a
  visible focus first (a lesson's skip link); no serious or critical axe-core violation (all of
  them: build/render/axe.md). The index links every lesson; a deck starts and moves with the arrow
  keys. A screenshot of each; the lessons printed to A4 PDFs in build/pdf/. The pages `make run`
  wrote (build/run/html), when there, get the same checks as make html's.
- ``test_links_resolve``: every relative link in each built folder finds its file and #anchor.
- ``test_every_slide_fits``: every slide of every deck at the two projector sizes, transitions off
  and every fragment shown: no element outside the viewport or cut by the slide's scrolling, the
  versions footer on the title slide only and covering nothing. build/render/slide-fit-WxH.md
  reports each slide that does not fit (with a screenshot) and how far slides were shrunk.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from browser_helpers import ROOT, SETTLE_JS, built, report_part, watch
from nbformat import read
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from site_audit import alt_issue, broken_links

from tools.build_site import figures, page_names

AXE = ROOT / "build/vendor/node_modules/axe-core/axe.min.js"
PDFS = ROOT / "build/pdf"  # the lessons printed
HTML, SLIDES, RUN = ROOT / "build/html", ROOT / "build/slides", ROOT / "build/run/html"
NOTEBOOKS = sorted(ROOT.glob("notebooks/[0-9]*.ipynb"))  # as the Makefile's LESSONS, EXERCISES
NOTEBOOKS += sorted(ROOT.glob("notebooks/exercises/[0-9]*_exercises.ipynb"))
SITES = [HTML, SLIDES] + ([RUN] if RUN.is_dir() else [])  # make run's pages, when it ran
DECKS = [SLIDES / f"{p.stem}.slides.html" for p in NOTEBOOKS if p.parent.name == "notebooks"]
SIZES = [(1280, 720), (1920, 1080)]  # the two projector sizes
TOLERANCE = 2  # px: sub-pixel rounding of scaled slides

REPORT_JS = r"""() => {
  const tex = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode())
    if (!n.parentElement.closest('pre,code,script,style,math')
        && /\$[^$]+\$|\$\$|\\[A-Za-z]{2,}/.test(n.nodeValue)) tex.push(n.nodeValue.trim());
  const imgs = [...document.images];
  return {math: document.querySelectorAll('math').length, tex: tex.slice(0, 3),
    alts: imgs.map((i) => i.getAttribute('alt')),
    broken: imgs.filter((i) => !i.naturalWidth).length,
    links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
    slides: window.Reveal ? Reveal.getTotalSlides() : 0};
}"""
FOCUS_JS = (
    "(e => [e.tagName, e.className, getComputedStyle(e).outlineStyle])(document.activeElement)"
)


def _pages() -> list:
    """(page, what its notebook says it must show), one pytest.param each; ids like html/01_x.html."""
    names = page_names(NOTEBOOKS)
    pages = {HTML / "index.html": {"links": [f"{n[:-6]}.html" for n in names if "/" not in n]}}
    for name, notebook in names.items():
        cells = read(notebook, as_version=4).cells
        expect = {"images": sum(len(figures(c)) for c in cells)}
        expect["math"] = any("$" in c.source for c in cells if c.cell_type == "markdown")
        pages[HTML / f"{name[:-6]}.html"] = {**expect, "pdf": "/" not in name}
        if "/" not in name:
            pages[SLIDES / f"{name[:-6]}.slides.html"] = {**expect, "deck": True}
        if RUN.is_dir():  # the same page built by make run: the same checks
            pages[RUN / f"{name[:-6]}.html"] = {**expect, "shot": f"links1-{Path(name).stem}"}
    return [pytest.param(p, e, id=str(p.relative_to(ROOT / "build"))) for p, e in pages.items()]


@pytest.mark.parametrize(("path", "expect"), _pages())
def test_page_renders(page, path, expect, shots):
    built(path, AXE)
    page.set_viewport_size({"width": 1280, "height": 800})
    problems = watch(page)
    page.goto(path.as_uri(), wait_until="load")
    page.wait_for_function("() => !window.Reveal || Reveal.isReady()")
    page.evaluate(SETTLE_JS)
    r = page.evaluate(REPORT_JS)
    page.keyboard.press("Tab")
    focus = page.evaluate(FOCUS_JS)
    deck = expect.get("deck")
    if deck:  # the next slide, then back to the first for the audit
        page.keyboard.press("ArrowRight")
        try:
            page.wait_for_function("Reveal.getIndices().h === 1", timeout=2000)
        except PlaywrightTimeoutError:  # reported below
            pass
        moved = page.evaluate("Reveal.getIndices().h")
        page.evaluate("Reveal.slide(0, 0)")
        page.evaluate(SETTLE_JS)  # the audit sees the slide as a reader does, not mid-transition
    page.add_script_tag(path=AXE)
    axe = page.evaluate("async () => (await axe.run(document, {preload: false})).violations")
    rows = [
        f"| {path.relative_to(ROOT)} | {v['id']} | {v['impact']} | {len(v['nodes'])} | "
        f"{v['nodes'][0]['target'] if v['nodes'] else ''} |"
        for v in axe or [{"id": "none", "impact": "", "nodes": []}]
    ]
    report_part("axe", str(path.relative_to(ROOT)), "\n".join(rows))
    problems += [f"image {k + 1}: {alt_issue(a)}" for k, a in enumerate(r["alts"]) if alt_issue(a)]
    problems += [
        f"axe {v['impact']}: {v['id']} {len(v['nodes'])}x, {v['nodes'][0]['target']}"
        for v in axe
        if v["impact"] in ("serious", "critical")
    ]
    shown, images = len(r["alts"]), expect.get("images", 0)
    checks = {
        "no MathML: the math did not render": expect.get("math") and not r["math"],
        f"raw TeX left in the text: {r['tex']}": r["tex"],
        f"{r['broken']} images did not load": r["broken"],
        f"{shown} images shown, the notebook has {images}": shown < images,
        f"some of {expect.get('links')} not linked": set(expect.get("links", [])) - set(r["links"]),
        f"reveal.js did not start ({r['slides']} slides)": deck and r["slides"] < 2,
        "ArrowRight did not move the deck": deck and moved != 1,
        f"Tab reaches {focus}: no visible focus": focus[0] == "BODY" or focus[2] == "none",
        f"Tab reaches {focus}, not the skip link": not deck and "gd-skip" not in focus[1],
    }
    problems += [why for why, bad in checks.items() if bad]
    page.screenshot(path=shots / f"{expect.get('shot', path.stem)}.png")
    if expect.get("pdf"):
        PDFS.mkdir(parents=True, exist_ok=True)
        margin = dict.fromkeys(("top", "bottom", "left", "right"), "1cm")
        page.pdf(path=PDFS / f"{path.stem}.pdf", format="A4", print_background=True, margin=margin)
    assert not problems, f"{path.relative_to(ROOT)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("site", SITES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(site):
    built(site)
    assert not (broken := broken_links(site)), "broken links:\n" + "\n".join(broken)


# Every visible element of the current slide that reaches past the viewport or past the box of an
# ancestor that clips or scrolls it (a slide taller than the deck scrolls: what is below is cut).
# Only the outermost such element is reported; `over` is by how many pixels.
OUTSIDE_JS = r"""() => {
  const W = innerWidth, H = innerHeight, slide = Reveal.getCurrentSlide(), found = [];
  const box = (el) => {
    let r = {l: 0, t: 0, r: W, b: H};
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      const s = getComputedStyle(a);
      if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
      const q = a.getBoundingClientRect();
      r = {l: Math.max(r.l, q.left), t: Math.max(r.t, q.top),
           r: Math.min(r.r, q.right), b: Math.min(r.b, q.bottom)};
    }
    return r;
  };
  const flagged = new Set();
  for (const el of slide.querySelectorAll('*')) {
    if (el.closest('aside.notes, script, style')) continue;
    const q = el.getBoundingClientRect(), s = getComputedStyle(el);
    if (q.width < 1 || q.height < 1 || s.visibility === 'hidden' || +s.opacity === 0) continue;
    const c = box(el);
    const over = Math.max(c.l - q.left, c.t - q.top, q.right - c.r, q.bottom - c.b);
    if (over <= %(tol)s) continue;
    flagged.add(el);
    if (flagged.has(el.parentElement)) continue;
    const text = (el.textContent || el.getAttribute('aria-label') || el.tagName).trim();
    found.push({tag: el.tagName.toLowerCase(), over: Math.round(over), text: text.slice(0, 60)});
  }
  const footer = document.querySelector('.gd-footer');
  const fq = footer && footer.getBoundingClientRect();
  const shown = !!footer && footer.checkVisibility({checkOpacity: true, checkVisibilityCSS: true});
  let hits = 0;
  if (shown) for (const el of slide.querySelectorAll('p, li, pre, img, svg, h1, h2, h3, math')) {
    const q = el.getBoundingClientRect();
    if (q.height && q.bottom > fq.top + 1 && q.top < fq.bottom && q.right > fq.left && q.left < fq.right) hits++;
  }
  const i = Reveal.getIndices();
  return {h: i.h, v: i.v || 0, found, footer: shown, footerHits: hits, zoom: +(slide.dataset.gdZoom || 1),
          heading: ((slide.querySelector('h1, h2, h3') || {}).textContent || '').trim().slice(0, 60)};
}""".replace("%(tol)s", str(TOLERANCE))
# reveal.js's own chrome, outside every slide, not animated: its progress bar glides for 0.8 s and
# its arrows fade at every slide change, and the settle script would wait for them on each slide.
# Their end state is the same; what a slide holds (fragments too) keeps its transitions.
STILL_CHROME = (
    ".reveal .progress span, .reveal .controls, .reveal .controls *, .reveal .controls *::before, "
    ".reveal .controls *::after { transition: none !important; }"
)
# Every slide in turn, in one round trip: shown, settled (layout, fonts, explorers), measured.
EVERY_SLIDE_JS = f"""async () => {{
  const settle = {SETTLE_JS}, outside = {OUTSIDE_JS}, seen = [];
  for (const s of Reveal.getSlides()) {{
    const i = Reveal.getIndices(s);
    Reveal.slide(i.h, i.v);
    await settle();
    seen.push(outside());
  }}
  return seen;
}}"""


@pytest.mark.parametrize("deck", DECKS, ids=lambda p: p.name.split(".")[0])
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_slide_fits(page, size, deck, shots):
    built(deck)
    page.set_viewport_size({"width": size[0], "height": size[1]})
    page.goto(deck.as_uri())
    page.wait_for_function("() => window.Reveal && Reveal.isReady()")
    page.evaluate(
        "Reveal.configure({transition: 'none', backgroundTransition: 'none', fragments: false})"
    )
    page.add_style_tag(content=STILL_CHROME)
    page.evaluate(SETTLE_JS)
    seen, bad, zooms = page.evaluate(EVERY_SLIDE_JS), [], []
    for n, r in enumerate(seen):
        where = f"{deck.name.split('.')[0]} slide {r['h'] + 1}.{r['v'] + 1} ({r['heading']!r})"
        problems = [f"<{f['tag']}> {f['over']}px out: {f['text']!r}" for f in r["found"]]
        if r["footer"] and n > 0:
            problems.append("the versions footer shows here (title slide only)")
        if r["footerHits"]:
            problems.append(f"the footer covers {r['footerHits']} element(s)")
        zooms.append((r["zoom"], where))
        if problems:
            bad.append((max((f["over"] for f in r["found"]), default=0), where, problems))
        if r["found"]:  # a screenshot of what sticks out (the footer alone needs none)
            page.evaluate("([h, v]) => Reveal.slide(h, v)", [r["h"], r["v"]])
            page.evaluate(SETTLE_JS)
            name = re.sub(r"\W+", "-", f"fit-{size[0]}x{size[1]}-{where.split(' (')[0]}")
            page.screenshot(path=shots / f"{name}.png")
    bad.sort(key=lambda b: -b[0])
    report = [f"\n## {deck.name}"]
    report += [f"- {where}, worst {worst}px: " + "; ".join(p[:3]) for worst, where, p in bad]
    report.append(f"\n{len(bad)} of {len(seen)} slides do not fit.")
    shrunk = sorted(z for z in zooms if z[0] < 1)
    smallest = f", the smallest to {shrunk[0][0]:.2f}" if shrunk else ""
    report.append(f"{len(shrunk)} slides shrunk to fit{smallest}.\n")
    report += [f"- {where}: shrunk to {z:.2f}" for z, where in shrunk if z < 0.7]
    report_part(f"slide-fit-{size[0]}x{size[1]}", deck.name, "\n".join(report))
    assert seen, f"{deck.name}: no slide found"
    assert not bad, "\n".join(report).strip()
