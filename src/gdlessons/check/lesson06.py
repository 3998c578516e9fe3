"""Checks of lesson 06: conditioning, standardized inputs, momentum and Adam.

>>> verdict = ex06_1(lambda X: 0.1)
✗ Exercise 6.1: not yet. ...
>>> verdict.status, verdict.points
('fail', 0)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from gdlessons.check.core import (
    Wrong,
    call,
    compare,
    exercise,
    fmt,
    function,
    hidden,
    number,
    vector,
    w_b,
)
from gdlessons.check.lesson05 import sgd_final
from gdlessons.history import DivergenceError
from gdlessons.numpy_gd import forward, mse_gradient
from gdlessons.train import train_numpy

__all__ = ["ex06_1", "ex06_2", "ex06_3", "ex06_4"]


def _best_lr(X: np.ndarray, mistake: str = "") -> float:
    """2 / (lambda_min + lambda_max) of H = 2/n A^T A, A = [X, 1]; or one classic slip."""
    A = np.column_stack([X, np.ones(len(X))]) if mistake != "no bias" else X
    A = A.astype(np.float64)
    scale = {"no 2": 1.0, "no 1/n": 2.0 * len(X)}.get(mistake, 2.0)
    lam = np.linalg.eigvalsh(scale / len(X) * A.T @ A)
    return {
        "2/lmax": 2 / lam[-1],
        "1/lmax": 1 / lam[-1],
        "half": 1 / (lam[0] + lam[-1]),
        "first two": 2 / (lam[0] + lam[1]),
    }.get(mistake, 2 / (lam[0] + lam[-1]))


LR_HINTS = {
    "no bias": "the model has a bias: append a column of ones to X, A = [X, 1], as in the lesson.",
    "no 2": "H = 2/n A^T A: the loss is a mean of squares, and a square's second derivative has a 2.",
    "no 1/n": "H = 2/n A^T A: the loss is a mean over the n samples.",
    "2/lmax": "2/lambda_max is the largest lr that still converges, not the fastest: the best "
    "lr balances the flattest and the steepest direction, 2 / (lambda_min + lambda_max).",
    "1/lmax": "1/lambda_max settles the steepest direction in one step but leaves the flat one "
    "slow: balance the two, 2 / (lambda_min + lambda_max).",
    "half": "exactly half: the balance 1 - lr lambda_min = -(1 - lr lambda_max) gives "
    "lr = 2 / (lambda_min + lambda_max).",
    "first two": "use the smallest and the largest of all the eigenvalues (eigvalsh sorts them: "
    "the first and the last).",
}


@exercise("6.1", points=1)
def ex06_1(my_best_lr: Callable[..., Any]) -> str:
    """Check ``my_best_lr(X) -> lr``: the best constant lr of y_hat = X w + b, from H's eigenvalues.

    >>> def my_best_lr(X):
    ...     A = np.column_stack([X, np.ones(len(X))])
    ...     lam = np.linalg.eigvalsh(2 / len(X) * A.T @ A)
    ...     return 2 / (lam[0] + lam[-1])
    >>> ex06_1(my_best_lr)
    ✓ Exercise 6.1: right! ...
    """
    fn = function(my_best_lr, "my_best_lr")
    for n, scale, offset, seed in [
        (30, [2.0, 1.0], [1.0, 0.5], 611),
        (12, [1.0, 0.5], [1.5, 0.0], 612),
    ]:
        X = hidden(n, [1.0, 1.0], 0.0, seed)[0] * np.float32(scale) + np.float32(offset)
        got = number(call(fn, "my_best_lr", X.copy()), "What my_best_lr returns")
        want = _best_lr(X)
        compare(
            got,
            want,
            f"On hidden inputs (n = {n}, 2 features and a bias) your lr is {fmt(got)}; the best "
            f"constant lr is {fmt(want)}.",
            [(_best_lr(X, mistake), hint) for mistake, hint in LR_HINTS.items()],
            "compute H = 2/n A^T A with A = [X, 1], its eigenvalues with np.linalg.eigvalsh, then "
            "2 / (lambda_min + lambda_max).",
            rtol=1e-4,
        )
    return "my_best_lr finds 2 / (lambda_min + lambda_max) of the Hessian on two hidden data sets."


def _fit_predict(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_new: np.ndarray,
    lr: float,
    num_epochs: int,
    mistake: str = "",
) -> np.ndarray | None:
    """Standardize with the training statistics, train from zero, predict X_new; or one slip."""
    X_all = np.concatenate([X_train, X_new]) if mistake == "all data" else X_train
    mean, std = X_all.mean(axis=0), X_all.std(axis=0, ddof=1 if mistake == "ddof 1" else 0)
    spread = std**2 if mistake == "variance" else std
    Z = X_train if mistake == "raw" else (X_train - mean) / spread
    Z_new = {
        "raw": X_new,
        "not transformed": X_new,
        "own statistics": (X_new - X_new.mean(axis=0)) / X_new.std(axis=0),
    }.get(mistake, (X_new - mean) / spread)
    try:
        h = train_numpy(Z, y_train, lr, num_epochs, w0=0.0, b0=0.0)
    except DivergenceError:  # that slip blows up: not what the student got
        return None
    return forward(Z_new, h.w_final, h.b_final)


FIT_HINTS = {
    "not transformed": "the new inputs went into the model raw: standardize them too, with the "
    "training set's mean and std.",
    "own statistics": "the new inputs were standardized with their own mean and std: use the "
    "training set's, computed once (a single new input would have std 0).",
    "all data": "the mean and std came from the training and new inputs together: compute them "
    "on X_train alone.",
    "ddof 1": "that std divides by n - 1 (torch's .std() default, ddof=1): use np.std, which "
    "divides by n, as the lesson does.",
    "variance": "divide by the standard deviation, not by the variance.",
    "raw": "the training inputs were not standardized: train on (X_train - mean) / std.",
}


@exercise("6.2", points=2)
def ex06_2(my_fit_predict: Callable[..., Any]) -> str:
    """Check ``my_fit_predict(X_train, y_train, X_new, lr, num_epochs) -> y_hat_new``.

    >>> def my_fit_predict(X_train, y_train, X_new, lr, num_epochs):
    ...     mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    ...     h = train_numpy((X_train - mean) / std, y_train, lr, num_epochs, b0=0.0)
    ...     return forward((X_new - mean) / std, h.w_final, h.b_final)
    >>> ex06_2(my_fit_predict)
    ✓ Exercise 6.2: right! ...
    """
    name = "my_fit_predict"
    fn = function(my_fit_predict, name)
    for n, lr, num_epochs, seed in [(40, 0.1, 15, 621), (25, 0.2, 8, 622)]:
        X, y = hidden(n + 6, [1.5, -0.5], 2.0, seed)
        X = X * np.float32([3.0, 0.5]) + np.float32([5.0, -2.0])  # features far from mean 0, std 1
        X_train, y_train, X_new = X[:n], y[:n], X[n:] + np.float32([2.0, 0.5])
        want = _fit_predict(X_train, y_train, X_new, lr, num_epochs)
        got = vector(
            call(fn, name, X_train.copy(), y_train.copy(), X_new.copy(), lr, num_epochs),
            6,
            f"What {name} returns",
        )
        compare(
            got,
            want,
            f"On hidden data (n = {n}, lr = {lr}, {num_epochs} epochs) your predictions for 6 new "
            f"inputs are {fmt(got)}; the right ones are {fmt(want)}.",
            [
                (partial(_fit_predict, X_train, y_train, X_new, lr, num_epochs, mistake), hint)
                for mistake, hint in FIT_HINTS.items()
            ],
            "mean and std of X_train (per feature, np.std), standardize X_train and X_new with "
            "them, gradient descent from w = 0, b = 0 on the standardized X_train, then predict.",
        )
    return (
        "my_fit_predict standardizes with the training set's statistics, and applies the same "
        "transform to new inputs, on two hidden data sets."
    )


def _momentum_run(
    X: np.ndarray, y: np.ndarray, lr: float, momentum: float, num_epochs: int, variant: str
) -> np.ndarray:
    """Full-batch momentum in NumPy with one classic slip.

    'dampened': v = m v + (1 - m) g; 'late': step with the old velocity, then update it.
    """
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


@exercise("6.3", points=2)
def ex06_3(my_momentum: Callable[..., Any]) -> str:
    """Check ``my_momentum(X, y, lr, momentum, num_epochs) -> (w, b)``: full-batch SGD with
    momentum, in NumPy.

    >>> def my_momentum(X, y, lr, momentum, num_epochs):
    ...     w, b, vw, vb = np.zeros(X.shape[1]), 0.0, 0.0, 0.0
    ...     for epoch in range(num_epochs):
    ...         dw, db = mse_gradient(X, y, forward(X, w, b))
    ...         vw, vb = momentum * vw + dw, momentum * vb + db
    ...         w, b = w - lr * vw, b - lr * vb
    ...     return w, b
    >>> ex06_3(my_momentum)
    ✓ Exercise 6.3: right! ...
    """
    fn = function(my_momentum, "my_momentum")
    for n, lr, momentum, num_epochs, seed in [(30, 0.05, 0.9, 15, 431), (12, 0.1, 0.5, 8, 432)]:
        X, y = hidden(n, [2.0, -1.0], 1.0, seed)
        want = sgd_final(X, y, lr, num_epochs, momentum=momentum)
        got = w_b(call(fn, "my_momentum", X, y, lr, momentum, num_epochs), 2, "my_momentum")
        compare(
            got,
            want,
            f"On hidden data (n = {n}, lr = {lr}, momentum = {momentum}, {num_epochs} epochs) you "
            f"end at (w, b) = {fmt(got)}; torch.optim.SGD(momentum={momentum}) ends at "
            f"{fmt(want)}.",
            [
                (
                    partial(sgd_final, X, y, lr, num_epochs),
                    (
                        "that is plain gradient descent: the velocity must carry over from one "
                        "epoch to the next (create v before the loop, v = momentum * v + g inside)."
                    ),
                ),
                (
                    partial(_momentum_run, X, y, lr, momentum, num_epochs, "dampened"),
                    (
                        "PyTorch's SGD adds the whole gradient, v = momentum * v + g, without a "
                        "(1 - momentum) factor."
                    ),
                ),
                (
                    partial(_momentum_run, X, y, lr, momentum, num_epochs, "late"),
                    (
                        "update the velocity first, then step with the new one: v = momentum * v + "
                        "g; w = w - lr * v."
                    ),
                ),
            ],
            "start from w = 0, b = 0 and v = 0 (one velocity for w, one for b); each epoch: the "
            "full gradient g, then v = momentum * v + g, then w = w - lr * v.",
        )
    return (
        "my_momentum takes the same steps as torch.optim.SGD with momentum on two hidden data sets."
    )


def _adam_run(
    X: np.ndarray, y: np.ndarray, lr: float, eps: float, num_steps: int, step: Any
) -> np.ndarray:
    """``num_steps`` full-batch steps of ``step(w, g, m, s, t, lr, 0.9, 0.999, eps)`` from zero."""
    w, m, s = np.zeros(X.shape[1] + 1), np.zeros(X.shape[1] + 1), np.zeros(X.shape[1] + 1)
    for t in range(1, num_steps + 1):
        g = np.append(*mse_gradient(X, y, forward(X, w[:-1], w[-1]))).astype(np.float64)
        w, m, s = step(w, g, m, s, t, lr, 0.9, 0.999, eps)
    return w


def _adam_step(w, g, m, s, t, lr, beta1, beta2, eps, mistake=""):  # noqa: ANN001, ANN202
    """One Adam update (torch.optim.Adam's), or one classic slip in it."""
    m = beta1 * m + (g if mistake == "no 1 - beta1" else (1 - beta1) * g)
    s = beta2 * s + (1 - beta2) * g**2
    t_hat = t + 1 if mistake == "t from 0" else t
    m_hat, s_hat = m / (1 - beta1**t_hat), s / (1 - beta2**t_hat)
    if mistake == "no correction":
        m_hat, s_hat = m, s
    denominator = {"eps inside": np.sqrt(s_hat + eps), "no sqrt": s_hat + eps}.get(
        mistake, np.sqrt(s_hat) + eps
    )
    return w - lr * m_hat / denominator, m, s


ADAM_HINTS = {
    "no correction": "without the bias correction the first step is (1 - beta1) / sqrt(1 - beta2)"
    " = 3.16 times too large: divide m by 1 - beta1**t and s by 1 - beta2**t.",
    "no 1 - beta1": "m = beta1 * m + (1 - beta1) * g: a running mean, with the weight 1 - beta1 "
    "on the new gradient.",
    "t from 0": "t counts the steps from 1: at the first step the correction divides by "
    "1 - beta1**1 = 0.1, giving back exactly g.",
    "eps inside": "eps goes outside the square root: m_hat / (sqrt(s_hat) + eps).",
    "no sqrt": "divide by the square root of s_hat, the typical size of the gradient, not by "
    "s_hat itself.",
}


@exercise("6.4", points=3)
def ex06_4(my_adam_step: Callable[..., Any]) -> str:
    """Check ``my_adam_step(w, g, m, s, t, lr, beta1, beta2, eps) -> (w, m, s)``: one Adam update.

    >>> def my_adam_step(w, g, m, s, t, lr, beta1, beta2, eps):
    ...     m = beta1 * m + (1 - beta1) * g
    ...     s = beta2 * s + (1 - beta2) * g**2
    ...     m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)
    ...     return w - lr * m_hat / (np.sqrt(s_hat) + eps), m, s
    >>> ex06_4(my_adam_step)
    ✓ Exercise 6.4: right! ...
    """
    import torch

    name = "my_adam_step"
    fn = function(my_adam_step, name)

    def student(w, g, m, s, t, lr, beta1, beta2, eps):  # noqa: ANN001, ANN202
        w_m_s = call(fn, name, w.copy(), g.copy(), m.copy(), s.copy(), t, lr, beta1, beta2, eps)
        if not isinstance(w_m_s, (tuple, list)) or len(w_m_s) != 3:
            kind = f"{len(w_m_s)} items" if isinstance(w_m_s, (tuple, list)) else "one value"
            raise Wrong(
                f"{name} should return three arrays, (w, m, s): the next step needs m and s. It "
                f"returned {kind}."
            )
        return tuple(vector(v, len(w), f"The {k} {name} returns") for k, v in zip("wms", w_m_s))

    w0, g0 = np.array([0.5, -1.0, 2.0]), np.array([3.0, -0.2, 1e-4])
    got = student(w0, g0, np.zeros(3), np.zeros(3), 1, 0.1, 0.9, 0.999, 1e-8)[0]
    want = _adam_step(w0, g0, np.zeros(3), np.zeros(3), 1, 0.1, 0.9, 0.999, 1e-8)[0]
    steps = {
        k: _adam_step(w0, g0, np.zeros(3), np.zeros(3), 1, 0.1, 0.9, 0.999, 1e-8, k)[0]
        for k in ADAM_HINTS
    }
    compare(
        got,
        want,
        f"Step 1 from w = {fmt(w0)} with the gradient {fmt(g0)} and lr = 0.1 should move each "
        f"coordinate by lr * sign(g), to {fmt(want)}; yours goes to {fmt(got)}.",
        [(steps[k], hint) for k, hint in ADAM_HINTS.items()],
        "m = beta1 m + (1 - beta1) g, s = beta2 s + (1 - beta2) g^2, m_hat = m / (1 - beta1^t), "
        "s_hat = s / (1 - beta2^t), w - lr m_hat / (sqrt(s_hat) + eps).",
        rtol=1e-6,
    )
    X, y = hidden(20, [2.0, -1.0], 0.5, 641)
    X = X.astype(np.float64) * 3.0 + 1.0
    lr, eps, num_steps = 0.05, 1e-3, 25
    params = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([params], lr=lr, eps=eps)
    for _ in range(num_steps):  # the reference: PyTorch's Adam on the same gradients
        g = np.append(
            *mse_gradient(X, y, forward(X, params.detach().numpy()[:2], params.detach().numpy()[2]))
        )
        params.grad = torch.from_numpy(g.astype(np.float64))
        optimizer.step()
    want = params.detach().numpy()
    got = _adam_run(X, y, lr, eps, num_steps, student)
    compare(
        got,
        want,
        f"After {num_steps} steps on hidden data (lr = {lr}, eps = {eps}) your (w, b) is "
        f"{fmt(got)}; torch.optim.Adam's is {fmt(want)}.",
        [
            (partial(_adam_run, X, y, lr, eps, num_steps, partial(_adam_step, mistake=k)), hint)
            for k, hint in ADAM_HINTS.items()
        ],
        "return the new m and s too: the next step needs them.",
        rtol=1e-5,
    )
    return (
        "my_adam_step moves each coordinate by lr * sign(g) at step 1 and takes torch.optim.Adam's"
        f" steps for {num_steps} steps on hidden data."
    )
