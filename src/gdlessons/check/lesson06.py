"""Checks of lesson 06: conditioning, standardized inputs, momentum and Adam.

>>> verdict = ex06_1(lambda X: 0.1)
✗ Exercise 6.1: not yet. On hidden data (n = 30) your lr is 0.1; the right one is 0.1679.
  Hint: compute H = 2/n A^T A with A = [X, 1], its eigenvalues with np.linalg.eigvalsh, then 2 / (lambda_min + lambda_max).
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from gdlessons.check.cases import WB, hessian, sgd_run, slips
from gdlessons.check.core import Wrong, call, read_number, vector
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, exercise, hidden_case
from gdlessons.data import toy_data
from gdlessons.numpy_gd import forward, mse_gradient
from gdlessons.train import train_numpy

__all__ = ["ex06_1", "ex06_2", "ex06_3", "ex06_4", "predict06_a", "predict06_b"]


def _best_lr(c: Case, slip: str = "") -> float:
    """2 / (lambda_min + lambda_max) of H = 2/n A^T A with A = [X, 1], or one classic slip."""
    scale = {"no 2": 1.0, "no 1/n": 2.0 * c.n}.get(slip, 2.0)
    low, *_, high = np.linalg.eigvalsh(hessian(c.X, scale, bias=slip != "no bias"))
    lrs = {"2/lmax": 2 / high, "1/lmax": 1 / high, "half": 1 / (low + high)}
    return lrs.get(slip, 2 / (low + high))


def _inputs_case(n: int, scale: list[float], offset: list[float], seed: int) -> Case:
    """Hidden inputs with two features far from mean 0 and std 1 (a tilted, narrow valley)."""
    c = hidden_case(n, [1.0, 1.0], 0.0, seed)
    return c.but(X=c.X * np.float32(scale) + np.float32(offset))


BEST_LR_SLIPS = {
    "no bias": "the model has a bias: append a column of ones to X, A = [X, 1], as in the lesson.",
    "no 2": "H = 2/n A^T A: the loss is a mean of squares, and a square's second derivative has a 2.",
    "no 1/n": "H = 2/n A^T A: the loss is a mean over the n samples.",
    "2/lmax": "2/lambda_max is the largest lr that still converges, not the fastest: the best lr "
    "balances the flattest and the steepest direction, 2 / (lambda_min + lambda_max).",
    "1/lmax": "1/lambda_max settles the steepest direction in one step but leaves the flat one "
    "slow: balance the two, 2 / (lambda_min + lambda_max).",
    "half": "exactly half: the balance 1 - lr lambda_min = -(1 - lr lambda_max) gives "
    "lr = 2 / (lambda_min + lambda_max).",
}
ex06_1 = exercise(
    "6.1",
    1,
    "my_best_lr(X) -> lr: the best constant learning rate of y_hat = X w + b",
    cases=[
        _inputs_case(30, [2.0, 1.0], [1.0, 0.5], 611),
        _inputs_case(12, [1.0, 0.5], [1.5, 0.0], 612),
    ],
    read=read_number("Your lr"),
    reference=_best_lr,
    mistakes=slips(_best_lr, BEST_LR_SLIPS),
    otherwise="compute H = 2/n A^T A with A = [X, 1], its eigenvalues with np.linalg.eigvalsh, "
    "then 2 / (lambda_min + lambda_max).",
    rtol=1e-4,
    passed="my_best_lr finds 2 / (lambda_min + lambda_max) of the Hessian on two hidden data sets.",
)


def _fit_predict(c: Case, slip: str = "") -> np.ndarray:
    """Standardize with the training statistics, train from zero, predict X_new; or one slip."""
    X, X_new = c.X_train, c.X_new
    both = np.concatenate([X, X_new]) if slip == "all data" else X
    mean, std = both.mean(axis=0), both.std(axis=0, ddof=1 if slip == "ddof 1" else 0)
    spread = std**2 if slip == "variance" else std
    Z_new, own = (X_new - mean) / spread, (X_new - X_new.mean(axis=0)) / X_new.std(axis=0)
    Z_new = {"raw": X_new, "not transformed": X_new, "own statistics": own}.get(slip, Z_new)
    Z = X if slip == "raw" else (X - mean) / spread
    h = train_numpy(Z, c.y_train, c.lr, c.num_epochs, w0=0.0, b0=0.0)  # a slip may diverge
    return forward(Z_new, h.w_final, h.b_final)


def _prediction_case(n: int, seed: int, **settings: Any) -> Case:
    """n training inputs and 6 new ones (shifted), with features far from mean 0 and std 1."""
    c = hidden_case(n + 6, [1.5, -0.5], 2.0, seed, n_train=n, **settings)
    X = c.X * np.float32([3.0, 0.5]) + np.float32([5.0, -2.0])
    return c.but(X_train=X[:n], y_train=c.y[:n], X_new=X[n:] + np.float32([2.0, 0.5]))


FIT_SLIPS = {
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
ex06_2 = exercise(
    "6.2",
    2,
    "my_fit_predict(X_train, y_train, X_new, lr, num_epochs) -> predictions: standardize with "
    "the training set's statistics, train, predict the new inputs",
    cases=[
        _prediction_case(40, 621, lr=0.1, num_epochs=15),
        _prediction_case(25, 622, lr=0.2, num_epochs=8),
    ],
    read=lambda value, c: vector(value, len(c.X_new), "Your predictions"),
    reference=_fit_predict,
    setting="On hidden data ({n_train} training inputs, lr = {lr}, {num_epochs} epochs) your "
    "predictions for 6 new inputs are {got}; the right ones are {want}.",
    mistakes=slips(_fit_predict, FIT_SLIPS),
    otherwise="mean and std of X_train (per feature, np.std), standardize X_train and X_new with "
    "them, gradient descent from w = 0, b = 0 on the standardized X_train, then predict.",
    passed="my_fit_predict standardizes with the training set's statistics, and applies the same "
    "transform to new inputs, on two hidden data sets.",
)


def _momentum_run(c: Case, slip: str) -> np.ndarray:
    """Full-batch momentum in NumPy on ``[*w, b]``, with one classic slip: 'plain' (v never
    carried over), 'dampened' (v = m v + (1 - m) g), 'late' (step with v, then update it)."""
    wb, v, m = np.zeros(c.d + 1), np.zeros(c.d + 1), 0.0 if slip == "plain" else c.momentum
    for _ in range(c.num_epochs):
        g = np.append(*mse_gradient(c.X, c.y, forward(c.X, wb[:-1], wb[-1])))
        new = m * v + (1 - m if slip == "dampened" else 1.0) * g
        wb, v = wb - c.lr * (v if slip == "late" else new), new
    return wb


MOMENTUM_SLIPS = {
    "plain": "that is plain gradient descent: the velocity must carry over from one epoch to the "
    "next (create v before the loop, v = momentum * v + g inside).",
    "dampened": "PyTorch's SGD adds the whole gradient, v = momentum * v + g, without a "
    "(1 - momentum) factor.",
    "late": "update the velocity first, then step with the new one: v = momentum * v + g; "
    "w = w - lr * v.",
}
ex06_3 = exercise(
    "6.3",
    2,
    "my_momentum(X, y, lr, momentum, num_epochs) -> (w, b): full-batch SGD with momentum, in NumPy",
    cases=[
        hidden_case(30, [2.0, -1.0], 1.0, 431, lr=0.05, momentum=0.9, num_epochs=15),
        hidden_case(12, [2.0, -1.0], 1.0, 432, lr=0.1, momentum=0.5, num_epochs=8),
    ],
    steps=True,
    read=WB,
    reference=lambda c: sgd_run(c, momentum=c.momentum),
    mistakes=slips(_momentum_run, MOMENTUM_SLIPS),
    otherwise="start from w = 0, b = 0 and v = 0 (one velocity for w, one for b); each epoch: the "
    "full gradient g, then v = momentum * v + g, then w = w - lr * v.",
    passed="my_momentum takes the same steps as torch.optim.SGD with momentum on two hidden data "
    "sets.",
)


def _adam_step(w: Any, g: Any, m: Any, s: Any, t: int, *hyper: float, slip: str = "") -> tuple:
    """One Adam update (the lesson's, torch.optim.Adam's), or one classic slip in it."""
    lr, beta1, beta2, eps = hyper
    m = beta1 * m + (g if slip == "no 1 - beta1" else (1 - beta1) * g)
    s = beta2 * s + (1 - beta2) * g**2
    t = t + 1 if slip == "t from 0" else t
    m_hat, s_hat = (m, s) if slip == "no correction" else (m / (1 - beta1**t), s / (1 - beta2**t))
    root = {"eps inside": np.sqrt(s_hat + eps), "no sqrt": s_hat + eps}.get(slip)
    return w - lr * m_hat / (np.sqrt(s_hat) + eps if root is None else root), m, s


def _adam_run(c: Case, slip: str = "", step: Any = None) -> np.ndarray:
    """``c.num_steps`` updates from ``c.w``: with the gradient ``c.g``, or on the case's data;
    ``step`` (default: the lesson's, or a slip) must return the new (w, m, s)."""
    step = step or partial(_adam_step, slip=slip)
    w, m, s = c.w.copy(), np.zeros(3), np.zeros(3)
    for t in range(1, c.num_steps + 1):
        g = c.g if "g" in c else np.append(*mse_gradient(c.X, c.y, forward(c.X, w[:2], w[2])))
        w_m_s = step(w, np.asarray(g, dtype=np.float64), m, s, t, c.lr, 0.9, 0.999, c.eps)
        if not isinstance(w_m_s, (tuple, list)) or len(w_m_s) != 3:
            raise Wrong(
                "my_adam_step should return three arrays, (w, m, s): the next step needs m and s."
            )
        w, m, s = (vector(v, 3, f"The {k} you return") for k, v in zip("wms", w_m_s))
    return w


ADAM_SLIPS = {
    "no correction": "without the bias correction the first step is (1 - beta1) / sqrt(1 - beta2) "
    "= 3.16 times too large: divide m by 1 - beta1**t and s by 1 - beta2**t.",
    "no 1 - beta1": "m = beta1 * m + (1 - beta1) * g: a running mean, with the weight 1 - beta1 on "
    "the new gradient.",
    "t from 0": "t counts the steps from 1: at the first step the correction divides by "
    "1 - beta1**1 = 0.1, giving back exactly g.",
    "eps inside": "eps goes outside the square root: m_hat / (sqrt(s_hat) + eps).",
    "no sqrt": "divide by the square root of s_hat, the typical size of the gradient, not by s_hat.",
}
RUN = hidden_case(20, [2.0, -1.0], 0.5, 641)
ex06_4 = exercise(
    "6.4",
    3,
    "my_adam_step(w, g, m, s, t, lr, beta1, beta2, eps) -> (w, m, s): one Adam update",
    cases=[
        Case(
            num_steps=1,
            w=np.array([0.5, -1.0, 2.0]),
            g=np.array([3.0, -0.2, 1e-4]),
            lr=0.1,
            eps=1e-8,
            setting="Step 1 from w = {w} with the gradient {g} and lr = {lr} should move"
            " each coordinate by lr * sign(g), to {want}; yours goes to {got}.",
        ),
        RUN.but(
            X=RUN.X * 3.0 + 1.0,
            w=np.zeros(3),
            num_steps=25,
            lr=0.05,
            eps=1e-3,
            setting="After {num_steps} steps on hidden data (lr = {lr}, eps = {eps}) your "
            "(w, b) is {got}; the right one is {want}.",
            otherwise="return the new m and s too: the next step needs them.",
        ),
    ],
    run=lambda fn, c: _adam_run(c, step=partial(call, fn, "my_adam_step")),
    reference=_adam_run,
    mistakes=slips(_adam_run, ADAM_SLIPS),
    otherwise="m = beta1 m + (1 - beta1) g, s = beta2 s + (1 - beta2) g^2, m_hat = m / (1 - "
    "beta1^t), s_hat = s / (1 - beta2^t), w - lr m_hat / (sqrt(s_hat) + eps).",
    rtol=1e-6,
    passed="my_adam_step moves each coordinate by lr * sign(g) at step 1, and after 25 steps on "
    "hidden data ends where the lesson's update (torch.optim.Adam's) does.",
)


# ---- Prediction checkpoints of the lesson (on the toy valley: the answer is the next cells')


def _eigenvalues(shift: float = 0.0, scale: float = 1.0) -> np.ndarray:
    """The Hessian's eigenvalues for y_hat = w x + b on (x - shift) / scale, ascending."""
    return np.linalg.eigvalsh(hessian((toy_data()[0].astype(np.float64) - shift) / scale))


def _kappa(shift: float = 0.0, scale: float = 1.0) -> float:
    low, high = _eigenvalues(shift, scale)
    return float(high / low)


_MEAN, _STD = (float(f(toy_data()[0].astype(np.float64))) for f in (np.mean, np.std))

predict06_a = prediction(
    "6a",
    "the condition number kappa of the valley after centring x (no division by its std)",
    lambda: _kappa(_MEAN),
    "centred, H = 2 · diag(mean((x - x̄)²), 1) = diag(2.5, 2): the coupling is gone, but the two "
    "curvatures still differ, so κ = 2.5/2 = 1.25. Dividing by the standard deviation as well "
    "makes them equal (κ = 1).",
    mistakes=[
        Said(
            lambda: _kappa(_MEAN, _STD),
            "a κ of 1 needs both curvatures equal, which takes standardizing (dividing by the "
            "standard deviation too); centring alone leaves 2 · var(x) = 2.5 against 2.",
        ),
        Said(
            lambda: _kappa(),
            "centring does change the valley: it removes the off-diagonal x̄ that tilts and "
            "stretches it.",
        ),
        Said(
            lambda: np.sqrt(_kappa()),
            "√κ is what momentum's rate uses; centring changes the Hessian itself.",
        ),
    ],
    rtol=0.01,
)


def _lr(rule: str) -> float:
    low, high = _eigenvalues()
    return {"best": 2 / (low + high), "2/max": 2 / high, "1/max": 1 / high, "1/min": 1 / low}[rule]


predict06_b = prediction(
    "6b",
    "the lr that makes the flat and the steep factor equally slow, |1 - lr λmin| = |1 - lr λmax|",
    lambda: _lr("best"),
    "1 - lr λmin = -(1 - lr λmax) gives lr = 2/(λmin + λmax) = 2/(0.299 + 16.70) = 0.118: both "
    "factors are then ±0.965.",
    mistakes=[
        Said(
            lambda: _lr("2/max"),
            "2/λmax is the limit, where the steep factor reaches -1 and stops shrinking at all; "
            "the balance point is a little lower, 2/(λmin + λmax).",
        ),
        Said(
            lambda: _lr("1/max"),
            "1/λmax zeroes the steep factor, but the flat one is then 0.98: not equally slow.",
        ),
        Said(
            lambda: _lr("1/min"),
            "1/λmin zeroes the flat factor, but lr λmax is then far above 2: the steep direction "
            "diverges.",
        ),
    ],
    rtol=0.01,
)
