"""Checks of lesson 05: modules, mini-batches, optimizers.

>>> from gdlessons.modules import LinearRegression
>>> verdict = ex05_1(LinearRegression)
✓ Exercise 5.1: right! ...
>>> bool(verdict)
True
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
    exercise,
    final,
    fmt,
    function,
    hidden,
    tensors,
    w_b,
)
from gdlessons.numpy_gd import forward, mse_gradient, mse_loss

__all__ = ["ex05_1", "ex05_2", "ex05_3"]


@exercise("5.1", points=1)
def ex05_1(MyLinearRegression: Callable[..., Any]) -> str:
    """Check a class ``MyLinearRegression(num_features)``: an nn.Module with parameters w (d,)
    and b (), y_hat = X @ w + b.

    >>> from gdlessons.modules import LinearRegression
    >>> ex05_1(LinearRegression)
    ✓ Exercise 5.1: right! ...
    """
    from torch import nn

    fn = function(MyLinearRegression, "MyLinearRegression")
    for n, d, seed in [(10, 3, 411), (6, 1, 412)]:
        try:
            model = call(fn, "MyLinearRegression", d)
        except Wrong as err:
            if "Module.__init__() call" in str(err):
                raise Wrong(
                    f"{err}\n  Hint: the first line of __init__ must be super().__init__(): it "
                    "sets up the module's bookkeeping of parameters."
                ) from None
            raise
        if not isinstance(model, nn.Module):
            raise Wrong(
                "MyLinearRegression(num_features) should create an nn.Module: write class "
                "MyLinearRegression(nn.Module)."
            )
        _check_forward(model, n, d, seed, _parameters(model, d))
    return (
        "MyLinearRegression registers w and b as parameters starting at zero, and "
        "model(X) = X @ w + b with gradients flowing back."
    )


def _parameters(model: Any, d: int) -> dict[tuple[int, ...], Any]:
    """The model's parameters by shape, after checking there are w (d,) and b (), at zero."""
    params = dict(model.named_parameters())
    if not params:
        raise Wrong(
            "model.parameters() is empty, so an optimizer would have nothing to train.\n  Hint: "
            "wrap the tensors in nn.Parameter: self.w = nn.Parameter(torch.zeros(num_features))."
        )
    shapes = {name: tuple(p.shape) for name, p in params.items()}
    by_shape = {tuple(p.shape): p for p in params.values()}
    if sorted(shapes.values()) != sorted([(d,), ()]) or len(by_shape) != 2:
        raise Wrong(
            f"with num_features = {d} the parameters should be w of shape ({d},) and b of shape "
            f"(), but they are {shapes}.\n  Hint: self.w = nn.Parameter(torch.zeros(num_features))"
            " and self.b = nn.Parameter(torch.zeros(()))."
        )
    if any(float(p.detach().abs().sum()) != 0.0 for p in params.values()):
        raise Wrong(
            "the parameters should start at zero (torch.zeros), as in lessons 01-05: then no "
            "random generator is needed."
        )
    return by_shape


def _check_forward(model: Any, n: int, d: int, seed: int, by_shape: dict) -> None:
    """model(X) on hidden data at set parameters: X @ w + b, with gradients flowing back."""
    import torch

    X_np, y_np = hidden(n, list(np.linspace(1.0, -2.0, d)), 0.5, seed)
    w_set = np.linspace(-0.5, 1.0, d).astype(np.float32)
    with torch.no_grad():
        by_shape[(d,)].copy_(torch.from_numpy(w_set))
        by_shape[()].fill_(0.25)
    X, y = tensors(X_np, y_np)
    y_hat = call(model, "forward", X)
    if not hasattr(y_hat, "detach"):
        raise Wrong(f"model(X) should return a tensor, but returned a {type(y_hat).__name__}.")
    if tuple(y_hat.shape) != (n,):
        raise Wrong(
            f"for X of shape ({n}, {d}), model(X) should have shape ({n},), like y, but has shape "
            f"{tuple(y_hat.shape)}.\n  Hint: X @ self.w with w of shape ({d},) gives ({n},); add "
            "self.b, a single number."
        )
    want = forward(X_np, w_set, 0.25)
    if not close(y_hat.detach().numpy(), want):
        raise Wrong(
            f"model(X) is not X @ w + b: on hidden data it gives {fmt(y_hat.detach().numpy()[:3])}"
            f"… instead of {fmt(want[:3])}…."
        )
    if not y_hat.requires_grad:
        raise Wrong(
            "model(X) does not track gradients, so backward() cannot reach w and b. Compute with "
            "the parameters themselves (no .data, .detach() or torch.tensor(...) around them)."
        )
    mse_loss(y_hat, y).backward()
    dw_want, db_want = mse_gradient(X_np, y_np, want)
    dw, db = by_shape[(d,)].grad.numpy(), by_shape[()].grad.item()
    if not (close(dw, dw_want, rtol=1e-3) and close(db, db_want, rtol=1e-3)):
        raise Wrong(
            "backward() through model(X) does not give the MSE gradient: use the parameters "
            "directly in forward, X @ self.w + self.b."
        )


def _sgd_final(
    X: np.ndarray,
    y: np.ndarray,
    lr: float,
    num_epochs: int,
    *,
    batch_size: int | None = None,
    seed: int = 0,
    momentum: float = 0.0,
) -> np.ndarray:
    """The final ``[*w, b]`` of ``train_minibatch`` with LinearRegression and torch.optim.SGD."""
    import torch

    from gdlessons.modules import LinearRegression, train_minibatch

    model = LinearRegression(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    h = train_minibatch(model, optimizer, X, y, num_epochs, batch_size=batch_size, seed=seed)
    return final(h)


def _loader_run(
    X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, batch_size: int, shuffle: bool
) -> np.ndarray:
    """A mini-batch run with a plain DataLoader (shuffle=False reproduces that mistake)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from gdlessons.modules import LinearRegression

    X_t, y_t = tensors(X, y)
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


@exercise("5.2", points=2)
def ex05_2(my_train_minibatch: Callable[..., Any]) -> str:
    """Check ``my_train_minibatch(X, y, lr, num_epochs, batch_size, seed) -> (w, b)``: the loop
    over a DataLoader's mini-batches.

    >>> import torch
    >>> from gdlessons.modules import LinearRegression, train_minibatch
    >>> def my_train_minibatch(X, y, lr, num_epochs, batch_size, seed):
    ...     model = LinearRegression(X.shape[1])
    ...     optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    ...     h = train_minibatch(
    ...         model, optimizer, X, y, num_epochs, batch_size=batch_size, seed=seed
    ...     )
    ...     return h.w_final, h.b_final
    >>> ex05_2(my_train_minibatch)
    ✓ Exercise 5.2: right! ...
    """
    name = "my_train_minibatch"
    fn = function(my_train_minibatch, name)
    for n, lr, num_epochs, batch_size, seed in [(50, 0.1, 3, 8, 421), (24, 0.05, 2, 5, 422)]:
        X, y = hidden(n, [1.5, -2.0], 0.5, seed)
        want = _sgd_final(X, y, lr, num_epochs, batch_size=batch_size, seed=seed)
        got = w_b(call(fn, name, X, y, lr, num_epochs, batch_size, seed), 2, name)
        compare(
            got,
            want,
            f"On hidden data (n = {n}, batch_size = {batch_size}, {num_epochs} epochs, "
            f"seed = {seed}) you end at (w, b) = {fmt(got)}; the right run ends at {fmt(want)}.",
            [
                (
                    partial(_sgd_final, X, y, lr, num_epochs),
                    (
                        "that is one full-batch step per epoch. Loop over the loader's batches "
                        "inside each epoch: one step per batch."
                    ),
                ),
                (
                    partial(_loader_run, X, y, lr, num_epochs, batch_size, shuffle=False),
                    (
                        "the batches were never shuffled: DataLoader(..., shuffle=True, "
                        "generator=torch.Generator().manual_seed(seed))."
                    ),
                ),
            ],
            "use DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, "
            "generator=torch.Generator().manual_seed(seed)) (created once, before the epochs), "
            "LinearRegression from zero, nn.MSELoss() and SGD; zero_grad, backward, step for "
            "every batch.",
        )
    return (
        "my_train_minibatch takes the same steps, batch for batch, as train_minibatch on two "
        "hidden data sets."
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


@exercise("5.3", points=3)
def ex05_3(my_momentum: Callable[..., Any]) -> str:
    """Check ``my_momentum(X, y, lr, momentum, num_epochs) -> (w, b)``: full-batch SGD with
    momentum, in NumPy.

    >>> def my_momentum(X, y, lr, momentum, num_epochs):
    ...     w, b, vw, vb = np.zeros(X.shape[1]), 0.0, 0.0, 0.0
    ...     for epoch in range(num_epochs):
    ...         dw, db = mse_gradient(X, y, forward(X, w, b))
    ...         vw, vb = momentum * vw + dw, momentum * vb + db
    ...         w, b = w - lr * vw, b - lr * vb
    ...     return w, b
    >>> ex05_3(my_momentum)
    ✓ Exercise 5.3: right! ...
    """
    fn = function(my_momentum, "my_momentum")
    for n, lr, momentum, num_epochs, seed in [(30, 0.05, 0.9, 15, 431), (12, 0.1, 0.5, 8, 432)]:
        X, y = hidden(n, [2.0, -1.0], 1.0, seed)
        want = _sgd_final(X, y, lr, num_epochs, momentum=momentum)
        got = w_b(call(fn, "my_momentum", X, y, lr, momentum, num_epochs), 2, "my_momentum")
        compare(
            got,
            want,
            f"On hidden data (n = {n}, lr = {lr}, momentum = {momentum}, {num_epochs} epochs) you "
            f"end at (w, b) = {fmt(got)}; torch.optim.SGD(momentum={momentum}) ends at "
            f"{fmt(want)}.",
            [
                (
                    partial(_sgd_final, X, y, lr, num_epochs),
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
