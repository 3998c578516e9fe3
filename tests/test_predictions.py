"""The lessons' prediction checkpoints: each says right, wrong (with the slip's hint) or not yet.

Every checkpoint is driven from its declaration (``check.predict.PREDICTIONS``): its computed answer
passes, each usual wrong answer it declares earns that answer's hint, an answer off by 10 % earns the
explanation, and no answer (``None``, the lesson's default) lets Run All go on. Every checkpoint is
asked in a lesson, and no lesson calls one that does not exist.
"""

import contextlib
import io
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from gdlessons import check
from gdlessons.check.predict import PREDICTIONS

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(PREDICTIONS)


def said(name, value):
    """The line that checkpoint ``name`` prints for the prediction ``value``."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert getattr(check, name)(value) is None  # nothing for a notebook to display
    return out.getvalue()


def lesson_calls():
    """``{checkpoint name: [notebook, ...]}`` for every ``check.predictNN_x(`` in a lesson."""
    calls = {}
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for name in re.findall(r"check\.(predict\d\d_\w+)\(", cell.source):
                    calls.setdefault(name, []).append(path.name)
    return calls


@pytest.mark.parametrize("name", NAMES)
def test_the_computed_answer_is_right(name):
    answer = PREDICTIONS[name].answer()
    assert said(name, answer).startswith(f"✓ Prediction {PREDICTIONS[name].label}: right")


@pytest.mark.parametrize("name", NAMES)
def test_no_prediction_says_so_and_lets_the_lesson_go_on(name):
    assert said(name, None).startswith(f"… Prediction {PREDICTIONS[name].label}: no prediction")


@pytest.mark.parametrize("name", NAMES)
def test_each_usual_wrong_answer_earns_its_own_hint(name):
    declared = PREDICTIONS[name]
    for mistake in declared.mistakes:
        line = said(name, mistake.value())
        assert line.startswith(f"✗ Prediction {declared.label}: you said"), line
        assert mistake.hint[1:] in line, (mistake.hint, line)
        assert not declared.same(declared.read(mistake.value()), declared.answer()), (
            "a declared mistake equals the right answer"
        )


@pytest.mark.parametrize("name", [n for n in NAMES if not PREDICTIONS[n].choices])
def test_a_number_off_by_ten_percent_gets_the_explanation(name):
    declared = PREDICTIONS[name]
    answer = np.asarray(declared.answer(), dtype=np.float64)
    off = answer * 1.1 + 0.1 * (answer == 0)
    line = said(name, off.tolist() if off.ndim else float(off))
    assert line.startswith(f"✗ Prediction {declared.label}:")
    assert declared.why in line


@pytest.mark.parametrize("name", NAMES)
def test_an_answer_of_the_wrong_kind_gets_a_message_not_a_traceback(name):
    line = said(name, "no idea" if not PREDICTIONS[name].choices else "no idea at all")
    assert line.startswith(f"✗ Prediction {PREDICTIONS[name].label}:")
    assert "one of" in line or "write a number" in line


def test_every_checkpoint_is_exported_and_asked_in_a_lesson():
    calls = lesson_calls()
    assert set(calls) <= set(PREDICTIONS), f"lessons call unknown checkpoints: {calls}"
    assert set(PREDICTIONS) <= set(calls), "declared but asked in no lesson"
    assert set(PREDICTIONS) <= set(check.__all__)


LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name)
def test_every_lesson_asks_for_at_least_two_predictions_and_has_an_instructor_note(lesson):
    asked = {name for name, where in lesson_calls().items() if lesson.name in where}
    assert len(asked) >= 2, f"{lesson.name} asks {sorted(asked)}: at least two checkpoints"
    notes = [
        c
        for c in nbformat.read(lesson, as_version=4).cells
        if c.cell_type == "markdown" and c.source.lstrip().startswith("**Instructor note")
    ]
    assert notes, f"{lesson.name} has no '**Instructor note:**' cell (speaker notes in the decks)"
