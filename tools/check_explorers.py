"""Move the explorers' sliders in headless Chromium and check that what is drawn is the trainers' runs.

By default it checks the lesson pages and decks that `make html slides` built from the lessons with
an explorer (``lr_explorer``, ``optimizer_explorer`` of ``gdlessons.explorers``). In each it
moves every slider with the keyboard (Tab-reachable range inputs, Home / arrow keys) to several
positions, a diverging learning rate among them, and compares the data of the drawn marks (read
from the vega view's scenegraph) and the drawn text with ``train_numpy`` / ``train_minibatch``
run here for the same values. No request may leave the machine (file: only), no script may fail.
With --lab it also opens those cells (stored outputs) in JupyterLab (started as `make lab` does), where Lab's own
Vega-Lite renderer draws the stored outputs without running a cell, and checks the drawn text
there. Screenshots go to --shots.

    python -m tools.check_explorers                 # the built lesson pages and decks (+ --lab)
    python -m tools.check_explorers --html build/html/01_numpy_gradient_descent.html \\
        --html build/html/06_conditioning_optimizers.html \\
        --slides build/slides/01_numpy_gradient_descent.slides.html   # pages built by make html slides
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
import numpy as np
from playwright.sync_api import Page, sync_playwright

from gdlessons import DivergenceError, lipschitz_constant, toy_data, train_numpy
from gdlessons.data import standardize
from gdlessons.explorers import DIGITS, _format_w, _lr_options, lr_grid, regime
from tools.browser import CHROMIUM, launch
from tools.check_render import SETTLE_JS
from tools.vega_bundle import VEGALITE_MIME, needs_vega

ROOT = Path(__file__).resolve().parents[1]

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
SCENE_JS = """([el, name]) => { const out = [];
  const walk = (node) => { if (!node) return;
    if (node.marktype && node.name === name) node.items.forEach((it) => out.push({...it.datum, _text: it.text}));
    (node.items || []).forEach((it) => (it.items || []).forEach(walk)); };
  walk(el.gdView.scenegraph().root); return out; }"""


def optimizer_run(o: int, lr: float, beta: float, epochs: int, standardized: bool = False):
    """Lesson 06's run: LinearRegression from (w, b) = (0, 3), full batch, `epochs` rows."""
    import torch

    from gdlessons.modules import LinearRegression, train_minibatch

    X, y = toy_data()
    model = LinearRegression(num_features=1).double()  # the explorer's runs are float64
    with torch.no_grad():
        model.b.fill_(3.0)
    make = torch.optim.Adam if o == 2 else torch.optim.SGD
    optimizer = make(model.parameters(), lr=lr, **({"momentum": beta} if o == 1 else {}))
    return train_minibatch(model, optimizer, standardize(X) if standardized else X, y, epochs)


def close(a, b) -> bool:
    """Equal to the DIGITS significant digits the chart stores."""
    rtol = 0.5 * 10.0 ** (1 - DIGITS)
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=rtol, atol=1e-12)


def set_slider(page: Page, el, name: str, value: float, step: float = 1.0) -> None:
    """Move one slider as a keyboard user would: focus it, Home, then arrow keys."""
    slider = el.locator(f"input[name='{name}']")
    slider.focus()
    page.keyboard.press("Home")
    low = float(slider.get_attribute("min"))
    for _ in range(round((value - low) / step)):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, n, v]) => Math.abs(el.gdView.signal(n) - v) < 1e-9",
        arg=[el.element_handle(), name, value],
    )
    el.evaluate("el => el.gdView.runAsync().then(() => true)")


def set_radio(page: Page, el, name: str, index: int) -> None:
    """Pick one button of a radio group as a keyboard user would: focus the checked one, arrows."""
    radios = el.locator(f"input[name='{name}']")
    values = [radios.nth(k).get_attribute("value") for k in range(radios.count())]
    checked = next(k for k in range(radios.count()) if radios.nth(k).is_checked())
    radios.nth(checked).focus()
    for _ in range(abs(index - checked)):
        page.keyboard.press("ArrowRight" if index > checked else "ArrowLeft")
    page.wait_for_function(
        "([el, n, v]) => String(el.gdView.signal(n)) === v",
        arg=[el.element_handle(), name, values[index]],
    )
    el.evaluate("el => el.gdView.runAsync().then(() => true)")


def set_checkbox(page: Page, el, name: str, value: bool) -> None:
    """Tick or untick one checkbox as a keyboard user would: focus it, Space when it differs."""
    box = el.locator(f"input[name='{name}']")
    box.focus()
    if box.is_checked() != value:
        page.keyboard.press(" ")
    page.wait_for_function(
        "([el, n, v]) => el.gdView.signal(n) === v", arg=[el.element_handle(), name, value]
    )
    el.evaluate("el => el.gdView.runAsync().then(() => true)")


def marks(el, name: str) -> list[dict]:
    return el.evaluate(f"(el, name) => ({SCENE_JS})([el, name])", name)


def check_lr(page: Page, el, where: str) -> list[str]:
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
        if [d["k"] for d in path] != list(range(drawn)) or not close(
            [d["w"] for d in path], h.w[:drawn]
        ):
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
            problems.append(
                f"{at}: says {words!r}, expected lr = {lr:.3g} and {regime(1 - lr * L)!r}"
            )
        if (step, epochs) == (18, 10) and "w = 1.606" not in " ".join(texts):
            problems.append(f"{at}: the lesson's run should end at w = 1.606, shows {texts}")
    return problems


def check_optimizers(page: Page, el, where: str) -> list[str]:
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


def check_page(page: Page, url: str, shots: Path, name: str, deck: bool) -> list[str]:
    """Every explorer on one page (a lesson page or a deck): returns what went wrong."""
    page.goto(url)
    page.wait_for_function(
        "() => document.querySelectorAll('.gd-explorer').length > 0 && "
        "[...document.querySelectorAll('.gd-explorer')].every((e) => e.dataset.gdReady)",
        timeout=60_000,
    )
    problems = []
    for n, el in enumerate(page.locator(".gd-explorer").all()):
        if (
            deck
        ):  # show the slide that holds it (reveal.js leaves the arrow keys to a focused slider)
            el.evaluate(
                "el => { const i = Reveal.getIndices(el.closest('section')); Reveal.slide(i.h, i.v); }"
            )
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
        check = check_lr if kind == "lr" else check_optimizers
        problems += check(page, el, f"{name}: {kind} explorer")
        target.screenshot(path=shots / f"{shot}-moved.png")  # after the last slider positions
        small = el.evaluate(
            "el => Math.min(...[...el.querySelectorAll('svg text')].map("
            "(t) => parseFloat(getComputedStyle(t).fontSize)))"
        )
        if small < 12:
            problems.append(f"{name}: {kind} explorer: text of {small}px, under 12px")
        if deck:
            box = el.bounding_box()
            if box["width"] > page.viewport_size["width"]:
                problems.append(
                    f"{name}: {kind} explorer is wider than the slide ({box['width']:.0f}px)"
                )
    return problems


def built_pages(html: Path, slides: Path, work: Path) -> tuple[list[Path], list[Path], Path]:
    """The lessons' built pages and decks that hold an explorer, and a notebook of those cells.

    The notebook (for --lab) is made of the lessons' explorer cells with their stored outputs, in
    order: JupyterLab draws them without running anything.
    """
    lessons = [p for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")) if needs_vega([p])]
    pages = [html / f"{p.stem}.html" for p in lessons]
    decks = [slides / f"{p.stem}.slides.html" for p in lessons]
    if missing := [str(p) for p in pages + decks if not p.is_file()]:
        raise SystemExit(f"not built: {', '.join(missing)}; run `make html slides` first")
    cells = [
        c
        for p in lessons
        for c in nbformat.read(p, as_version=4).cells
        if c.cell_type == "code" and any(VEGALITE_MIME in o.get("data", {}) for o in c.outputs)
    ]
    notebook = work / "explorers.ipynb"
    kernel = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": kernel}), notebook)
    return pages, decks, notebook


def check_lab(pw_browser, notebook: Path, work: Path, shots: Path) -> list[str]:
    """The executed notebook in JupyterLab: Lab's own Vega-Lite 5 renderer, no cell run."""
    from tools import check_lab

    log = work / "lab.log"
    proc, url, token = check_lab.start_lab(work / "lab", log)
    problems, errors = [], []
    try:
        shutil.copy(notebook, work / "lab" / "my-work" / notebook.name)
        page = pw_browser.new_page(viewport={"width": 1500, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on(
            "request",
            lambda r: (
                errors.append(f"request {r.url}")
                if not r.url.startswith((url, "data:", "blob:", "about:"))
                else None
            ),
        )
        page.goto(f"{url}/lab/tree/{notebook.name}?token={token}")
        charts = page.locator(".jp-RenderedVegaCommon5")
        charts.first.locator("svg text").first.wait_for(timeout=120_000)
        page.wait_for_timeout(1000)
        if charts.count() != 2:
            problems.append(f"JupyterLab drew {charts.count()} Vega-Lite outputs, not 2")
        lr_chart = charts.first
        if "after 10 epochs: w = 1.606" not in lr_chart.text_content():
            problems.append("JupyterLab: the lr explorer does not show the lesson's w = 1.606")
        X, y = toy_data()
        for step, epochs in [(18, 3), (40, 10)]:
            for name, value in (("lr_step", step), ("epochs", epochs)):
                slider = lr_chart.locator(f"input[name='{name}']")
                slider.focus()
                page.keyboard.press("Home")
                for _ in range(value - int(slider.get_attribute("min"))):
                    page.wait_for_timeout(
                        40
                    )  # Lab's renderer sets the slider back if keys come too fast
                    page.keyboard.press("ArrowRight")
                if slider.input_value() != str(value):
                    problems.append(
                        f"JupyterLab: the {name} slider is at {slider.input_value()}, not {value}"
                    )
            page.wait_for_timeout(800)
            h = train_numpy(X, y, lr=lr_grid(X)[step], num_epochs=epochs)
            w = float(f"{h.w_final:.{DIGITS}g}")
            want = f"after {epochs} epochs: w = {_format_w(w)}"
            if want not in lr_chart.text_content().replace("\u2212", "-"):
                problems.append(f"JupyterLab: lr step {step}, {epochs} epochs: {want!r} not shown")
        opt_chart = charts.nth(1)
        opt_chart.locator("input[name='sgd_lr']").last.check()  # SGD's largest lr, 0.4 > 2/L
        page.wait_for_timeout(800)
        if "SGD, lr = 0.4: diverges" not in opt_chart.text_content():
            problems.append(
                "JupyterLab: the optimizer explorer does not show SGD at lr = 0.4 diverge"
            )
        lr_chart.scroll_into_view_if_needed()
        page.screenshot(path=shots / "explorer-lab.png")
        page.locator(
            ".jp-Notebook .jp-Cell"
        ).first.click()  # command mode: arrows move between cells
        page.keyboard.press("Escape")
        page.keyboard.press("ArrowDown")
        active = page.locator(".jp-Notebook .jp-Cell").evaluate_all(
            "cells => cells.findIndex((c) => c.classList.contains('jp-mod-active'))"
        )
        if active != 1:
            problems.append(f"JupyterLab: ArrowDown in command mode went to cell {active}, not 1")
        problems += [f"JupyterLab: {e[:200]}" for e in errors]
    finally:
        check_lab.stop(proc)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--html", type=Path, action="append", default=[], help="a built lesson page"
    )
    parser.add_argument("--slides", type=Path, action="append", default=[], help="a built deck")
    parser.add_argument("--site", type=Path, default=ROOT / "build", help="holds html/ and slides/")
    parser.add_argument("--shots", type=Path, default=ROOT / "build/render")
    parser.add_argument("--lab", action="store_true", help="also check the notebook in JupyterLab")
    parser.add_argument("--chromium", default=CHROMIUM)
    args = parser.parse_args(argv)
    args.shots.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="check-explorers-"))
    problems = []
    try:
        notebook = None
        if not args.html and not args.slides:
            args.html, args.slides, notebook = built_pages(
                args.site / "html", args.site / "slides", work
            )
        with sync_playwright() as pw:
            browser = launch(pw, args.chromium)
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            offsite, errors = [], []
            context.route(
                "**/*",
                lambda route: (
                    route.continue_()
                    if route.request.url.startswith(("file:", "data:", "blob:"))
                    else (offsite.append(route.request.url), route.abort())
                ),
            )
            page = context.new_page()
            page.on("pageerror", lambda err: errors.append(str(err)))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            for path in args.html:
                problems += check_page(
                    page, path.resolve().as_uri(), args.shots, path.stem, deck=False
                )
            page.set_viewport_size({"width": 960, "height": 700})
            for path in args.slides:
                problems += check_page(
                    page, path.resolve().as_uri(), args.shots, path.name.split(".")[0], deck=True
                )
            problems += [f"request off the machine: {u}" for u in offsite]
            problems += [f"script error: {e[:300]}" for e in errors]
            if args.lab and notebook is not None:
                problems += check_lab(browser, notebook, work, args.shots)
            browser.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for problem in problems:
        print(f"FAIL: {problem}")
    pages = len(args.html) + len(args.slides)
    print(
        f"check-explorers: {pages} page(s), {len(problems)} problem(s); screenshots in {args.shots}"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
