"""Self-checks for the exercises: kind messages, specific hints, never a traceback.

Each exercise notebook ends an exercise with a call such as ``check.ex01_1(my_gradient)``. The
check runs the student's answer on hidden data, generated here from fixed seeds (never only the
lesson's toy data), compares it with the package's own math (``mse_gradient``, ``train_*``,
``lipschitz_constant``) and prints one line:

- ``✓ Exercise 1.1: …`` when the answer is right, saying what was checked;
- ``✗ Exercise 1.1: not yet. …`` with what is wrong (a factor n? the sign? the shape? the bias?)
  and a hint, when it is wrong, also when the student's code raised an exception;
- ``… Exercise 1.1: not answered yet …`` while the starter still raises ``NotImplementedError``.

A check returns ``None``: what it prints is the feedback. Only a bug in a check itself raises, so
that CI (which executes the exercise notebooks) still fails on a real error.

>>> ex01_1(lambda X, y, y_hat: float(np.mean(2 * X * (y_hat - y))))
✓ Exercise 1.1: right! ...
"""

from __future__ import annotations

import functools
import math
import warnings
from typing import Any, Callable

import numpy as np

from gdlessons.data import make_linear_data, toy_data
from gdlessons.gradcheck import numerical_gradient
from gdlessons.numpy_gd import forward, lipschitz_constant, mse_gradient, mse_loss
from gdlessons.history import DivergenceError, History
from gdlessons.train import train_autograd, train_nn, train_numpy

__all__ = [
    "ex01_1",
    "ex01_2",
    "ex01_3",
    "ex01_4",
    "ex01_5",
    "ex02_1",
    "ex02_2",
    "ex02_3",
    "ex02_4",
    "ex03_1",
    "ex03_2",
    "ex03_3",
    "ex03_4",
    "ex03_5",
    "ex04_1",
    "ex04_2",
    "ex04_3",
    "ex05_1",
    "ex05_2",
    "ex05_3",
]

PASS, FAIL, TODO = "✓", "✗", "…"


# --------------------------------------------------------------------------------------------
# The machinery: outcomes, calling student code safely, comparing numbers with a diagnosis
# --------------------------------------------------------------------------------------------


class _NotAnswered(Exception):
    """The student has not answered yet (NotImplementedError, or a value still None)."""


class _Wrong(Exception):
    """The answer is wrong; the message says what and gives a hint."""


def _exercise(number: str) -> Callable[[Callable[..., str]], Callable[..., None]]:
    """Turn a grader (returns the success message, raises _Wrong/_NotAnswered) into a check that prints."""

    def decorate(grader: Callable[..., str]) -> Callable[..., None]:
        @functools.wraps(grader)
        def check(*answers: Any) -> None:
            try:
                line = f"{PASS} Exercise {number}: right! {grader(*answers)}"
            except _NotAnswered as err:
                line = f"{TODO} Exercise {number}: not answered yet. {err}"
            except _Wrong as err:
                line = f"{FAIL} Exercise {number}: not yet. {err}"
            print(line)

        return check

    return decorate


def _function(answer: Any, name: str) -> Callable[..., Any]:
    """The student's function, or a kind message when something else was passed."""
    if answer is None:
        raise _NotAnswered(f"Pass your function {name} to the check.")
    if not callable(answer):
        raise _Wrong(
            f"the check wants your function {name} itself, but got a {type(answer).__name__}. "
            f"Write the name without parentheses: check(...{name}), not {name}(...)."
        )
    return answer


def _call(fn: Callable[..., Any], name: str, *args: Any) -> Any:
    """Run student code; NotImplementedError means not answered, any other error becomes a message."""
    own = getattr(fn, "__name__", "")
    name = own if own.isidentifier() else name  # the student's own name for it, unless a lambda
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. PyTorch's broadcasting warning: the hints cover it
        try:
            with np.errstate(all="ignore"):
                return fn(*args)
        except NotImplementedError as err:
            raise _NotAnswered(_not_answered(name, err)) from None
        except Exception as err:  # the student's bug: name it kindly, no traceback
            raise _Wrong(
                f"{name} raised {type(err).__name__}: {err}\n"
                f"  It was called with {_describe(args)}. Call it yourself with the toy data to see "
                "the line that fails."
            ) from None


def _not_answered(name: str, err: BaseException) -> str:
    """Say which function still raises NotImplementedError: the one checked, or one it calls."""
    tb = err.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = tb.tb_frame.f_code.co_name if tb is not None else name
    if where not in (name, "<lambda>") and where.startswith("my_"):
        return f"{name} calls {where}, which still raises NotImplementedError: answer that exercise first."
    return (
        f"{name} still raises NotImplementedError: put your code in place of the lines under "
        "# YOUR CODE HERE, run that cell, then this one."
    )


def _describe(args: tuple[Any, ...]) -> str:
    parts = []
    for arg in args:
        shape = getattr(arg, "shape", None)
        if shape is not None:
            parts.append(f"{type(arg).__name__} of shape {tuple(shape)}")
        else:
            parts.append(repr(arg))
    return "(" + ", ".join(parts) + ")"


def _number(value: Any, what: str, hint_if_array: str = "") -> float:
    """A student's result as a float, or a message about its type or shape."""
    if value is None:
        raise _Wrong(f"{what} is None. Did you forget the `return` line?")
    if isinstance(value, (tuple, list)):
        raise _Wrong(f"{what} should be one number, but is a {type(value).__name__} of {len(value)} items. {hint_if_array}".rstrip())
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    size = np.size(value)
    if size != 1:
        raise _Wrong(f"{what} should be one number, but has shape {np.shape(value)}. {hint_if_array}".rstrip())
    try:
        number = float(np.asarray(value, dtype=np.float64).reshape(()))
    except (TypeError, ValueError):
        raise _Wrong(f"{what} should be a number, but is a {type(value).__name__}.") from None
    if not math.isfinite(number):
        raise _Wrong(f"{what} is {number}: the computation blew up. {hint_if_array}".rstrip())
    return number


def _pair(value: Any, what: str, names: str = "(dw, db)") -> tuple[Any, Any]:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return value[0], value[1]
    kind = f"a {type(value).__name__}" if not isinstance(value, (tuple, list)) else f"{len(value)} items"
    raise _Wrong(f"{what} should be a pair {names}, but is {kind}. End the function with `return {names[1:-1]}`.")


def _close(got: Any, want: Any, rtol: float = 1e-4) -> bool:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    scale = max(1.0, float(np.max(np.abs(want))))
    return got.shape == want.shape and bool(np.all(np.abs(got - want) <= rtol * scale))


def _fmt(x: Any) -> str:
    if np.ndim(x) == 0:
        return f"{float(x):.4g}"
    return np.array2string(np.asarray(x, dtype=np.float64), precision=4, separator=", ")


def _factor(
    got: Any, want: Any, n: int, what: str, hints: dict[str, str] | None = None, count: str = "number of samples"
) -> None:
    """Raise _Wrong with the most specific diagnosis for a number (or array) that should equal ``want``.

    ``n`` is the count that a classic mistake multiplies by (samples, or workers: ``count`` names it).
    """
    if _close(got, want):
        return
    hints = hints or {}
    symbol = "n" if count == "number of samples" else "K"
    head = f"{what} is {_fmt(got)}, but the exact value on this hidden data ({symbol} = {n}) is {_fmt(want)}"
    got, want = _common_ratio_form(got, want)
    if want != 0 and got != 0:
        ratio = got / want
        named = [("sign", -1.0), ("n", float(n)), ("1/n", 1.0 / n), ("half", 0.5), ("double", 2.0)]
        for key, factor in named:
            if abs(ratio - factor) <= 1e-3 * abs(factor):
                words = _RATIO_WORDS[key].format(n=n).replace("number of samples", count)
                raise _Wrong(f"{head}: {words}\n  Hint: {hints.get(key, _RATIO_HINTS[key])}")
        for key, factor in [("-n", -float(n)), ("-half", -0.5), ("-double", -2.0)]:
            if abs(ratio - factor) <= 1e-3 * abs(factor):
                raise _Wrong(f"{head}: the sign is wrong and it is off by a factor {abs(factor):g}.\n  Hint: {hints.get(key, _RATIO_HINTS['sign'])}")
    raise _Wrong(f"{head}.\n  Hint: {hints.get('other', 'compare your formula with the lesson, term by term.')}")


def _common_ratio_form(got: Any, want: Any) -> tuple[float, float]:
    """Arrays off by one common factor reduce to (factor, 1); anything else to (0, 0): no ratio."""
    if np.ndim(want) == 0 and np.ndim(got) == 0:
        return float(got), float(want)
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or not np.all(want != 0):
        return 0.0, 0.0
    ratios = got / want
    return (float(ratios.flat[0]), 1.0) if np.allclose(ratios, ratios.flat[0], rtol=1e-3) else (0.0, 0.0)


_RATIO_WORDS = {
    "sign": "right size, wrong sign.",
    "n": "{n} times too large, and {n} is the number of samples.",
    "1/n": "{n} times too small, and {n} is the number of samples.",
    "half": "exactly half the right value.",
    "double": "exactly twice the right value.",
}
_RATIO_HINTS = {
    "sign": "the residual is y_hat - y (prediction minus target); y - y_hat flips the sign.",
    "n": "you summed over the samples where the formula takes the mean (np.dot already sums, so a "
    ".mean() after it does nothing). Divide the sum by n, or use np.mean(...).",
    "1/n": "you divided by n twice: a mean of something that is already a mean.",
    "half": "the chain rule gives a factor 2: d/dw (w x - y)^2 = 2 (w x - y) x.",
    "double": "there is one factor 2 too many.",
}


def _reject_answer_like(got: Any, wrong: Any, message: str) -> None:
    """Raise _Wrong(message) if the student's result matches a known wrong answer."""
    if wrong is not None and _close(got, wrong):
        raise _Wrong(message)


# Hidden data: a few small problems the student has not seen, each from a fixed seed.

def _hidden(n: int, w: Any, b: float, seed: int, noise: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    return make_linear_data(n, w=w, b=b, noise=noise, seed=seed)


# --------------------------------------------------------------------------------------------
# Lesson 01: gradient descent by hand, in NumPy
# --------------------------------------------------------------------------------------------


@_exercise("1.1")
def ex01_1(my_gradient: Callable[..., Any]) -> str:
    """Check ``my_gradient(X, y, y_hat) -> dw``, the MSE gradient of ``y_hat = w x`` (no bias).

    >>> ex01_1(lambda X, y, y_hat: float(np.dot(2 * X, y_hat - y).mean()))
    ✗ Exercise 1.1: not yet. Your dw is -27.84, but the exact value on this hidden data (n = 7) is -3.977: 7 times too large, and 7 is the number of samples.
      Hint: you summed over the samples where the formula takes the mean (np.dot already sums, ...
    """
    fn = _function(my_gradient, "my_gradient")
    for n, w_true, w, seed in [(7, 2.5, 0.7, 101), (50, -1.5, 0.3, 102)]:
        X, y = _hidden(n, w_true, 0.0, seed)
        y_hat = forward(X, w)
        got = _number(
            _call(fn, "my_gradient", X, y, y_hat),
            "Your dw",
            "Return one number: the mean over the samples of 2 x (y_hat - y). Only dw, no db: this model has no bias.",
        )
        _factor(got, mse_gradient(X, y, y_hat)[0], n, "Your dw")
    return "my_gradient matches the exact gradient on two hidden data sets (n = 7 and n = 50)."


@_exercise("1.2")
def ex01_2(my_gradient_with_bias: Callable[..., Any]) -> str:
    """Check ``my_gradient_with_bias(X, y, y_hat) -> (dw, db)`` for ``y_hat = w x + b``.

    >>> ex01_2(lambda X, y, y_hat: (float(np.mean(2 * X * (y_hat - y))), 0.0))
    ✗ Exercise 1.2: not yet. Your db is 0...forgot...
    """
    fn = _function(my_gradient_with_bias, "my_gradient_with_bias")
    for n, (w_true, b_true), (w, b), seed in [(7, (2.5, -1.0), (0.7, 0.4), 121), (40, (-1.5, 3.0), (0.3, -0.5), 122)]:
        X, y = _hidden(n, w_true, b_true, seed)
        y_hat = forward(X, w, b)
        dw_want, db_want = mse_gradient(X, y, y_hat)
        dw, db = _pair(_call(fn, "my_gradient_with_bias", X, y, y_hat), "What my_gradient_with_bias returns")
        dw = _number(dw, "Your dw", "dw is one number here: the mean over the samples of 2 x (y_hat - y).")
        db = _number(db, "Your db", "db is one number: the mean over the samples of 2 (y_hat - y).")
        if _close(dw, db_want) and _close(db, dw_want):
            raise _Wrong("dw and db are swapped. Return (dw, db): the gradient for w first.")
        if db == 0.0:
            raise _Wrong(
                f"Your db is 0, but on this hidden data (n = {n}) it is {_fmt(db_want)}: the bias was "
                "forgotten.\n  Hint: differentiate (w x + b - y)^2 with respect to b: the inner "
                "derivative is 1, so db = mean(2 (y_hat - y))."
            )
        _factor(dw, dw_want, n, "Your dw")
        _factor(db, db_want, n, "Your db", {"half": "the chain rule gives a factor 2: d/db (w x + b - y)^2 = 2 (w x + b - y)."})
    return "both dw and db match the exact gradient on two hidden data sets (n = 7 and n = 40)."


@_exercise("1.3")
def ex01_3(my_train: Callable[..., Any]) -> str:
    """Check ``my_train(X, y, lr, num_epochs) -> (w, b)``: gradient descent with a bias from w = b = 0.

    >>> def my_train(X, y, lr, num_epochs):
    ...     h = train_numpy(X, y, lr, num_epochs, w0=0.0, b0=0.0)
    ...     return h.w_final, h.b_final
    >>> ex01_3(my_train)
    ✓ Exercise 1.3: right! ...
    """
    fn = _function(my_train, "my_train")
    for n, (w_true, b_true), lr, num_epochs, seed in [(30, (-1.5, 2.0), 0.05, 20, 131), (9, (0.8, -3.0), 0.1, 7, 132)]:
        X, y = _hidden(n, w_true, b_true, seed)
        want = train_numpy(X, y, lr, num_epochs, w0=0.0, b0=0.0)
        w, b = _pair(_call(fn, "my_train", X, y, lr, num_epochs), "What my_train returns", "(w, b)")
        w = _number(w, "Your final w", "Did the updates grow instead of shrink? Subtract lr * gradient.")
        b = _number(b, "Your final b", "Did the updates grow instead of shrink? Subtract lr * gradient.")
        got = np.array([w, b])
        if _close(got, [want.w_final, want.b_final], rtol=1e-3):
            continue
        setting = f"on hidden data (n = {n}, lr = {lr}, num_epochs = {num_epochs}) you get w = {w:.4g}, b = {b:.4g}; the right result is w = {want.w_final:.4g}, b = {want.b_final:.4g}."
        if b == 0.0:
            raise _Wrong(f"{setting}\n  Hint: b never moved. Update it too: b = b - lr * db.")
        for epochs, words in [(num_epochs - 1, "one epoch too few"), (num_epochs + 1, "one epoch too many")]:
            other = train_numpy(X, y, lr, epochs, w0=0.0, b0=0.0) if epochs >= 1 else None
            if other is not None:
                _reject_answer_like(got, [other.w_final, other.b_final], f"{setting}\n  Hint: that is {words}: loop `for epoch in range(num_epochs)`.")
        nobias = train_numpy(X, y, lr, num_epochs)
        _reject_answer_like(got[:1], [nobias.w_final], f"{setting}\n  Hint: w is the no-bias run's w: compute y_hat = w * X + b, with the current b, in every epoch.")
        try:
            classic = train_numpy(X, y, n * lr, num_epochs, w0=0.0, b0=0.0)
            _reject_answer_like(got, [classic.w_final, classic.b_final], f"{setting}\n  Hint: your steps are {n} times too large, as if lr were {n} * lr: your gradient sums over the samples instead of averaging.")
        except DivergenceError:
            pass
        raise _Wrong(f"{setting}\n  Hint: start from w = 0.0 and b = 0.0; in each epoch compute y_hat, then (dw, db), then update both with the gradient at the *same* y_hat.")
    return "my_train gives the same w and b as train_numpy on two hidden data sets."


@_exercise("1.4")
def ex01_4(my_lr_max: Callable[..., Any]) -> str:
    """Check ``my_lr_max(X) -> float``: the bound 2/L below which gradient descent (no bias) converges.

    >>> ex01_4(lambda X: 1 / float(np.mean(X ** 2)))
    ✓ Exercise 1.4: right! ...
    """
    fn = _function(my_lr_max, "my_lr_max")
    hints = {
        "half": "that is 1/L, the learning rate that lands on the minimum in one step. Gradient descent still converges (zig-zagging) up to twice that: the error is multiplied by (1 - lr L) each step.",
        "double": "L = 2 mean(x²) already holds the factor 2 of the gradient; the bound is 2/L = 1 / mean(x²).",
        "1/n": "you used the sum of x² where L has the mean: L = 2 mean(x²).",
        "n": "L has the mean of x², not the sum.",
        "other": "each step multiplies the error w - w* by (1 - lr L) with L = 2 mean(x²); it shrinks iff |1 - lr L| < 1.",
    }
    for n, seed in [(25, 141), (6, 142)]:
        X, _ = _hidden(n, 1.0, 0.0, seed)
        X = 1.5 * X + 0.5
        got = _number(_call(fn, "my_lr_max", X), "Your lr_max")
        _factor(got, 2.0 / lipschitz_constant(X), n, "Your lr_max", hints)
    X_toy, _ = toy_data()
    return f"my_lr_max gives 2/L on two hidden data sets; on the toy data it is {2 / lipschitz_constant(X_toy):.4f}."


@_exercise("1.5")
def ex01_5(my_gradient_nd: Callable[..., Any]) -> str:
    """Check ``my_gradient_nd(X, y, y_hat) -> (dw, db)`` for X of shape (n, d): dw has shape (d,).

    >>> ex01_5(lambda X, y, y_hat: (2 / len(y) * X.T @ (y_hat - y), float(np.mean(2 * (y_hat - y)))))
    ✓ Exercise 1.5: right! ...
    """
    fn = _function(my_gradient_nd, "my_gradient_nd")
    for n, w_true, b_true, seed in [(40, [2.0, -3.4, 0.5], 4.2, 151), (9, [1.0, 0.5, -2.0, 3.0], -1.0, 152)]:
        X, y = _hidden(n, w_true, b_true, seed)
        d = X.shape[1]
        w = np.linspace(-1.0, 1.0, d, dtype=np.float32)
        y_hat = forward(X, w, 0.3)
        dw_want, db_want = mse_gradient(X, y, y_hat)
        dw, db = _pair(_call(fn, "my_gradient_nd", X, y, y_hat), "What my_gradient_nd returns")
        if hasattr(dw, "detach"):
            dw = dw.detach().cpu().numpy()
        shape = np.shape(dw)
        where = f"With X of shape ({n}, {d}), dw should have shape ({d},), one entry per feature, but has shape {shape}."
        if shape == (n,):
            raise _Wrong(f"{where}\n  Hint: one number per *sample*: sum over the samples instead, X.T @ (y_hat - y) has shape ({d},).")
        if shape == (n, d):
            raise _Wrong(f"{where}\n  Hint: these are the per-sample terms 2 x_i (y_hat_i - y_i); average them over the samples (axis=0), or use 2/n * X.T @ (y_hat - y).")
        if shape == ():
            raise _Wrong(f"{where}\n  Hint: you summed over the features too; keep one partial derivative per weight: X.T @ (y_hat - y).")
        if shape != (d,):
            raise _Wrong(f"{where}\n  Hint: X.T has shape ({d}, {n}) and y_hat - y has shape ({n},): X.T @ (y_hat - y) has shape ({d},).")
        dw = np.asarray(dw, dtype=np.float64)
        if not _close(dw, dw_want):
            ratios = dw / np.where(dw_want == 0, 1.0, dw_want)
            if np.allclose(ratios, ratios[0], rtol=1e-3):
                _factor(float(ratios[0]), 1.0, n, "Your dw (each entry, relative to the right one)")
            raise _Wrong(f"Your dw is {_fmt(dw)}, but on this hidden data (n = {n}) it is {_fmt(dw_want)}.\n  Hint: dw_j = 2/n sum_i x_ij (y_hat_i - y_i), that is 2/n * X.T @ (y_hat - y).")
        _factor(_number(db, "Your db", "db is one number: the mean of 2 (y_hat - y)."), db_want, n, "Your db")
    return "dw has one entry per feature and, with db, matches the exact gradient on two hidden data sets (d = 3 and d = 4)."


# --------------------------------------------------------------------------------------------
# Lesson 02: autograd
# --------------------------------------------------------------------------------------------


def _tensors(X: np.ndarray, y: np.ndarray) -> tuple[Any, Any]:
    import torch

    return torch.from_numpy(X.copy()), torch.from_numpy(y.copy())


@_exercise("2.1")
def ex02_1(my_autograd_gradient: Callable[..., Any]) -> str:
    """Check ``my_autograd_gradient(X, y, w, b) -> (dw, db)`` computed by autograd (X, y tensors; w, b floats).

    >>> import torch
    >>> def my_autograd_gradient(X, y, w, b):
    ...     w = torch.tensor(w, requires_grad=True); b = torch.tensor(b, requires_grad=True)
    ...     mse_loss(forward(X, w, b), y).backward()
    ...     return w.grad, b.grad
    >>> ex02_1(my_autograd_gradient)
    ✓ Exercise 2.1: right! ...
    """
    fn = _function(my_autograd_gradient, "my_autograd_gradient")
    for n, (w_true, b_true), (w, b), seed in [(8, (2.0, 1.0), (0.5, -0.5), 211), (30, (-1.0, 2.5), (1.5, 0.25), 212)]:
        X_np, y_np = _hidden(n, w_true, b_true, seed)
        X, y = _tensors(X_np, y_np)
        result = _call(fn, "my_autograd_gradient", X, y, w, b)
        dw, db = _pair(result, "What my_autograd_gradient returns", "(w.grad, b.grad)")
        if dw is None or db is None:
            raise _Wrong(
                "a gradient is None. .grad stays None until loss.backward() has run, and only for "
                "tensors made with requires_grad=True: w = torch.tensor(w, requires_grad=True)."
            )
        dw, db = _number(dw, "Your dw"), _number(db, "Your db")
        dw_want, db_want = mse_gradient(X_np, y_np, forward(X_np, w, b))
        loss = mse_loss(forward(X_np, w, b), y_np)
        if _close(dw, loss) or _close(db, loss):
            raise _Wrong("you returned the loss, not its gradient. Call loss.backward(), then return w.grad and b.grad.")
        if _close(dw, db_want) and _close(db, dw_want):
            raise _Wrong("dw and db are swapped. Return (w.grad, b.grad).")
        twice = {"double": "backward() adds into .grad: two backward passes (or a stale .grad) double it. Create fresh tensors in the function and call backward once."}
        _factor(dw, dw_want, n, "Your dw", twice)
        _factor(db, db_want, n, "Your db", twice)
    return "autograd's gradient equals mse_gradient on two hidden data sets."


def _accumulated_grads(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, moved: bool = True) -> np.ndarray:
    """w.grad at each epoch of the loop that forgets w.grad.zero_() (moved=False: w follows the correct run)."""
    w, w_true_run, grad, seen = 0.0, 0.0, 0.0, []
    for _ in range(num_epochs):
        at = w if moved else w_true_run
        g = mse_gradient(X, y, forward(X, at))[0]
        grad += g
        seen.append(grad)
        w -= lr * grad
        w_true_run -= lr * g
    return np.array(seen)


def _correct_grads(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int) -> np.ndarray:
    h = train_numpy(X, y, lr, num_epochs)
    return np.array([mse_gradient(X, y, forward(X, w))[0] for w in h.w])


def _grad_list(value: Any, num_epochs: int, name: str) -> np.ndarray:
    if value is None:
        raise _Wrong(f"{name} returned None. Did you forget `return grads`?")
    try:
        grads = np.array([_number(g, "each gradient") for g in value], dtype=np.float64)
    except TypeError:
        raise _Wrong(f"{name} should return a list with one w.grad value per epoch, got a {type(value).__name__}.") from None
    if grads.shape != (num_epochs,):
        raise _Wrong(f"{name} returned {len(grads)} values for num_epochs = {num_epochs}: append one w.grad value per epoch, right after backward().")
    return grads


def _check_accumulated(fn: Callable[..., Any], name: str, use_torch: bool) -> str:
    for n, w_true, lr, num_epochs, seed in [(10, 1.5, 0.05, 6, 221), (5, -2.0, 0.02, 4, 222)]:
        X, y = _hidden(n, w_true, 0.0, seed)
        args = (*_tensors(X, y), lr, num_epochs) if use_torch else (X, y, lr, num_epochs)
        got = _grad_list(_call(fn, name, *args), num_epochs, name)
        want = _accumulated_grads(X, y, lr, num_epochs)
        if _close(got, want, rtol=1e-3):
            continue
        setting = f"On hidden data (n = {n}, lr = {lr}) your gradients are {_fmt(got)}, the bug gives {_fmt(want)}."
        if num_epochs > 1 and _close(got, np.full(num_epochs, want[-1]), rtol=1e-3):
            raise _Wrong(f"{setting}\n  Hint: every entry is the last value: you appended the tensor w.grad itself, which backward keeps changing in place. Append w.grad.item(), a number.")
        _reject_answer_like(got, _correct_grads(X, y, lr, num_epochs), f"{setting}\n  Hint: these are the *correct* gradients: your loop still zeroes w.grad. This exercise wants the bug.")
        _reject_answer_like(got, _accumulated_grads(X, y, lr, num_epochs, moved=False), f"{setting}\n  Hint: you summed the gradients of the correct run, but with the bug w moves by the *accumulated* gradient, so the next gradient is taken at a different w.")
        _reject_answer_like(got[1:], want[:-1], f"{setting}\n  Hint: record w.grad right after backward(), before the update.")
        raise _Wrong(f"{setting}\n  Hint: start at w = 0; each epoch: backward adds dJ/dw at the current w to w.grad, then w -= lr * w.grad with that sum.")
    return f"{name} gives the accumulated gradients on two hidden data sets: epoch k's w.grad is the sum of the true gradients at w_0 … w_k."


@_exercise("2.2")
def ex02_2(my_forgot_zero_grad: Callable[..., Any]) -> str:
    """Check ``my_forgot_zero_grad(X, y, lr, num_epochs) -> [w.grad per epoch]``: the loop without ``w.grad.zero_()``.

    >>> import torch
    >>> def my_forgot_zero_grad(X, y, lr, num_epochs):
    ...     w, grads = torch.tensor(0.0, requires_grad=True), []
    ...     for epoch in range(num_epochs):
    ...         mse_loss(forward(X, w), y).backward()
    ...         grads.append(w.grad.item())
    ...         with torch.no_grad():
    ...             w -= lr * w.grad
    ...     return grads
    >>> ex02_2(my_forgot_zero_grad)
    ✓ Exercise 2.2: right! ...
    """
    return _check_accumulated(_function(my_forgot_zero_grad, "my_forgot_zero_grad"), "my_forgot_zero_grad", use_torch=True)


@_exercise("2.3")
def ex02_3(my_predicted_grads: Callable[..., Any]) -> str:
    """Check ``my_predicted_grads(X, y, lr, num_epochs)``: the same gradients, predicted in NumPy without torch.

    >>> def my_predicted_grads(X, y, lr, num_epochs):
    ...     w, total, grads = 0.0, 0.0, []
    ...     for epoch in range(num_epochs):
    ...         total += mse_gradient(X, y, forward(X, w))[0]
    ...         grads.append(total)
    ...         w -= lr * total
    ...     return grads
    >>> ex02_3(my_predicted_grads)
    ✓ Exercise 2.3: right! ...
    """
    return _check_accumulated(_function(my_predicted_grads, "my_predicted_grads"), "my_predicted_grads", use_torch=False)


@_exercise("2.4")
def ex02_4(my_mae_gradient: Callable[..., Any]) -> str:
    """Check ``my_mae_gradient(X, y, w, b) -> (dw, db)`` of the mean absolute error, by autograd.

    >>> import torch
    >>> def my_mae_gradient(X, y, w, b):
    ...     w = torch.tensor(w, requires_grad=True); b = torch.tensor(b, requires_grad=True)
    ...     (w * X + b - y).abs().mean().backward()
    ...     return w.grad, b.grad
    >>> ex02_4(my_mae_gradient)
    ✓ Exercise 2.4: right! ...
    """
    fn = _function(my_mae_gradient, "my_mae_gradient")
    for n, (w_true, b_true), (w, b), seed in [(9, (2.0, 1.0), (0.5, -0.25), 241), (20, (-1.0, 0.5), (0.75, 1.0), 242)]:
        X_np, y_np = _hidden(n, w_true, b_true, seed)
        X64, y64 = X_np.astype(np.float64), y_np.astype(np.float64)

        def mae(p: np.ndarray, X64: np.ndarray = X64, y64: np.ndarray = y64) -> float:
            return float(np.mean(np.abs(p[0] * X64 + p[1] - y64)))

        dw_want, db_want = numerical_gradient(mae, np.array([w, b]))
        X, y = _tensors(X_np, y_np)
        dw, db = _pair(_call(fn, "my_mae_gradient", X, y, w, b), "What my_mae_gradient returns", "(w.grad, b.grad)")
        if dw is None or db is None:
            raise _Wrong("a gradient is None: make w and b with requires_grad=True and call loss.backward() before reading .grad.")
        dw, db = _number(dw, "Your dw"), _number(db, "Your db")
        mse_dw, mse_db = mse_gradient(X_np, y_np, forward(X_np, w, b))
        if _close(dw, mse_dw) and _close(db, mse_db):
            raise _Wrong("that is the gradient of the *squared* error. This exercise's loss is mean(|y_hat - y|): use (y_hat - y).abs().mean().")
        hints = {"sign": "|y - y_hat| = |y_hat - y|: the sign cannot come from the order. Did you return -grad, or step it?", "n": "use .mean(), not .sum(), over the samples."}
        _factor(dw, dw_want, n, "Your dw", hints)
        _factor(db, db_want, n, "Your db", hints)
    return "autograd's MAE gradient matches central differences on two hidden data sets. (By hand: dw = mean(sign(y_hat - y) x).)"


# --------------------------------------------------------------------------------------------
# Lesson 03: nn.Linear, nn.MSELoss, torch.optim.SGD
# --------------------------------------------------------------------------------------------


@_exercise("3.1")
def ex03_1(my_linear: Callable[..., Any]) -> str:
    """Check ``my_linear(w, b) -> nn.Linear(1, 1)`` whose weight is w and bias is b.

    >>> import torch
    >>> def my_linear(w, b):
    ...     layer = torch.nn.Linear(1, 1)
    ...     with torch.no_grad():
    ...         layer.weight.fill_(w); layer.bias.fill_(b)
    ...     return layer
    >>> ex03_1(my_linear)
    ✓ Exercise 3.1: right! ...
    """
    from torch import nn

    fn = _function(my_linear, "my_linear")
    for w, b in [(0.0, 0.0), (-1.25, 3.5), (2.0, -0.75)]:
        try:
            layer = _call(fn, "my_linear", w, b)
        except _Wrong as err:
            if "leaf Variable" in str(err):
                raise _Wrong(f"{err}\n  Hint: setting a parameter's value is not part of the model: do it inside `with torch.no_grad():`.") from None
            raise
        if not isinstance(layer, nn.Linear):
            raise _Wrong(f"my_linear should return the layer, an nn.Linear, but returned a {type(layer).__name__}.")
        if (layer.in_features, layer.out_features) != (1, 1):
            raise _Wrong(f"the layer is nn.Linear({layer.in_features}, {layer.out_features}); one input feature and one output: nn.Linear(1, 1).")
        if layer.bias is None:
            raise _Wrong("the layer has no bias (bias=False). The model is y_hat = w x + b: use nn.Linear(1, 1), which has a bias.")
        got = (layer.weight.item(), layer.bias.item())
        if not _close(got, (w, b), rtol=1e-6):
            raise _Wrong(f"asked for w = {w}, b = {b}, the layer has weight {got[0]:.4g} and bias {got[1]:.4g}.\n  Hint: set both, e.g. layer.weight.fill_(w) and layer.bias.fill_(b), under torch.no_grad().")
        if not (layer.weight.requires_grad and layer.bias.requires_grad):
            raise _Wrong("the parameters no longer require grad, so SGD could not train them. Change their values in place under torch.no_grad() instead of replacing them.")
    return "my_linear builds nn.Linear(1, 1) with the weight and bias you ask for, still trainable."


def _nn_run(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, bug: str) -> tuple[float, float]:
    """A reference run of lesson 03's loop with one classic bug: 'zero_grad' (forgotten) or 'flat_y'."""
    import torch
    from torch import nn

    Xt = torch.from_numpy(X.copy()).reshape(-1, 1)
    yt = torch.from_numpy(y.copy())
    yt = yt if bug == "flat_y" else yt.reshape(-1, 1)
    model = nn.utils.skip_init(nn.Linear, 1, 1)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(num_epochs):
            loss = nn.MSELoss()(model(Xt), yt)
            if bug != "zero_grad":
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.weight.item(), model.bias.item()


def _two_numbers(value: Any, name: str) -> np.ndarray:
    w, b = _pair(value, f"What {name} returns", "(w, b)")
    if b is None:
        raise _Wrong("b is None: the model needs a bias, nn.Linear(1, 1) (not bias=False).")
    return np.array([_number(w, "Your final w"), _number(b, "Your final b")])


@_exercise("3.2")
def ex03_2(my_train_nn: Callable[..., Any]) -> str:
    """Check ``my_train_nn(X, y, lr, num_epochs) -> (w, b)``: the nn.Linear pipeline from w = b = 0.

    >>> def my_train_nn(X, y, lr, num_epochs):
    ...     h = train_nn(X, y, lr, num_epochs, b0=0.0)
    ...     return h.w_final, h.b_final
    >>> ex03_2(my_train_nn)
    ✓ Exercise 3.2: right! ...
    """
    fn = _function(my_train_nn, "my_train_nn")
    for n, (w_true, b_true), lr, num_epochs, seed in [(12, (1.5, -2.0), 0.1, 8, 321), (5, (-0.5, 1.0), 0.05, 5, 322)]:
        X, y = _hidden(n, w_true, b_true, seed)
        want = train_nn(X, y, lr, num_epochs, w0=0.0, b0=0.0)
        got = _two_numbers(_call(fn, "my_train_nn", X, y, lr, num_epochs), "my_train_nn")
        if _close(got, [want.w_final, want.b_final], rtol=1e-3):
            continue
        setting = f"On hidden data (n = {n}, lr = {lr}, num_epochs = {num_epochs}) you get w = {got[0]:.4g}, b = {got[1]:.4g}; the right result is w = {want.w_final:.4g}, b = {want.b_final:.4g}."
        _reject_answer_like(got, _nn_run(X, y, lr, num_epochs, "flat_y"), f"{setting}\n  Hint: y is still flat, shape ({n},), while the layer outputs ({n}, 1): the loss compares every prediction with every target. Use y.reshape(-1, 1).")
        _reject_answer_like(got, _nn_run(X, y, lr, num_epochs, "zero_grad"), f"{setting}\n  Hint: the gradients pile up: call optimizer.zero_grad() in every epoch, before loss.backward().")
        for epochs, words in [(num_epochs - 1, "one epoch too few"), (num_epochs + 1, "one epoch too many")]:
            other = train_nn(X, y, lr, epochs, w0=0.0, b0=0.0) if epochs >= 1 else None
            if other is not None:
                _reject_answer_like(got, [other.w_final, other.b_final], f"{setting}\n  Hint: that is {words}: loop `for epoch in range(num_epochs)`.")
        raise _Wrong(f"{setting}\n  Hint: start from weight = 0 and bias = 0 (under torch.no_grad(), not nn.Linear's random start); use nn.MSELoss() and torch.optim.SGD(model.parameters(), lr=lr).")
    return "my_train_nn gives the same w and b as train_nn on two hidden data sets."


@_exercise("3.3")
def ex03_3(my_fit_three_ways: Callable[..., Any]) -> str:
    """Check ``my_fit_three_ways(X, y) -> (History, History, History)``: train_numpy, train_autograd, train_nn to 2 decimals.

    >>> def my_fit_three_ways(X, y):
    ...     lr = 1.5 / lipschitz_constant(X, bias=True)
    ...     return tuple(t(X, y, lr, 300, b0=0.0) for t in (train_numpy, train_autograd, train_nn))
    >>> ex03_3(my_fit_three_ways)
    ✓ Exercise 3.3: right! ...
    """
    fn = _function(my_fit_three_ways, "my_fit_three_ways")
    X_toy, _ = toy_data()
    X_hid, _ = _hidden(20, 3.0, 1.0, 331)
    for X in (X_toy, X_hid):
        y = 3 * X + 1
        n = len(X)
        try:
            result = _call(fn, "my_fit_three_ways", X, y)
        except _Wrong as err:
            if "DivergenceError" in str(err):
                L = lipschitz_constant(X, bias=True)
                raise _Wrong(f"{str(err).splitlines()[0]}\n  Hint: with a bias the bound is 2/L with L = lipschitz_constant(X, bias=True) (here {L:.4g}, 2/L = {2 / L:.4g}); compute lr from X inside the function, e.g. lr = 1 / L.") from None
            raise
        if not (isinstance(result, (tuple, list)) and len(result) == 3 and all(isinstance(h, History) for h in result)):
            raise _Wrong("my_fit_three_ways should return three History objects: (train_numpy(...), train_autograd(...), train_nn(...)).")
        A = np.column_stack([X.astype(np.float64), np.ones(n)])
        w_ls, b_ls = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]
        for name, h in zip(("train_numpy", "train_autograd", "train_nn"), result):
            if h.b_final is None:
                raise _Wrong(f"the {name} run has no bias, so it cannot fit y = 3x + 1. Pass b0=0.0 to every trainer.")
            if abs(h.w_final - w_ls) > 0.01 or abs(h.b_final - b_ls) > 0.01:
                raise _Wrong(
                    f"on data with n = {n}, the {name} run ends at w = {h.w_final:.3f}, b = {h.b_final:.3f}, not yet "
                    f"w = {w_ls:.3f}, b = {b_ls:.3f} (to 2 decimals).\n  Hint: the bias direction is flat and slow: "
                    "take an lr closer to the bound 2/L (e.g. lr = 1.5 / lipschitz_constant(X, bias=True)) or more epochs."
                )
        if not (result[0].lines() == result[1].lines() == result[2].lines()):
            raise _Wrong("the three runs reach the answer but their trajectories differ. Use the same lr, num_epochs, w0 and b0 for all three: then they are one algorithm, epoch for epoch.")
    return "all three implementations fit y = 3x + 1 to 2 decimals, with identical trajectories, on the toy X and on a hidden X."


@_exercise("3.4")
def ex03_4(my_broadcast_loss: Callable[..., Any]) -> str:
    """Check ``my_broadcast_loss(y_hat, y)``: predict, in NumPy, what nn.MSELoss gives for y_hat (n, 1) and y (n,).

    >>> ex03_4(lambda y_hat, y: float(np.mean((y_hat - y) ** 2)))
    ✓ Exercise 3.4: right! ...
    """
    import torch
    from torch import nn

    fn = _function(my_broadcast_loss, "my_broadcast_loss")
    for n, seed in [(6, 341), (11, 342)]:
        X, y = _hidden(n, 2.0, -1.0, seed)
        y_hat = forward(X, 1.5, 0.5).reshape(-1, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = nn.MSELoss()(torch.from_numpy(y_hat.copy()), torch.from_numpy(y.copy())).item()
        value = _call(fn, "my_broadcast_loss", y_hat.copy(), y.copy())
        if np.shape(value) == (n, n):
            raise _Wrong(f"you returned the ({n}, {n}) table of squared differences; nn.MSELoss returns its mean, one number.")
        got = _number(value, "Your loss")
        _reject_answer_like(got, mse_loss(y_hat.reshape(-1), y), f"{got:.4g} is the loss with matching shapes, but the shapes ({n}, 1) and ({n},) do not match.\n  Hint: y_hat - y broadcasts to a ({n}, {n}) table, every prediction minus every target; nn.MSELoss takes the mean of that table.")
        _factor(got, want, n, "Your loss", {"other": f"y_hat - y is a ({n}, {n}) table here; square it and take the mean of all {n * n} entries."})
    return "you predict nn.MSELoss's broadcast loss exactly: the mean of the (n, n) table of every prediction minus every target."


@_exercise("3.5")
def ex03_5(my_train_sum: Callable[..., Any]) -> str:
    """Check ``my_train_sum(X, y, lr, num_epochs) -> (w, b)``: nn.MSELoss(reduction='sum') with the lr that repeats the mean run.

    >>> def my_train_sum(X, y, lr, num_epochs):
    ...     h = train_nn(X, y, lr, num_epochs, b0=0.0)  # stands in for the reduction='sum' loop at lr / n
    ...     return h.w_final, h.b_final
    >>> ex03_5(my_train_sum)
    ✓ Exercise 3.5: right! ...
    """
    fn = _function(my_train_sum, "my_train_sum")
    for n, (w_true, b_true), lr, num_epochs, seed in [(20, (1.5, -0.5), 0.05, 5, 351), (8, (-2.0, 1.0), 0.1, 4, 352)]:
        X, y = _hidden(n, w_true, b_true, seed)
        want = train_nn(X, y, lr, num_epochs, w0=0.0, b0=0.0)
        setting = f"On hidden data (n = {n}) the mean-loss run at lr = {lr} ends at w = {want.w_final:.4g}, b = {want.b_final:.4g}"
        try:
            got = _two_numbers(_call(fn, "my_train_sum", X, y, lr, num_epochs), "my_train_sum")
        except _Wrong as err:
            if "blew up" in str(err):
                raise _Wrong(f"{setting}, but your run blew up (inf or NaN).\n  Hint: reduction='sum' is n times the mean, so its gradient is n times larger: at the same lr every step is n times too large. Use lr / n.") from None
            raise
        if _close(got, [want.w_final, want.b_final], rtol=1e-3):
            continue
        setting += f", yours at w = {got[0]:.4g}, b = {got[1]:.4g}."
        for factor, hint in [
            (n, f"that is the run with {n} times larger steps: reduction='sum' is n times the mean, so its gradient is n times larger. Divide lr by n = {n}."),
            (n * n, "you multiplied lr by n; with the n times larger gradient the step is n² too large. Divide by n instead."),
        ]:
            try:
                other = train_nn(X, y, factor * lr, num_epochs, w0=0.0, b0=0.0)
            except DivergenceError:
                continue
            _reject_answer_like(got, [other.w_final, other.b_final], f"{setting}\n  Hint: {hint}")
        raise _Wrong(f"{setting}\n  Hint: with reduction='sum' use lr / n (n = len(X)), start from w = b = 0 and keep the loop of exercise 3.2.")
    return "with reduction='sum' and lr / n your run is the mean-loss run at lr, on two hidden data sets."


# --------------------------------------------------------------------------------------------
# Lesson 04: modules, mini-batches, optimizers
# --------------------------------------------------------------------------------------------


def _vector(value: Any, d: int, what: str) -> np.ndarray:
    """A student's weight vector as a float64 array of shape (d,)."""
    if value is None:
        raise _Wrong(f"{what} is None. Did you forget the `return` line?")
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == d and arr.shape != (d,):
        arr = arr.reshape(d)  # (1, d), (d, 1) and the like: the same numbers
    if arr.shape != (d,):
        raise _Wrong(f"{what} should have shape ({d},), one weight per feature, but has shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise _Wrong(f"{what} holds inf or NaN: the run blew up.")
    return arr


def _w_b(value: Any, d: int, name: str) -> np.ndarray:
    w, b = _pair(value, f"What {name} returns", "(w, b)")
    return np.append(_vector(w, d, "Your final w"), _number(b, "Your final b"))


@_exercise("4.1")
def ex04_1(MyLinearRegression: Callable[..., Any]) -> str:
    """Check a class ``MyLinearRegression(num_features)``: an nn.Module with parameters w (d,) and b (), y_hat = X @ w + b.

    >>> from gdlessons.modules import LinearRegression
    >>> ex04_1(LinearRegression)
    ✓ Exercise 4.1: right! ...
    """
    import torch
    from torch import nn

    fn = _function(MyLinearRegression, "MyLinearRegression")
    for n, d, seed in [(10, 3, 411), (6, 1, 412)]:
        try:
            model = _call(fn, "MyLinearRegression", d)
        except _Wrong as err:
            if "Module.__init__() call" in str(err):
                raise _Wrong(f"{err}\n  Hint: the first line of __init__ must be super().__init__(): it sets up the module's bookkeeping of parameters.") from None
            raise
        if not isinstance(model, nn.Module):
            raise _Wrong("MyLinearRegression(num_features) should create an nn.Module: write class MyLinearRegression(nn.Module).")
        params = dict(model.named_parameters())
        if not params:
            raise _Wrong("model.parameters() is empty, so an optimizer would have nothing to train.\n  Hint: wrap the tensors in nn.Parameter: self.w = nn.Parameter(torch.zeros(num_features)).")
        shapes = {name: tuple(p.shape) for name, p in params.items()}
        by_shape = {tuple(p.shape): p for p in params.values()}
        if sorted(shapes.values()) != sorted([(d,), ()]) or len(by_shape) != 2:
            raise _Wrong(f"with num_features = {d} the parameters should be w of shape ({d},) and b of shape (), but they are {shapes}.\n  Hint: self.w = nn.Parameter(torch.zeros(num_features)) and self.b = nn.Parameter(torch.zeros(())).")
        if any(float(p.detach().abs().sum()) != 0.0 for p in params.values()):
            raise _Wrong("the parameters should start at zero (torch.zeros), as in lessons 01-04: then no random generator is needed.")
        X_np, y_np = _hidden(n, list(np.linspace(1.0, -2.0, d)), 0.5, seed)
        w_set = np.linspace(-0.5, 1.0, d).astype(np.float32)
        with torch.no_grad():
            by_shape[(d,)].copy_(torch.from_numpy(w_set))
            by_shape[()].fill_(0.25)
        X, y = _tensors(X_np, y_np)
        y_hat = _call(model, "forward", X)
        if not hasattr(y_hat, "detach"):
            raise _Wrong(f"model(X) should return a tensor, but returned a {type(y_hat).__name__}.")
        if tuple(y_hat.shape) != (n,):
            raise _Wrong(f"for X of shape ({n}, {d}), model(X) should have shape ({n},), like y, but has shape {tuple(y_hat.shape)}.\n  Hint: X @ self.w with w of shape ({d},) gives ({n},); add self.b, a single number.")
        want = forward(X_np, w_set, 0.25)
        if not _close(y_hat.detach().numpy(), want):
            raise _Wrong(f"model(X) is not X @ w + b: on hidden data it gives {_fmt(y_hat.detach().numpy()[:3])}… instead of {_fmt(want[:3])}….")
        if not y_hat.requires_grad:
            raise _Wrong("model(X) does not track gradients, so backward() cannot reach w and b. Compute with the parameters themselves (no .data, .detach() or torch.tensor(...) around them).")
        mse_loss(y_hat, y).backward()
        dw_want, db_want = mse_gradient(X_np, y_np, want)
        if not (_close(by_shape[(d,)].grad.numpy(), dw_want, rtol=1e-3) and _close(by_shape[()].grad.item(), db_want, rtol=1e-3)):
            raise _Wrong("backward() through model(X) does not give the MSE gradient: use the parameters directly in forward, X @ self.w + self.b.")
    return "MyLinearRegression registers w and b as parameters starting at zero, and model(X) = X @ w + b with gradients flowing back."


def _loader_run(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, batch_size: int, shuffle: bool) -> np.ndarray:
    """A reference mini-batch run with a plain DataLoader (shuffle=False reproduces that mistake)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from gdlessons.modules import LinearRegression

    X_t, y_t = _tensors(X, y)
    model = LinearRegression(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X_t, y_t), batch_size=batch_size, shuffle=shuffle)
    for _ in range(num_epochs):
        for X_batch, y_batch in loader:
            loss = torch.nn.MSELoss()(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return np.append(model.w.detach().numpy(), model.b.item())


def _final(h: History) -> np.ndarray:
    return np.append(np.asarray(h.w_final, dtype=np.float64).reshape(-1), h.b_final)


@_exercise("4.2")
def ex04_2(my_train_minibatch: Callable[..., Any]) -> str:
    """Check ``my_train_minibatch(X, y, lr, num_epochs, batch_size, seed) -> (w, b)``: the DataLoader loop.

    >>> from gdlessons.modules import train_minibatch
    >>> def my_train_minibatch(X, y, lr, num_epochs, batch_size, seed):
    ...     h = train_minibatch(X, y, lr, num_epochs, b0=0.0, batch_size=batch_size, seed=seed)
    ...     return h.w_final, h.b_final
    >>> ex04_2(my_train_minibatch)
    ✓ Exercise 4.2: right! ...
    """
    from gdlessons.modules import train_minibatch

    fn = _function(my_train_minibatch, "my_train_minibatch")
    for n, lr, num_epochs, batch_size, seed in [(50, 0.1, 3, 8, 421), (24, 0.05, 2, 5, 422)]:
        X, y = _hidden(n, [1.5, -2.0], 0.5, seed)
        want = _final(train_minibatch(X, y, lr, num_epochs, b0=0.0, batch_size=batch_size, seed=seed))
        got = _w_b(_call(fn, "my_train_minibatch", X, y, lr, num_epochs, batch_size, seed), 2, "my_train_minibatch")
        if _close(got, want, rtol=1e-3):
            continue
        setting = f"On hidden data (n = {n}, batch_size = {batch_size}, {num_epochs} epochs, seed = {seed}) you end at (w, b) = {_fmt(got)}; the right run ends at {_fmt(want)}."
        full = _final(train_minibatch(X, y, lr, num_epochs, b0=0.0))
        _reject_answer_like(got, full, f"{setting}\n  Hint: that is one full-batch step per epoch. Loop over the loader's batches inside each epoch: one step per batch.")
        _reject_answer_like(got, _loader_run(X, y, lr, num_epochs, batch_size, shuffle=False), f"{setting}\n  Hint: the batches were never shuffled: DataLoader(..., shuffle=True, generator=torch.Generator().manual_seed(seed)).")
        raise _Wrong(f"{setting}\n  Hint: use DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed)) (created once, before the epochs), LinearRegression from zero, nn.MSELoss() and SGD; zero_grad, backward, step for every batch.")
    return "my_train_minibatch takes the same steps, batch for batch, as train_minibatch on two hidden data sets."


def _momentum_run(X: np.ndarray, y: np.ndarray, lr: float, momentum: float, num_epochs: int, variant: str) -> np.ndarray:
    """Full-batch momentum in NumPy, with one classic slip: 'dampened' (v = m v + (1 - m) g) or 'late' (step before updating v)."""
    w, b = np.zeros(X.shape[1]), 0.0
    vw, vb = np.zeros(X.shape[1]), 0.0
    for _ in range(num_epochs):
        dw, db = mse_gradient(X, y, forward(X, w, b))
        if variant == "late":
            w, b = w - lr * vw, b - lr * vb
        scale = 1 - momentum if variant == "dampened" else 1.0
        vw, vb = momentum * vw + scale * dw, momentum * vb + scale * db
        if variant != "late":
            w, b = w - lr * vw, b - lr * vb
    return np.append(w, b)


@_exercise("4.3")
def ex04_3(my_momentum: Callable[..., Any]) -> str:
    """Check ``my_momentum(X, y, lr, momentum, num_epochs) -> (w, b)``: full-batch SGD with momentum, in NumPy.

    >>> def my_momentum(X, y, lr, momentum, num_epochs):
    ...     w, b, vw, vb = np.zeros(X.shape[1]), 0.0, 0.0, 0.0
    ...     for epoch in range(num_epochs):
    ...         dw, db = mse_gradient(X, y, forward(X, w, b))
    ...         vw, vb = momentum * vw + dw, momentum * vb + db
    ...         w, b = w - lr * vw, b - lr * vb
    ...     return w, b
    >>> ex04_3(my_momentum)
    ✓ Exercise 4.3: right! ...
    """
    from gdlessons.modules import train_minibatch

    fn = _function(my_momentum, "my_momentum")
    for n, lr, momentum, num_epochs, seed in [(30, 0.05, 0.9, 15, 431), (12, 0.1, 0.5, 8, 432)]:
        X, y = _hidden(n, [2.0, -1.0], 1.0, seed)
        want = _final(train_minibatch(X, y, lr, num_epochs, b0=0.0, momentum=momentum))
        got = _w_b(_call(fn, "my_momentum", X, y, lr, momentum, num_epochs), 2, "my_momentum")
        if _close(got, want, rtol=1e-3):
            continue
        setting = f"On hidden data (n = {n}, lr = {lr}, momentum = {momentum}, {num_epochs} epochs) you end at (w, b) = {_fmt(got)}; torch.optim.SGD(momentum={momentum}) ends at {_fmt(want)}."
        _reject_answer_like(got, _final(train_minibatch(X, y, lr, num_epochs, b0=0.0)), f"{setting}\n  Hint: that is plain gradient descent: the velocity must carry over from one epoch to the next (create v before the loop, v = momentum * v + g inside).")
        _reject_answer_like(got, _momentum_run(X, y, lr, momentum, num_epochs, "dampened"), f"{setting}\n  Hint: PyTorch's SGD adds the whole gradient, v = momentum * v + g, without a (1 - momentum) factor.")
        _reject_answer_like(got, _momentum_run(X, y, lr, momentum, num_epochs, "late"), f"{setting}\n  Hint: update the velocity first, then step with the new one: v = momentum * v + g; w = w - lr * v.")
        raise _Wrong(f"{setting}\n  Hint: start from w = 0, b = 0 and v = 0 (one velocity for w, one for b); each epoch: the full gradient g, then v = momentum * v + g, then w = w - lr * v.")
    return "my_momentum takes the same steps as torch.optim.SGD with momentum on two hidden data sets."


# --------------------------------------------------------------------------------------------
# Lesson 05: data-parallel gradient descent
# --------------------------------------------------------------------------------------------


def _dw_db(value: Any, d: int, name: str) -> np.ndarray:
    dw, db = _pair(value, f"What {name} returns")
    return np.append(_vector(dw, d, "Your dw"), _number(db, "Your db"))


@_exercise("5.1")
def ex05_1(my_shard_gradient_mean: Callable[..., Any]) -> str:
    """Check ``my_shard_gradient_mean(X, y, w, b, world_size) -> (dw, db)``: the mean of the shards' gradients.

    >>> from gdlessons.parallel import shard
    >>> def my_shard_gradient_mean(X, y, w, b, world_size):
    ...     grads = [mse_gradient(Xs, ys, forward(Xs, w, b)) for Xs, ys in (shard(X, y, k, world_size) for k in range(world_size))]
    ...     return np.mean([dw for dw, _ in grads], axis=0), float(np.mean([db for _, db in grads]))
    >>> ex05_1(my_shard_gradient_mean)
    ✓ Exercise 5.1: right! ...
    """
    fn = _function(my_shard_gradient_mean, "my_shard_gradient_mean")
    for n, world_size, seed in [(12, 3, 511), (20, 4, 512)]:
        X, y = _hidden(n, [1.0, -2.5], 0.75, seed)
        w, b = np.array([0.5, 0.5], dtype=np.float32), -0.25
        want = np.append(*mse_gradient(X, y, forward(X, w, b)))
        got = _dw_db(_call(fn, "my_shard_gradient_mean", X, y, w, b, world_size), 2, "my_shard_gradient_mean")
        hints = {"n": "all_reduce (and a plain sum) adds the workers' gradients: divide by world_size to get their mean."}
        _factor(got, want, world_size, "Your (dw, db)", hints, count="number of workers")
    return "the mean of the shards' gradients is the full gradient, on two hidden data sets (3 and 4 workers)."


@_exercise("5.2")
def ex05_2(my_combine: Callable[..., Any]) -> str:
    """Check ``my_combine(grads, sizes) -> (dw, db)``: the full gradient from unequal shards' mean gradients.

    >>> def my_combine(grads, sizes):
    ...     total = sum(sizes)
    ...     dw = sum(m * dw for (dw, _), m in zip(grads, sizes)) / total
    ...     return dw, sum(m * db for (_, db), m in zip(grads, sizes)) / total
    >>> ex05_2(my_combine)
    ✓ Exercise 5.2: right! ...
    """
    fn = _function(my_combine, "my_combine")
    for sizes, seed in [([3, 5, 9], 521), ([1, 6], 522)]:
        n = sum(sizes)
        X, y = _hidden(n, [2.0, 1.0], -1.0, seed)
        w, b = np.array([0.25, -0.5], dtype=np.float32), 0.5
        edges = np.cumsum([0, *sizes])
        grads = [mse_gradient(X[lo:hi], y[lo:hi], forward(X[lo:hi], w, b)) for lo, hi in zip(edges[:-1], edges[1:])]
        want = np.append(*mse_gradient(X, y, forward(X, w, b)))
        got = _dw_db(_call(fn, "my_combine", [(dw.copy(), db) for dw, db in grads], list(sizes)), 2, "my_combine")
        if _close(got, want):
            continue
        setting = f"For shards of sizes {sizes} your gradient is {_fmt(got)}, the full gradient is {_fmt(want)}."
        plain = np.append(np.mean([dw for dw, _ in grads], axis=0), np.mean([db for _, db in grads]))
        _reject_answer_like(got, plain, f"{setting}\n  Hint: that is the plain mean of the shards' gradients, which weighs a small shard's samples more. Weigh each shard's gradient by its size m_k: sum(m_k g_k) / sum(m_k).")
        _reject_answer_like(got, want * n, f"{setting}\n  Hint: the weighted sum is right; divide it by the total number of samples, {n}.")
        _reject_answer_like(got, want * n / len(sizes), f"{setting}\n  Hint: divide the weighted sum by the total number of samples ({n}), not by the number of shards ({len(sizes)}).")
        raise _Wrong(f"{setting}\n  Hint: each shard's gradient is a mean over its m_k samples, so m_k g_k is its sum; add the sums and divide by N = sum(m_k).")
    return "weighting each shard's gradient by its size gives the full gradient, even for unequal shards."


@_exercise("5.3")
def ex05_3(my_data_parallel: Callable[..., Any]) -> str:
    """Check ``my_data_parallel(X, y, lr, num_epochs, world_size) -> (w, b)``: simulated workers with an all_reduce mean.

    >>> from gdlessons.parallel import shard
    >>> def my_data_parallel(X, y, lr, num_epochs, world_size):
    ...     w, b = np.zeros(X.shape[1]), 0.0
    ...     shards = [shard(X, y, k, world_size) for k in range(world_size)]
    ...     for epoch in range(num_epochs):
    ...         grads = [mse_gradient(Xs, ys, forward(Xs, w, b)) for Xs, ys in shards]
    ...         dw = sum(g[0] for g in grads) / world_size
    ...         db = sum(g[1] for g in grads) / world_size
    ...         w, b = w - lr * dw, b - lr * db
    ...     return w, b
    >>> ex05_3(my_data_parallel)
    ✓ Exercise 5.3: right! ...
    """
    from gdlessons.parallel import shard

    fn = _function(my_data_parallel, "my_data_parallel")
    for n, world_size, lr, num_epochs, seed in [(24, 4, 0.05, 10, 531), (15, 3, 0.1, 6, 532)]:
        X, y = _hidden(n, [-1.0, 2.0], 0.5, seed)
        want = _final(train_numpy(X, y, lr, num_epochs, w0=0.0, b0=0.0))
        got = _w_b(_call(fn, "my_data_parallel", X, y, lr, num_epochs, world_size), 2, "my_data_parallel")
        if _close(got, want, rtol=1e-3):
            continue
        setting = f"On hidden data (n = {n}, {world_size} workers, lr = {lr}, {num_epochs} epochs) you end at (w, b) = {_fmt(got)}; one process with all the data ends at {_fmt(want)}."
        try:
            summed = _final(train_numpy(X, y, world_size * lr, num_epochs, w0=0.0, b0=0.0))
            _reject_answer_like(got, summed, f"{setting}\n  Hint: your steps are {world_size} times too large: all_reduce sums the workers' gradients; divide by world_size.")
        except DivergenceError:
            pass
        X0, y0 = shard(X, y, 0, world_size)
        _reject_answer_like(got, _final(train_numpy(X0, y0, lr, num_epochs, w0=0.0, b0=0.0)), f"{setting}\n  Hint: that is worker 0 alone, on its own shard. Every worker's gradient must enter the average in every epoch.")
        raise _Wrong(f"{setting}\n  Hint: per epoch: every worker k computes mse_gradient on shard(X, y, k, world_size) at the *same* (w, b); average the world_size gradients; one step for all.")
    return "your simulated workers take exactly the steps of one process with all the data, on two hidden data sets."
