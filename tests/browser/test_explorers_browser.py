"""The explorers (gdlessons.explorers) in headless Chromium, offline (`make check-explorers`).

On the lesson pages and decks `make html slides` built from the lessons with an explorer
(``lr_explorer``, ``optimizer_explorer``), and in JupyterLab:

- ``test_sliders_draw_the_trainers_runs``: every slider moved with the keyboard (focus, Home, arrow
  keys) to several positions, a diverging learning rate among them; the data of the drawn marks
  (the vega view's scenegraph) and the drawn text equal ``train_numpy`` / ``train_minibatch`` run
  here for the same values. Every slider labelled, no chart text under 12px, on a slide no
  explorer wider than the slide; no request off the machine, no script or console error.
- ``test_explorers_in_jupyterlab``: the lessons' explorer cells (stored outputs, no cell run) in
  JupyterLab, started as `make lab` does: Lab's own Vega-Lite renderer draws both, the sliders
  move by keyboard and the text follows the trainer, arrow keys still move between cells.

Screenshots (before and after the sliders moved) in build/render/. Every control at every value,
the marks inside their plots: test_explorer_marks_browser.py.
"""

from __future__ import annotations

import shutil

import nbformat
import numpy as np
import pytest
from browser_helpers import DECKS, LESSONS, PAGES, READY_JS, SETTLE_JS, SHOW_JS, built, watch
from test_explorers import run_of as optimizer_run  # lesson 06's run, the one oracle of both

from gdlessons import DivergenceError, lipschitz_constant, toy_data, train_numpy
from gdlessons.explorers import DIGITS, _format_w, _lr_options, lr_grid, regime
from tools.build_site import VEGALITE_MIME

# Slider positions: (lr step, epochs) and (SGD lr step, momentum lr step, beta, Adam lr step,
# standardize x).
LR_MOVES = [(18, 10), (33, 3), (39, 12), (40, 50), (0, 1)]  # 39, 40: lr > 2/L, diverging
OPT_MOVES = [  # raw x: SGD at 0.2 and 0.4 diverges; standardized x: it converges
    (2, 2, 0.9, 2, False),
    (4, 1, 0.3, 0, False),
    (4, 9, 0.6, 4, True),
    (0, 0, 0.0, 1, True),
    (3, 0, 0.0, 1, False),
    (2, 7, 0.0, 2, False),  # momentum with beta = 0 at SGD's lr = 0.1: SGD's run
]
LESSON_LRS = _lr_options((0.1, 0.02, 0.3), 5)  # each optimizer's buttons, as lesson 06 builds them
# The marks of gdlessons.explorers, as Vega-Lite names them.
MARKS = {
    "path": "lr_path_layer_1_marks",
    "loss": "lr_loss_marks",
    "regime": "lr_text_layer_0_marks",
    "w": "lr_text_layer_1_marks",
    "paths": "opt_paths_layer_1_marks",
    "runs": "opt_text_marks",
}
SCENE_JS = """(el, name) => { const out = [];
  const walk = (node) => { if (!node) return;
    if (node.marktype && node.name === name) node.items.forEach((it) => out.push({...it.datum, _text: it.text}));
    (node.items || []).forEach((it) => (it.items || []).forEach(walk)); };
  walk(el.gdView.scenegraph().root); return out; }"""


def close(a, b) -> bool:
    """Equal to the DIGITS significant digits the chart stores."""
    rtol = 0.5 * 10.0 ** (1 - DIGITS)
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=1e-12)


def _settled(page, el, name: str, test: str, value) -> None:
    """Wait until the view's signal `name` passes `test` against value, then for its redraw."""
    page.wait_for_function(
        f"([el, n, v]) => {test}", arg=[el.element_handle(), name, value], timeout=10_000
    )
    el.evaluate("el => el.gdView.runAsync().then(() => true)")


def set_slider(page, el, name: str, value: float, step: float = 1.0) -> None:
    """Move one slider as a keyboard user would: focus it, Home, then arrow keys."""
    slider = el.locator(f"input[name='{name}']")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(round((value - float(slider.get_attribute("min"))) / step)):
        page.keyboard.press("ArrowRight")
    _settled(page, el, name, "Math.abs(el.gdView.signal(n) - v) < 1e-9", value)


def set_radio(page, el, name: str, index: int) -> None:
    """Pick one button of a radio group as a keyboard user would: focus the checked one, arrows."""
    radios = el.locator(f"input[name='{name}']")
    values = [radios.nth(k).get_attribute("value") for k in range(radios.count())]
    checked = next(k for k in range(radios.count()) if radios.nth(k).is_checked())
    radios.nth(checked).focus()
    for _ in range(abs(index - checked)):
        page.keyboard.press("ArrowRight" if index > checked else "ArrowLeft")
    _settled(page, el, name, "String(el.gdView.signal(n)) === v", values[index])


def set_checkbox(page, el, name: str, value: bool) -> None:
    """Tick or untick one checkbox as a keyboard user would: focus it, Space when it differs."""
    box = el.locator(f"input[name='{name}']")
    box.focus()
    if box.is_checked() != value:
        page.keyboard.press(" ")
    _settled(page, el, name, "el.gdView.signal(n) === v", value)


def marks(el, name: str) -> list[dict]:
    return el.evaluate(SCENE_JS, name)


def lr_explorer_problems(page, el, where: str) -> list[str]:
    X, y = toy_data()
    lrs, L, problems = lr_grid(X), lipschitz_constant(X), []
    for step, epochs in LR_MOVES:
        set_slider(page, el, "lr_step", step)
        set_slider(page, el, "epochs", epochs)
        lr, at = lrs[step], f"{where}, lr = {lrs[step]:.3g}, {epochs} epochs"
        h = train_numpy(X, y, lr=lr, num_epochs=epochs + 1)  # row N: w after N epochs
        path = sorted(marks(el, MARKS["path"]), key=lambda d: d["k"])
        # drawn up to the first point off the chart (w* - 3 to w* + 3), labelled there
        off = [k for k, w in enumerate(h.w) if not -1 <= w <= 5]
        drawn = epochs + 1 if not off else min(epochs, off[0]) + 1
        ks, ws = [d["k"] for d in path], [d["w"] for d in path]
        if ks != list(range(drawn)) or not close(ws, h.w[:drawn]):
            problems.append(f"{at}: the path on J(w) is not train_numpy's w")
        if not close([d["J"] for d in path], h.loss[:drawn]):
            problems.append(f"{at}: the path's losses are not train_numpy's")
        loss = sorted(marks(el, MARKS["loss"]), key=lambda d: d["k"])
        if not close([d["J"] for d in loss], [v for v in h.loss[:epochs] if v > 0]):
            problems.append(f"{at}: the loss curve is not train_numpy's loss")
        w = float(f"{h.w[epochs]:.{DIGITS}g}")
        want = f"after {epochs} epoch{'s' * (epochs != 1)}: w = {_format_w(w)}"
        texts = [d["_text"].replace("\u2212", "-") for d in marks(el, MARKS["w"])]  # d3: U+2212
        if texts != [want]:
            problems.append(f"{at}: shows {texts}, the trainer gives {want!r}")
        words = " ".join(d["_text"] for d in marks(el, MARKS["regime"]))
        if f"lr = {lr:.3g}:" not in words or regime(1 - lr * L) not in words:
            problems.append(f"{at}: says {words!r}, expected lr = {lr:.3g}, {regime(1 - lr * L)!r}")
        if (step, epochs) == (18, 10) and "w = 1.606" not in " ".join(texts):
            problems.append(f"{at}: the lesson's run should end at w = 1.606, shows {texts}")
    return problems


def optimizer_explorer_problems(page, el, where: str) -> list[str]:
    problems = []
    for sgd, momentum, beta, adam, standardized in OPT_MOVES:
        set_radio(page, el, "sgd_lr", sgd)
        set_radio(page, el, "momentum_lr", momentum)
        set_radio(page, el, "beta", [0.0, 0.3, 0.6, 0.9].index(beta))
        set_radio(page, el, "adam_lr", adam)
        set_checkbox(page, el, "standardize", standardized)
        drawn, texts = marks(el, MARKS["paths"]), [d["_text"] for d in marks(el, MARKS["runs"])]
        star = "w = 2.236, b = 5.000" if standardized else "w = 2.000, b = 0.000"
        if not any(t.startswith("◆ least squares") and star in t for t in texts):
            problems.append(f"{where}, standardize = {standardized}: no {star!r} in {texts}")
        for o, i in enumerate((sgd, momentum, adam)):
            lr = LESSON_LRS[o][i]
            at = f"{where}, optimizer {o}, lr = {lr:.3g}, beta = {beta}, standardize = {standardized}"
            rows = sorted((d for d in drawn if d["o"] == o), key=lambda d: d["k"])
            if any(d["z"] != standardized for d in rows):
                problems.append(f"{at}: the drawn path mixes raw and standardized runs")
            try:
                h = optimizer_run(o, lr, beta, len(rows), standardized)
                ok = close([d["w"] for d in rows], h.w) and close([d["b"] for d in rows], h.b)
            except DivergenceError:
                ok = False
            if not rows or not ok:
                problems.append(
                    f"{at}: the drawn path ({len(rows)} points) is not train_minibatch's"
                )
                continue
            name = ("SGD, ", "SGD + momentum", "Adam")[o]
            text = next((t for t in texts if t.startswith(name) and f"lr = {lr:.3g}:" in t), None)
            try:  # the whole run: the text gives its end, or says it diverges
                whole = optimizer_run(o, lr, beta, 101, standardized)
                far = max(map(abs, [*whole.w, *whole.b])) > 100
                want = f"w = {whole.w[100]:.3f}, b = {whole.b[100]:.3f} after 100 epochs"
                want = "diverges" if far else want
            except DivergenceError:
                want = "diverges"
            if text is None or want not in text:
                problems.append(f"{at}: shows {text!r}, the trainer gives {want!r}")
        paths = [[(d["k"], d["w"], d["b"]) for d in drawn if d["o"] == o] for o in (0, 1)]
        if beta == 0 and LESSON_LRS[0][sgd] == LESSON_LRS[1][momentum] and paths[0] != paths[1]:
            problems.append(f"{where}: momentum with beta = 0 does not draw SGD's path")
    return problems


@pytest.mark.parametrize("path", PAGES + DECKS, ids=lambda p: p.name)
def test_sliders_draw_the_trainers_runs(page, path, shots):
    built(path)
    deck, name = path.name.endswith(".slides.html"), path.name.split(".")[0]
    page.set_viewport_size(
        {"width": 960, "height": 700} if deck else {"width": 1280, "height": 900}
    )
    problems = watch(page)
    page.goto(path.as_uri())
    page.wait_for_function(READY_JS, timeout=60_000)
    explorers = page.locator(".gd-explorer").all()
    for n, el in enumerate(explorers):
        if (
            deck
        ):  # show the slide that holds it (reveal.js leaves the arrow keys to a focused slider)
            el.evaluate(SHOW_JS)
            page.evaluate(SETTLE_JS)  # the slide's transition is over
        else:
            el.scroll_into_view_if_needed()
        kind = "lr" if el.locator("input[name='lr_step']").count() else "optimizer"
        labels = el.locator("input[type='range']").evaluate_all(
            "els => els.map((e) => (e.closest('label') || {}).textContent || '')"
        )
        if not all(label.strip() for label in labels):
            problems.append(f"{name}: explorer {n}: a slider has no label")
        target, shot = page if deck else el, f"explorer-{kind}{'-slide' if deck else ''}-{name}"
        target.screenshot(path=shots / f"{shot}.png")  # as the lesson opens
        explorer_problems = lr_explorer_problems if kind == "lr" else optimizer_explorer_problems
        problems += explorer_problems(page, el, f"{name}: {kind} explorer")
        target.screenshot(path=shots / f"{shot}-moved.png")  # after the last slider positions
        small = el.evaluate(
            "el => Math.min(...[...el.querySelectorAll('svg text')].map("
            "(t) => parseFloat(getComputedStyle(t).fontSize)))"
        )
        if small < 12:
            problems.append(f"{name}: {kind} explorer: text of {small}px, under 12px")
        width = el.bounding_box()["width"]
        if deck and width > page.viewport_size["width"]:
            problems.append(f"{name}: {kind} explorer is wider than the slide ({width:.0f}px)")
    assert explorers, f"{path.name}: no explorer found"
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems)


def _click_through(page, chart, name: str, value: int) -> str | None:
    """Move one of Lab's sliders by keyboard (Home, arrows); a problem if it did not get there."""
    slider = chart.locator(f"input[name='{name}']")
    slider.focus()
    page.keyboard.press("Home")
    for _ in range(value - int(slider.get_attribute("min"))):
        page.wait_for_timeout(40)  # Lab's renderer sets the slider back if keys come too fast
        page.keyboard.press("ArrowRight")
    at = slider.input_value()
    return None if at == str(value) else f"JupyterLab: the {name} slider is at {at}, not {value}"


@pytest.mark.browser_context_args(offline=False, viewport={"width": 1500, "height": 1000})
def test_explorers_in_jupyterlab(page, lab, shots):
    """The explorer cells with their stored outputs, in order, drawn by Lab without a cell run."""
    built(*PAGES)  # make html's lessons: the same notebooks
    cells = [
        c
        for p in LESSONS
        for c in nbformat.read(p, as_version=4).cells
        if c.cell_type == "code" and any(VEGALITE_MIME in o.get("data", {}) for o in c.outputs)
    ]
    kernel = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    notebook = lab["work"] / "explorers.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel}), notebook)
    shutil.copy(notebook, lab["work"] / "my-work" / notebook.name)
    errors = watch(page, local=(lab["url"], "data:", "blob:", "about:"), failed=False)
    page.goto(f"{lab['url']}/lab/tree/{notebook.name}?token={lab['token']}")
    charts, problems = page.locator(".jp-RenderedVegaCommon5"), []
    charts.first.locator("svg text").first.wait_for(timeout=120_000)
    page.wait_for_timeout(1000)
    assert charts.count() == 2, f"JupyterLab drew {charts.count()} Vega-Lite outputs, not 2"
    lr_chart, opt_chart = charts.first, charts.nth(1)
    if "after 10 epochs: w = 1.606" not in lr_chart.text_content():
        problems.append("JupyterLab: the lr explorer does not show the lesson's w = 1.606")
    X, y = toy_data()
    for step, epochs in [(18, 3), (40, 10)]:
        for name, value in (("lr_step", step), ("epochs", epochs)):
            problems += filter(None, [_click_through(page, lr_chart, name, value)])
        page.wait_for_timeout(800)
        h = train_numpy(X, y, lr=lr_grid(X)[step], num_epochs=epochs)
        want = f"after {epochs} epochs: w = {_format_w(float(f'{h.w_final:.{DIGITS}g}'))}"
        if want not in lr_chart.text_content().replace("\u2212", "-"):
            problems.append(f"JupyterLab: lr step {step}, {epochs} epochs: {want!r} not shown")
    opt_chart.locator("input[name='sgd_lr']").last.check()  # SGD's largest lr, 0.4 > 2/L
    page.wait_for_timeout(800)
    if "SGD, lr = 0.4: diverges" not in opt_chart.text_content():
        problems.append("JupyterLab: the optimizer explorer does not show SGD at lr = 0.4 diverge")
    lr_chart.scroll_into_view_if_needed()
    page.screenshot(path=shots / "explorer-lab.png")
    page.locator(".jp-Notebook .jp-Cell").first.click()  # command mode: arrows move between cells
    page.keyboard.press("Escape")
    page.keyboard.press("ArrowDown")
    active = page.locator(".jp-Notebook .jp-Cell").evaluate_all(
        "cells => cells.findIndex((c) => c.classList.contains('jp-mod-active'))"
    )
    if active != 1:
        problems.append(f"JupyterLab: ArrowDown in command mode went to cell {active}, not 1")
    problems += [f"JupyterLab: {e[:200]}" for e in errors]
    assert not problems, "\n".join(problems)
