"""What the room sees, in headless Chromium: every slide fits the projector, explorers stay drawn.

- ``test_every_slide_fits``: every slide of every deck `make slides` wrote (found by pattern), at
  the two projector sizes, transitions off and every fragment shown: no element outside the
  viewport or cut by the slide's scrolling, and the versions footer on the title slide only.
- ``test_explorer_marks_stay_in_the_plot``: each explorer slider moved to its ends and to the
  first learning rate that diverges, on the lesson page and in the deck: every drawn mark inside
  its plot area, the title shown, a diverging path labelled where it leaves the chart.

Run by `make check-render` and `make check-explorers` (which build the pages first); a report of
every slide that does not fit goes to build/render/slide-fit-WxH.md, with a screenshot of each.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.check_render import SETTLE_JS

ROOT = Path(__file__).resolve().parents[2]
DECKS = sorted((ROOT / "build/slides").glob("[0-9]*.slides.html"))
PAGES = sorted((ROOT / "build/html").glob("[0-9]*.html"))
SIZES = [(1280, 720), (1920, 1080)]  # the two projector sizes
TOLERANCE = 2  # px: sub-pixel rounding of scaled slides

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


def _need(paths: list[Path], what: str) -> None:
    if not paths:
        pytest.fail(f"no {what} built: run `make html slides` first")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_every_slide_fits(page, size, shots):
    _need(DECKS, "deck (build/slides/NN_*.slides.html)")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    report, bad = [f"# Slides that do not fit {size[0]}x{size[1]}\n"], []
    total, zooms, small = 0, [], []
    for deck in DECKS:
        page.goto(deck.as_uri())
        page.wait_for_function("() => window.Reveal && Reveal.isReady()")
        page.evaluate(
            "Reveal.configure({transition: 'none', backgroundTransition: 'none', fragments: false})"
        )
        page.evaluate(SETTLE_JS)
        count = page.evaluate("Reveal.getSlides().length")
        total += count
        for n in range(count):
            page.evaluate(
                "n => { const s = Reveal.getSlides()[n], i = Reveal.getIndices(s); Reveal.slide(i.h, i.v); }",
                n,
            )
            page.evaluate(SETTLE_JS)
            r = page.evaluate(OUTSIDE_JS)
            where = f"{deck.name.split('.')[0]} slide {r['h'] + 1}.{r['v'] + 1} ({r['heading']!r})"
            problems = [f"<{f['tag']}> {f['over']}px out: {f['text']!r}" for f in r["found"]]
            if r["footer"] and n > 0:
                problems.append("the versions footer shows here (title slide only)")
            zooms.append(r["zoom"])
            if r["zoom"] < 0.7:
                small.append((r["zoom"], where))
            if r["footerHits"]:
                problems.append(f"the footer covers {r['footerHits']} element(s)")
            if problems:
                worst = max((f["over"] for f in r["found"]), default=0)
                bad.append((worst, where, problems))
                if not r["found"]:
                    continue  # the footer alone: no screenshot needed
                name = re.sub(r"\W+", "-", f"fit-{size[0]}x{size[1]}-{where.split(' (')[0]}")
                page.screenshot(path=shots / f"{name}.png")
    bad.sort(key=lambda b: -b[0])
    report += [f"- {where}, worst {worst}px: " + "; ".join(p[:3]) for worst, where, p in bad]
    report.append(f"\n{len(bad)} of {total} slides do not fit.")
    shrunk = sorted(z for z in zooms if z < 1)
    report.append(f"{len(shrunk)} slides shrunk to fit, the smallest to {min(zooms):.2f}.\n")
    report += [f"- {where}: shrunk to {z:.2f}" for z, where in sorted(small)]
    (shots / f"slide-fit-{size[0]}x{size[1]}.md").write_text("\n".join(report))
    assert not bad, "\n".join(report)


# Every data mark of an explorer (Vega's scenegraph, role "mark") against its plot area: a point
# or a line vertex outside it, or a text that runs past it. A clipped line may leave through the
# edge (its last vertex outside), and then the chart must say so ("off the chart at step k").
# Every SVG text (titles, axis labels) must lie inside the explorer's box: nothing cut off.
MARKS_JS = r"""(el) => {
  const out = [], texts = [], box = el.getBoundingClientRect();
  const walk = (mark, w, h) => {  // a mark; w, h: the plot area of the group it is drawn in
    if (mark.marktype === 'group') {
      for (const g of mark.items || [])
        for (const child of g.items || []) walk(child, g.width || w, g.height || h);
      return;
    }
    if (mark.role === 'mark') {
      const items = mark.items || [];
      items.forEach((it, n) => {
        if (mark.marktype === 'text' && it.text) texts.push(String(it.text));
        const b = mark.marktype === 'text' ? it.bounds : {x1: it.x, x2: it.x, y1: it.y, y2: it.y};
        if (!b || it.opacity === 0) return;
        const inside = b.x1 >= -1 && b.y1 >= -1 && b.x2 <= w + 1 && b.y2 <= h + 1;
        const leaves = mark.clip && mark.marktype === 'line' && n === items.length - 1;
        if (!inside) out.push({name: mark.name, type: mark.marktype, leaves, at: [b.x1, b.y1, b.x2, b.y2].map(Math.round), plot: [w, h]});
      });
    }
  };
  walk(el.gdView.scenegraph().root, el.gdView.width(), el.gdView.height());
  if (!texts.length) out.push({name: 'no text mark found: the scenegraph was not read', leaves: false});
  const cut = [...el.querySelectorAll('svg text')].filter((t) => {
    const q = t.getBoundingClientRect();
    return q.width && (q.left < box.left - 1 || q.right > box.right + 1 || q.top < box.top - 1 || q.bottom > box.bottom + 1);
  }).map((t) => t.textContent);
  return {outside: out, texts, cut, titles: [...el.querySelectorAll('.role-title-text')].map((t) => t.textContent)};
}"""
CONTROLS_JS = r"""(el) => [...el.querySelectorAll('.vega-bind input')].reduce((acc, i) => {
  if (!acc.some((c) => c.name === i.name))
    acc.push({name: i.name, type: i.type, min: +i.min, max: +i.max, step: +i.step || 1,
              options: [...el.querySelectorAll(`input[name="${i.name}"]`)].map((r) => r.value)});
  return acc; }, [])"""
# What a range slider shows beside it (vega's <span>): for a step slider, the value it selects.
SHOWN_JS = """(el, name) => {
  const s = el.querySelector(`input[name="${name}"]`).nextElementSibling;
  return s && s.tagName === 'SPAN' ? s.textContent : null; }"""
SET_JS = r"""(el, [name, type, value]) => {
  const inputs = [...el.querySelectorAll(`input[name="${name}"]`)];
  if (type === 'radio') { inputs.find((i) => i.value === value).click(); }
  else if (type === 'checkbox') { if (inputs[0].checked !== value) inputs[0].click(); }
  else { inputs[0].value = value; inputs[0].dispatchEvent(new Event('input', {bubbles: true})); }
  return el.gdView.runAsync().then(() => true);
}"""


def _explorer_pages() -> list[Path]:
    return [p for p in PAGES + DECKS if 'class="jp-OutputArea-output gd-explorer"' in p.read_text()]


@pytest.mark.parametrize("width", [1280, 1024])  # a laptop, and a narrow window or split pane
@pytest.mark.parametrize("path", _explorer_pages(), ids=lambda p: p.name)
def test_explorer_marks_stay_in_the_plot(page, path, width, shots):
    page.set_viewport_size({"width": width, "height": 720})
    page.goto(path.as_uri())
    page.wait_for_function(
        "() => [...document.querySelectorAll('.gd-explorer')].every((e) => e.dataset.gdReady)"
    )
    problems, checked = [], 0
    for n, el in enumerate(page.locator(".gd-explorer").all()):
        if path.name.endswith(".slides.html"):
            el.evaluate(
                "el => { const i = Reveal.getIndices(el.closest('section')); Reveal.slide(i.h, i.v); }"
            )
        page.evaluate(SETTLE_JS)
        titles = el.evaluate(MARKS_JS)["titles"]
        for control in el.evaluate(CONTROLS_JS):
            if control["type"] == "radio":
                values = control["options"]
            elif control["type"] == "checkbox":
                values = [True, False]
            else:
                count = round((control["max"] - control["min"]) / control["step"]) + 1
                values = [str(control["min"] + k * control["step"]) for k in range(count)]
            diverging = None
            for value in values:
                el.evaluate(SET_JS, [control["name"], control["type"], value])
                r = el.evaluate(MARKS_JS)
                checked += 1
                at = f"{path.name} at {width}px, explorer {n + 1}, {control['name']} = {value}"
                says_off = any("off the chart at step" in t for t in r["texts"])
                for o in r["outside"]:
                    if not (o["leaves"] and says_off):
                        problems.append(
                            f"{at}: {o['type']} mark {o['name']} at {o['at']}, plot {o['plot']}"
                        )
                if r["cut"]:
                    problems.append(f"{at}: text cut at the chart's edge: {r['cut'][:3]}")
                if r["titles"] != titles:
                    problems.append(f"{at}: titles {r['titles']}, not {titles}")
                shown = el.evaluate(SHOWN_JS, control["name"])
                if control["name"].endswith("_step") and shown == value:
                    problems.append(f"{at}: the slider shows its step {shown!r}, not its value")
                if diverging is None and any("diverg" in t for t in r["texts"]):
                    diverging = value
            # leave it at the first diverging value (the next controls are swept there), else the end
            el.evaluate(SET_JS, [control["name"], control["type"], diverging or values[-1]])
        el.screenshot(
            path=shots
            / f"explorer-after-{path.name.split('.')[0]}-{n + 1}{'-deck' if 'slides' in path.name else ''}-{width}.png"
        )
    assert checked, f"{path.name}: no explorer control found"
    assert not problems, f"{len(problems)} of {checked} positions:\n" + "\n".join(problems[:40])
