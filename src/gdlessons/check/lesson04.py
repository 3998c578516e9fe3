"""Checks of lesson 04: nn.Linear, nn.MSELoss, torch.optim.SGD.

>>> verdict = ex04_4(lambda y_hat, y: float(np.mean((y_hat - y) ** 2)))
✓ Exercise 4.4: right! ...
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from gdlessons.check.cases import epoch_slips, from_zero, is_nn, sgd_run
from gdlessons.check.core import close, read_number, read_pair
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Factor, Gives, Shows, exercise, hidden_case
from gdlessons.data import toy_data
from gdlessons.history import History
from gdlessons.numpy_gd import forward, lipschitz_constant, mse_loss

__all__ = ["ex04_1", "ex04_2", "ex04_3", "ex04_4", "ex04_5", "predict04_a", "predict04_b"]


ex04_1 = exercise(
    "4.1",
    1,
    "my_linear(w, b) -> nn.Linear(1, 1): its weight is w and its bias is b",
    cases=[Case(w=0.0, b=0.0), Case(w=-1.25, b=3.5), Case(w=2.0, b=-0.75)],
    errors={
        "leaf Variable": "setting a parameter's value is not part of the model: do it inside "
        "`with torch.no_grad():`."
    },
    rules=[
        (
            lambda layer, c: not is_nn(layer, "Linear"),
            "my_linear should return the layer, an nn.Linear, but returned a "
            "{got.__class__.__name__}.",
        ),
        (
            lambda layer, c: (layer.in_features, layer.out_features) != (1, 1),
            "the layer is nn.Linear({got.in_features}, {got.out_features}); one input feature "
            "and one output: nn.Linear(1, 1).",
        ),
        (
            lambda layer, c: layer.bias is None,
            "the layer has no bias (bias=False). The model is y_hat = w x + b: use "
            "nn.Linear(1, 1), which has a bias.",
        ),
        (
            lambda layer, c: not (layer.weight.requires_grad and layer.bias.requires_grad),
            "the parameters no longer require grad, so SGD could not train them. Change their "
            "values in place under torch.no_grad() instead of replacing them.",
        ),
    ],
    read=lambda layer, c: np.array([layer.weight.item(), layer.bias.item()]),
    reference=lambda c: np.array([c.w, c.b]),
    setting="asked for w = {w}, b = {b}, the layer has (weight, bias) = {got}.",
    otherwise="set both, e.g. layer.weight.fill_(w) and layer.bias.fill_(b), under "
    "torch.no_grad().",
    rtol=1e-6,
    passed="my_linear builds nn.Linear(1, 1) with the weight and bias you ask for, still "
    "trainable.",
)


NO_BIAS = (
    lambda value, c: isinstance(value, (tuple, list)) and len(value) == 2 and value[1] is None,
    "b is None: the model needs a bias, nn.Linear(1, 1) (not bias=False).",
)
ex04_2 = exercise(
    "4.2",
    2,
    "my_train_nn(X, y, lr, num_epochs) -> (w, b): the nn.Linear pipeline from zero",
    cases=[
        hidden_case(12, 1.5, -2.0, 321, lr=0.1, num_epochs=8),
        hidden_case(5, -0.5, 1.0, 322, lr=0.05, num_epochs=5),
    ],
    rules=[NO_BIAS],
    read=read_pair("(w, b)", "Your final w, Your final b"),
    reference=from_zero,
    mistakes=[
        Gives(  # (n, 1) - (n,): every prediction against every target, i.e. against their mean
            lambda c: from_zero(c, y=np.full_like(c.y, c.y.mean())),
            "y is still flat, shape ({n},), while the layer outputs ({n}, 1): the loss compares "
            "every prediction with every target. Use y.reshape(-1, 1).",
        ),
        Gives(  # without zero_grad each step adds all earlier gradients: momentum 1
            lambda c: sgd_run(c, momentum=1.0),
            "the gradients pile up: call optimizer.zero_grad() in every epoch, before "
            "loss.backward().",
        ),
        *epoch_slips(from_zero),
    ],
    otherwise="start from weight = 0 and bias = 0 (under torch.no_grad(), not nn.Linear's random "
    "start); use nn.MSELoss() and torch.optim.SGD(model.parameters(), lr=lr).",
    passed="my_train_nn gives the same w and b as train_nn on two hidden data sets.",
)


def _line_case(X: np.ndarray) -> Case:
    """A case on y = 3x + 1 (no noise: the fit is w = 3, b = 1), with the bound 2/L."""
    L = lipschitz_constant(X, bias=True)
    return Case(n=len(X), X=X, y=3 * X + 1, L=L, bound=2 / L)


RUNS = ("train_numpy", "train_autograd", "train_nn")


def _not_there(got: np.ndarray, c: Case) -> str:
    """The first run that has not reached the least-squares fit, to 2 decimals."""
    k = int(np.argmax(np.any(np.abs(got - c.want) > 0.01, axis=1)))
    return (
        f"on data with n = {c.n}, the {RUNS[k]} run ends at w = {got[k, 0]:.3f}, b = "
        f"{got[k, 1]:.3f}, not yet w = 3.000, b = 1.000 (to 2 decimals)."
    )


ex04_3 = exercise(
    "4.3",
    2,
    "my_fit_three_ways(X, y) -> (History, History, History): three fits, to 2 decimals",
    cases=[_line_case(toy_data()[0]), _line_case(hidden_case(20, 3.0, 1.0, 331).X)],
    errors={
        "DivergenceError": "with a bias the bound is 2/L with L = lipschitz_constant(X, "
        "bias=True) (here {L:.4g}, 2/L = {bound:.4g}); compute lr from X inside the function, "
        "e.g. lr = 1 / L."
    },
    rules=[
        (
            lambda runs, c: (
                not isinstance(runs, (tuple, list))
                or len(runs) != 3
                or not all(isinstance(h, History) for h in runs)
            ),
            "my_fit_three_ways should return three History objects: (train_numpy(...), "
            "train_autograd(...), train_nn(...)).",
        ),
        lambda runs, c: next(
            (
                f"the {name} run has no bias, so it cannot fit y = 3x + 1. Pass b0=0.0 to every "
                "trainer."
                for name, h in zip(RUNS, runs)
                if h.b_final is None
            ),
            None,
        ),
        (
            lambda runs, c: not (runs[0].lines() == runs[1].lines() == runs[2].lines()),
            "the three runs' trajectories differ. Use the same lr, num_epochs, w0 and b0 for all "
            "three: then they are one algorithm, epoch for epoch.",
        ),
    ],
    read=lambda runs, c: np.array([[h.w_final, h.b_final] for h in runs]),
    reference=lambda c: np.tile([3.0, 1.0], (3, 1)),
    rtol=0.0,
    atol=0.01,
    setting=_not_there,
    otherwise="the bias direction is flat and slow: take an lr closer to the bound 2/L (e.g. "
    "lr = 1.5 / lipschitz_constant(X, bias=True)) or more epochs.",
    passed="all three implementations fit y = 3x + 1 to 2 decimals, with identical trajectories, "
    "on the toy X and on a hidden X.",
)


def _broadcast_case(n: int, seed: int) -> Case:
    case = hidden_case(n, 2.0, -1.0, seed)
    return case.but(y_hat=forward(case.X, 1.5, 0.5).reshape(-1, 1))


def _table(value: Any, c: Case) -> bool:
    try:
        return np.shape(value) == (c.n, c.n)
    except Exception:  # noqa: BLE001 (ragged lists, tensors that require grad: not a table)
        return False


ex04_4 = exercise(
    "4.4",
    2,
    "my_broadcast_loss(y_hat, y) -> loss: nn.MSELoss's value for y_hat (n, 1) and y (n,)",
    cases=[_broadcast_case(6, 341), _broadcast_case(11, 342)],
    rules=[
        (
            _table,
            "you returned the ({n}, {n}) table of squared differences; nn.MSELoss returns its "
            "mean, one number.",
        )
    ],
    read=read_number("Your loss"),
    reference=lambda c: float(np.mean((c.y_hat - c.y) ** 2)),  # (n, 1) - (n,): (n, n)
    mistakes=[
        Shows(
            lambda got, c: close(got, mse_loss(c.y_hat.reshape(-1), c.y)),
            "that is the loss with matching shapes, but the shapes ({n}, 1) and ({n},) do not "
            "match: y_hat - y broadcasts to a ({n}, {n}) table, every prediction minus every "
            "target; nn.MSELoss takes the mean of that table.",
        ),
        Factor(
            "Your loss",
            hints={
                "other": "y_hat - y is a ({n}, {n}) table here; square it and take the mean of "
                "all its entries."
            },
        ),
    ],
    rtol=1e-4,
    passed="you predict nn.MSELoss's broadcast loss exactly: the mean of the (n, n) table of "
    "every prediction minus every target.",
)

ex04_5 = exercise(
    "4.5",
    3,
    "my_train_sum(X, y, lr, num_epochs) -> (w, b): reduction='sum' at the lr that repeats the "
    "mean-loss run",
    cases=[
        hidden_case(20, 1.5, -0.5, 351, lr=0.05, num_epochs=5),
        hidden_case(8, -2.0, 1.0, 352, lr=0.1, num_epochs=4),
    ],
    steps=True,
    errors={
        "blew up": "reduction='sum' is n times the mean, so its gradient is n times larger: at "
        "the same lr every step is n times too large. Use lr / n."
    },
    rules=[NO_BIAS],
    read=read_pair("(w, b)", "Your w, Your b"),
    reference=from_zero,
    mistakes=[
        Gives(
            lambda c: from_zero(c, lr=c.n * c.lr),
            "that is the run with {n} times larger steps: reduction='sum' is n times the mean, so "
            "its gradient is n times larger. Divide lr by n = {n}.",
        ),
        Gives(
            lambda c: from_zero(c, lr=c.n * c.n * c.lr),
            "you multiplied lr by n; with the n times larger gradient the step is n² too large. "
            "Divide by n instead.",
        ),
    ],
    otherwise="with reduction='sum' use lr / n (n = len(X)), start from w = b = 0 and keep the "
    "loop of exercise 4.2.",
    passed="with reduction='sum' and lr / n your run is the mean-loss run at lr, epoch for epoch, "
    "on two hidden data sets.",
)


# ---- Prediction checkpoints of the lesson (computed by torch, as the lesson's next cell does)


def _weight_shape(in_features: int = 3, out_features: int = 2) -> tuple[int, ...]:
    """The shape of ``nn.Linear(in_features, out_features).weight``; leaves torch's RNG as it was."""
    import torch
    from torch import nn

    with torch.random.fork_rng():  # making a layer draws its random start: keep the lesson's seed
        return tuple(nn.Linear(in_features, out_features).weight.shape)


predict04_a = prediction(
    "4a",
    "the shape of nn.Linear(3, 2).weight, as (rows, columns)",
    _weight_shape,
    "W has one row per output and one column per input, (out, in) = (2, 3): each output is a row "
    "of W times the sample, so y_hat = X W^T + b, (n, 3) times (3, 2) gives (n, 2).",
    mistakes=[
        Said(
            lambda: _weight_shape()[::-1],
            "that is (in, out), the order of nn.Linear's arguments; the weight is stored "
            "transposed, (out, in), which is why the layer computes X W^T.",
        )
    ],
)


def _broadcast_perfect_fit(matching: bool = False) -> float:
    """nn.MSELoss of the exact predictions y as a (4, 1) column against the (4,) targets y."""
    import torch
    from torch import nn

    y = torch.from_numpy(toy_data()[1])
    y_hat = y.reshape(-1, 1)  # every prediction right, but a (4, 1) column
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcasting warning: this checkpoint is about it
        return nn.MSELoss()(y_hat, y.reshape(-1, 1) if matching else y).item()


predict04_b = prediction(
    "4b",
    "nn.MSELoss()(y_hat, y_flat): perfect (4, 1) predictions against the (4,) targets",
    _broadcast_perfect_fit,
    "(4, 1) minus (4,) broadcasts to a (4, 4) table of every prediction 2i minus every target 2j; "
    "the mean of the squares (2i - 2j)^2 is 10, though each prediction is right.",
    mistakes=[
        Said(
            lambda: _broadcast_perfect_fit(matching=True),
            "that is the loss with matching shapes; with (4,) targets broadcasting compares every "
            "prediction with every target, 16 differences, 12 of them not 0.",
        )
    ],
)
