"""What the tests verify on a built site: links that resolve, figures' alt texts.

Used by tests/test_render.py, tests/test_series_page.py and tests/browser/test_render_browser.py
(tests/ is on sys.path through its conftest.py).
"""

import re
from pathlib import Path
from urllib.parse import unquote

from bs4 import BeautifulSoup  # nbconvert's own dependency
from nbformat import NotebookNode

from tools.build_site import figures

__all__ = ["alt_issue", "alt_problems", "broken_links"]


def alt_issue(alt: str | None) -> str | None:
    """Why an alt text does not describe its figure (None when it may).

    >>> alt_issue("figure_1.png")
    "generic alt text 'figure_1.png': say what it shows, what to notice"
    """
    if not alt or alt.startswith("No description has been"):  # nbconvert's stand-in
        return "no alt text: say what the figure shows and what to notice"
    if len(alt.split()) < 5:
        return f"generic alt text {alt!r}: say what it shows, what to notice"
    return None


def alt_problems(nb: NotebookNode, name: str) -> list[str]:
    """One line per figure without a real alt text: notebook, cell index, first code line."""
    return [
        f"{name} cell {i} ({c.source.strip().splitlines()[0][:60]}), figure {k + 1}: {issue}"
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code"
        for k, (_, alt) in enumerate(figures(c))
        if (issue := alt_issue(alt))
    ]


def broken_links(folder: Path) -> list[str]:
    """Every relative href/src in folder/**/*.html that finds no file, or no id for its #anchor.

    >>> broken_links(Path("no/such/folder"))
    []
    """
    parsed: dict[Path, tuple[list[str], set[str]]] = {}

    def links(path: Path) -> tuple[list[str], set[str]]:  # a page's href/src values and its ids
        if path not in parsed:
            text = path.read_text(encoding="utf-8") if path.suffix == ".html" else ""
            soup = BeautifulSoup(text, "html.parser")
            tags = soup.find_all(lambda tag: tag.get("href") or tag.get("src"))
            ids = {tag["id"] for tag in soup.find_all(id=True)}
            parsed[path] = [tag.get("href") or tag["src"] for tag in tags], ids
        return parsed[path]

    broken = []
    for page in sorted(folder.resolve().rglob("*.html")):
        for ref in links(page)[0]:
            path, _, anchor = ref.partition("#")
            if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", ref) or anchor.startswith("/"):
                continue  # data:, https: (the browser tests fail on requests), reveal.js routes
            target = (page.parent / unquote(path)).resolve() if path else page
            if not target.is_file() or (anchor and anchor not in links(target)[1]):
                broken.append(f"{folder}/{page.relative_to(folder.resolve())}: {ref}")
    return broken
