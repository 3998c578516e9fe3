"""Checks of lesson 01: gradient descent by hand, in NumPy.

>>> verdict = ex01_1(lambda X, y, y_hat: float(np.dot(2 * X, y_hat - y).mean()))
✗ Exercise 1.1: not yet. Your dw is -27.84, but the exact value on this hidden data
(n = 7) is -3.977: 7 times too large, and 7 is the number of samples.
  Hint: you summed over the samples where the formula takes the mean (np.dot already sums, ...
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from gdlessons.check.cases import epoch_slips, from_zero
from gdlessons.check.core import Wrong, close, number, pair, read_number, read_pair
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Factor, Gives, Shows, exercise, hidden_case, mse_reference
from gdlessons.data import toy_data
from gdlessons.numpy_gd import forward, lipschitz_constant, mse_gradient
from gdlessons.train import train_numpy

__all__ = ["ex01_1", "ex01_2", "ex01_3", "ex01_4", "ex01_5", "predict01_a", "predict01_b"]


def _at(case: Case, w: Any, b: float = 0.0) -> Case:
    """The case with the model's parameters and its predictions ``y_hat`` on the case's X."""
    return case.but(w=w, b=b, y_hat=forward(case.X, w, b))


ex01_1 = exercise(
    "1.1",
    1,
    "my_gradient(X, y, y_hat) -> dw: the MSE gradient of y_hat = w x (no bias)",
    cases=[_at(hidden_case(7, 2.5, 0.0, 101), 0.7), _at(hidden_case(50, -1.5, 0.0, 102), 0.3)],
    read=read_number(
        "Your dw",
        "Return one number: the mean over the samples of 2 x (y_hat - y). Only dw, no db: this "
        "model has no bias.",
    ),
    reference=lambda c: mse_reference(c)[0],
    mistakes=[Factor("Your dw")],
    rtol=1e-4,
    passed="my_gradient matches the exact gradient on two hidden data sets (n = 7 and n = 50).",
)

ex01_2 = exercise(
    "1.2",
    1,
    "my_gradient_with_bias(X, y, y_hat) -> (dw, db): the gradient of y_hat = w x + b",
    cases=[
        _at(hidden_case(7, 2.5, -1.0, 121), 0.7, 0.4),
        _at(hidden_case(40, -1.5, 3.0, 122), 0.3, -0.5),
    ],
    read=read_pair(
        hints=(
            "dw is one number here: the mean over the samples of 2 x (y_hat - y).",
            "db is one number: the mean over the samples of 2 (y_hat - y).",
        )
    ),
    reference=mse_reference,
    mistakes=[
        Gives(
            lambda c: c.want[::-1],
            "dw and db are swapped. Return (dw, db): the gradient for w first.",
        ),
        Shows(
            lambda got, c: got[1] == 0.0,
            "the bias was forgotten: differentiate (w x + b - y)^2 with respect to b: the inner "
            "derivative is 1, so db = mean(2 (y_hat - y)).",
        ),
        Factor("Your dw", 0),
        Factor(
            "Your db",
            1,
            {"half": "the chain rule gives a factor 2: d/db (w x + b - y)^2 = 2 (w x + b - y)."},
        ),
    ],
    rtol=1e-4,
    passed="both dw and db match the exact gradient on two hidden data sets (n = 7 and n = 40).",
)


_run = partial(from_zero, trainer=train_numpy)  # the lesson's loop, with a bias, from zero


def _ascent(c: Case) -> list[float] | None:
    """The loop with the step's sign flipped, ``w = w + lr * dw`` (gradient ascent), in float64."""
    X, y, w, b = c.X.astype(np.float64), c.y.astype(np.float64), 0.0, 0.0
    with np.errstate(all="ignore"):
        for _ in range(c.num_epochs):
            r = w * X + b - y
            w, b = w + c.lr * float(np.mean(2 * X * r)), b + c.lr * float(np.mean(2 * r))
    return [w, b] if np.isfinite([w, b]).all() else None


GREW = "Did the updates grow instead of shrink? Subtract lr * gradient."
ex01_3 = exercise(
    "1.3",
    2,
    "my_train(X, y, lr, num_epochs) -> (w, b): gradient descent with a bias from 0",
    cases=[
        hidden_case(30, -1.5, 2.0, 131, lr=0.05, num_epochs=20),
        hidden_case(9, 0.8, -3.0, 132, lr=0.1, num_epochs=7),
    ],
    read=read_pair("(w, b)", "Your final w, Your final b", (GREW, GREW)),
    reference=_run,
    mistakes=[
        Shows(lambda got, c: got[1] == 0.0, "b never moved. Update it too: b = b - lr * db."),
        *epoch_slips(_run),
        Shows(
            lambda got, c: close(got[:1], [train_numpy(c.X, c.y, c.lr, c.num_epochs).w_final]),
            "w is the no-bias run's w: compute y_hat = w * X + b, with the current b, in every "
            "epoch.",
        ),
        Gives(
            lambda c: _run(c, lr=c.n * c.lr),
            "your steps are {n} times too large, as if lr were {n} * lr: your gradient sums over "
            "the samples instead of averaging.",
        ),
        Gives(
            _ascent,
            "you moved up the slope: subtract lr * gradient (w = w - lr * dw, b = b - lr * db); "
            "the sign of the step is wrong.",
        ),
    ],
    otherwise="start from w = 0.0 and b = 0.0; in each epoch compute y_hat, then (dw, db), then "
    "update both with the gradient at the *same* y_hat.",
    passed="my_train gives the same w and b as train_numpy on two hidden data sets.",
)


def _bound_case(n: int, seed: int) -> Case:
    case = hidden_case(n, 1.0, 0.0, seed)
    return case.but(X=1.5 * case.X + 0.5)


ex01_4 = exercise(
    "1.4",
    2,
    "my_lr_max(X) -> lr_max: the bound 2/L below which gradient descent converges",
    cases=[_bound_case(25, 141), _bound_case(6, 142)],
    read=read_number("Your lr_max"),
    reference=lambda c: 2.0 / lipschitz_constant(c.X),
    mistakes=[
        Factor(
            "Your lr_max",
            hints={
                "half": "that is 1/L, the learning rate that lands on the minimum in one step. "
                "Gradient descent still converges (zig-zagging) up to twice that: the error is "
                "multiplied by (1 - lr L) each step.",
                "double": "L = 2 mean(x²) already holds the factor 2 of the gradient; the bound "
                "is 2/L = 1 / mean(x²).",
                "1/n": "you used the sum of x² where L has the mean: L = 2 mean(x²).",
                "n": "L has the mean of x², not the sum.",
                "other": "each step multiplies the error w - w* by (1 - lr L) with "
                "L = 2 mean(x²); it shrinks iff |1 - lr L| < 1.",
            },
        )
    ],
    rtol=1e-4,
    passed="my_lr_max gives 2/L on two hidden data sets; on the toy data it is "
    f"{2 / lipschitz_constant(toy_data()[0]):.4f}.",
)

SHAPES = {  # dw's classic wrong shapes, with X of shape (n, d)
    "(n,)": "one number per *sample*: sum over the samples instead, X.T @ (y_hat - y) has shape "
    "({d},).",
    "(n, d)": "these are the per-sample terms 2 x_i (y_hat_i - y_i); average them over the "
    "samples (axis=0), or use 2/n * X.T @ (y_hat - y).",
    "()": "you summed over the features too; keep one partial derivative per weight: "
    "X.T @ (y_hat - y).",
    None: "X.T has shape ({d}, {n}) and y_hat - y has shape ({n},): X.T @ (y_hat - y) has shape "
    "({d},).",
}


def _read_nd(value: Any, c: Case) -> np.ndarray:
    """``[*dw, db]`` with dw of shape (d,); each classic wrong shape of dw gets its hint."""
    dw, db = pair(value, f"What {c.name} returns")
    dw = dw.detach().cpu().numpy() if hasattr(dw, "detach") else dw
    if np.shape(dw) != (c.d,):
        shape = {(c.n,): "(n,)", (c.n, c.d): "(n, d)", (): "()"}.get(np.shape(dw))
        hint = SHAPES[shape].format_map(c)
        raise Wrong(
            f"With X of shape ({c.n}, {c.d}), dw should have shape ({c.d},), one entry per "
            f"feature, but has shape {np.shape(dw)}.\n  Hint: {hint}"
        )
    db = number(db, "Your db", "db is one number: the mean of 2 (y_hat - y).")
    return np.append(np.asarray(dw, dtype=np.float64), db)


def _nd_case(n: int, w: list[float], b: float, seed: int) -> Case:
    case = hidden_case(n, w, b, seed)
    return _at(case, np.linspace(-1.0, 1.0, case.d, dtype=np.float32), 0.3)


ex01_5 = exercise(
    "1.5",
    3,
    "my_gradient_nd(X, y, y_hat) -> (dw, db): for X of shape (n, d), dw has shape (d,)",
    cases=[_nd_case(40, [2.0, -3.4, 0.5], 4.2, 151), _nd_case(9, [1.0, 0.5, -2.0, 3.0], -1, 152)],
    read=_read_nd,
    reference=mse_reference,
    mistakes=[
        Factor(
            "Your dw",
            slice(0, -1),
            {"other": "dw_j = 2/n sum_i x_ij (y_hat_i - y_i), that is 2/n * X.T @ (y_hat - y)."},
        ),
        Factor("Your db", -1),
    ],
    rtol=1e-4,
    passed="dw has one entry per feature and, with db, matches the exact gradient on two hidden "
    "data sets (d = 3 and d = 4).",
)


# ---- Prediction checkpoints of the lesson (on its own toy data: the answer is the next cell's)


def _one_step_at_1_over_L(factor: float = 1.0) -> float:
    """w after one step at lr = 1/L from w = 0 on the toy data, the gradient times ``factor``."""
    X, y = toy_data()
    return float(-factor / lipschitz_constant(X) * mse_gradient(X, y, forward(X, 0.0))[0])


predict01_a = prediction(
    "1a",
    "w after one step of gradient descent at lr = 1/L, from w = 0",
    lambda: _one_step_at_1_over_L(),
    "The step is lr · dJ/dw = (1/15) · (-30) = -2, so w goes from 0 to 2, the minimum itself: on "
    "a parabola of curvature L, lr = 1/L reaches the bottom in one step.",
    mistakes=[
        Said(
            lambda: _one_step_at_1_over_L(factor=-1.0),
            "that is a step up the slope: the update subtracts, w - lr · dJ/dw, and dJ/dw = -30.",
        ),
        Said(
            lambda: _one_step_at_1_over_L(factor=len(toy_data()[0])),
            "that step is 4 times too large: the gradient summed over the 4 samples instead of "
            "averaged (a classic slip, met at the end of this lesson).",
        ),
    ],
)


def _classic_gradient_at_0(sign: float = 1.0, mean: bool = False) -> float:
    """The classic ``np.dot(2 * X, y_hat - y).mean()`` at w = 0 (``mean``: the right gradient)."""
    X, y = toy_data()
    y_hat = forward(X, 0.0)
    dw = mse_gradient(X, y, y_hat)[0] if mean else np.dot(2 * X, y_hat - y).mean()
    return sign * float(dw)


predict01_b = prediction(
    "1b",
    "np.dot(2 * X, y_hat - y).mean() at w = 0 on the toy data",
    _classic_gradient_at_0,
    "np.dot already adds the four products 2 x_i (y_hat_i - y_i) into one number, -120, and the "
    "mean of one number is that number: the sum, n = 4 times the mean -30.",
    mistakes=[
        Said(
            lambda: _classic_gradient_at_0(mean=True),
            "that is the right gradient, the mean; but np.dot already sums to one number, and "
            ".mean() of one number does nothing: the result is the sum, 4 times -30.",
        ),
        Said(
            lambda: _classic_gradient_at_0(sign=-1.0),
            "the size is right but not the sign: at w = 0 every y_hat_i - y_i = -y_i is negative.",
        ),
    ],
)
