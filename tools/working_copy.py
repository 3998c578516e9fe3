"""The student's own working copy of the lessons (git-ignored my-work/; `make lab`, `make fresh-copy`).

`sync` makes it from notebooks/, later only adds new files (and the stylesheets RISE asks for);
`fresh LESSON` copies one notebook in again, the old file renamed `<name>.old-<date>-<time>.ipynb`.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

__all__ = ["LessonError", "SyncReport", "find_lesson", "fresh_copy", "main", "sync"]

RISE_CSS = """/* RISE loads this file for the slideshows of the notebooks in this folder. As in the decks
   (tools/site_templates/slides.html.j2): a long code line wraps instead of being cut, a figure is
   never taller than the screen, and a slide taller than the screen scrolls (rise.scroll). */
.reveal .jp-Cell pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.reveal .jp-OutputArea-output img { max-width: 100%; max-height: 70vh; object-fit: contain; }
.reveal .jp-OutputArea-output .vega-bindings { font-size: 0.6em; }
"""
NOTEBOOK_CSS = "/* RISE loads this file for the slideshow of {name}. */\n"
HIDDEN = shutil.ignore_patterns(".*", "__pycache__")  # .ipynb_checkpoints, ...


class LessonError(ValueError):
    """Bad input: the message says what was wrong and what to do."""


class SyncReport(NamedTuple):
    created: bool
    added: list[Path]  # relative paths


def notebooks(root: Path) -> list[Path]:
    """The notebooks under `root` (relative, sorted), none in a hidden folder."""
    if not root.is_dir():
        raise LessonError(f"{root} is not a folder: run this from the repository root")
    found = (path.relative_to(root) for path in root.rglob("*.ipynb"))
    return sorted(rel for rel in found if not HIDDEN("", rel.parts))


def _add_rise_css(dest: Path) -> None:
    for rel in notebooks(dest):
        for path, text in [
            (dest / rel.parent / "rise.css", RISE_CSS),
            ((dest / rel).with_suffix(".css"), NOTEBOOK_CSS.format(name=rel.name)),
        ]:
            if not path.exists():
                path.write_text(text, encoding="utf-8")


def sync(source: Path, dest: Path) -> SyncReport:
    """Make `dest` from `source` on first use; afterwards copy in only files new in `source`."""
    if not source.is_dir():
        raise LessonError(f"{source} is not a folder: run this from the repository root")
    if dest.exists() and not dest.is_dir():
        raise LessonError(
            f"{dest} exists but is not a folder: move it away, or pick another "
            "folder with WORK_DIR=..."
        )
    created, added = not dest.exists(), []

    def copy_new(src: str, dst: str) -> None:
        if not Path(dst).exists():
            shutil.copy2(src, dst)
            added.append(Path(dst).relative_to(dest))

    shutil.copytree(source, dest, ignore=HIDDEN, copy_function=copy_new, dirs_exist_ok=True)
    _add_rise_css(dest)
    return SyncReport(created, sorted(added))


def find_lesson(source: Path, lesson: str) -> Path:
    """The notebook in `source` that `lesson` names ("03", "03_torch_autograd", "exercises/03")."""
    lesson, found = lesson.strip().strip("/"), notebooks(source)
    wanted = Path(lesson)
    matches = [r for r in found if r.parent == wanted.parent and r.name.startswith(wanted.name)]
    if not lesson or not matches:
        lessons = ", ".join(rel.name.split("_")[0] for rel in found if rel.parent == Path("."))
        given = f"no notebook in {source}/ matches {lesson!r}" if lesson else "no lesson given"
        raise LessonError(
            f"{given}: say which one, e.g. LESSON=03 (lessons: {lessons}; "
            "or exercises/03, solutions/03)"
        )
    if len(matches) > 1:
        names = ", ".join(map(str, matches))
        raise LessonError(
            f"{lesson!r} matches {len(matches)} notebooks ({names}): give more of the name"
        )
    return matches[0]


def fresh_copy(source: Path, dest: Path, lesson: str) -> tuple[Path, Path | None]:
    """Copy one notebook into `dest`; return it and where an existing one was moved (or None)."""
    rel = find_lesson(source, lesson)
    target, moved = dest / rel, None
    if target.exists():
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        moved = target.with_name(f"{target.stem}.old-{stamp}{target.suffix}")
        n = 2
        while moved.exists():
            moved = target.with_name(f"{target.stem}.old-{stamp}-{n}{target.suffix}")
            n += 1
        target.rename(moved)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / rel, target)
    _add_rise_css(dest)
    return target, moved


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["sync", "fresh"])
    parser.add_argument("lesson", nargs="?", default="", help="for fresh: e.g. 03 or exercises/03")
    parser.add_argument("--source", type=Path, default=Path("notebooks"))
    parser.add_argument("--dest", type=Path, default=Path("my-work"))
    args = parser.parse_args(argv)
    try:
        if args.command == "fresh":
            target, moved = fresh_copy(args.source, args.dest, args.lesson)
            kept = f"; your old one is kept as {moved}" if moved else ""
            print(
                f"Fresh copy: {target}{kept}.\nIf it is open in JupyterLab, close it without saving"
                " (or File > Reload Notebook from Disk), or the old version may be saved over it."
            )
            return 0
        report = sync(args.source, args.dest)
    except LessonError as err:
        parser.exit(2, f"error: {err}\n")
    made = f" (made just now from {args.source}/)" if report.created else ""
    print(f"Your working copy of the lessons: {args.dest}/{made}.")
    if report.added and not report.created:
        print(f"  New from {args.source}/: " + ", ".join(map(str, report.added)))
    print(
        "  JupyterLab opens it: run and change the lessons there. notebooks/ stays as committed, "
        "so `git pull` never conflicts with your work.\n"
        "  Fresh copy of one lesson: make fresh-copy LESSON=03 (the old file is kept as "
        "<name>.old-<date>-<time>.ipynb)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
