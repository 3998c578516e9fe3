"""Checks of lesson 04: nn.Linear, nn.MSELoss, torch.optim.SGD.

>>> verdict = ex04_4(lambda y_hat, y: float(np.mean((y_hat - y) ** 2)))
✓ Exercise 4.4: right! ...
>>> verdict.points, verdict.max_points
(2, 2)
"""

from __future__ import annotations

import warnings
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
    function,
    hidden,
    number,
    pair,
)
from gdlessons.data import toy_data
from gdlessons.history import History
from gdlessons.numpy_gd import forward, lipschitz_constant, mse_loss
from gdlessons.train import train_nn

__all__ = ["ex04_1", "ex04_2", "ex04_3", "ex04_4", "ex04_5"]

_EPOCHS = "that is one epoch too {}: loop `for epoch in range(num_epochs)`."


@exercise("4.1", points=1)
def ex04_1(my_linear: Callable[..., Any]) -> str:
    """Check ``my_linear(w, b) -> nn.Linear(1, 1)`` whose weight is w and bias is b.

    >>> import torch
    >>> def my_linear(w, b):
    ...     layer = torch.nn.Linear(1, 1)
    ...     with torch.no_grad():
    ...         layer.weight.fill_(w); layer.bias.fill_(b)
    ...     return layer
    >>> ex04_1(my_linear)
    ✓ Exercise 4.1: right! ...
    """
    from torch import nn

    fn = function(my_linear, "my_linear")
    for w, b in [(0.0, 0.0), (-1.25, 3.5), (2.0, -0.75)]:
        try:
            layer = call(fn, "my_linear", w, b)
        except Wrong as err:
            if "leaf Variable" in str(err):
                raise Wrong(
                    f"{err}\n  Hint: setting a parameter's value is not part of the model: do it "
                    "inside `with torch.no_grad():`."
                ) from None
            raise
        if not isinstance(layer, nn.Linear):
            raise Wrong(
                "my_linear should return the layer, an nn.Linear, but returned a "
                f"{type(layer).__name__}."
            )
        if (layer.in_features, layer.out_features) != (1, 1):
            raise Wrong(
                f"the layer is nn.Linear({layer.in_features}, {layer.out_features}); one input "
                "feature and one output: nn.Linear(1, 1)."
            )
        if layer.bias is None:
            raise Wrong(
                "the layer has no bias (bias=False). The model is y_hat = w x + b: use "
                "nn.Linear(1, 1), which has a bias."
            )
        got = (layer.weight.item(), layer.bias.item())
        if not close(got, (w, b), rtol=1e-6):
            raise Wrong(
                f"asked for w = {w}, b = {b}, the layer has weight {got[0]:.4g} and bias "
                f"{got[1]:.4g}.\n  Hint: set both, e.g. layer.weight.fill_(w) and "
                "layer.bias.fill_(b), under torch.no_grad()."
            )
        if not (layer.weight.requires_grad and layer.bias.requires_grad):
            raise Wrong(
                "the parameters no longer require grad, so SGD could not train them. Change "
                "their values in place under torch.no_grad() instead of replacing them."
            )
    return "my_linear builds nn.Linear(1, 1) with the weight and bias you ask for, still trainable."


def _nn_run(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, bug: str) -> list[float]:
    """A run of lesson 04's loop with one classic bug: 'zero_grad' (forgotten) or 'flat_y'."""
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
    return [model.weight.item(), model.bias.item()]


def _nn_final(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int) -> list[float] | None:
    """The final (w, b) of ``train_nn`` from zero; None for no epochs."""
    if num_epochs < 1:
        return None
    h = train_nn(X, y, lr, num_epochs, w0=0.0, b0=0.0)
    return [h.w_final, h.b_final]


def _two_numbers(value: Any, name: str) -> np.ndarray:
    w, b = pair(value, f"What {name} returns", "(w, b)")
    if b is None:
        raise Wrong("b is None: the model needs a bias, nn.Linear(1, 1) (not bias=False).")
    return np.array([number(w, "Your final w"), number(b, "Your final b")])


@exercise("4.2", points=2)
def ex04_2(my_train_nn: Callable[..., Any]) -> str:
    """Check ``my_train_nn(X, y, lr, num_epochs) -> (w, b)``: the nn.Linear pipeline from zero.

    >>> def my_train_nn(X, y, lr, num_epochs):
    ...     h = train_nn(X, y, lr, num_epochs, b0=0.0)
    ...     return h.w_final, h.b_final
    >>> ex04_2(my_train_nn)
    ✓ Exercise 4.2: right! ...
    """
    fn = function(my_train_nn, "my_train_nn")
    cases = [(12, (1.5, -2.0), 0.1, 8, 321), (5, (-0.5, 1.0), 0.05, 5, 322)]
    for n, (w_true, b_true), lr, num_epochs, seed in cases:
        X, y = hidden(n, w_true, b_true, seed)
        want = train_nn(X, y, lr, num_epochs, w0=0.0, b0=0.0)
        got = _two_numbers(call(fn, "my_train_nn", X, y, lr, num_epochs), "my_train_nn")
        compare(
            got,
            [want.w_final, want.b_final],
            f"On hidden data (n = {n}, lr = {lr}, num_epochs = {num_epochs}) you get "
            f"w = {got[0]:.4g}, b = {got[1]:.4g}; the right result is w = {want.w_final:.4g}, "
            f"b = {want.b_final:.4g}.",
            [
                (
                    partial(_nn_run, X, y, lr, num_epochs, "flat_y"),
                    (
                        f"y is still flat, shape ({n},), while the layer outputs ({n}, 1): the "
                        f"loss compares every prediction with every target. Use y.reshape(-1, 1)."
                    ),
                ),
                (
                    partial(_nn_run, X, y, lr, num_epochs, "zero_grad"),
                    (
                        "the gradients pile up: call optimizer.zero_grad() in every epoch, before "
                        "loss.backward()."
                    ),
                ),
                (partial(_nn_final, X, y, lr, num_epochs - 1), _EPOCHS.format("few")),
                (partial(_nn_final, X, y, lr, num_epochs + 1), _EPOCHS.format("many")),
            ],
            "start from weight = 0 and bias = 0 (under torch.no_grad(), not nn.Linear's random "
            "start); use nn.MSELoss() and torch.optim.SGD(model.parameters(), lr=lr).",
        )
    return "my_train_nn gives the same w and b as train_nn on two hidden data sets."


@exercise("4.3", points=2)
def ex04_3(my_fit_three_ways: Callable[..., Any]) -> str:
    """Check ``my_fit_three_ways(X, y) -> (History, History, History)``: three fits, to 2 decimals.

    >>> from gdlessons import train_autograd, train_numpy
    >>> def my_fit_three_ways(X, y):
    ...     lr = 1.5 / lipschitz_constant(X, bias=True)
    ...     return tuple(t(X, y, lr, 300, b0=0.0) for t in (train_numpy, train_autograd, train_nn))
    >>> ex04_3(my_fit_three_ways)
    ✓ Exercise 4.3: right! ...
    """
    fn = function(my_fit_three_ways, "my_fit_three_ways")
    X_toy, _ = toy_data()
    X_hid, _ = hidden(20, 3.0, 1.0, 331)
    for X in (X_toy, X_hid):
        y = 3 * X + 1
        n = len(X)
        try:
            result = call(fn, "my_fit_three_ways", X, y)
        except Wrong as err:
            if "DivergenceError" in str(err):
                L = lipschitz_constant(X, bias=True)
                raise Wrong(
                    f"{str(err).splitlines()[0]}\n  Hint: with a bias the bound is 2/L with "
                    f"L = lipschitz_constant(X, bias=True) (here {L:.4g}, 2/L = {2 / L:.4g}); "
                    "compute lr from X inside the function, e.g. lr = 1 / L."
                ) from None
            raise
        if not (
            isinstance(result, (tuple, list))
            and len(result) == 3
            and all(isinstance(h, History) for h in result)
        ):
            raise Wrong(
                "my_fit_three_ways should return three History objects: (train_numpy(...), "
                "train_autograd(...), train_nn(...))."
            )
        A = np.column_stack([X.astype(np.float64), np.ones(n)])
        w_ls, b_ls = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]
        for name, h in zip(("train_numpy", "train_autograd", "train_nn"), result):
            if h.b_final is None:
                raise Wrong(
                    f"the {name} run has no bias, so it cannot fit y = 3x + 1. Pass b0=0.0 to "
                    "every trainer."
                )
            if abs(h.w_final - w_ls) > 0.01 or abs(h.b_final - b_ls) > 0.01:
                raise Wrong(
                    f"on data with n = {n}, the {name} run ends at w = {h.w_final:.3f}, "
                    f"b = {h.b_final:.3f}, not yet w = {w_ls:.3f}, b = {b_ls:.3f} (to 2 "
                    "decimals).\n  Hint: the bias direction is flat and slow: take an lr closer "
                    "to the bound 2/L (e.g. lr = 1.5 / lipschitz_constant(X, bias=True)) or more "
                    "epochs."
                )
        if not (result[0].lines() == result[1].lines() == result[2].lines()):
            raise Wrong(
                "the three runs reach the answer but their trajectories differ. Use the same lr, "
                "num_epochs, w0 and b0 for all three: then they are one algorithm, epoch for "
                "epoch."
            )
    return (
        "all three implementations fit y = 3x + 1 to 2 decimals, with identical trajectories, "
        "on the toy X and on a hidden X."
    )


@exercise("4.4", points=2)
def ex04_4(my_broadcast_loss: Callable[..., Any]) -> str:
    """Check ``my_broadcast_loss(y_hat, y)``: nn.MSELoss's value for y_hat (n, 1) and y (n,).

    >>> ex04_4(lambda y_hat, y: float(np.mean((y_hat - y) ** 2)))
    ✓ Exercise 4.4: right! ...
    """
    import torch
    from torch import nn

    fn = function(my_broadcast_loss, "my_broadcast_loss")
    for n, seed in [(6, 341), (11, 342)]:
        X, y = hidden(n, 2.0, -1.0, seed)
        y_hat = forward(X, 1.5, 0.5).reshape(-1, 1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y_hat_t, y_t = torch.from_numpy(y_hat.copy()), torch.from_numpy(y.copy())
            want = nn.MSELoss()(y_hat_t, y_t).item()
        value = call(fn, "my_broadcast_loss", y_hat.copy(), y.copy())
        if _shape(value) == (n, n):
            raise Wrong(
                f"you returned the ({n}, {n}) table of squared differences; nn.MSELoss returns "
                "its mean, one number."
            )
        got = number(value, "Your loss")
        if close(got, mse_loss(y_hat.reshape(-1), y)):
            raise Wrong(
                f"{got:.4g} is the loss with matching shapes, but the shapes ({n}, 1) and ({n},) "
                f"do not match.\n  Hint: y_hat - y broadcasts to a ({n}, {n}) table, every "
                "prediction minus every target; nn.MSELoss takes the mean of that table."
            )
        other = (
            f"y_hat - y is a ({n}, {n}) table here; square it and take the mean of all {n * n} "
            "entries."
        )
        diagnose(got, want, n, "Your loss", {"other": other})
    return (
        "you predict nn.MSELoss's broadcast loss exactly: the mean of the (n, n) table of every "
        "prediction minus every target."
    )


def _shape(value: Any) -> tuple[int, ...] | None:
    try:
        return np.shape(value)
    except Exception:  # noqa: BLE001 (ragged lists, tensors that require grad: not a table)
        return None


@exercise("4.5", points=3)
def ex04_5(my_train_sum: Callable[..., Any]) -> str:
    """Check ``my_train_sum(X, y, lr, num_epochs) -> (w, b)``: reduction='sum' at the lr that
    repeats the mean-loss run.

    >>> def my_train_sum(X, y, lr, num_epochs):
    ...     h = train_nn(X, y, lr, num_epochs, b0=0.0)  # stands in for the 'sum' loop at lr / n
    ...     return h.w_final, h.b_final
    >>> ex04_5(my_train_sum)
    ✓ Exercise 4.5: right! ...
    """
    fn = function(my_train_sum, "my_train_sum")
    cases = [(20, (1.5, -0.5), 0.05, 5, 351), (8, (-2.0, 1.0), 0.1, 4, 352)]
    for n, (w_true, b_true), lr, num_epochs, seed in cases:
        X, y = hidden(n, w_true, b_true, seed)
        want = train_nn(X, y, lr, num_epochs, w0=0.0, b0=0.0)
        setting = (
            f"On hidden data (n = {n}) the mean-loss run at lr = {lr} ends at "
            f"w = {want.w_final:.4g}, b = {want.b_final:.4g}"
        )
        try:
            got = _two_numbers(call(fn, "my_train_sum", X, y, lr, num_epochs), "my_train_sum")
        except Wrong as err:
            if "blew up" in str(err):
                raise Wrong(
                    f"{setting}, but your run blew up (inf or NaN).\n  Hint: reduction='sum' is "
                    "n times the mean, so its gradient is n times larger: at the same lr every "
                    "step is n times too large. Use lr / n."
                ) from None
            raise
        compare(
            got,
            [want.w_final, want.b_final],
            f"{setting}, yours at w = {got[0]:.4g}, b = {got[1]:.4g}.",
            [
                (
                    partial(_nn_final, X, y, n * lr, num_epochs),
                    (
                        f"that is the run with {n} times larger steps: reduction='sum' is n times "
                        f"the mean, so its gradient is n times larger. Divide lr by n = {n}."
                    ),
                ),
                (
                    partial(_nn_final, X, y, n * n * lr, num_epochs),
                    (
                        "you multiplied lr by n; with the n times larger gradient the step is n² "
                        "too large. Divide by n instead."
                    ),
                ),
            ],
            "with reduction='sum' use lr / n (n = len(X)), start from w = b = 0 and keep the "
            "loop of exercise 4.2.",
        )
    return (
        "with reduction='sum' and lr / n your run is the mean-loss run at lr, on two hidden data "
        "sets."
    )
