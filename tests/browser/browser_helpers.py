"""What the browser tests share: where things are, the settle script, the page watcher, reports.

Imported by the test modules beside it (pytest puts this folder on the path, as tests/ for
installs.py); the Chromium launcher itself is conftest.py's ``browser_type_launch_args``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools.build_site import needs_vega

__all__ = ["DECKS", "LESSONS", "LOCAL", "PAGES", "PARTS", "READY_JS", "ROOT", "SETTLE_JS", "SHOTS"]
__all__ += ["SHOW_JS", "built", "report_part", "watch"]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "build/render"  # screenshots and reports
PARTS = SHOTS / "parts"  # each test's part of a report; conftest.py joins them at the end
LOCAL = ("file:", "data:", "blob:", "about:")  # the only URLs a built page may request
# The lessons with an explorer (gdlessons.explorers), their pages and decks as make html slides built.
LESSONS = [p for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")) if needs_vega([p])]
PAGES = [ROOT / f"build/html/{p.stem}.html" for p in LESSONS]
DECKS = [ROOT / f"build/slides/{p.stem}.slides.html" for p in LESSONS]
READY_JS = """() => document.querySelectorAll('.gd-explorer').length > 0 &&
  [...document.querySelectorAll('.gd-explorer')].every((e) => e.dataset.gdReady)"""  # all drawn
SHOW_JS = "el => { const i = Reveal.getIndices(el.closest('section')); Reveal.slide(i.h, i.v); }"

# A settled page: web fonts loaded, every explorer drawn (or failed with its message), and no CSS
# transition or one-off animation running (reveal.js fades a slide in for 0.8 s: an audit during
# the fade sees half-transparent text and reports low contrast that no reader sees). Two frames
# first, so that a transition just triggered has started. Decorative loops are not waited for
# (reveal.js bounces its "next" arrow 50 times, 100 s: it moves, its colours stay).
SETTLE_JS = r"""async () => {
  await document.fonts.ready;
  const frame = () => new Promise((ok) => requestAnimationFrame(() => ok()));
  await frame(); await frame();
  const drawn = (e) => 'gdReady' in e.dataset, until = performance.now() + 15000;
  while (![...document.querySelectorAll('.gd-explorer')].every(drawn) && performance.now() < until)
    await frame();
  const finite = (a) => a.effect && a.effect.getComputedTiming().endTime <= 5000;
  await Promise.all(document.getAnimations().filter(finite).map((a) => a.finished.catch(() => 0)));
  await frame();
}"""


def built(*paths: Path) -> list[Path]:
    """The paths, all of which `make html slides` must have written; a clear failure if not."""
    if missing := [str(p.relative_to(ROOT)) for p in paths if not p.exists()]:
        pytest.fail(f"not built: {', '.join(missing)}: run `make html slides` first", False)
    return list(paths)


def watch(page, local: tuple[str, ...] = LOCAL, tolerate=None, failed: bool = True) -> list[str]:
    """The page's problems as they happen: script and console errors, off-machine requests.

    ``local``: the URL prefixes a request may have (a JupyterLab page adds its server's);
    ``tolerate(message)``: true for a known console error; ``failed``: a failed load counts too.
    """
    problems: list[str] = []

    def console(m) -> None:
        if m.type == "error" and not (tolerate and tolerate(m)):
            problems.append(f"console error ({m.location.get('url', '')}): {m.text[:300]}")

    page.on("console", console)
    page.on("pageerror", lambda e: problems.append(f"script error: {(e.stack or str(e))[:400]}"))
    page.on(
        "request", lambda r: r.url.startswith(local) or problems.append(f"request left: {r.url}")
    )
    if failed:
        page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}: {r.failure}"))
    return problems


def report_part(report: str, key: str, text: str) -> None:
    """Write one test's part of build/render/REPORT.md (joined when the session ends)."""
    folder = PARTS / report
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', key)}.md").write_text(text)
