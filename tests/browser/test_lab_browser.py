"""JupyterLab, started by `make lab`, in headless Chromium, as a student sees it (`make check-lab`).

On a fresh working copy and fresh Lab settings (the ``lab`` fixture), one student's session:
1. the first lesson opens, and no "official Jupyter news?" pop-up appears;
2. all its cells run (the kernel answers over IPC), the RISE slideshow starts (Alt+R, "Render as
   Reveal Slideshow") on a slide with MathJax-rendered math and no MathJax error: rise.png;
3. the JupyterLab Dark theme, chosen through the settings API, really is dark on a lesson with
   figures, scrolled to its first figure: lab-dark.png (both in build/render/).
Throughout: no console error of Lab or the slideshow (one known RISE error aside, see KNOWN), no
uncaught script error, no request that leaves 127.0.0.1, and a server log that never warns
"without encryption" nor fails to load a config file.
"""

from __future__ import annotations

import json
import urllib.request
from importlib.metadata import version

import pytest
from browser_helpers import watch
from playwright.sync_api import Error as PlaywrightError

LESSON, FIGURES = "01_numpy_gradient_descent.ipynb", "03_torch_autograd.ipynb"
# An upstream bug, not ours: jupyterlab_rise 0.43.1's slideshow bundles a @microsoft/fast-foundation
# whose design tokens recurse (fast issue #7057) and log this error; nothing in Lab triggers it. It
# is tolerated for that exact version only, so an upgrade of RISE re-checks it.
KNOWN = {
    ("jupyterlab_rise", "0.43.1"): ("RangeError: Maximum call stack size exceeded", "/static/rise/")
}
LOG_MUST_NOT = ["without encryption", "Exception while loading config file"]
ALL_RUN_JS = r"""() => {
  const p = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
  return p.length && p.every(e => /\[\d+\]/.test(e.textContent));
}"""
BACKGROUND_JS = r"""() => getComputedStyle(document.querySelector('.jp-Notebook'))
  .backgroundColor.match(/\d+/g).slice(0, 3).map(Number)"""


def set_theme(url: str, token: str, theme: str) -> None:
    """Choose Lab's theme through its settings REST API, as the Settings menu does."""
    body = json.dumps({"raw": json.dumps({"theme": theme})}).encode()
    request = urllib.request.Request(
        f"{url}/lab/api/settings/@jupyterlab/apputils-extension:themes",
        data=body,
        method="PUT",
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10)


def menu(page, name: str, item: str) -> None:
    """Click menu `name`, then its `item`, as a person would."""
    page.click(f".lm-MenuBar-item:has(.lm-MenuBar-itemLabel:text-is('{name}'))")
    page.click(f".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('{item}'))")


def a_students_session(page, url: str, token: str, shots) -> list[str]:
    """Steps 1-3 of the docstring; returns what went wrong (empty when all is well)."""
    problems = []
    page.goto(f"{url}/lab/tree/{LESSON}?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.wait_for_timeout(4000)  # without the setting, the question pops up within 2 s
    if page.get_by_text("official Jupyter news").count():
        problems.append("the 'official Jupyter news?' pop-up appeared")
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(ALL_RUN_JS, timeout=180_000)
    page.click(".jp-NotebookPanel .jp-Cell >> nth=0")
    page.keyboard.press("Escape")
    page.keyboard.press("Alt+r")
    frame = page.frame_locator("iframe[src*='/rise/']")
    try:
        frame.locator(".reveal section.present mjx-container").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let reveal.js finish its transition
    except PlaywrightError:
        problems.append("the RISE slideshow shows no slide with rendered math")
    if frame.locator(".reveal mjx-merror, .reveal .MathJax_Error").count():
        problems.append("MathJax reported an error in the slideshow")
    page.locator("iframe[src*='/rise/']").screenshot(path=shots / "rise.png")

    # The presenter is done: close the slideshow (its tab, on the right), then the notebook.
    # (Closing the notebook while its slideshow is still open makes RISE's reveal.js recurse.)
    slideshow_tab = page.locator(".lm-DockPanel-tabBar").nth(1).locator(".lm-mod-current")
    slideshow_tab.locator(".lm-TabBar-tabCloseIcon").click()
    page.wait_for_timeout(1000)
    menu(page, "File", "Close All Tabs")
    set_theme(url, token, "JupyterLab Dark")
    page.reload()  # Lab reads its settings when it starts; then open a lesson from the file browser
    page.locator(".jp-DirListing-item", has_text=FIGURES).first.dblclick()
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell", timeout=90_000)
    if page.evaluate("document.body.dataset.jpThemeLight") != "false":
        problems.append("JupyterLab Dark was chosen but the theme is not dark")
    figure = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output img").first
    figure.scroll_into_view_if_needed(timeout=30_000)
    figure.evaluate("img => img.decode()")
    if sum(rgb := page.evaluate(BACKGROUND_JS)) / 3 > 80:
        problems.append(f"the dark theme's notebook background is light: rgb{tuple(rgb)}")
    page.screenshot(path=shots / "lab-dark.png")
    return problems


@pytest.mark.browser_context_args(offline=False, viewport={"width": 1500, "height": 950})
def test_lab_as_a_student_sees_it(page, lab, shots):
    known = KNOWN.get(("jupyterlab_rise", version("jupyterlab_rise")))

    def tolerate(message) -> bool:  # the known RISE error, from RISE's own bundle only
        where = message.location.get("url", "")
        return bool(known) and message.text.startswith(known[0]) and known[1] in where

    local = ("http://127.0.0.1:", "data:", "blob:", "about:")
    errors = watch(page, local=local, tolerate=tolerate, failed=False)
    try:
        problems = a_students_session(page, lab["url"], lab["token"], shots)
    except PlaywrightError as err:  # a step timed out: say which, keep a picture
        page.screenshot(path=shots / "lab-failure.png")
        problems = [f"{str(err).splitlines()[0]} (screenshot {shots / 'lab-failure.png'})"]
    log = lab["log"].read_text(errors="replace")
    problems += errors
    problems += [f"server log says {bad!r}; see {lab['log']}" for bad in LOG_MUST_NOT if bad in log]
    assert not problems, "\n".join(problems)
