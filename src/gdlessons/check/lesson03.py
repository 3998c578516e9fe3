"""Checks of lesson 03: torch's autograd.

>>> verdict = ex03_4(lambda X, y, w, b: (None, b))
✗ Exercise 3.4: not yet. a gradient is None: make w and b with requires_grad=True and call ...
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons.check.core import Wrong, close, number, read_pair
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Factor, Gives, Shows, exercise, hidden_case, mse_reference
from gdlessons.data import toy_data
from gdlessons.gradcheck import numerical_gradient
from gdlessons.numpy_gd import forward, mse_gradient, mse_loss
from gdlessons.train import train_numpy

__all__ = ["ex03_1", "ex03_2", "ex03_3", "ex03_4", "predict03_a", "predict03_b"]


def _none_in(value: Any, c: Case) -> bool:
    return isinstance(value, (tuple, list)) and any(v is None for v in value)


TWICE = {
    "double": "backward() adds into .grad: two backward passes (or a stale .grad) double it. "
    "Create fresh tensors in the function and call backward once."
}
ex03_1 = exercise(
    "3.1",
    1,
    "my_autograd_gradient(X, y, w, b) -> (dw, db): by autograd, X and y tensors",
    cases=[
        hidden_case(8, 2.0, 1.0, 211, w=0.5, b=-0.5),
        hidden_case(30, -1.0, 2.5, 212, w=1.5, b=0.25),
    ],
    as_tensors=True,
    rules=[
        (
            _none_in,
            "a gradient is None. .grad stays None until loss.backward() has run, and only for "
            "tensors made with requires_grad=True: w = torch.tensor(w, requires_grad=True).",
        )
    ],
    read=read_pair("(w.grad, b.grad)"),
    reference=mse_reference,
    mistakes=[
        Shows(
            lambda got, c: any(close(g, mse_loss(forward(c.X, c.w, c.b), c.y)) for g in got),
            "you returned the loss, not its gradient. Call loss.backward(), then return w.grad "
            "and b.grad.",
        ),
        Gives(lambda c: c.want[::-1], "dw and db are swapped. Return (w.grad, b.grad)."),
        Factor("Your dw", 0, TWICE),
        Factor("Your db", 1, TWICE),
    ],
    rtol=1e-4,
    passed="autograd's gradient equals mse_gradient on two hidden data sets.",
)


def _accumulated(c: Case, moved: bool = True) -> np.ndarray:
    """w.grad at each epoch of the loop that forgets w.grad.zero_().

    ``moved=False``: w follows the correct run instead (a classic wrong prediction).
    """
    w, w_true_run, grad, seen = 0.0, 0.0, 0.0, []
    for _ in range(c.num_epochs):
        g = mse_gradient(c.X, c.y, forward(c.X, w if moved else w_true_run))[0]
        grad += g
        seen.append(grad)
        w, w_true_run = w - c.lr * grad, w_true_run - c.lr * g
    return np.array(seen)


def _correct(c: Case) -> np.ndarray:
    h = train_numpy(c.X, c.y, c.lr, c.num_epochs)
    return np.array([mse_gradient(c.X, c.y, forward(c.X, w))[0] for w in h.w])


def _read_grads(value: Any, c: Case) -> np.ndarray:
    if value is None:
        raise Wrong(f"{c.name} returned None. Did you forget `return grads`?")
    try:
        grads = np.array([number(g, "each gradient") for g in value], dtype=np.float64)
    except TypeError:
        kind = type(value).__name__
        raise Wrong(
            f"{c.name} should return a list with one w.grad value per epoch, got a {kind}."
        ) from None
    if grads.shape != (c.num_epochs,):
        raise Wrong(
            f"{c.name} returned {len(grads)} values for num_epochs = {c.num_epochs}: append one "
            "w.grad value per epoch, right after backward()."
        )
    return grads


ACCUMULATED = dict(
    cases=[
        hidden_case(10, 1.5, 0.0, 221, lr=0.05, num_epochs=6),
        hidden_case(5, -2.0, 0.0, 222, lr=0.02, num_epochs=4),
    ],
    read=_read_grads,
    reference=_accumulated,
    mistakes=[
        Shows(
            lambda got, c: len(got) > 1 and close(got, np.full(len(got), c.want[-1]), rtol=1e-3),
            "every entry is the last value: you appended the tensor w.grad itself, which backward "
            "keeps changing in place. Append w.grad.item(), a number.",
        ),
        Gives(
            _correct,
            "these are the *correct* gradients: your loop still zeroes w.grad. This exercise "
            "wants the bug.",
        ),
        Gives(
            lambda c: _accumulated(c, moved=False),
            "you summed the gradients of the correct run, but with the bug w moves by the "
            "*accumulated* gradient, so the next gradient is taken at a different w.",
        ),
        Shows(
            lambda got, c: close(got[1:], c.want[:-1]),
            "record w.grad right after backward(), before the update.",
        ),
    ],
    otherwise="start at w = 0; each epoch: backward adds dJ/dw at the current w to w.grad, then "
    "w -= lr * w.grad with that sum.",
)
SUMS = "gives the accumulated gradients on two hidden data sets: epoch k's w.grad is the sum of "
SUMS += "the true gradients at w_0 … w_k."
ex03_2 = exercise(
    "3.2",
    2,
    "my_forgot_zero_grad(X, y, lr, num_epochs) -> w.grad of each epoch: the loop without zero_()",
    as_tensors=True,
    passed=f"my_forgot_zero_grad {SUMS}",
    **ACCUMULATED,
)
ex03_3 = exercise(
    "3.3",
    2,
    "my_predicted_grads(X, y, lr, num_epochs) -> w.grad of each epoch: predicted, in NumPy",
    passed=f"my_predicted_grads {SUMS}",
    **ACCUMULATED,
)


def _mae_gradient(c: Case) -> np.ndarray:
    X, y = c.X.astype(np.float64), c.y.astype(np.float64)
    return numerical_gradient(
        lambda p: float(np.mean(np.abs(p[0] * X + p[1] - y))), np.array([c.w, c.b])
    )


MAE = {
    "sign": "|y - y_hat| = |y_hat - y|: the sign cannot come from the order. Did you return "
    "-grad, or step it?",
    "n": "use .mean(), not .sum(), over the samples.",
}
ex03_4 = exercise(
    "3.4",
    3,
    "my_mae_gradient(X, y, w, b) -> (dw, db): the mean absolute error's gradient, by autograd",
    cases=[
        hidden_case(9, 2.0, 1.0, 241, w=0.5, b=-0.25),
        hidden_case(20, -1.0, 0.5, 242, w=0.75, b=1.0),
    ],
    as_tensors=True,
    rules=[
        (
            _none_in,
            "a gradient is None: make w and b with requires_grad=True and call loss.backward() "
            "before reading .grad.",
        )
    ],
    read=read_pair("(w.grad, b.grad)"),
    reference=_mae_gradient,
    mistakes=[
        Gives(
            mse_reference,
            "that is the gradient of the *squared* error. This exercise's loss is "
            "mean(|y_hat - y|): use (y_hat - y).abs().mean().",
        ),
        Factor("Your dw", 0, MAE),
        Factor("Your db", 1, MAE),
    ],
    rtol=1e-4,
    passed="autograd's MAE gradient matches central differences on two hidden data sets. "
    "(By hand: dw = mean(sign(y_hat - y) x).)",
)


# ---- Prediction checkpoints of the lesson (computed by torch, as the lesson's next cell does)


def _a_plus_a(a: float = 3.0) -> float:
    """``a.grad`` after ``(a + a).backward()``: a used twice, each use sends 1 back."""
    import torch

    a_ = torch.tensor(a, requires_grad=True)
    (a_ + a_).backward()
    return a_.grad.item()


predict03_a = prediction(
    "3a",
    "a.grad after b = a + a; b.backward(), with a = 3",
    _a_plus_a,
    "a is used twice; each use sends back its local derivative 1, and backward adds what arrives "
    "at a: 1 + 1 = 2 (the chain rule's sum over paths; b = 2a, so db/da = 2).",
    mistakes=[
        Said(
            lambda: _a_plus_a() / 2,
            "that counts one use of a; both uses send a gradient back, and they add up.",
        ),
        Said(lambda: 2 * 3.0, "that is the value of a + a; a.grad is how fast it changes with a."),
    ],
)


def _backward_twice(times: int = 2) -> float:
    """``w.grad`` after ``times`` forward + backward passes at w = 0 on the toy data, no zeroing."""
    import torch

    X_np, y_np = toy_data()
    X, y = torch.from_numpy(X_np), torch.from_numpy(y_np)
    w = torch.tensor(0.0, requires_grad=True)
    for _ in range(times):
        mse_loss(forward(X, w), y).backward()
    return w.grad.item()


predict03_b = prediction(
    "3b",
    "w.grad after two forward + backward passes at w = 0, without zeroing",
    _backward_twice,
    "backward() adds into w.grad: -30 from the first pass, -30 more from the second, -60.",
    mistakes=[
        Said(
            lambda: _backward_twice(1),
            "that is one pass; backward() does not overwrite w.grad, it adds to it.",
        ),
        Said(lambda: 0.0, "the two passes do not cancel: both add the same -30."),
    ],
)
