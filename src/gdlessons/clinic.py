"""The loss-curve clinic (lesson 09): training runs broken by the series' own bugs, unlabelled.

Each bug of lessons 01-08 has one function here, named after it, that trains on seeded data the
way the buggy code would and returns a ``Run``: the loss curve(s) and the short printout a learner
would see. The lesson shows the runs in a shuffled order, as cases "a" to "i", without their
names; ``case(letter)`` runs one, ``cause(letter)`` is its cause, one of ``CAUSES`` (what the
checks of lesson 09 compare a diagnosis with).

Every run trains on ``make_linear_data(..., seed=seed)`` in float64, so its printout (two or three
significant digits) is the same on every machine.

>>> run = case("b", seed=0)
>>> cause("b"), run.curves["training loss"].shape
('lr_low', (101,))
>>> print(run)
data: n = 20 samples, model w x, loss at the start (all zero): mean(y²) = 3.1, curvature L = 1.5
lr = 0.0001: loss 3.06 at epoch 0, 3.02 at epoch 50, 2.97 at epoch 100
w after 100 epochs: 0.03 (least squares: 2)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gdlessons.data import make_linear_data
from gdlessons.numpy_gd import lipschitz_constant, mse_gradient

__all__ = ["CASES", "CAUSES", "Run", "case", "cause", "plot_run"]
__all__ += ["forgot_zero_grad", "gradient_summed_not_averaged", "lr_above_2_over_L"]
__all__ += ["lr_far_too_small", "noise_floor_of_constant_lr", "overfitting_few_samples"]
__all__ += ["reduction_sum", "target_shape_n1_against_n", "unscaled_inputs"]

#: The causes a learner chooses from, one word each (lesson 09 explains each in one line).
CAUSES = (
    "lr_high",
    "lr_low",
    "sum_gradient",
    "no_zero_grad",
    "broadcasting",
    "sum_reduction",
    "unscaled",
    "overfitting",
    "noise_floor",
)
N = 20  # samples of the one-weight runs


@dataclass(frozen=True)
class Run:
    """One training run as a learner sees it: loss curves (name -> values) and a printout."""

    curves: dict[str, np.ndarray]
    lines: list[str]
    xlabel: str = "epoch"
    notes: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _g(value: float, digits: int = 2) -> str:
    """A few significant digits: what every machine prints alike."""
    return f"{float(value):.{digits}g}"


def _data(seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    X, y = make_linear_data(n, w=2.0, noise=0.3, seed=seed)
    return X.astype(np.float64), y.astype(np.float64)


def _head(X: np.ndarray, y: np.ndarray, bias: bool = False) -> str:
    model = "w x + b" if bias else "w x"
    L = lipschitz_constant(X, bias=bias)
    return (
        f"data: n = {len(X)} samples, model {model}, loss at the start (all zero): mean(y²) = "
        f"{_g(np.mean(y**2))}, curvature L = {_g(L)}"
    )


def _curve_lines(lr: float, loss: np.ndarray, at: tuple[int, ...], digits: int = 2) -> str:
    shown = ", ".join(f"{_g(loss[k], digits)} at epoch {k}" for k in at)
    return f"lr = {lr:g}: loss {shown}"


def _numpy_run(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, factor: float = 1.0):
    """Plain gradient descent on y_hat = w x from w = 0; the gradient times ``factor``."""
    w, w_seen, loss = 0.0, [0.0], []
    for _ in range(num_epochs + 1):
        loss.append(np.mean((w * X - y) ** 2))
        dw, _ = mse_gradient(X, y, w * X)
        w = w - lr * factor * dw
        w_seen.append(w)
    return np.array(loss), np.array(w_seen[:-1])


def lr_above_2_over_L(seed: int = 0) -> Run:
    """lesson 01's loop at lr = 1.1 * 2/L: w swings across the minimum, further each epoch."""
    X, y = _data(seed)
    lr = round(1.1 * 2 / lipschitz_constant(X), 2)
    loss, w = _numpy_run(X, y, lr, 30)
    lines = [_head(X, y), _curve_lines(lr, loss, (0, 10, 20, 30))]
    lines.append("w at epochs 0 to 5: " + ", ".join(_g(v) for v in w[:6]))
    return Run({"training loss": loss}, lines)


def lr_far_too_small(seed: int = 0) -> Run:
    """lesson 01's loop at lr = 1e-4, thousands of times below 2/L: w hardly moves."""
    X, y = _data(seed)
    lr = 1e-4
    loss, w = _numpy_run(X, y, lr, 100)
    w_star = X @ y / (X @ X)
    lines = [_head(X, y), _curve_lines(lr, loss, (0, 50, 100), digits=3)]
    lines.append(f"w after 100 epochs: {_g(w[-1])} (least squares: {_g(w_star)})")
    return Run({"training loss": loss}, lines)


def gradient_summed_not_averaged(seed: int = 0) -> Run:
    """lesson 01's loop with dw = 2 * sum(x * (y_hat - y)): n times the mean's gradient."""
    X, y = _data(seed)
    lr = 0.1
    loss, _ = _numpy_run(X, y, lr, 20, factor=len(X))
    lines = [_head(X, y), _curve_lines(lr, loss, (0, 1, 2, 10, 20))]
    return Run({"training loss": loss}, lines)


def _torch_run(
    X: np.ndarray,
    y: np.ndarray,
    lr: float,
    num_epochs: int,
    *,
    zero_grad: bool = True,
    column: bool = False,
    reduction: str = "mean",
) -> tuple[np.ndarray, Any]:
    """lesson 04's loop with nn.Linear(1, 1), bugs switched on by the keywords."""
    import torch
    from torch import nn

    X_t = torch.from_numpy(X).reshape(-1, 1)  # (n, 1): what nn.Linear takes
    y_t = torch.from_numpy(y).reshape(-1, 1) if not column else torch.from_numpy(y)  # (n,) bug
    model = nn.Linear(1, 1).double()
    with torch.no_grad():  # start at w = 0, b = 0, as every lesson does
        model.weight.zero_()
        model.bias.zero_()
    loss_fn = nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    with warnings.catch_warnings():  # torch warns once about (n, 1) against (n,); easy to miss
        warnings.simplefilter("ignore", UserWarning)
        for _ in range(num_epochs + 1):
            loss = loss_fn(model(X_t), y_t)
            losses.append(loss.item())
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return np.array(losses), model


def forgot_zero_grad(seed: int = 0) -> Run:
    """lesson 04's loop without optimizer.zero_grad(): every step adds all earlier gradients."""
    X, y = _data(seed)
    lr = 0.05
    loss, model = _torch_run(X, y, lr, 80, zero_grad=False)
    lines = [_head(X, y, bias=True), _curve_lines(lr, loss, (0, 10, 20, 30, 40, 60, 80))]
    return Run({"training loss": loss}, lines)


def target_shape_n1_against_n(seed: int = 0) -> Run:
    """lesson 04's loop with y_hat of shape (n, 1) and y of shape (n,): a loss over n x n pairs."""
    X, y = _data(seed)
    lr = 0.1
    loss, model = _torch_run(X, y, lr, 100, column=True)
    w, b = model.weight.item(), model.bias.item()
    lines = [_head(X, y, bias=True), _curve_lines(lr, loss, (0, 10, 50, 100))]
    w, b = round(w, 2) + 0.0, round(b, 2) + 0.0  # + 0.0: never print -0.00
    lines.append(f"after 100 epochs: w = {w:.2f}, b = {b:.2f} (the data's rule: w = 2, b = 0)")
    return Run({"training loss": loss}, lines)


def reduction_sum(seed: int = 0) -> Run:
    """lesson 04's loop with nn.MSELoss(reduction='sum'): the loss, and its gradient, n times."""
    X, y = _data(seed)
    lr = 0.05
    loss, _ = _torch_run(X, y, lr, 20, reduction="sum")
    lines = [_head(X, y, bias=True), _curve_lines(lr, loss, (0, 1, 2, 10, 20))]
    return Run({"training loss": loss}, lines)


def unscaled_inputs(seed: int = 0) -> Run:
    """Gradient descent on w x + b with x around 10 ± 3, at the largest safe lr, 0.95 * 2/L."""
    X, y = _data(seed, n=50)
    X = 10 + 3 * X  # raw inputs far from 0 and 1: a narrow valley (lesson 06)
    y = 2 * X + 1  # no noise: the best loss is 0
    L = lipschitz_constant(X, bias=True)
    lr = float(f"{0.95 * 2 / L:.2g}")
    w, b, loss = 0.0, 0.0, []
    for _ in range(301):
        y_hat = w * X + b
        loss.append(np.mean((y_hat - y) ** 2))
        dw, db = mse_gradient(X, y, y_hat)
        w, b = w - lr * dw, b - lr * db
    loss = np.array(loss)
    lines = [
        f"data: n = {len(X)} samples, x from {_g(X.min())} to {_g(X.max())}, model w x + b, "
        f"curvature L = {_g(L)}, no noise (the best loss is 0)",
        _curve_lines(lr, loss, (0, 5, 10, 100, 200, 300)),
        f"after 300 epochs: w = {_g(w)}, b = {_g(b)} (the data's rule: w = 2, b = 1)",
    ]
    return Run({"training loss": loss}, lines)


def overfitting_few_samples(seed: int = 0) -> Run:
    """Lesson 05's 22 features (2 useful) trained on 30 samples, validated on 200 others."""
    X, y = make_linear_data(230, w=[2.0, -3.4] + [0.0] * 20, b=4.2, noise=0.3, seed=seed)
    X, y = X.astype(np.float64), y.astype(np.float64)
    (X_tr, X_val), (y_tr, y_val) = np.split(X, [30]), np.split(y, [30])
    w, b, train, val = np.zeros(22), 0.0, [], []
    for _ in range(301):
        train.append(np.mean((X_tr @ w + b - y_tr) ** 2))
        val.append(np.mean((X_val @ w + b - y_val) ** 2))
        dw, db = mse_gradient(X_tr, y_tr, X_tr @ w + b)
        w, b = w - 0.1 * dw, b - 0.1 * db
    train, val = np.array(train), np.array(val)
    lines = [
        "data: 22 features, model X @ w + b (23 parameters), 30 training and 200 validation "
        "samples, noise variance 0.09",
        f"lr = 0.1: training loss {_g(train[0])} at epoch 0, {_g(train[100])} at 100, "
        f"{_g(train[300])} at 300",
        f"        validation loss {_g(val[0])} at epoch 0, {_g(val[100])} at 100, "
        f"{_g(val[300])} at 300",
    ]
    return Run({"training loss": train, "validation loss": val}, lines)


def noise_floor_of_constant_lr(seed: int = 0) -> Run:
    """Lesson 05's one-sample SGD at a constant lr = 0.1, the loss on all data every 10 steps."""
    X, y = make_linear_data(1000, w=[2.0, -3.4], b=4.2, noise=0.3, seed=seed)
    X, y = X.astype(np.float64), y.astype(np.float64)
    A = np.column_stack([X, np.ones(len(X))])
    best = np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2)
    rng = np.random.default_rng(seed)
    w, b, loss = np.zeros(2), 0.0, [np.mean(y**2)]
    for step, i in enumerate(np.concatenate([rng.permutation(len(X)) for _ in range(2)]), 1):
        dw, db = mse_gradient(X[i : i + 1], y[i : i + 1], X[i : i + 1] @ w + b)
        w, b = w - 0.1 * dw, b - 0.1 * db
        if step % 10 == 0:  # the loss on all data every 10 steps
            loss.append(np.mean((X @ w + b - y) ** 2))
    loss = np.array(loss)
    last = loss[-100:]
    lines = [
        "data: n = 1000 samples, 2 features, model X @ w + b, one sample per step (2000 steps)",
        f"lr = 0.1: loss {_g(loss[0])} at step 0, {_g(loss[10])} at step 100, {_g(loss[-1])} at "
        f"step 2000",
        f"over the last 1000 steps: from {_g(last.min())} to {_g(last.max())}; least squares: "
        f"{_g(best)}",
    ]
    return Run({"training loss": loss}, lines, xlabel="step / 10")


#: The clinic's cases in the lesson's order (not the causes' order), each with its cause and run.
CASES: dict[str, tuple[str, Callable[[int], Run]]] = {
    "a": ("lr_high", lr_above_2_over_L),
    "b": ("lr_low", lr_far_too_small),
    "c": ("no_zero_grad", forgot_zero_grad),
    "d": ("sum_reduction", reduction_sum),
    "e": ("noise_floor", noise_floor_of_constant_lr),
    "f": ("broadcasting", target_shape_n1_against_n),
    "g": ("sum_gradient", gradient_summed_not_averaged),
    "h": ("unscaled", unscaled_inputs),
    "i": ("overfitting", overfitting_few_samples),
}


def _letter(letter: Any) -> str:
    if letter not in CASES:
        raise ValueError(f"no case {letter!r}: the clinic's cases are {', '.join(CASES)}.")
    return letter


def case(letter: str, seed: int = 0) -> Run:
    """Run clinic case ``letter`` ("a" to "i") on the data of ``seed``."""
    return CASES[_letter(letter)][1](seed)


def cause(letter: str) -> str:
    """The cause of case ``letter``, one of ``CAUSES``.

    >>> cause("a")
    'lr_high'
    """
    return CASES[_letter(letter)][0]


def plot_run(run: Run, *, ax: Any, title: str = "") -> Any:
    """A run's loss curve(s) on a log scale (a dashed line for validation), as the lessons draw them."""
    from gdlessons.plots import OKABE_ITO, require_axes

    ax = require_axes(ax)
    for i, (name, values) in enumerate(run.curves.items()):
        shown = np.where(np.isfinite(values) & (values > 0), values, np.nan)
        ax.plot(shown, color=OKABE_ITO[i], linestyle=["-", "--"][i], linewidth=2.5, label=name)
    ax.set_yscale("log")
    ax.set_xlabel(run.xlabel, fontsize=12)
    ax.set_ylabel("loss (log scale)", fontsize=12)
    ax.tick_params(labelsize=11)
    ax.set_title(title, fontsize=13)
    ax.grid(True, color="0.85")
    if len(run.curves) > 1:
        ax.legend(fontsize=11)
    ax.get_figure(root=True).patch.set_facecolor("white")
    return ax
