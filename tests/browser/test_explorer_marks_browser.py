"""The explorers' marks stay in their plots, whatever the controls say (`make check-explorers`).

``test_explorer_marks_stay_in_the_plot``: on each lesson page and deck with an explorer, at two
widths, each control moved to every value (the next ones swept at the first diverging one): every
drawn mark inside its plot area, no chart text cut, the titles shown, a diverging path labelled
where it leaves the chart, a step slider showing its value, not its step. Screenshots of each
explorer after its sweep in build/render/.
"""

from __future__ import annotations

import pytest
from browser_helpers import DECKS, PAGES, READY_JS, SETTLE_JS, SHOW_JS, built

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
# One control set to one value, redrawn, then read in the same round trip: the marks (MARKS_JS)
# and what a range slider shows beside it (vega's <span>: for a step slider, the value it selects).
SET_AND_READ_JS = f"""async (el, [name, type, value]) => {{
  const inputs = [...el.querySelectorAll(`input[name="${{name}}"]`)];
  if (type === 'radio') {{ inputs.find((i) => i.value === value).click(); }}
  else if (type === 'checkbox') {{ if (inputs[0].checked !== value) inputs[0].click(); }}
  else {{ inputs[0].value = value; inputs[0].dispatchEvent(new Event('input', {{bubbles: true}})); }}
  await el.gdView.runAsync();
  const s = inputs[0].nextElementSibling;
  return {{...({MARKS_JS})(el), shown: s && s.tagName === 'SPAN' ? s.textContent : null}};
}}"""


@pytest.mark.parametrize("width", [1280, 1024])  # a laptop, and a narrow window or split pane
@pytest.mark.parametrize("path", PAGES + DECKS, ids=lambda p: p.name)
def test_explorer_marks_stay_in_the_plot(page, path, width, shots):
    built(path)
    page.set_viewport_size({"width": width, "height": 720})
    page.goto(path.as_uri())
    page.wait_for_function(READY_JS)
    problems, checked = [], 0
    for n, el in enumerate(page.locator(".gd-explorer").all()):
        if path.name.endswith(".slides.html"):
            el.evaluate(SHOW_JS)
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
                r = el.evaluate(SET_AND_READ_JS, [control["name"], control["type"], value])
                checked += 1
                at = f"{path.name} at {width}px, explorer {n + 1}, {control['name']} = {value}"
                says_off = any("off the chart at step" in t for t in r["texts"])
                problems += [
                    f"{at}: {o['type']} mark {o['name']} at {o['at']}, plot {o['plot']}"
                    for o in r["outside"]
                    if not (o["leaves"] and says_off)
                ]
                if r["cut"]:
                    problems.append(f"{at}: text cut at the chart's edge: {r['cut'][:3]}")
                if r["titles"] != titles:
                    problems.append(f"{at}: titles {r['titles']}, not {titles}")
                if control["name"].endswith("_step") and r["shown"] == value:
                    problems.append(
                        f"{at}: the slider shows its step {r['shown']!r}, not its value"
                    )
                if diverging is None and any("diverg" in t for t in r["texts"]):
                    diverging = value
            # leave it at the first diverging value (the next controls are swept there), else the end
            el.evaluate(
                SET_AND_READ_JS, [control["name"], control["type"], diverging or values[-1]]
            )
        deck = "-deck" if "slides" in path.name else ""
        shot = f"explorer-after-{path.name.split('.')[0]}-{n + 1}{deck}-{width}.png"
        el.screenshot(path=shots / shot)
    assert checked, f"{path.name}: no explorer control found"
    assert not problems, f"{len(problems)} of {checked} positions:\n" + "\n".join(problems[:40])
