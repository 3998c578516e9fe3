"""What every check shares: outcomes, safe calls to student code, answers read as numbers.

Student code runs only through ``call``. A wrong answer raises ``Wrong`` (what is wrong, and a
hint), an unanswered one ``NotAnswered``. No torch is imported here.

>>> number([1.0, 2.0], "Your dw")
Traceback (most recent call last):
gdlessons.check.core.Wrong: Your dw should be one number, but is a list of 2 items.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

__all__ = ["POINTS", "NotAnswered", "Verdict", "Wrong", "call", "close", "fmt", "function"]
__all__ += ["number", "pair", "read_number", "read_pair", "tensors", "vector"]

# Points per check, {"ex01_1": 1, ...}: filled where each check is declared (problem.exercise).
POINTS: dict[str, int] = {}


class NotAnswered(Exception):
    """The student has not answered yet (NotImplementedError, or None passed)."""


class Wrong(Exception):
    """The answer is wrong; the message says what and gives a hint."""


@dataclass(frozen=True, repr=False)
class Verdict:
    """What a check returns, for grading: truthy iff the answer passed (``message``: its line).

    >>> Verdict("1.3", "pass", "✓ Exercise 1.3: right! ...", 2, 2)
    <Verdict 1.3: pass, 2/2 points>
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


def call(fn: Callable[..., Any], name: str, *args: Any, hint: str = "") -> Any:
    """Run student code: NotImplementedError means not answered, other errors become a message
    (``hint`` in place of the one that shows the arguments)."""
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
            tb = err.__traceback__
            while tb.tb_next is not None:
                tb = tb.tb_next
            where = tb.tb_frame.f_code.co_name  # the function that still raises it
            if where not in (name, "<lambda>") and where.startswith("my_"):
                raise NotAnswered(
                    f"{name} calls {where}, which still raises NotImplementedError: answer that "
                    "exercise first."
                ) from None
            raise NotAnswered(
                f"{name} still raises NotImplementedError: put your code in place of the lines "
                "under # YOUR CODE HERE, run that cell, then this one."
            ) from None
        except Exception as err:  # noqa: BLE001 (the student's bug: named kindly)
            hint = hint or (
                f"  It was called with ({', '.join(map(_shown, args))}). Call it yourself with "
                "the toy data to see the line that fails."
            )
            raise Wrong(f"{name} raised {type(err).__name__}: {err}\n{hint}") from None


def _shown(arg: Any) -> str:
    """An argument as ``call`` names it: its shape for an array, else its repr."""
    shape, kind = getattr(arg, "shape", None), type(arg).__name__
    try:
        return repr(arg) if shape is None else f"{kind} of shape {tuple(shape)}"
    except Exception:  # noqa: BLE001 (a student's class whose __repr__ fails)
        return f"a {kind}"


def number(value: Any, what: str, hint_if_array: str = "") -> float:
    """A student's result as a float, or a message about its type or shape."""
    if value is None:
        raise Wrong(f"{what} is None. Did you forget the `return` line?")
    if isinstance(value, (tuple, list)):
        kind = f"a {type(value).__name__} of {len(value)} items"
        raise Wrong(f"{what} should be one number, but is {kind}. {hint_if_array}".rstrip())
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    if np.size(value) != 1:
        shape = np.shape(value)
        raise Wrong(f"{what} should be one number, but has shape {shape}. {hint_if_array}".rstrip())
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


def read_number(what: str, hint: str = "") -> Callable[[Any, Any], float]:
    """A reader of one number: ``what`` names it in messages, ``hint`` helps when it is not one."""
    return lambda value, case: number(value, what, hint)


def read_pair(
    names: str = "(dw, db)",
    what: str = "Your dw, Your db",
    hints: tuple = ("", ""),
    d: bool = False,
) -> Callable[[Any, Any], np.ndarray]:
    """A reader of ``return a, b``: two numbers (``d``: ``case.d`` numbers, then one), one array."""

    def read(value: Any, case: Any) -> np.ndarray:
        a, b = pair(value, f"What {case.name} returns", names)
        first, second = what.split(", ")
        a = vector(a, case.d, first) if d else number(a, first, hints[0])
        return np.append(a, number(b, second, hints[1]))

    return read


def tensors(*arrays: np.ndarray) -> tuple[Any, ...]:
    """The arrays as torch tensors of their own (the check's arrays stay untouched)."""
    import torch

    return tuple(torch.from_numpy(np.array(a)) for a in arrays)


def close(got: Any, want: Any, rtol: float = 1e-4, atol: float = 0.0) -> bool:
    """Same shape and equal to ``rtol`` times the size of ``want`` (at least 1), plus ``atol``."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= rtol * scale + atol))


def fmt(x: Any, digits: int = 4) -> str:
    """A number, or each number of an array, with ``digits`` significant digits.

    >>> fmt(2 / 3), fmt([[1.0, -0.5], [1 / 3, 1e-6]])
    ('0.6667', '[[1, -0.5], [0.3333, 1e-06]]')
    """
    if np.ndim(x) == 0:
        return f"{float(x):.{digits}g}"
    return "[" + ", ".join(fmt(v, digits) for v in np.asarray(x, dtype=np.float64)) + "]"
