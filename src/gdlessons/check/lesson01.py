"""Checks of lesson 01: gradient descent by hand, in NumPy.

>>> ex01_1(lambda X, y, y_hat: float(np.mean(2 * X * (y_hat - y))))
✓ Exercise 1.1: right! ...
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from gdlessons.check.core import (
    Wrong,
    call,
    close,
    compare,
    diagnose,
    exercise,
    fmt,
    function,
    hidden,
    number,
    pair,
)
from gdlessons.data import toy_data
from gdlessons.numpy_gd import forward, lipschitz_constant, mse_gradient
from gdlessons.train import train_numpy

__all__ = ["ex01_1", "ex01_2", "ex01_3", "ex01_4", "ex01_5"]


@exercise("1.1", points=1)
def ex01_1(my_gradient: Callable[..., Any]) -> str:
    """Check ``my_gradient(X, y, y_hat) -> dw``, the MSE gradient of ``y_hat = w x`` (no bias).

    >>> ex01_1(lambda X, y, y_hat: float(np.dot(2 * X, y_hat - y).mean()))
    ✗ Exercise 1.1: not yet. Your dw is -27.84, but the exact value on this hidden data
    (n = 7) is -3.977: 7 times too large, and 7 is the number of samples.
      Hint: you summed over the samples where the formula takes the mean (np.dot already sums, ...
    """
    fn = function(my_gradient, "my_gradient")
    for n, w_true, w, seed in [(7, 2.5, 0.7, 101), (50, -1.5, 0.3, 102)]:
        X, y = hidden(n, w_true, 0.0, seed)
        y_hat = forward(X, w)
        got = number(
            call(fn, "my_gradient", X, y, y_hat),
            "Your dw",
            "Return one number: the mean over the samples of 2 x (y_hat - y). Only dw, no db: "
            "this model has no bias.",
        )
        diagnose(got, mse_gradient(X, y, y_hat)[0], n, "Your dw")
    return "my_gradient matches the exact gradient on two hidden data sets (n = 7 and n = 50)."


@exercise("1.2", points=1)
def ex01_2(my_gradient_with_bias: Callable[..., Any]) -> str:
    """Check ``my_gradient_with_bias(X, y, y_hat) -> (dw, db)`` for ``y_hat = w x + b``.

    >>> ex01_2(lambda X, y, y_hat: (float(np.mean(2 * X * (y_hat - y))), 0.0))
    ✗ Exercise 1.2: not yet. Your db is 0...forgot...
    """
    name = "my_gradient_with_bias"
    fn = function(my_gradient_with_bias, name)
    cases = [(7, (2.5, -1.0), (0.7, 0.4), 121), (40, (-1.5, 3.0), (0.3, -0.5), 122)]
    for n, (w_true, b_true), (w, b), seed in cases:
        X, y = hidden(n, w_true, b_true, seed)
        y_hat = forward(X, w, b)
        dw_want, db_want = mse_gradient(X, y, y_hat)
        dw, db = pair(call(fn, name, X, y, y_hat), f"What {name} returns")
        dw = number(
            dw, "Your dw", "dw is one number here: the mean over the samples of 2 x (y_hat - y)."
        )
        db = number(db, "Your db", "db is one number: the mean over the samples of 2 (y_hat - y).")
        if close(dw, db_want) and close(db, dw_want):
            raise Wrong("dw and db are swapped. Return (dw, db): the gradient for w first.")
        if db == 0.0:
            raise Wrong(
                f"Your db is 0, but on this hidden data (n = {n}) it is {fmt(db_want)}: the bias "
                "was forgotten.\n  Hint: differentiate (w x + b - y)^2 with respect to b: the "
                "inner derivative is 1, so db = mean(2 (y_hat - y))."
            )
        diagnose(dw, dw_want, n, "Your dw")
        half = "the chain rule gives a factor 2: d/db (w x + b - y)^2 = 2 (w x + b - y)."
        diagnose(db, db_want, n, "Your db", {"half": half})
    return "both dw and db match the exact gradient on two hidden data sets (n = 7 and n = 40)."


def _final(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int) -> list[float] | None:
    """The final (w, b) of ``train_numpy`` from zero, with a bias; None for no epochs."""
    if num_epochs < 1:
        return None
    h = train_numpy(X, y, lr, num_epochs, w0=0.0, b0=0.0)
    return [h.w_final, h.b_final]


def _same_w_as_without_bias(
    got: np.ndarray, X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int
) -> bool:
    """Whether the student's final w is that of the run without bias (their b moved apart)."""
    return close(got[:1], [train_numpy(X, y, lr, num_epochs).w_final])


def _ascent(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int) -> list[float] | None:
    """The loop with the step's sign flipped, ``w = w + lr * dw`` (gradient ascent), in float64."""
    X, y = X.astype(np.float64), y.astype(np.float64)
    w, b = 0.0, 0.0
    with np.errstate(all="ignore"):
        for _ in range(num_epochs):
            r = w * X + b - y
            w, b = w + lr * float(np.mean(2 * X * r)), b + lr * float(np.mean(2 * r))
    return [w, b] if np.isfinite([w, b]).all() else None


@exercise("1.3", points=2)
def ex01_3(my_train: Callable[..., Any]) -> str:
    """Check ``my_train(X, y, lr, num_epochs) -> (w, b)``: gradient descent with a bias from 0.

    >>> def my_train(X, y, lr, num_epochs):
    ...     h = train_numpy(X, y, lr, num_epochs, w0=0.0, b0=0.0)
    ...     return h.w_final, h.b_final
    >>> ex01_3(my_train)
    ✓ Exercise 1.3: right! ...
    """
    fn = function(my_train, "my_train")
    grew = "Did the updates grow instead of shrink? Subtract lr * gradient."
    cases = [(30, (-1.5, 2.0), 0.05, 20, 131), (9, (0.8, -3.0), 0.1, 7, 132)]
    for n, (w_true, b_true), lr, num_epochs, seed in cases:
        X, y = hidden(n, w_true, b_true, seed)
        want = train_numpy(X, y, lr, num_epochs, w0=0.0, b0=0.0)
        w, b = pair(call(fn, "my_train", X, y, lr, num_epochs), "What my_train returns", "(w, b)")
        w, b = number(w, "Your final w", grew), number(b, "Your final b", grew)
        got = np.array([w, b])
        epochs = "that is one epoch too {}: loop `for epoch in range(num_epochs)`."
        compare(
            got,
            [want.w_final, want.b_final],
            f"on hidden data (n = {n}, lr = {lr}, num_epochs = {num_epochs}) you get "
            f"w = {w:.4g}, b = {b:.4g}; the right result is w = {want.w_final:.4g}, "
            f"b = {want.b_final:.4g}.",
            [
                (b == 0.0, "b never moved. Update it too: b = b - lr * db."),
                (partial(_final, X, y, lr, num_epochs - 1), epochs.format("few")),
                (partial(_final, X, y, lr, num_epochs + 1), epochs.format("many")),
                (
                    partial(_same_w_as_without_bias, got, X, y, lr, num_epochs),
                    (
                        "w is the no-bias run's w: compute y_hat = w * X + b, with the current b, "
                        "in every epoch."
                    ),
                ),
                (
                    partial(_final, X, y, n * lr, num_epochs),
                    (
                        f"your steps are {n} times too large, as if lr were {n} * lr: your "
                        f"gradient sums over the samples instead of averaging."
                    ),
                ),
                (
                    partial(_ascent, X, y, lr, num_epochs),
                    (
                        "you moved up the slope: subtract lr * gradient (w = w - lr * dw, "
                        "b = b - lr * db); the sign of the step is wrong."
                    ),
                ),
            ],
            "start from w = 0.0 and b = 0.0; in each epoch compute y_hat, then (dw, db), then "
            "update both with the gradient at the *same* y_hat.",
        )
    return "my_train gives the same w and b as train_numpy on two hidden data sets."


@exercise("1.4", points=2)
def ex01_4(my_lr_max: Callable[..., Any]) -> str:
    """Check ``my_lr_max(X) -> float``: the bound 2/L below which gradient descent converges.

    >>> ex01_4(lambda X: 1 / float(np.mean(X ** 2)))
    ✓ Exercise 1.4: right! ...
    """
    fn = function(my_lr_max, "my_lr_max")
    hints = {
        "half": "that is 1/L, the learning rate that lands on the minimum in one step. Gradient "
        "descent still converges (zig-zagging) up to twice that: the error is multiplied by "
        "(1 - lr L) each step.",
        "double": "L = 2 mean(x²) already holds the factor 2 of the gradient; the bound is "
        "2/L = 1 / mean(x²).",
        "1/n": "you used the sum of x² where L has the mean: L = 2 mean(x²).",
        "n": "L has the mean of x², not the sum.",
        "other": "each step multiplies the error w - w* by (1 - lr L) with L = 2 mean(x²); it "
        "shrinks iff |1 - lr L| < 1.",
    }
    for n, seed in [(25, 141), (6, 142)]:
        X, _ = hidden(n, 1.0, 0.0, seed)
        X = 1.5 * X + 0.5
        got = number(call(fn, "my_lr_max", X), "Your lr_max")
        diagnose(got, 2.0 / lipschitz_constant(X), n, "Your lr_max", hints)
    X_toy, _ = toy_data()
    return (
        "my_lr_max gives 2/L on two hidden data sets; on the toy data it is "
        f"{2 / lipschitz_constant(X_toy):.4f}."
    )


@exercise("1.5", points=3)
def ex01_5(my_gradient_nd: Callable[..., Any]) -> str:
    """Check ``my_gradient_nd(X, y, y_hat) -> (dw, db)`` for X of shape (n, d): dw has shape (d,).

    >>> ex01_5(lambda X, y, y_hat: (2 / len(y) * X.T @ (y_hat - y), np.mean(2 * (y_hat - y))))
    ✓ Exercise 1.5: right! ...
    """
    fn = function(my_gradient_nd, "my_gradient_nd")
    cases = [(40, [2.0, -3.4, 0.5], 4.2, 151), (9, [1.0, 0.5, -2.0, 3.0], -1.0, 152)]
    for n, w_true, b_true, seed in cases:
        X, y = hidden(n, w_true, b_true, seed)
        d = X.shape[1]
        w = np.linspace(-1.0, 1.0, d, dtype=np.float32)
        y_hat = forward(X, w, 0.3)
        dw_want, db_want = mse_gradient(X, y, y_hat)
        dw, db = pair(call(fn, "my_gradient_nd", X, y, y_hat), "What my_gradient_nd returns")
        if hasattr(dw, "detach"):
            dw = dw.detach().cpu().numpy()
        _check_shape(np.shape(dw), n, d)
        dw = np.asarray(dw, dtype=np.float64)
        if not close(dw, dw_want):
            ratios = dw / np.where(dw_want == 0, 1.0, dw_want)
            if np.allclose(ratios, ratios[0], rtol=1e-3):
                what = "Your dw (each entry, relative to the right one)"
                diagnose(float(ratios[0]), 1.0, n, what)
            raise Wrong(
                f"Your dw is {fmt(dw)}, but on this hidden data (n = {n}) it is {fmt(dw_want)}.\n"
                "  Hint: dw_j = 2/n sum_i x_ij (y_hat_i - y_i), that is 2/n * X.T @ (y_hat - y)."
            )
        db = number(db, "Your db", "db is one number: the mean of 2 (y_hat - y).")
        diagnose(db, db_want, n, "Your db")
    return (
        "dw has one entry per feature and, with db, matches the exact gradient on two hidden "
        "data sets (d = 3 and d = 4)."
    )


def _check_shape(shape: tuple[int, ...], n: int, d: int) -> None:
    """Raise with a hint for each classic wrong shape of the many-feature dw."""
    where = (
        f"With X of shape ({n}, {d}), dw should have shape ({d},), one entry per feature, but has "
        f"shape {shape}."
    )
    hints = {
        (n,): f"one number per *sample*: sum over the samples instead, X.T @ (y_hat - y) has "
        f"shape ({d},).",
        (n, d): "these are the per-sample terms 2 x_i (y_hat_i - y_i); average them over the "
        "samples (axis=0), or use 2/n * X.T @ (y_hat - y).",
        (): "you summed over the features too; keep one partial derivative per weight: "
        "X.T @ (y_hat - y).",
    }
    if shape != (d,):
        hint = hints.get(
            shape,
            f"X.T has shape ({d}, {n}) and y_hat - y has shape ({n},): X.T @ (y_hat - y) has "
            f"shape ({d},).",
        )
        raise Wrong(f"{where}\n  Hint: {hint}")
