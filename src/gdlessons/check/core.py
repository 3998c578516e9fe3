"""What every lesson's checks share: outcomes, safe calls, numbers, diagnoses, hidden data.

A check is a grader wrapped by ``@exercise("1.3", points=2)``: the grader returns the success
message or raises ``Wrong`` (what is wrong, and a hint) or ``NotAnswered``; the wrapper prints the
line and returns a ``Verdict``. Student code runs only through ``call``: ``NotImplementedError``
means "not answered yet", another exception a kind message. No torch is imported here.

>>> compare(2.0, 2.0005, "you get 2.0.", [(4.0, "twice as large.")], "look again.")
>>> compare(4.0, 2.0, "you get 4.0.", [(4.0, "twice as large.")], "look again.")
Traceback (most recent call last):
gdlessons.check.core.Wrong: you get 4.0.
  Hint: twice as large.
"""

from __future__ import annotations

import functools
import inspect
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gdlessons.data import make_linear_data
from gdlessons.history import DivergenceError, History

__all__ = [
    "POINTS",
    "NotAnswered",
    "Verdict",
    "Wrong",
    "call",
    "close",
    "compare",
    "diagnose",
    "exercise",
    "final",
    "fmt",
    "function",
    "hidden",
    "number",
    "pair",
    "tensors",
    "vector",
    "w_b",
]

# Points per check, {"ex01_1": 1, ...}: filled by @exercise, where each check is declared.
POINTS: dict[str, int] = {}


# ---- Outcomes: what a grader raises, what a check returns


class NotAnswered(Exception):
    """The student has not answered yet (NotImplementedError, or a value still None)."""


class Wrong(Exception):
    """The answer is wrong; the message says what and gives a hint."""


@dataclass(frozen=True, repr=False)
class Verdict:
    """What a check returns, for grading: truthy iff the answer passed.

    ``message`` is the line the check printed; ``points`` is ``max_points`` for a pass, else 0.

    >>> v = Verdict("1.3", "pass", "✓ Exercise 1.3: right! ...", 2, 2)
    >>> v, bool(v), bool(Verdict("1.3", "todo", "… ...", 0, 2))
    (<Verdict 1.3: pass, 2/2 points>, True, False)
    """

    exercise: str
    status: Literal["pass", "fail", "todo"]
    message: str
    points: int
    max_points: int

    def __bool__(self) -> bool:
        return self.status == "pass"

    def __repr__(self) -> str:
        unit = "point" if self.max_points == 1 else "points"
        return f"<Verdict {self.exercise}: {self.status}, {self.points}/{self.max_points} {unit}>"

    def _ipython_display_(self) -> None:
        """Show nothing: a cell ending with ``check.ex01_1(...)`` already printed its line."""


def exercise(number: str, points: int) -> Callable[[Callable[..., str]], Callable[..., Verdict]]:
    """Turn a grader into a check that prints one line and returns a ``Verdict``.

    ``number`` ("1.3") must fit the grader's name (``ex01_3``); ``points`` go into ``POINTS``.
    """

    def decorate(grader: Callable[..., str]) -> Callable[..., Verdict]:
        name = grader.__name__
        lesson, part = number.split(".")
        if name != f"ex{int(lesson):02d}_{part}" or points < 1:
            raise ValueError(f"@exercise({number!r}, points={points}) does not fit {name}")
        POINTS[name] = points
        signature = inspect.signature(grader)

        @functools.wraps(grader)
        def check(*answers: Any, **named: Any) -> Verdict:
            status = "pass"
            try:
                try:
                    signature.bind(*answers, **named)
                except TypeError:  # too many or too few answers: say how to call it
                    wanted = ", ".join(signature.parameters)
                    raise Wrong(
                        f"check.{name} takes {wanted}: call check.{name}({wanted})."
                    ) from None
                line = f"✓ Exercise {number}: right! {grader(*answers, **named)}"
            except NotAnswered as err:
                status, line = "todo", f"… Exercise {number}: not answered yet. {err}"
            except Wrong as err:
                status, line = "fail", f"✗ Exercise {number}: not yet. {err}"
            print(line)
            return Verdict(number, status, line, points if status == "pass" else 0, points)

        return check

    return decorate


# ---- Calling student code safely


def function(answer: Any, name: str) -> Callable[..., Any]:
    """The student's function, or a kind message when something else was passed."""
    if answer is None:
        raise NotAnswered(f"Pass your function {name} to the check.")
    if not callable(answer):
        raise Wrong(
            f"the check wants your function {name} itself, but got a {type(answer).__name__}. "
            f"Write the name without parentheses: check(...{name}), not {name}(...)."
        )
    return answer


def call(fn: Callable[..., Any], name: str, *args: Any) -> Any:
    """Run student code: NotImplementedError means not answered, other errors become a message."""
    own = getattr(fn, "__name__", "")
    name = own if isinstance(own, str) and own.isidentifier() else name  # theirs, unless a lambda
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. PyTorch's broadcasting warning: the hints cover it
        try:
            with np.errstate(all="ignore"):
                return fn(*args)
        except (Wrong, NotAnswered):  # from a check's own call inside this one: already worded
            raise
        except NotImplementedError as err:
            raise NotAnswered(_not_answered(name, err)) from None
        except Exception as err:  # noqa: BLE001 (the student's bug: named kindly)
            raise Wrong(
                f"{name} raised {type(err).__name__}: {err}\n"
                f"  It was called with {describe(args)}. Call it yourself with the toy data to "
                "see the line that fails."
            ) from None


def _not_answered(name: str, err: BaseException) -> str:
    """Say which function still raises NotImplementedError: the one checked, or one it calls."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_name if tb is not None else name
    if where not in (name, "<lambda>") and where.startswith("my_"):
        return (
            f"{name} calls {where}, which still raises NotImplementedError: answer that "
            "exercise first."
        )
    return (
        f"{name} still raises NotImplementedError: put your code in place of the lines under "
        "# YOUR CODE HERE, run that cell, then this one."
    )


def describe(args: Iterable[Any]) -> str:
    """The arguments a student function was called with: shapes for arrays, reprs otherwise."""
    parts = []
    for arg in args:
        shape, kind = getattr(arg, "shape", None), type(arg).__name__
        try:
            parts.append(repr(arg) if shape is None else f"{kind} of shape {tuple(shape)}")
        except Exception:  # noqa: BLE001 (a student's class whose __repr__ fails)
            parts.append(f"a {kind}")
    return "(" + ", ".join(parts) + ")"


# ---- Turning answers into numbers


def number(value: Any, what: str, hint_if_array: str = "") -> float:
    """A student's result as a float, or a message about its type or shape."""
    if value is None:
        raise Wrong(f"{what} is None. Did you forget the `return` line?")
    if isinstance(value, (tuple, list)):
        raise Wrong(
            f"{what} should be one number, but is a {type(value).__name__} of {len(value)} "
            f"items. {hint_if_array}".rstrip()
        )
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if np.size(value) != 1:
        raise Wrong(
            f"{what} should be one number, but has shape {np.shape(value)}. "
            f"{hint_if_array}".rstrip()
        )
    try:
        result = float(np.asarray(value, dtype=np.float64).reshape(()))
    except Exception:  # noqa: BLE001 (strings, objects: not a number)
        raise Wrong(f"{what} should be a number, but is a {type(value).__name__}.") from None
    if not math.isfinite(result):
        raise Wrong(f"{what} is {result}: the computation blew up. {hint_if_array}".rstrip())
    return result


def pair(value: Any, what: str, names: str = "(dw, db)") -> tuple[Any, Any]:
    """The two items of a student's ``return a, b``, or a message saying it is not a pair."""
    sequence = isinstance(value, (tuple, list))
    if sequence and len(value) == 2:
        return value[0], value[1]
    kind = f"{len(value)} items" if sequence else f"a {type(value).__name__}"
    raise Wrong(
        f"{what} should be a pair {names}, but is {kind}. End the function with "
        f"`return {names[1:-1]}`."
    )


def vector(value: Any, d: int, what: str) -> np.ndarray:
    """A student's weight vector as a float64 array of shape (d,)."""
    if value is None:
        raise Wrong(f"{what} is None. Did you forget the `return` line?")
    try:
        arr = np.asarray(value.detach() if hasattr(value, "detach") else value, dtype=np.float64)
    except Exception:  # noqa: BLE001 (strings, objects, ragged lists: not numbers)
        raise Wrong(f"{what} should be numbers, but is a {type(value).__name__}.") from None
    if arr.size == d and arr.shape != (d,):
        arr = arr.reshape(d)  # (1, d), (d, 1) and the like: the same numbers
    if arr.shape != (d,):
        raise Wrong(
            f"{what} should have shape ({d},), one weight per feature, but has shape {arr.shape}."
        )
    if not np.all(np.isfinite(arr)):
        raise Wrong(f"{what} holds inf or NaN: the run blew up.")
    return arr


def w_b(value: Any, d: int, name: str) -> np.ndarray:
    """A student's final ``(w, b)`` with w of shape (d,), as one array ``[*w, b]``."""
    w, b = pair(value, f"What {name} returns", "(w, b)")
    return np.append(vector(w, d, "Your final w"), number(b, "Your final b"))


def final(h: History) -> np.ndarray:
    """A run's final parameters as one array ``[*w, b]``."""
    return np.append(np.asarray(h.w_final, dtype=np.float64).reshape(-1), h.b_final)


# ---- Comparing with the right answer, and diagnosing known mistakes


def close(got: Any, want: Any, rtol: float = 1e-4) -> bool:
    """Same shape and equal to ``rtol`` times the size of ``want`` (at least 1)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(want))))
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= rtol * scale))


def fmt(x: Any) -> str:
    """A number with 4 significant digits, or an array with 4 decimals."""
    if np.ndim(x) == 0:
        return f"{float(x):.4g}"
    return np.array2string(np.asarray(x, dtype=np.float64), precision=4, separator=", ")


def compare(
    got: Any,
    want: Any,
    setting: str,
    known_mistakes: Iterable[tuple[Any, str]] = (),
    fallback_hint: str = "compare your code with the lesson, line by line.",
    *,
    rtol: float = 1e-3,
    mistake_rtol: float = 1e-4,
) -> None:
    """Return if ``got`` is ``want`` (to ``rtol``); else raise ``Wrong``: ``setting`` and a hint.

    ``setting`` says what was run and what came out. The hint is that of the first known mistake
    that ``got`` shows, else ``fallback_hint``. A mistake is the wrong answer it gives (matched to
    ``mistake_rtol``), or a function computing that answer only when needed (returning None or
    raising DivergenceError: not this mistake), or a bool: whether ``got`` shows it.
    """
    if close(got, want, rtol):
        return
    for mistake, hint in known_mistakes:
        if _shows(got, mistake, mistake_rtol):
            raise Wrong(f"{setting}\n  Hint: {hint}")
    raise Wrong(f"{setting}\n  Hint: {fallback_hint}")


def _shows(got: Any, mistake: Any, rtol: float) -> bool:
    if callable(mistake):
        try:
            mistake = mistake()
        except DivergenceError:  # that wrong run blows up, so it is not what the student got
            return False
    if mistake is None or isinstance(mistake, (bool, np.bool_)):
        return bool(mistake)
    return close(got, mistake, rtol)


def diagnose(
    got: Any,
    want: Any,
    n: int,
    what: str,
    hints: dict[str, str] | None = None,
    count: str = "number of samples",
    rtol: float = 1e-4,
) -> None:
    """Return if ``got`` is ``want`` (to ``rtol``); else raise ``Wrong`` naming a classic factor.

    The factors: the sign, ``n``, ``1/n``, half, double (and the sign with n, half or double).
    ``n`` is the count that a classic mistake multiplies by (samples, or workers: ``count`` names
    it). ``hints`` replace the default hint of a factor (keys as in ``RATIO_HINTS``, "-n",
    "-half", "-double" and "other").
    """
    if close(got, want, rtol):
        return
    hints = hints or {}
    symbol = "n" if count == "number of samples" else "K"
    head = (
        f"{what} is {fmt(got)}, but the exact value on this hidden data ({symbol} = {n}) "
        f"is {fmt(want)}"
    )
    got, want = _common_ratio_form(got, want)
    factors = {"sign": -1.0, "n": n, "1/n": 1.0 / n, "half": 0.5, "double": 2.0, "-n": -n}
    for key, factor in {**factors, "-half": -0.5, "-double": -2.0}.items():
        if want != 0 and got != 0 and abs(got / want - factor) <= 1e-3 * abs(factor):
            if key in RATIO_WORDS:
                words = RATIO_WORDS[key].format(n=n).replace("number of samples", count)
            else:
                words = f"the sign is wrong and it is off by a factor {abs(factor):g}."
            hint = hints.get(key, RATIO_HINTS.get(key, RATIO_HINTS["sign"]))
            raise Wrong(f"{head}: {words}\n  Hint: {hint}")
    other = hints.get("other", "compare your formula with the lesson, term by term.")
    raise Wrong(f"{head}.\n  Hint: {other}")


def _common_ratio_form(got: Any, want: Any) -> tuple[float, float]:
    """Arrays off by one common factor reduce to (factor, 1); anything else to (0, 0): no ratio."""
    if np.ndim(want) == 0 and np.ndim(got) == 0:
        return float(got), float(want)
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.all(want != 0):
        return 0.0, 0.0
    ratio = float((got / want).flat[0])
    return (ratio, 1.0) if np.allclose(got / want, ratio, rtol=1e-3) else (0.0, 0.0)


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


# ---- Hidden data: a few small problems the student has not seen, each from a fixed seed


def hidden(n: int, w: Any, b: float, seed: int, noise: float = 0.5) -> tuple[Any, Any]:
    """``n`` samples of ``y = X w + b + noise``, float32, from ``seed``."""
    return make_linear_data(n, w=w, b=b, noise=noise, seed=seed)


def tensors(X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    """``X`` and ``y`` as torch tensors of their own (the check's arrays stay untouched)."""
    import torch

    return torch.from_numpy(X.copy()), torch.from_numpy(y.copy())
