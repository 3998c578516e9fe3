"""The loss-curve clinic: every cause has one case, each run shows its bug, the checks tell look-alikes apart.

The generic tests of every checkpoint (tests/test_predictions.py) cover lesson 09's too; these are the
clinic's own: what each run prints is what its check's explanation quotes, and the diagnoses a learner
is most likely to give instead earn a hint that names what tells the two apart.
"""

import contextlib
import io
import re

import numpy as np
import pytest

from gdlessons import check, clinic
from gdlessons.check.predict import PREDICTIONS

LETTERS = list(clinic.CASES)


def said(letter, word):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        getattr(check, f"predict09_{letter}")(word)
    return out.getvalue()


def test_every_cause_has_exactly_one_case():
    assert sorted(clinic.cause(k) for k in LETTERS) == sorted(clinic.CAUSES)
    assert len(LETTERS) >= 8


@pytest.mark.parametrize("letter", LETTERS)
def test_a_case_is_the_same_run_every_time_and_differs_with_the_seed(letter):
    first, again = clinic.case(letter, seed=0), clinic.case(letter, seed=0)
    assert str(first) == str(again)
    for name, values in first.curves.items():
        np.testing.assert_array_equal(values, again.curves[name])
    assert str(clinic.case(letter, seed=1)) != str(first)


@pytest.mark.parametrize("letter", LETTERS)
def test_the_numbers_a_check_quotes_are_printed_by_its_run(letter):
    """A decimal in the explanation that is not part of a formula is in the run's printout."""
    printed = set(re.findall(r"-?\d+(?:\.\d+)?(?:e[+-]\d+)?", str(clinic.case(letter))))
    why = PREDICTIONS[f"predict09_{letter}"].why
    quoted = set(re.findall(r"(?<![\w.·/])-?\d+\.\d+(?![\w.]\d)", why))
    formulas = {"0.95", "1.45", "1.5", "2.2", "-1.2", "0.0001", "0.015", "0.1", "0.05", "0.15"}
    formulas |= {"0.09"}  # lr, L and their products, the noise variance
    missing = sorted(quoted - printed - formulas)
    assert not missing, f"case {letter}'s check quotes {missing}, not printed by its run"


def shape(letter):
    return clinic.case(letter).curves["training loss"]


def test_the_diverging_runs_grow_and_the_others_do_not():
    for letter in LETTERS:
        loss = shape(letter)
        grows = clinic.cause(letter) in {"lr_high", "sum_gradient", "sum_reduction"}
        assert (loss[-1] > 100 * loss[0]) == grows, letter


def test_each_run_shows_its_bug():
    by = {clinic.cause(k): k for k in LETTERS}
    loss = {cause: shape(letter) for cause, letter in by.items()}
    head = {cause: str(clinic.case(letter)) for cause, letter in by.items()}
    # lr_high: lr · L above 2; sum_gradient: far below 2 with a mean loss at the start
    assert "lr = 1.45" in head["lr_high"] and "L = 1.5" in head["lr_high"]
    assert loss["sum_gradient"][0] == pytest.approx(loss["lr_high"][0])
    # sum_reduction: the loss at epoch 0 is n = 20 times the mean
    assert loss["sum_reduction"][0] == pytest.approx(20 * loss["lr_high"][0])
    # lr_low hardly moves; unscaled plunges, then crawls; broadcasting stops dead
    assert loss["lr_low"][-1] > 0.95 * loss["lr_low"][0]
    assert loss["unscaled"][50] < 1e-3 * loss["unscaled"][0]
    assert 0.5 * loss["unscaled"][100] < loss["unscaled"][-1] < 0.9 * loss["unscaled"][100]
    assert np.ptp(loss["broadcasting"][20:]) < 1e-4 and "w = 0.00" in head["broadcasting"]
    # no_zero_grad: waves, falling and rising again more than once
    turns = np.diff(np.sign(np.diff(loss["no_zero_grad"])))
    assert np.count_nonzero(turns < 0) >= 3  # three peaks or more
    # noise floor: jitters above least squares; overfitting: training far below validation
    tail = loss["noise_floor"][100:]
    assert tail.max() > 2 * tail.min()
    val = clinic.case(by["overfitting"]).curves["validation loss"]
    assert val[-1] > 50 * loss["overfitting"][-1]


# The diagnoses a learner most likely gives instead, per cause: each must earn its own hint.
CONFUSED = {
    "lr_high": ["sum_gradient", "unscaled", "sum_reduction"],
    "sum_gradient": ["lr_high", "sum_reduction"],
    "sum_reduction": ["sum_gradient", "lr_high"],
    "lr_low": ["unscaled", "broadcasting", "noise_floor"],
    "unscaled": ["lr_low", "noise_floor"],
    "broadcasting": ["lr_low", "noise_floor"],
    "no_zero_grad": ["lr_high", "noise_floor"],
    "noise_floor": ["overfitting", "broadcasting", "lr_low"],
    "overfitting": ["noise_floor"],
}


@pytest.mark.parametrize("letter", LETTERS)
def test_a_look_alike_diagnosis_earns_a_hint_not_just_the_answer(letter):
    declared = PREDICTIONS[f"predict09_{letter}"]
    for word in CONFUSED[clinic.cause(letter)]:
        line = said(letter, word)
        assert line.startswith(f"✗ Prediction 9{letter}: you said {word}; the answer is ")
        assert declared.why not in line, f"{word} for case {letter} gets no hint of its own"


def test_a_diagnosis_is_read_kindly():
    letter = LETTERS[0]
    assert said(letter, "  LR_High ").startswith("✓")
    assert said(letter, "lr high").startswith("✓") and said(letter, "LR-high").startswith("✓")
    assert "one of 'lr_high'" in said(letter, "learning rate")


def test_an_unknown_case_says_which_exist():
    with pytest.raises(ValueError, match="the clinic's cases are a, b, c"):
        clinic.case("z")
