"""Exercise checks declared, not hand-written: ``exercise(...)`` turns a declaration into a check.

A ``Problem`` declares the answer's signature (``task``: its inputs are read from each hidden
``Case``), the ``reference``, how the result is read, and the classic ``mistakes`` with their
hints (``Gives``, ``Shows``, ``Factor``); the first mistake the answer shows explains it, else
``otherwise``. Messages are templates over the case (``{n}``, ``{got}``, ``{want}``) or functions
``(value, case) -> str``.

>>> twice = Problem("9.1", 1, "my_double(x) -> 2 x: doubles", cases=[Case(x=1.5), Case(x=-2.0)],
...     reference=lambda c: 2 * c.x, read=read_number("Your 2 x"), passed="it doubles.",
...     mistakes=[Gives(lambda c: c.x**2, "that is x², not 2 x.")])
>>> verdict = twice.verdict(lambda x: x**2)
✗ Exercise 9.1: not yet. For x = 1.5 your 2 x is 2.25; the right one is 3.
  Hint: that is x², not 2 x.
>>> verdict = twice.verdict(lambda x: x + x)
✓ Exercise 9.1: right! it doubles.
"""

from __future__ import annotations

import inspect
import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlessons.check import core
from gdlessons.check.core import NotAnswered, Verdict, Wrong, close, fmt, read_number, read_pair
from gdlessons.data import make_linear_data
from gdlessons.history import DivergenceError, History
from gdlessons.numpy_gd import forward, mse_gradient

__all__ = ["Case", "Factor", "Gives", "Problem", "Shows", "exercise", "final", "hidden_case"]
__all__ += ["mse_reference", "read_number", "read_pair"]  # read_*: the readers, from core

Message = str | Callable[[Any, "Case"], str]  # a template, or (value, case) -> text


class Case(dict):
    """One hidden test: its settings and data by name (``case.n`` or ``case["n"]``).

    >>> Case(n=7, lr=0.1).but(lr=0.2)
    {'n': 7, 'lr': 0.2}
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def but(self, **changes: Any) -> Case:
        """A copy with some fields changed or added."""
        return Case(self, **changes)


def hidden_case(n: int, w_true: Any, b_true: float, seed: int, **settings: Any) -> Case:
    """A case on ``n`` samples of ``y = X w_true + b_true + noise`` (float32) from ``seed``.

    >>> case = hidden_case(5, [1.0, 2.0], 0.5, seed=7, lr=0.1)
    >>> case.X.shape, case.d, case.lr
    ((5, 2), 2, 0.1)
    """
    X, y = make_linear_data(n, w=w_true, b=b_true, noise=0.5, seed=seed)
    return Case(n=n, seed=seed, X=X, y=y, d=1 if X.ndim == 1 else X.shape[1], **settings)


def mse_reference(c: Case) -> np.ndarray:
    """``[*dw, db]``: the exact MSE gradient on the case's data at its ``w`` and ``b``."""
    X = np.asarray(c.X)
    return np.append(*mse_gradient(X, np.asarray(c.y), forward(X, c.w, c.b)))


def final(h: History) -> np.ndarray:
    """A run's final parameters as one array ``[*w, b]``."""
    return np.append(h.w_final, h.b_final)


class _Numbers(string.Formatter):
    """A template's fields, with arrays and floats to a fixed number of significant digits."""

    def __init__(self, digits: int) -> None:
        self.digits = digits

    def format_field(self, value: Any, spec: str) -> str:
        if not spec and isinstance(value, (float, np.floating, np.ndarray)):
            return fmt(value, self.digits)
        return super().format_field(value, spec)


def say(message: Message, value: Any, case: Case, digits: int = 4) -> str:
    """A message on ``value`` (the answer, or what it returned) in ``case``."""
    if callable(message):
        return message(value, case)
    return _Numbers(digits).vformat(message, (), {**case, "got": value})


# ---- The classic mistakes: whether an answer shows one, and the message it then earns


@dataclass(frozen=True)
class Gives:
    """The mistake whose result on a case is ``wrong(case)`` (a History: its final values; None
    or a DivergenceError: no result)."""

    wrong: Callable[[Case], Any]
    hint: Message

    def explain(self, got: Any, case: Case, problem: Problem) -> str | None:
        wrong = self.wrong(case)
        wrong = final(wrong) if isinstance(wrong, History) else wrong
        shown = wrong is not None and close(got, wrong, problem.mistake_rtol)
        return problem.failure(got, case, self.hint) if shown else None


@dataclass(frozen=True)
class Shows:
    """The mistake an answer shows when ``test(got, case)`` holds (``case.want``: the right one)."""

    test: Callable[[Any, Case], bool]
    hint: Message

    def explain(self, got: Any, case: Case, problem: Problem) -> str | None:
        return problem.failure(got, case, self.hint) if self.test(got, case) else None


RATIO_WORDS = {
    "sign": "right size, wrong sign.",
    "n": "{n} times too large, and {n} is the number of samples.",
    "1/n": "{n} times too small, and {n} is the number of samples.",
    "half": "exactly half the right value.",
    "double": "exactly twice the right value.",
}
RATIO_HINTS = {
    "sign": "the residual is y_hat - y (prediction minus target); y - y_hat flips the sign.",
    "n": "you summed over the samples where the formula takes the mean (np.dot already sums, so "
    "a .mean() after it does nothing). Divide the sum by n, or use np.mean(...).",
    "1/n": "you divided by n twice: a mean of something that is already a mean.",
    "half": "the chain rule gives a factor 2: d/dw (w x - y)^2 = 2 (w x - y) x.",
    "double": "there is one factor 2 too many.",
}


@dataclass(frozen=True)
class Factor:
    """Part ``part`` of the answer off by a classic factor: the sign, n, 1/n, half, double (or the
    sign with n, half or double). ``count``: the case's field that n is (``n``, or
    ``world_size``); ``hints`` replace those of ``RATIO_HINTS`` ("other": when no factor fits).
    """

    what: str
    part: Any = ...
    hints: dict[str, str] = field(default_factory=dict)
    count: str = "n"

    def explain(self, got: Any, case: Case, problem: Problem) -> str | None:
        hints = {key: say(hint, got, case) for key, hint in self.hints.items()}
        got, want = (np.asarray(v, dtype=np.float64)[self.part] for v in (got, case.want))
        if close(got, want, problem.rtol):
            return None
        n, letter = case[self.count], "n" if self.count == "n" else "K"
        head = f"{self.what} is {fmt(got)}, but the exact value on this hidden data "
        head += f"({letter} = {n}) is {fmt(want)}"
        ratio = 0.0  # got / want, where that is one number (arrays: the same for every entry)
        if got.shape == want.shape and np.all(want != 0):
            ratios = got / want
            ratio = float(ratios.flat[0]) if np.allclose(ratios, ratios.flat[0], rtol=1e-3) else 0.0
        count = {"n": "number of samples", "world_size": "number of workers"}[self.count]
        factors = {"sign": -1.0, "n": n, "1/n": 1.0 / n, "half": 0.5, "double": 2.0, "-n": -n}
        for key, factor in {**factors, "-half": -0.5, "-double": -2.0}.items():
            if abs(ratio - factor) <= 1e-3 * abs(factor):
                words = f"the sign is wrong and it is off by a factor {abs(factor):g}."
                if key in RATIO_WORDS:
                    words = RATIO_WORDS[key].format(n=n).replace("number of samples", count)
                hint = hints.get(key, RATIO_HINTS.get(key, RATIO_HINTS["sign"]))
                return f"{head}: {words}\n  Hint: {hint}"
        other = hints.get("other", "compare your formula with the lesson, term by term.")
        return f"{head}.\n  Hint: {other}"


def _setting(got: Any, case: Case) -> str:
    """What was run, what came out, what is right: the answer's small inputs, its result."""
    show = _Numbers(4).format_field
    small = [f"{k} = {show(case[k], '')}" for k in case.inputs if np.size(case[k]) <= 4]
    where = f"On hidden data ({', '.join([f'n = {case.n}', *small])})" if "n" in case else ""
    where = where or "For " + ", ".join(small)
    return f"{where} your {case.label} is {fmt(got)}; the right one is {fmt(case.want)}."


@dataclass(frozen=True)
class Problem:
    """One exercise, declared; ``verdict`` checks an answer.

    ``rules``: (a test of what the answer returns, the message if it holds), or a test that returns
    its message (else None); ``read``: that result as numbers; ``steps``: compare every epoch
    (``num_epochs`` = 1, 2, …) with the rows of the reference's ``History``; ``also``: classes the check needs besides the answer (lesson 02's
    ``Value``), stored in each case by name; ``run`` replaces the call of the answer;
    ``as_tensors``: X and y reach the answer as torch tensors; ``errors``: a phrase of the
    answer's error message, and the hint it earns.
    """

    number: str
    points: int
    task: str
    cases: Sequence[Case]
    reference: Callable[[Case], Any]
    passed: str
    read: Callable[[Any, Case], Any] = lambda value, case: value
    rules: Sequence[tuple[Callable[[Any, Case], Any], Message] | Callable[[Any, Case], Any]] = ()
    mistakes: Sequence[Gives | Shows | Factor] = ()
    setting: Message = _setting
    otherwise: Message = "compare your code with the lesson, line by line."
    errors: dict[str, Message] = field(default_factory=dict)
    steps: bool = False
    as_tensors: bool = False
    run: Callable[[Callable[..., Any], Case], Any] | None = None
    also: tuple[str, ...] = ()
    rtol: float = 1e-3
    atol: float = 0.0
    mistake_rtol: float = 1e-4
    digits: int = 4

    @property
    def name(self) -> str:
        """The check's name: ``ex01_3`` for exercise 1.3."""
        lesson, part = self.number.split(".")
        return f"ex{int(lesson):02d}_{part}"

    @property
    def answer(self) -> str:
        """The student's function, as the notebook names it: ``my_train``."""
        return self.task.split("(")[0]

    @property
    def inputs(self) -> list[str]:
        """The fields of a case the answer is called with, in order."""
        return [name for name in re.split(r"[(), ]+", self.task.split(")")[0])[1:] if name]

    def verdict(self, *answers: Any, **named: Any) -> Verdict:
        """Check the student's answers, print one line, return the Verdict."""
        status = "pass"
        try:
            line = f"✓ Exercise {self.number}: right! {self.grade(*answers, **named)}"
        except NotAnswered as err:
            status, line = "todo", f"… Exercise {self.number}: not answered yet. {err}"
        except Wrong as err:
            status, line = "fail", f"✗ Exercise {self.number}: not yet. {err}"
        print(line)
        return Verdict(self.number, status, line, self.points * (status == "pass"), self.points)

    def grade(self, *answers: Any, **named: Any) -> str:
        """``passed`` if the answer is right on every case, else ``Wrong`` or ``NotAnswered``."""
        wanted = [self.answer, *self.also]
        given, call = dict(zip(wanted, answers), **named), ", ".join(wanted)
        if len(answers) > len(wanted) or not set(given) <= set(wanted) or self.answer not in given:
            raise Wrong(f"check.{self.name} takes {call}: call check.{self.name}({call}).")
        fn = core.function(given[self.answer], self.answer)
        extra = {name: given.get(name) for name in self.also}
        for name, cls in extra.items():
            if not isinstance(cls, type):
                raise Wrong(f"pass the lesson's {name} class too: check.{self.name}({call}).")
        label = self.task.split(") -> ")[-1].split(":")[0]
        for case in self.cases:
            case = case.but(name=self.answer, fn=fn, inputs=self.inputs, label=label, **extra)
            want = self.reference(case)  # for steps a History, else the numbers (or a run's)
            if self.steps:  # epoch by epoch: the History's rows 1, 2, …, then its final values
                rows = [*map(np.append, want.w[1:], want.b[1:]), final(want)]
                for k, row in enumerate(rows, start=1):
                    self.compare(fn, case.but(num_epochs=k), row)
            else:
                self.compare(fn, case, final(want) if isinstance(want, History) else want)
        return self.passed

    def compare(self, fn: Callable[..., Any], case: Case, want: Any) -> None:
        """Run the answer on ``case``; return if it gives ``want``, else raise ``Wrong``."""
        got = self.attempt(fn, case)
        if close(got, want, self.rtol, self.atol):
            return
        case = case.but(want=want)
        for mistake in (*case.get("mistakes", ()), *self.mistakes):
            try:
                message = mistake.explain(got, case, self)
            except DivergenceError:  # the run a mistake compares with blows up: not this mistake
                continue
            if message is not None:
                raise Wrong(message)
        raise Wrong(self.failure(got, case, case.get("otherwise", self.otherwise)))

    def attempt(self, fn: Callable[..., Any], case: Case) -> Any:
        """What the answer gives on ``case``, read as numbers; its errors as kind messages."""
        try:
            if self.run is None:
                args = [_copy(case[name]) for name in self.inputs]
                args[:2] = core.tensors(*args[:2]) if self.as_tensors else args[:2]
                value = core.call(fn, self.answer, *args)
            else:
                value = self.run(fn, case)
            for rule in self.rules:  # (a test, its message), or a test that returns the message
                test, message = rule if isinstance(rule, tuple) else (rule, None)
                if broken := test(value, case):
                    raise Wrong(
                        broken if message is None else say(message, value, case, self.digits)
                    )
            return self.read(value, case)
        except Wrong as err:
            for phrase, hint in self.errors.items():
                if phrase in str(err):
                    raise Wrong(f"{err}\n  Hint: {say(hint, None, case, self.digits)}") from None
            raise

    def failure(self, got: Any, case: Case, hint: Message) -> str:
        """The setting (what was run, what came out, what is right), then the hint."""
        setting = say(case.get("setting", self.setting), got, case, self.digits)
        return f"{setting}\n  Hint: {say(hint, got, case, self.digits)}"


def _copy(value: Any) -> Any:
    """A copy of an input, so that an answer that changes it leaves the case untouched."""
    if isinstance(value, (list, tuple)):
        return type(value)(_copy(v) for v in value)
    return value.copy() if isinstance(value, np.ndarray) else value


def exercise(number: str, points: int, task: str, **declared: Any) -> Callable[..., Verdict]:
    """The check a notebook calls, ``check.ex01_3(my_train)``, from a ``Problem``'s arguments;
    its points go into ``POINTS``, its declaration is ``check.ex01_3.problem``."""
    problem = Problem(number, points, task, **declared)

    def check(*answers: Any, **named: Any) -> Verdict:
        return problem.verdict(*answers, **named)

    check.__name__ = check.__qualname__ = problem.name
    check.__doc__ = f"Check ``{task}`` (exercise {number}, {points} point{'s' * (points > 1)})."
    kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter(p, kind) for p in [problem.answer, *problem.also]]
    check.__signature__ = inspect.Signature(params, return_annotation=Verdict)  # type: ignore
    check.problem = problem  # type: ignore[attr-defined]
    core.POINTS[problem.name] = points
    return check
