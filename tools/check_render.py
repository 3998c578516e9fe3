"""Check the built site and decks in headless Chromium (Playwright), as a reader would get them.

Every page: MathML and no raw TeX; all figures shown, loaded, with a real alt text; no script or
console error; no request off the machine; Tab reaches a visible focus first (a lesson's skip
link); no serious or critical axe-core violation (all: build/render/axe.md). The index links every
lesson; a deck starts and moves with the arrow keys. Every link in the built folders resolves.
The pages `make run` wrote (``--links build/run/html``) get the same page checks as make html's.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

from nbformat import read

from tools.browser import CHROMIUM, launch
from tools.build_site import alt_issue, figures, page_names

__all__ = ["LOCAL", "SETTLE_JS", "broken_links", "check_page", "main"]

LOCAL = ("file:", "data:", "blob:", "about:")  # the only URLs a page may request
AXE = "build/vendor/node_modules/axe-core/axe.min.js"
SHOTS, PDFS = Path("build/render"), Path("build/pdf")  # screenshots and axe.md; printed lessons
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
FOCUS_JS = (
    "(e => [e.tagName, e.className, getComputedStyle(e).outlineStyle])(document.activeElement)"
)


class Links(HTMLParser):
    """The href/src values and the ids of one page, read by the standard library's parser."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if ref := found.get("href") or found.get("src"):
            self.refs.append(ref)
        if found.get("id") is not None:
            self.ids.add(found["id"])


def broken_links(folder: Path) -> list[str]:
    """Every relative href/src in folder/**/*.html that finds no file, or no id for its #anchor."""
    parsed: dict[Path, Links] = {}

    def links(path: Path) -> Links:
        if path not in parsed:
            parsed[path] = Links(path.read_text(encoding="utf-8") if path.suffix == ".html" else "")
        return parsed[path]

    broken = []
    for page in sorted(folder.resolve().rglob("*.html")):
        for ref in links(page).refs:
            path, _, anchor = ref.partition("#")
            if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", ref) or anchor.startswith("/"):
                continue  # data:, https: (the browser check fails on requests), reveal.js routes
            target = (page.parent / unquote(path)).resolve() if path else page
            if not target.is_file() or (anchor and anchor not in links(target).ids):
                broken.append(f"{folder}/{page.relative_to(folder.resolve())}: {ref}")
    return broken


def check_page(browser, path: Path, expect: dict) -> tuple[dict, list[str]]:
    """Load `path`, screenshot (and print) it; return (what it found, the problems)."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    urls, problems = [], []
    page.on("request", lambda r: urls.append(r.url))
    page.on("requestfailed", lambda r: problems.append(f"failed to load {r.url}: {r.failure}"))
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.goto(path.resolve().as_uri(), wait_until="load")
    page.wait_for_function("() => !window.Reveal || Reveal.isReady()")
    page.evaluate(SETTLE_JS)
    r = page.evaluate(REPORT_JS)
    page.keyboard.press("Tab")
    focus = page.evaluate(FOCUS_JS)
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    moved = page.evaluate("window.Reveal ? Reveal.getIndices().h : 0")
    page.evaluate("window.Reveal && Reveal.slide(0, 0)")
    page.evaluate(SETTLE_JS)  # the audit sees the slide as a reader does, not mid-transition
    page.add_script_tag(path=AXE)
    r["axe"] = page.evaluate("async () => (await axe.run(document, {preload: false})).violations")
    problems += [f"request left the machine: {u}" for u in urls if not u.startswith(LOCAL)]
    problems += [f"image {k + 1}: {alt_issue(a)}" for k, a in enumerate(r["alts"]) if alt_issue(a)]
    for v in r["axe"]:
        if v["impact"] in ("serious", "critical"):
            problems.append(
                f"axe {v['impact']}: {v['id']} {len(v['nodes'])}x, {v['nodes'][0]['target']}"
            )
    deck, shown, images = expect.get("deck"), len(r["alts"]), expect.get("images", 0)
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
    page.screenshot(path=SHOTS / f"{expect.get('shot', path.stem)}.png")
    if expect.get("pdf"):
        margin = dict.fromkeys(("top", "bottom", "left", "right"), "1cm")
        page.pdf(path=PDFS / f"{path.stem}.pdf", format="A4", print_background=True, margin=margin)
    page.close()
    return r, problems


def main(argv: Sequence[str] | None = None) -> int:
    """Check every page and every link; print a line per page and its problems; 1 if any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="the notebooks the site shows")
    parser.add_argument("--html", type=Path, default=Path("build/html"))
    parser.add_argument("--slides", type=Path, default=Path("build/slides"))
    parser.add_argument(
        "--links",
        nargs="*",
        type=Path,
        default=[],
        help="more sites to check (make run's build/run/html): their links, and in Chromium each "
        "page of a notebook given",
    )
    args = parser.parse_args(argv)
    if "GD_NETNS" not in os.environ:  # run again, in a network namespace of its own
        test = ["unshare", "-n", "true"]
        ok = (
            shutil.which("unshare")
            and not subprocess.run(test, check=False, capture_output=True).returncode
        )
        os.environ["GD_NETNS"] = "no network" if ok else "network on"
        if ok:
            os.execvp(
                "unshare", ["unshare", "-n", sys.executable, "-m", __spec__.name, *sys.argv[1:]]
            )
    from playwright.sync_api import sync_playwright

    names = page_names(args.notebooks)
    pages = {args.html / "index.html": {"links": [f"{n[:-6]}.html" for n in names if "/" not in n]}}
    for name, notebook in names.items():
        cells = read(notebook, as_version=4).cells
        expect = {"images": sum(len(figures(c)) for c in cells)}
        expect["math"] = any("$" in c.source for c in cells if c.cell_type == "markdown")
        pages[args.html / f"{name[:-6]}.html"] = {**expect, "pdf": "/" not in name}
        if "/" not in name:
            pages[args.slides / f"{name[:-6]}.slides.html"] = {**expect, "deck": True}
        for k, site in enumerate(args.links):  # the same page built elsewhere: the same checks
            if (site / f"{name[:-6]}.html").is_file():
                shot = f"links{k + 1}-{Path(name).stem}"
                pages[site / f"{name[:-6]}.html"] = {**expect, "shot": shot}
    if missing := [str(p) for p in [*pages, Path(AXE), Path(CHROMIUM)] if not p.is_file()]:
        print(f"missing {', '.join(missing)}: run make html slides check-render", file=sys.stderr)
        return 1
    print(f"{CHROMIUM}: {os.environ['GD_NETNS']}; every request is checked")
    for folder in (SHOTS, PDFS):
        folder.mkdir(parents=True, exist_ok=True)
    failed, axe = 0, ["| page | rule | impact | count | first target |", "|---|---|---|---:|---|"]
    with sync_playwright() as playwright:
        browser = launch(playwright)
        for path, expect in pages.items():
            r, problems = check_page(browser, path, expect)
            failed += bool(problems)
            for x in r["axe"] or [{"id": "none", "impact": "", "nodes": []}]:
                first = x["nodes"][0]["target"] if x["nodes"] else ""
                axe.append(f"| {path} | {x['id']} | {x['impact']} | {len(x['nodes'])} | {first} |")
            impacts = dict(Counter(x["impact"] for x in r["axe"])) or "none"
            print(f"{'FAIL' if problems else 'ok  '} {path}  axe: {impacts}")
            print("".join(f"       {problem}\n" for problem in problems), end="")
        browser.close()
    (SHOTS / "axe.md").write_text("# axe-core violations\n\n" + "\n".join(axe) + "\n")
    broken = [link for d in [args.html, args.slides, *args.links] for link in broken_links(d)]
    print("".join(f"FAIL broken link: {link}\n" for link in broken), end="")
    print(f"screenshots and axe.md in {SHOTS}/, the lessons printed to A4 PDFs in {PDFS}/")
    print(f"check-render: {len(pages) - failed} passed, {failed + len(broken)} failed")
    return 1 if failed or broken else 0


if __name__ == "__main__":
    sys.exit(main())
