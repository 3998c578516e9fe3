"""Checks of lesson 03: torch's autograd.

>>> import torch
>>> def my_autograd_gradient(X, y, w, b):
...     w = torch.tensor(w, requires_grad=True); b = torch.tensor(b, requires_grad=True)
...     mse_loss(forward(X, w, b), y).backward()
...     return w.grad, b.grad
>>> verdict = ex03_1(my_autograd_gradient)
✓ Exercise 3.1: right! autograd's gradient equals mse_gradient on two hidden data sets.
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
    tensors,
)
from gdlessons.gradcheck import numerical_gradient
from gdlessons.numpy_gd import forward, mse_gradient, mse_loss
from gdlessons.train import train_numpy

__all__ = ["ex03_1", "ex03_2", "ex03_3", "ex03_4"]


@exercise("3.1", points=1)
def ex03_1(my_autograd_gradient: Callable[..., Any]) -> str:
    """Check ``my_autograd_gradient(X, y, w, b) -> (dw, db)`` by autograd (X, y tensors).

    >>> import torch
    >>> def my_autograd_gradient(X, y, w, b):
    ...     w = torch.tensor(w, requires_grad=True); b = torch.tensor(b, requires_grad=True)
    ...     mse_loss(forward(X, w, b), y).backward()
    ...     return w.grad, b.grad
    >>> ex03_1(my_autograd_gradient)
    ✓ Exercise 3.1: right! ...
    """
    name = "my_autograd_gradient"
    fn = function(my_autograd_gradient, name)
    cases = [(8, (2.0, 1.0), (0.5, -0.5), 211), (30, (-1.0, 2.5), (1.5, 0.25), 212)]
    for n, (w_true, b_true), (w, b), seed in cases:
        X_np, y_np = hidden(n, w_true, b_true, seed)
        X, y = tensors(X_np, y_np)
        result = call(fn, name, X, y, w, b)
        dw, db = pair(result, f"What {name} returns", "(w.grad, b.grad)")
        if dw is None or db is None:
            raise Wrong(
                "a gradient is None. .grad stays None until loss.backward() has run, and only for "
                "tensors made with requires_grad=True: w = torch.tensor(w, requires_grad=True)."
            )
        dw, db = number(dw, "Your dw"), number(db, "Your db")
        dw_want, db_want = mse_gradient(X_np, y_np, forward(X_np, w, b))
        loss = mse_loss(forward(X_np, w, b), y_np)
        if close(dw, loss) or close(db, loss):
            raise Wrong(
                "you returned the loss, not its gradient. Call loss.backward(), then return "
                "w.grad and b.grad."
            )
        if close(dw, db_want) and close(db, dw_want):
            raise Wrong("dw and db are swapped. Return (w.grad, b.grad).")
        twice = {
            "double": "backward() adds into .grad: two backward passes (or a stale .grad) double "
            "it. Create fresh tensors in the function and call backward once."
        }
        diagnose(dw, dw_want, n, "Your dw", twice)
        diagnose(db, db_want, n, "Your db", twice)
    return "autograd's gradient equals mse_gradient on two hidden data sets."


def _accumulated_grads(
    X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, moved: bool = True
) -> np.ndarray:
    """w.grad at each epoch of the loop that forgets w.grad.zero_().

    ``moved=False``: w follows the correct run instead (a classic wrong prediction).
    """
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
        raise Wrong(f"{name} returned None. Did you forget `return grads`?")
    try:
        grads = np.array([number(g, "each gradient") for g in value], dtype=np.float64)
    except TypeError:
        raise Wrong(
            f"{name} should return a list with one w.grad value per epoch, got a "
            f"{type(value).__name__}."
        ) from None
    if grads.shape != (num_epochs,):
        raise Wrong(
            f"{name} returned {len(grads)} values for num_epochs = {num_epochs}: append one "
            "w.grad value per epoch, right after backward()."
        )
    return grads


def _check_accumulated(fn: Callable[..., Any], name: str, use_torch: bool) -> str:
    for n, w_true, lr, num_epochs, seed in [(10, 1.5, 0.05, 6, 221), (5, -2.0, 0.02, 4, 222)]:
        X, y = hidden(n, w_true, 0.0, seed)
        args = (*tensors(X, y), lr, num_epochs) if use_torch else (X, y, lr, num_epochs)
        got = _grad_list(call(fn, name, *args), num_epochs, name)
        want = _accumulated_grads(X, y, lr, num_epochs)
        compare(
            got,
            want,
            f"On hidden data (n = {n}, lr = {lr}) your gradients are {fmt(got)}, the bug gives "
            f"{fmt(want)}.",
            [
                (
                    num_epochs > 1 and close(got, np.full(num_epochs, want[-1]), rtol=1e-3),
                    (
                        "every entry is the last value: you appended the tensor w.grad itself, "
                        "which backward keeps changing in place. Append w.grad.item(), a number."
                    ),
                ),
                (
                    partial(_correct_grads, X, y, lr, num_epochs),
                    (
                        "these are the *correct* gradients: your loop still zeroes w.grad. This "
                        "exercise wants the bug."
                    ),
                ),
                (
                    partial(_accumulated_grads, X, y, lr, num_epochs, moved=False),
                    (
                        "you summed the gradients of the correct run, but with the bug w moves by "
                        "the *accumulated* gradient, so the next gradient is taken at a different "
                        "w."
                    ),
                ),
                (
                    close(got[1:], want[:-1]),
                    "record w.grad right after backward(), before the update.",
                ),
            ],
            "start at w = 0; each epoch: backward adds dJ/dw at the current w to w.grad, then "
            "w -= lr * w.grad with that sum.",
        )
    return (
        f"{name} gives the accumulated gradients on two hidden data sets: epoch k's w.grad is "
        "the sum of the true gradients at w_0 … w_k."
    )


@exercise("3.2", points=2)
def ex03_2(my_forgot_zero_grad: Callable[..., Any]) -> str:
    """Check ``my_forgot_zero_grad(X, y, lr, num_epochs) -> [w.grad per epoch]``: no zero_().

    >>> import torch
    >>> def my_forgot_zero_grad(X, y, lr, num_epochs):
    ...     w, grads = torch.tensor(0.0, requires_grad=True), []
    ...     for epoch in range(num_epochs):
    ...         mse_loss(forward(X, w), y).backward()
    ...         grads.append(w.grad.item())
    ...         with torch.no_grad():
    ...             w -= lr * w.grad
    ...     return grads
    >>> ex03_2(my_forgot_zero_grad)
    ✓ Exercise 3.2: right! ...
    """
    name = "my_forgot_zero_grad"
    return _check_accumulated(function(my_forgot_zero_grad, name), name, use_torch=True)


@exercise("3.3", points=2)
def ex03_3(my_predicted_grads: Callable[..., Any]) -> str:
    """Check ``my_predicted_grads(X, y, lr, num_epochs)``: the same gradients, in NumPy.

    >>> def my_predicted_grads(X, y, lr, num_epochs):
    ...     w, total, grads = 0.0, 0.0, []
    ...     for epoch in range(num_epochs):
    ...         total += mse_gradient(X, y, forward(X, w))[0]
    ...         grads.append(total)
    ...         w -= lr * total
    ...     return grads
    >>> ex03_3(my_predicted_grads)
    ✓ Exercise 3.3: right! ...
    """
    name = "my_predicted_grads"
    return _check_accumulated(function(my_predicted_grads, name), name, use_torch=False)


@exercise("3.4", points=3)
def ex03_4(my_mae_gradient: Callable[..., Any]) -> str:
    """Check ``my_mae_gradient(X, y, w, b) -> (dw, db)`` of the mean absolute error, by autograd.

    >>> import torch
    >>> def my_mae_gradient(X, y, w, b):
    ...     w = torch.tensor(w, requires_grad=True); b = torch.tensor(b, requires_grad=True)
    ...     (w * X + b - y).abs().mean().backward()
    ...     return w.grad, b.grad
    >>> ex03_4(my_mae_gradient)
    ✓ Exercise 3.4: right! ...
    """
    fn = function(my_mae_gradient, "my_mae_gradient")
    hints = {
        "sign": "|y - y_hat| = |y_hat - y|: the sign cannot come from the order. Did you return "
        "-grad, or step it?",
        "n": "use .mean(), not .sum(), over the samples.",
    }
    cases = [(9, (2.0, 1.0), (0.5, -0.25), 241), (20, (-1.0, 0.5), (0.75, 1.0), 242)]
    for n, (w_true, b_true), (w, b), seed in cases:
        X_np, y_np = hidden(n, w_true, b_true, seed)
        X64, y64 = X_np.astype(np.float64), y_np.astype(np.float64)

        def mae(p: np.ndarray, X64: np.ndarray = X64, y64: np.ndarray = y64) -> float:
            return float(np.mean(np.abs(p[0] * X64 + p[1] - y64)))

        dw_want, db_want = numerical_gradient(mae, np.array([w, b]))
        X, y = tensors(X_np, y_np)
        result = call(fn, "my_mae_gradient", X, y, w, b)
        dw, db = pair(result, "What my_mae_gradient returns", "(w.grad, b.grad)")
        if dw is None or db is None:
            raise Wrong(
                "a gradient is None: make w and b with requires_grad=True and call "
                "loss.backward() before reading .grad."
            )
        dw, db = number(dw, "Your dw"), number(db, "Your db")
        mse_dw, mse_db = mse_gradient(X_np, y_np, forward(X_np, w, b))
        if close(dw, mse_dw) and close(db, mse_db):
            raise Wrong(
                "that is the gradient of the *squared* error. This exercise's loss is "
                "mean(|y_hat - y|): use (y_hat - y).abs().mean()."
            )
        diagnose(dw, dw_want, n, "Your dw", hints)
        diagnose(db, db_want, n, "Your db", hints)
    return (
        "autograd's MAE gradient matches central differences on two hidden data sets. "
        "(By hand: dw = mean(sign(y_hat - y) x).)"
    )
