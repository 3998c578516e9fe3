"""Open the built site and slide decks in headless Chromium and check what a reader would see.

For the index, every lesson page and every slide deck it asserts that:
- the math rendered: MathJax output elements are there, no MathJax error, and no raw TeX (`$$`,
  `\\frac`, ...) is left in the text outside code;
- every image loaded (naturalWidth > 0), and a page shows as many images as its lesson has figures;
- every file the page asked for exists, no script raised, and no request left the machine (every
  request is logged through the Chrome DevTools Protocol; only file:, data:, blob: and about: pass);
- the index links to every lesson page; a deck has slides, and reveal.js started.

Chromium is driven over --remote-debugging-pipe (no port is opened), and runs in a network
namespace of its own when `unshare -n` works (root on Linux), so the pages really have no network.
Screenshots go to --shots (build/render/): look at them. With --pdf DIR each lesson page is also
printed to DIR/NN_name.pdf (A4), as a browser's File > Print would.

    python tools/check_render.py --html build/html --slides build/slides --shots build/render notebooks/[0-9]*.ipynb
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import nbformat

__all__ = ["CHROMIUM_FLAGS", "Browser", "offsite", "find_chromium", "check_page", "main"]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--mute-audio",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")
TIMEOUT = 60.0

# Runs in the page once it has loaded: waits for MathJax and the images, then reports.
REPORT_JS = r"""
(async () => {
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  for (let i = 0; i < 200 && document.body && document.body.dataset.gdWait === '1'; i++) await wait(50);
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  if (window.Reveal) { for (let i = 0; i < 200 && !(Reveal.isReady && Reveal.isReady()); i++) await wait(50); }
  await Promise.all([...document.images].map((img) => img.complete ? null :
    new Promise((r) => { img.addEventListener('load', r); img.addEventListener('error', r); })));
  const rawTex = [];
  const skip = 'PRE,CODE,SCRIPT,STYLE,TEXTAREA,MJX-CONTAINER,MJX-ASSISTIVE-MML';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: (n) => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT });
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (/\$\$|\\[A-Za-z]{2,}/.test(n.nodeValue)) rawTex.push(n.nodeValue.trim().slice(0, 80));
  }
  const tall = [];
  if (window.Reveal && Reveal.isReady()) {  // visit every slide: how tall is it, against the deck's height?
    const here = Reveal.getIndices(), height = Reveal.getConfig().height;
    Reveal.configure({transition: 'none'});
    for (const s of Reveal.getSlides()) {
      const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v, -1); await wait(20);
      if (s.scrollHeight > height + 1) tall.push(`${i.h}/${i.v || 0}: ${s.scrollHeight}px`);
    }
    Reveal.slide(here.h, here.v, -1);
  }
  const imgs = [...document.images];
  return {
    title: document.title,
    math: document.querySelectorAll('mjx-container').length,
    mathErrors: document.querySelectorAll('[data-mjx-error], mjx-merror').length,
    rawTex: rawTex.slice(0, 5),
    images: imgs.length,
    brokenImages: imgs.filter((i) => !(i.complete && i.naturalWidth > 0)).map((i) => i.src.slice(0, 80)),
    links: [...document.querySelectorAll('a[href]')].map((a) => a.getAttribute('href')),
    tall: tall,
    slides: window.Reveal && Reveal.isReady() ? Reveal.getTotalSlides() : null,
  };
})()
"""


def offsite(urls: Sequence[str]) -> list[str]:
    """The URLs that would leave the machine (anything but file:, data:, blob:, about:).

    >>> offsite(["file:///x/index.html", "data:image/png;base64,AA", "https://cdn.example/mathjax.js"])
    ['https://cdn.example/mathjax.js']
    """
    return [u for u in urls if not u.startswith(LOCAL_SCHEMES)]


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("no Chromium: install Debian's package with `apt-get install -y chromium` (make check-render does)")


def _no_network_prefix() -> list[str]:
    """`unshare -n` when this user may make a network namespace: Chromium then has no network at all."""
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


class Browser:
    """Headless Chromium spoken to over the DevTools pipe (file descriptors 3 and 4)."""

    def __init__(self, chromium: str, profile: Path, isolate: bool = True) -> None:
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: our pipe ends become fds 3 (commands) and 4 (answers)
            high_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
            high_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        self.isolated = bool(isolate and _no_network_prefix())
        cmd = (_no_network_prefix() if self.isolated else []) + [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
        self.proc = subprocess.Popen(cmd, preexec_fn=wire, close_fds=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def wait_for(self, method: str, session: str) -> dict:
        while True:
            for event in self.events:
                if event.get("method") == method and event.get("sessionId") == session:
                    self.events.remove(event)
                    return event
            self._read()

    def _read(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._from_child], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer within {TIMEOUT:.0f} s")
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                raise RuntimeError("Chromium exited")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


def check_page(browser: Browser, path: Path, shots: Path, expect: dict) -> tuple[dict, list[str]]:
    """Load `path`, take screenshots, and return (the page's report, the problems found)."""
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Network", "Runtime"):
        browser.send(f"{domain}.enable", session=session)
    browser.send("Emulation.setDeviceMetricsOverride",
                 {"width": 1280, "height": 800, "deviceScaleFactor": 1, "mobile": False}, session=session)
    browser.events.clear()
    browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session)
    browser.wait_for("Page.loadEventFired", session)
    result = browser.send("Runtime.evaluate", {"expression": REPORT_JS, "awaitPromise": True, "returnByValue": True}, session=session)
    report = result["result"]["value"]
    events = [e for e in browser.events if e.get("sessionId") == session]
    requests = [e["params"]["request"]["url"] for e in events if e["method"] == "Network.requestWillBeSent"]
    failed = [e["params"] for e in events if e["method"] == "Network.loadingFailed"]
    raised = [e["params"]["exceptionDetails"] for e in events if e["method"] == "Runtime.exceptionThrown"]
    logged = [e["params"] for e in events if e["method"] == "Runtime.consoleAPICalled" and e["params"]["type"] == "error"]

    problems = [f"request left the machine: {u}" for u in offsite(requests)]
    problems += [f"failed to load: {f.get('errorText')} (request {f.get('requestId')})" for f in failed if not f.get("canceled")]
    problems += [f"script error: {d.get('exception', {}).get('description', d.get('text'))[:200]}" for d in raised]
    problems += [f"console error: {json.dumps(a['args'])[:200]}" for a in logged]
    if expect.get("math") and not report["math"]:
        problems.append("no MathJax output: the math did not render")
    if report["mathErrors"]:
        problems.append(f"{report['mathErrors']} MathJax errors (bad TeX)")
    if report["rawTex"]:
        problems.append(f"raw TeX left in the text: {report['rawTex']}")
    if report["brokenImages"]:
        problems.append(f"images that did not load: {report['brokenImages']}")
    if report["images"] < expect.get("images", 0):
        problems.append(f"{report['images']} images shown, the lesson has {expect['images']} figures")
    for href in report["links"]:
        linked = href.split("#")[0].split("?")[0]
        if linked and not re.match(r"^[a-z][a-z0-9+.-]*:", linked, re.IGNORECASE) and not (path.parent / linked).exists():
            problems.append(f"broken link: {href}")
    for href in expect.get("links", []):
        if href not in report["links"]:
            problems.append(f"no link to {href}")
    if expect.get("deck") and not (report["slides"] or 0) > 1:
        problems.append(f"reveal.js did not start or the deck has no slides (slides: {report['slides']})")

    shots.mkdir(parents=True, exist_ok=True)
    _screenshot(browser, session, shots / f"{path.stem}.png")
    if expect.get("deck"):
        _screenshot_slides(browser, session, shots / path.stem)
    elif report["math"] or report["images"]:
        _screenshot_first(browser, session, "img.jp-needs-light-background, .jp-RenderedImage img, img", shots / f"{path.stem}.figure.png")
        _screenshot_first(browser, session, "mjx-container[display]", shots / f"{path.stem}.math.png")
    if expect.get("pdf"):  # what File > Print gives a reader: A4, backgrounds on
        pdf = browser.send("Page.printToPDF", {"printBackground": True, "paperWidth": 8.27, "paperHeight": 11.69,
                                               "marginTop": 0.4, "marginBottom": 0.4, "marginLeft": 0.4, "marginRight": 0.4},
                           session=session)["data"]
        expect["pdf"].parent.mkdir(parents=True, exist_ok=True)
        expect["pdf"].write_bytes(base64.b64decode(pdf))
    try:
        browser.send("Target.closeTarget", {"targetId": target})
    except RuntimeError as err:
        problems.append(f"the page went away (crashed?): {err}")
    report["requests"] = len(requests)
    return report, problems


def _screenshot(browser: Browser, session: str, out: Path) -> None:
    data = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
    out.write_bytes(base64.b64decode(data))


def _screenshot_first(browser: Browser, session: str, selector: str, out: Path) -> None:
    found = browser.send("Runtime.evaluate", {"expression": f"""(() => {{
        const el = document.querySelector({json.dumps(selector)}); if (!el) return false;
        el.scrollIntoView({{block: 'center'}}); return true; }})()""", "returnByValue": True}, session=session)
    if found["result"].get("value"):
        _screenshot(browser, session, out)


def _screenshot_slides(browser: Browser, session: str, stem: Path) -> None:
    """The title slide (above) plus the first slide with math and the first with a figure."""
    js = """(() => { const out = {};
      Reveal.getSlides().forEach((s) => { const i = Reveal.getIndices(s);
        if (out.math === undefined && s.querySelector('mjx-container')) out.math = i;
        if (out.figure === undefined && s.querySelector('img')) out.figure = i; });
      return out; })()"""
    where = browser.send("Runtime.evaluate", {"expression": js, "returnByValue": True}, session=session)["result"]["value"]
    for name, index in sorted(where.items()):
        browser.send("Runtime.evaluate", {"expression": f"Reveal.slide({index['h']}, {index['v'] or 0}, 99)"}, session=session)
        time.sleep(1.0)  # the slide transition
        _screenshot(browser, session, Path(f"{stem}.{name}.png"))


def _lesson_expectations(notebook: Path) -> dict:
    nb = nbformat.read(notebook, as_version=4)
    figures = sum(1 for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if any(k.startswith("image/") for k in o.get("data", {})))
    math = any("$" in c.source for c in nb.cells if c.cell_type == "markdown")
    return {"images": figures, "math": math}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="the lessons the site was built from")
    parser.add_argument("--html", type=Path, default=Path("build/html"))
    parser.add_argument("--slides", type=Path, default=Path("build/slides"))
    parser.add_argument("--shots", type=Path, default=Path("build/render"))
    parser.add_argument("--pdf", type=Path, default=None, help="also print each lesson page to a PDF here")
    parser.add_argument("--chromium", default=None, help="path to Chromium (default: found on PATH)")
    args = parser.parse_args(argv)

    pages: list[tuple[Path, dict]] = [(args.html / "index.html", {"links": [f"{p.stem}.html" for p in args.notebooks]})]
    for nb in args.notebooks:
        expect = _lesson_expectations(nb)
        pdf = {"pdf": args.pdf / f"{nb.stem}.pdf"} if args.pdf else {}
        pages.append((args.html / f"{nb.stem}.html", {**expect, **pdf}))
        pages.append((args.slides / f"{nb.stem}.slides.html", {**expect, "deck": True, "images": 0}))
    missing = [str(p) for p, _ in pages if not p.is_file()]
    if missing:
        print(f"FAIL not built: {', '.join(missing)} (run make html slides)", file=sys.stderr)
        return 1

    failed = 0
    with tempfile.TemporaryDirectory(prefix="check-render-") as profile:
        browser = Browser(args.chromium or find_chromium(), Path(profile))
        try:
            print(f"chromium: {'in its own network namespace (no network)' if browser.isolated else 'with the network (unshare -n not allowed here); every request is checked'}")
            for path, expect in pages:
                report, problems = check_page(browser, path, args.shots, expect)
                failed += bool(problems)
                extra = f", {report['slides']} slides" if expect.get("deck") else ""
                print(f"{'FAIL' if problems else 'ok  '} {path}  ({report['math']} formulas, {report['images']} images, "
                      f"{report['requests']} local requests{extra})")
                if report.get("tall"):
                    print(f"       {len(report['tall'])} slides taller than the deck scroll: {', '.join(report['tall'])}")
                for problem in problems:
                    print(f"       {problem}")
        finally:
            browser.close()
    print(f"screenshots in {args.shots}/" + (f", printed lessons in {args.pdf}/" if args.pdf else ""))
    print(f"check-render: {len(pages) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
