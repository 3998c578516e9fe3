"""Prediction checkpoints: the learner commits to an answer before the cell that shows it.

``check.predict01_a(my_prediction)`` says at once whether a number (or a word) was right, and if
not which usual slip (``Said``) it looks like; ``None`` means no prediction yet, and Run All goes
on. The answer is computed by the package's own math when the check runs; nothing is graded.

>>> halve = prediction("9a", "half of 3", lambda: 3 / 2, "3 / 2 = 1.5.",
...     mistakes=[Said(lambda: 3 * 2, "that doubles it; halving divides by 2.")])
>>> halve(None)
… Prediction 9a: no prediction yet: write yours in place of None and run again, or read on.
>>> halve(6)
✗ Prediction 9a: you said 6; the answer is 1.5. That doubles it; halving divides by 2.
>>> halve(1.5)
✓ Prediction 9a: right, 1.5. 3 / 2 = 1.5.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlessons.check.core import fmt

__all__ = ["PREDICTIONS", "Prediction", "Said", "prediction"]

# Every declared checkpoint by its check's name, {"predict01_a": Prediction(...)}: for the tests.
PREDICTIONS: dict[str, Prediction] = {}


@dataclass(frozen=True)
class Said:
    """A usual wrong answer, ``value()`` (computed, like the answer), and what it shows."""

    value: Callable[[], Any]
    hint: str


@dataclass(frozen=True)
class Prediction:
    """One checkpoint; calling it checks a prediction. ``rtol``: how close a number must be (made
    by hand: 2 % by default); ``choices``: the words a word answer is one of."""

    label: str
    question: str
    answer: Callable[[], Any]
    why: str
    mistakes: Sequence[Said] = ()
    rtol: float = 0.02
    atol: float = 0.0
    choices: Sequence[str] = ()

    @property
    def name(self) -> str:
        """The check's name: ``predict01_a`` for checkpoint 1a."""
        lesson, part = self.label[:-1], self.label[-1]
        return f"predict{int(lesson):02d}_{part}"

    def __call__(self, said: Any) -> None:
        print(self.verdict(said))

    def verdict(self, said: Any) -> str:
        """The one line a prediction earns."""
        head = f"Prediction {self.label}:"
        if said is None or said is ...:
            return f"… {head} no prediction yet: write yours in place of None and run again, or read on."
        answer = self.answer()
        try:
            said_value = self.read(said)
        except ValueError as err:
            return f"✗ {head} {err}"
        shown = self.show(answer)
        wrong = f"✗ {head} you said {self.show(said)}; the answer is {shown}."
        if self.same(said_value, answer):
            return f"✓ {head} right, {shown}. {self.why}"
        for mistake in self.mistakes:
            if self.same(said_value, mistake.value()):
                return f"{wrong} {mistake.hint[:1].upper()}{mistake.hint[1:]}"
        return f"{wrong} {self.why}"

    def read(self, said: Any) -> Any:
        """The prediction as a float array, or as one of the ``choices``; else ``ValueError``."""
        if self.choices:
            word = _word(said)  # "LR high" and "lr-high" read as "lr_high"
            if word not in [_word(c) for c in self.choices]:
                options = ", ".join(repr(c) for c in self.choices)
                raise ValueError(f"answer with one of {options} (you wrote {said!r}).")
            return word
        try:
            value = np.asarray(said, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(
                f"write a number (you wrote {said!r}), e.g. my_prediction = 1.5"
            ) from None
        if value.shape != np.shape(self.answer()):
            raise ValueError(
                f"the answer has {np.size(self.answer())} number(s); you wrote {np.size(value)}."
            )
        return value

    def same(self, said: Any, value: Any) -> bool:
        """Whether a prediction equals a value: the same word, or numbers within the tolerance."""
        if self.choices:
            return said == _word(value)
        value = np.asarray(value, dtype=np.float64)
        return said.shape == value.shape and bool(
            np.all(np.abs(said - value) <= self.rtol * np.abs(value) + self.atol)
        )

    def show(self, value: Any) -> str:
        """A value as the learner reads it: 4 significant digits, or the word."""
        return str(value) if self.choices else fmt(value)


def _word(text: Any) -> str:
    return re.sub(r"[\s-]+", "_", str(text).strip().lower())


def prediction(
    label: str,
    question: str,
    answer: Callable[[], Any],
    why: str,
    **declared: Any,
) -> Prediction:
    """Declare a checkpoint (``"1a"``: lesson 1, the first); the lesson calls it by its name."""
    checkpoint = Prediction(label, question, answer, why, **declared)
    PREDICTIONS[checkpoint.name] = checkpoint
    return checkpoint
