"""The prose of the lessons, exercise sets and README: links, code names and cited numbers hold.

nbval checks every printed number, but not the sentences around them. These tests catch the kinds of
mistakes that a renumbered lesson or a renamed function leaves behind: a link whose label names one
lesson and whose target is another, a "go on to" link that skips a lesson, a name or a path in
backticks that no longer exists, an exercise cited by a number no exercise has, and a number
"printed above" that the cell above does not print.
"""

import inspect
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("[0-9]*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DOCUMENTS = [*NOTEBOOKS, ROOT / "README.md"]
LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
# "lesson 02", "lessons 01", "02 · Autograd", "`01_numpy_gradient_descent`", "exercises/01_...".
LABEL_NUMBER = re.compile(r"^(?:lessons?\s+|(?:exercises|solutions)/)?(\d\d)(?!\d)", re.IGNORECASE)
# `tests/test_bad_input.py`, `src/gdlessons/check/`: a path in the repository (no placeholder).
REPO_PATH = re.compile(r"^(?:src|tests|tools|notebooks|benchmarks|jupyter-env)/[\w./-]*$")
NEXT_LINK = re.compile(r"(?:\bNext:|\bgo on to)\s*\[[^\]\n]*\]\(([^)\s]+)\)", re.IGNORECASE)


def dataloader_takes(argument):
    from torch.utils.data import DataLoader

    return argument in inspect.signature(DataLoader).parameters


# Names the prose takes from other libraries, each with the check that it exists there.
EXTERNAL_NAMES = {
    "drop_last": lambda: dataloader_takes("drop_last"),
    "num_workers": lambda: dataloader_takes("num_workers"),
    "retain_graph": lambda: "retain_graph" in inspect.signature(tensor_backward()).parameters,
    # gloo's network interface variable (README, On Windows and macOS): read by torch's gloo
    "GLOO_SOCKET_IFNAME": lambda: b"GLOO_SOCKET_IFNAME" in torch_library_bytes(),
}


def tensor_backward():
    import torch

    return torch.Tensor.backward


def torch_library_bytes() -> bytes:
    """torch's C++ library (where its environment variables are read), as bytes."""
    import torch

    (library,) = Path(torch.__file__).parent.glob("lib/libtorch_cpu.*")
    return library.read_bytes()


def name(path):
    return str(path.relative_to(ROOT))


def markdown(path):
    """The Markdown of a document: a notebook's Markdown cells, or the README."""
    if path.suffix == ".md":
        return path.read_text(encoding="utf-8")
    cells = nbformat.read(path, as_version=4).cells
    return "\n\n".join(c.source for c in cells if c.cell_type == "markdown")


def links(text):
    """(label, target file name) of every link to a notebook, the label without backticks."""
    for label, target in LINK.findall(text):
        file = target.split("#")[0]
        if file.endswith(".ipynb"):
            yield label.replace("`", "").strip(), Path(file).name


def label_target_mismatches(text):
    """The links whose label names a lesson number or a notebook that their target is not."""
    wrong, checked = [], 0
    for label, target in links(text):
        number = LABEL_NUMBER.match(label)
        if number:
            checked += 1
            if not target.startswith(f"{number[1]}_"):
                wrong.append(f"[{label}] goes to {target}")
        if label.endswith(".ipynb") and Path(label).name != target:
            wrong.append(f"[{label}] goes to {target}")
    return wrong, checked


def lesson_number(path):
    return int(path.name[:2])


def code_words():
    """Every identifier in the project's code: the package, tests, tools, notebooks' code cells."""
    sources = [ROOT / "Makefile"]
    for folder in ("src", "tests", "tools", "benchmarks"):
        sources += (ROOT / folder).rglob("*.py")
    code = [p.read_text(encoding="utf-8") for p in sources if p != Path(__file__)]
    for path in NOTEBOOKS:
        cells = nbformat.read(path, as_version=4).cells
        code += [c.source for c in cells if c.cell_type == "code"]
    return set(re.findall(r"\w+", "\n".join(code)))


def stale_code_names(text, words):
    """Names in backticks (snake_case or _private) that no code defines or uses any more."""
    stale = []
    for span in re.findall(r"`([^`\n]+)`", text):
        if "/" in span:  # a path: see stale_paths
            continue
        for word in re.findall(r"(?<![\w.-])(_\w+|[A-Za-z]\w*_\w*)", span):
            if word not in words and not EXTERNAL_NAMES.get(word, lambda: False)():
                stale.append(f"`{span}`: {word}")
    return stale


def stale_paths(text):
    """Paths in backticks, such as `tests/test_bad_input.py`, that the repository does not have."""
    spans = re.findall(r"`([^`\n]+)`", text)
    real = [span for span in spans if REPO_PATH.match(span) and not re.search(r"NN|\.\.\.", span)]
    return [span for span in real if not (ROOT / span).exists()]


def printed_numbers(cell):
    """The numbers a code cell printed, as written."""
    text = "".join(o.get("text", "") for o in cell.get("outputs", []))
    return set(re.findall(r"\d+(?:\.\d+)?", text))


def uncited_numbers(path):
    """Numbers in a sentence that says "(printed above)" which the code cell above did not print."""
    cells = nbformat.read(path, as_version=4).cells
    wrong, checked = [], 0
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown":
            continue
        above = next((c for c in reversed(cells[:i]) if c.cell_type == "code"), None)
        for sentence in re.split(r"(?<=[.:;])\s", cell.source):
            if "printed above" not in sentence:
                continue
            checked += 1
            quoted = re.findall(r"(?<![\w.])\d+(?:\.\d+)?(?![\w.]\d)", sentence)
            wrong += [f"{n} in {sentence!r}" for n in quoted if n not in printed_numbers(above)]
    return wrong, checked


@pytest.mark.parametrize("path", DOCUMENTS, ids=name)
def test_a_link_whose_label_names_a_lesson_goes_to_that_lesson(path):
    wrong, checked = label_target_mismatches(markdown(path))
    assert checked, f"{name(path)} has no link to a numbered lesson or exercise set"
    assert wrong == [], f"{name(path)}: label and target disagree: {wrong}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=name)
def test_the_next_link_goes_to_the_next_lesson(path):
    """A lesson's "Next:" and an exercise set's "go on to" name the lesson after it, if any."""
    later = [p.name for p in LESSONS if lesson_number(p) > lesson_number(path)]
    targets = [Path(t.split("#")[0]).name for t in NEXT_LINK.findall(markdown(path))]
    assert targets == ([later[0]] if later else []), (
        f"{name(path)} sends the reader on to {targets}; the next lesson is "
        f"{later[0] if later else 'none'}"
    )


def test_the_link_checks_catch_a_wrong_label_and_a_skipped_lesson():
    stale = "Same loop as lessons [01](01_a.ipynb) and [02](03_c.ipynb)."
    assert label_target_mismatches(stale) == (["[02] goes to 03_c.ipynb"], 2)
    skip = "When every check says ✓, go on to [lesson 03 · Autograd](../03_torch_autograd.ipynb)"
    assert NEXT_LINK.findall(skip) == ["../03_torch_autograd.ipynb"]


@pytest.mark.parametrize("path", DOCUMENTS, ids=name)
def test_every_code_name_in_the_prose_exists_in_the_code(path):
    stale = stale_code_names(markdown(path), code_words())
    assert stale == [], f"{name(path)} names code that no longer exists: {stale}"


@pytest.mark.parametrize("path", DOCUMENTS, ids=name)
def test_every_path_in_the_prose_exists(path):
    assert stale_paths(markdown(path)) == [], f"{name(path)} names paths that do not exist"


def test_the_path_check_catches_a_moved_file():
    text = "`tests/test_bad_input.py`, `src/gdlessons/check.py`, `notebooks/exercises/NN_x.ipynb`"
    assert stale_paths(text) == ["src/gdlessons/check.py"]


def test_the_code_name_check_catches_a_renamed_method():
    words = {"backward_step", "drop"}
    assert stale_code_names("`+=` vs `=` in `_backward`, `drop_last=True`", words) == [
        "`_backward`: _backward"
    ]


@pytest.mark.parametrize("path", LESSONS, ids=name)
def test_a_number_cited_as_printed_above_is_printed_above(path):
    wrong, _ = uncited_numbers(path)
    assert wrong == [], f"{name(path)}: not printed by the cell above: {wrong}"


def test_some_lesson_cites_a_printed_number():
    assert sum(uncited_numbers(path)[1] for path in LESSONS) >= 1


def exercise_numbers():
    """The exercises that exist: "1.2" for each `## Exercise 1.2` heading of a solutions notebook."""
    return {
        number
        for path in NOTEBOOKS
        if path.parent.name == "solutions"
        for number in re.findall(r"^## Exercise (\d+\.\d+)\b", markdown(path), re.MULTILINE)
    }


@pytest.mark.parametrize("path", DOCUMENTS, ids=name)
def test_a_cited_exercise_exists(path):
    cited = set(re.findall(r"\bexercises? (\d+\.\d+)\b", markdown(path), re.IGNORECASE))
    assert cited - exercise_numbers() == set(), f"{name(path)} cites exercises that do not exist"


def test_there_are_exercises_to_cite():
    assert {"1.1", "4.5", "6.3"} <= exercise_numbers()
