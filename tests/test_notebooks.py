"""The committed notebooks really carry what nbval checks.

nbval compares stored outputs with fresh ones, but it passes *vacuously* on a notebook whose outputs
were stripped, and it never compares PNGs. These tests make sure every code cell was executed in
order with its outputs stored, every figure is stored as an image, and no output holds a repr that
changes from run to run.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "notebooks").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
PLOT_CALL = re.compile(r"^\s*(plt\.show\(\)|show\(|plots\.show\()", re.MULTILINE)


def code_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def texts(cell):
    for out in cell.outputs:
        if out.output_type == "stream":
            yield out.text
        for key in ("text/plain", "text/html"):
            if key in out.get("data", {}):
                yield out.data[key]


def test_there_are_lessons():
    assert len([p for p in NOTEBOOKS if re.match(r"\d\d_", p.name)]) >= 3


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix()
)
def test_every_code_cell_was_executed_in_order_with_outputs_stored(path):
    cells = code_cells(path)
    counts = [c.execution_count for c in cells]
    assert None not in counts, f"unexecuted cells: {[i for i, n in enumerate(counts) if n is None]}"
    assert counts == list(range(1, len(cells) + 1)), "re-execute top to bottom in a fresh kernel"
    assert sum(bool(c.outputs) for c in cells) >= len(cells) // 3, "outputs look stripped"


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix()
)
def test_figures_are_stored_as_images_and_no_output_holds_a_changing_repr(path):
    for cell in code_cells(path):
        if PLOT_CALL.search(cell.source):
            assert any("image/png" in o.get("data", {}) for o in cell.outputs), (
                f"no image stored:\n{cell.source}"
            )
        for text in texts(cell):
            assert not text.startswith("<Figure size"), (
                f"figure repr stored instead of an image:\n{cell.source}"
            )
            assert not re.search(r"at 0x[0-9a-f]+", text), (
                f"memory address in output:\n{cell.source}"
            )
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if "NBVAL_RAISES_EXCEPTION" not in cell.source:
            assert not errors, f"cell raised:\n{cell.source}"


MACHINE_DEPENDENT = [
    (re.compile(r"\b\d+(\.\d+)?\s?(ms|µs|us|ns|sec|seconds)\b"), "a timing"),
    (re.compile(r"\b(pid|PID)\b|\bport \d{4,5}\b|127\.0\.0\.1:\d+"), "a process id or port"),
    (re.compile(r"num_threads|get_num_threads|\bthreads?: \d+"), "a thread count"),
    (re.compile(r"cuda:\d|NVIDIA|GeForce"), "a device name"),
]
RANDOM_USE = re.compile(
    r"np\.random\.(?!default_rng)|torch\.(randn?|randint|randperm|normal)\(|shuffle=True|nn\.Linear\((?![^)]*bias=False)"
)
SEEDED = re.compile(r"manual_seed\(\d+\)|default_rng\(\d+\)|seed=\d+|generator=")


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix()
)
def test_no_output_depends_on_the_machine(path):
    for cell in code_cells(path):
        for text in texts(cell):
            for pattern, what in MACHINE_DEPENDENT:
                assert not pattern.search(text), (
                    f"output shows {what}: {pattern.search(text)[0]!r}\n{cell.source}"
                )
        for out in cell.outputs:
            if out.output_type == "stream" and out.name == "stderr":
                pytest.fail(f"stored stderr output (a warning?): {out.text[:200]!r}\n{cell.source}")


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix()
)
def test_every_cell_that_draws_random_numbers_seeds_them_itself(path):
    for cell in code_cells(path):
        if RANDOM_USE.search(cell.source) and not SEEDED.search(cell.source):
            pytest.fail(
                f"this cell uses randomness without seeding it in the same cell:\n{cell.source}"
            )


LESSONS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_a_lesson_shows_only_public_code_and_the_standard_figure_idiom(path):
    """No private name (anything._name, the package's or the lesson's own, or `import _name`), no
    hand-made Figure."""
    source = "\n".join(cell.source for cell in code_cells(path))
    private = re.findall(r"\b\w+\._(?!_)\w+", source)
    assert not private, f"a lesson uses private names {sorted(set(private))}"
    assert not re.search(r"import .*\b_(?!_)\w+", source), "a lesson imports a private name"
    assert "matplotlib.figure" not in source and "Figure(" not in source, "use plt.subplots()"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_the_source_a_lesson_prints_is_math_and_loop_only(path):
    """A helper printed with inspect.getsource shows its formula or loop: no private name, no
    input validation (that lives around it, see gdlessons._validate.validated)."""
    for cell in code_cells(path):
        if "getsource(" in cell.source:
            printed = "".join(out.get("text", "") for out in cell.outputs)
            assert printed.strip(), f"no stored output for:\n{cell.source}"
            machinery = re.findall(r"\b_(?!_)\w+|\bcheck_\w+\(|\bvalidated\b", printed)
            assert not machinery, f"{cell.source!r} prints machinery: {sorted(set(machinery))}"


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: p.relative_to(ROOT / "notebooks").as_posix()
)
def test_stored_figures_have_an_opaque_light_background(path):
    import base64
    import io

    from matplotlib.image import imread

    for cell in code_cells(path):
        for out in cell.outputs:
            if "image/png" in out.get("data", {}):
                pixels = imread(io.BytesIO(base64.b64decode(out.data["image/png"])), format="png")
                if pixels.shape[-1] == 4:
                    assert pixels[..., 3].min() == 1.0, f"transparent figure in:\n{cell.source}"
                corners = pixels[[0, 0, -1, -1], [0, -1, 0, -1], :3]
                assert corners.min() > 0.9, f"figure background is not light in:\n{cell.source}"
