"""The student's own working copy of the lessons, for `make lab` and `make fresh-copy`.

`make lab` opens JupyterLab on a git-ignored folder (my-work/ by default), never on notebooks/:
running a lesson there rewrites the student's copy (execution counts, outputs, edits), and a later
`git pull` of new committed notebooks cannot conflict with it.

- `sync` makes the working copy from notebooks/ on first use: the lessons, exercises/ and
  solutions/ (the exercises link to ../solutions/ for "look there only after a real try"). Later it
  only adds files that are new in notebooks/; it never overwrites or deletes a file. It also adds
  the empty `rise.css` / `<notebook>.css` files that the RISE slideshow asks for next to every
  notebook (without them each slideshow logs two errors); JupyterLab's file browser hides them.
- `fresh LESSON` replaces one notebook with a fresh copy from notebooks/; the old file is moved
  aside (renamed `<name>.old-<date>-<time>.ipynb` in the same folder), never deleted.

    python -m tools.working_copy sync --source notebooks --dest my-work
    python -m tools.working_copy fresh 03 --source notebooks --dest my-work
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


class LessonError(ValueError):
    """Bad input: the message says what was wrong and what to do."""


class SyncReport(NamedTuple):
    """What `sync` did: whether it made the folder, and which files it added (relative paths)."""

    dest: Path
    created: bool
    added: list[Path]


def source_files(source: Path) -> list[Path]:
    """Every file under `source` (relative paths, sorted), leaving out hidden files and folders
    (.ipynb_checkpoints, ...) and __pycache__."""
    if not source.is_dir():
        raise LessonError(f"{source} is not a folder: run this from the repository root")
    return sorted(
        path.relative_to(source)
        for path in source.rglob("*")
        if path.is_file()
        and not any(
            part.startswith(".") or part == "__pycache__" for part in path.relative_to(source).parts
        )
    )


def _copy_new(src: Path, dst: Path) -> bool:
    """Copy `src` to `dst` unless `dst` exists (checked atomically); True if it copied."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        with src.open("rb") as fin, dst.open("xb") as fout:
            shutil.copyfileobj(fin, fout)
    except FileExistsError:
        return False
    shutil.copystat(src, dst)
    return True


def _add_rise_css(dest: Path) -> None:
    """Create the (empty) stylesheets RISE requests next to each notebook, where missing."""
    notebooks = [dest / rel for rel in source_files(dest) if rel.suffix == ".ipynb"]
    for folder in {nb.parent for nb in notebooks}:
        targets = {folder / "rise.css": RISE_CSS}
        for nb in folder.glob("*.ipynb"):
            targets[nb.with_suffix(".css")] = NOTEBOOK_CSS.format(name=nb.name)
        for path, text in targets.items():
            if not path.exists():
                path.write_text(text, encoding="utf-8")


def sync(source: Path, dest: Path) -> SyncReport:
    """Make `dest` from `source` on first use; afterwards copy in only files new in `source`.

    No existing file in `dest` is ever overwritten or removed.
    """
    files = source_files(source)
    if dest.exists() and not dest.is_dir():
        raise LessonError(
            f"{dest} exists but is not a folder: move it away, or pick another "
            "folder with WORK_DIR=..."
        )
    created = not dest.exists()
    dest.mkdir(parents=True, exist_ok=True)
    added = [rel for rel in files if _copy_new(source / rel, dest / rel)]
    _add_rise_css(dest)
    return SyncReport(dest, created, added)


def find_lesson(source: Path, lesson: str) -> Path:
    """The one notebook in `source` that `lesson` names, as a relative path.

    `lesson` is the start of a file name ("03", "03_torch_autograd", "03_torch_autograd.ipynb"),
    optionally with its folder ("exercises/03", "solutions/03"); without a folder it names a lesson.
    """
    lesson = lesson.strip().strip("/")
    notebooks = [rel for rel in source_files(source) if rel.suffix == ".ipynb"]
    lessons = ", ".join(rel.name.split("_")[0] for rel in notebooks if rel.parent == Path("."))
    if not lesson:
        raise LessonError(
            f"no lesson given: say which one, e.g. LESSON=03 (lessons: {lessons}; "
            "or exercises/03, solutions/03)"
        )
    wanted = Path(lesson)
    matches = [
        rel for rel in notebooks if rel.parent == wanted.parent and rel.name.startswith(wanted.name)
    ]
    if not matches:
        raise LessonError(
            f"no notebook in {source}/ matches {lesson!r}: use one of {lessons} "
            "(or exercises/NN, solutions/NN)"
        )
    if len(matches) > 1:
        names = ", ".join(str(rel) for rel in matches)
        raise LessonError(
            f"{lesson!r} matches {len(matches)} notebooks ({names}): give more of the name"
        )
    return matches[0]


def fresh_copy(
    source: Path, dest: Path, lesson: str, now: datetime | None = None
) -> tuple[Path, Path | None]:
    """Put a fresh copy of one notebook from `source` into `dest`.

    An existing file is renamed `<name>.old-<YYYYmmdd-HHMMSS>.ipynb` next to it, never deleted.
    Returns (the fresh file, where the old one went or None).
    """
    rel = find_lesson(source, lesson)
    target = dest / rel
    moved: Path | None = None
    if target.exists():
        stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
        moved = target.with_name(f"{target.stem}.old-{stamp}{target.suffix}")
        n = 2
        while moved.exists():
            moved = target.with_name(f"{target.stem}.old-{stamp}-{n}{target.suffix}")
            n += 1
        target.rename(moved)
    _copy_new(source / rel, target)
    _add_rise_css(dest)
    return target, moved


def _show(path: Path) -> str:
    """`path` relative to the current folder where it is inside it, else absolute."""
    path, here = path.resolve(), Path.cwd()
    return str(path.relative_to(here) if path.is_relative_to(here) else path)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `sync` or `fresh LESSON`; prints what it did, one line per error."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["sync", "fresh"])
    parser.add_argument("lesson", nargs="?", default="", help="for fresh: e.g. 03 or exercises/03")
    parser.add_argument("--source", type=Path, default=Path("notebooks"))
    parser.add_argument("--dest", type=Path, default=Path("my-work"))
    args = parser.parse_args(argv)
    try:
        if args.command == "fresh":
            target, moved = fresh_copy(args.source, args.dest, args.lesson)
            kept = f"; your old one is kept as {_show(moved)}" if moved else ""
            print(f"Fresh copy: {_show(target)}{kept}.")
            print(
                "If it is open in JupyterLab, close it without saving (or File > Reload "
                "Notebook from Disk), or the old version may be saved over it."
            )
            return 0
        report = sync(args.source, args.dest)
    except LessonError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    where = _show(report.dest)
    print(
        f"Your working copy of the lessons: {where}/"
        + (f" (made just now from {_show(args.source)}/)." if report.created else ".")
    )
    if report.added and not report.created:
        print(f"  New from {_show(args.source)}/: " + ", ".join(map(str, report.added)))
    print(
        "  JupyterLab opens it: run and change the lessons there. notebooks/ stays as committed, "
        "so `git pull` never conflicts with your work.\n"
        "  Fresh copy of one lesson: make fresh-copy LESSON=03 (the old file is kept as "
        "<name>.old-<date>-<time>.ipynb)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
