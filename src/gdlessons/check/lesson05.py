"""Checks of lesson 05: modules, mini-batches, optimizers.

>>> from gdlessons.modules import LinearRegression
>>> verdict = ex05_1(LinearRegression)
✓ Exercise 5.1: right! ...
>>> bool(verdict)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons.check.core import Wrong, call, close, fmt, read_pair, tensors
from gdlessons.check.problem import Case, Gives, Shows, exercise, hidden_case
from gdlessons.history import History
from gdlessons.numpy_gd import forward, mse_gradient, mse_loss

__all__ = ["ex05_1", "ex05_2", "ex05_3"]


def _is_module(model: Any) -> bool:
    from torch import nn

    return isinstance(model, nn.Module)


def _shapes(model: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def _forward(model: Any, c: Case) -> np.ndarray:
    """``[*model(X), *dw, db]`` on the case's data at set parameters, through backward()."""
    import torch

    w, b = (next(p for p in model.parameters() if p.shape == s) for s in [(c.d,), ()])
    with torch.no_grad():
        w.copy_(torch.from_numpy(c.w_set))
        b.fill_(0.25)
    X, y = tensors(c.X, c.y)
    y_hat = call(model, "forward", X)
    if not hasattr(y_hat, "detach"):
        raise Wrong(f"model(X) should return a tensor, but returned a {type(y_hat).__name__}.")
    if tuple(y_hat.shape) != (c.n,):
        raise Wrong(
            f"for X of shape ({c.n}, {c.d}), model(X) should have shape ({c.n},), like y, but has "
            f"shape {tuple(y_hat.shape)}.\n  Hint: X @ self.w with w of shape ({c.d},) gives "
            f"({c.n},); add self.b, a single number."
        )
    if not y_hat.requires_grad:
        raise Wrong(
            "model(X) does not track gradients, so backward() cannot reach w and b. Compute with "
            "the parameters themselves (no .data, .detach() or torch.tensor(...) around them)."
        )
    mse_loss(y_hat, y).backward()
    dw, db = (np.full(p.shape, np.nan) if p.grad is None else p.grad.numpy() for p in (w, b))
    return np.concatenate([y_hat.detach().numpy(), dw, [db]])  # NaN: backward() never got there


def _model_case(n: int, d: int, seed: int) -> Case:
    case = hidden_case(n, list(np.linspace(1.0, -2.0, d)), 0.5, seed, num_features=d)
    return case.but(w_set=np.linspace(-0.5, 1.0, d).astype(np.float32))


def _model_reference(c: Case) -> np.ndarray:
    y_hat = forward(c.X, c.w_set, 0.25)
    return np.concatenate([y_hat, np.append(*mse_gradient(c.X, c.y, y_hat))])


ex05_1 = exercise(
    "5.1",
    1,
    "MyLinearRegression(num_features) -> model: an nn.Module with parameters w (d,) and b (), "
    "y_hat = X @ w + b",
    cases=[_model_case(10, 3, 411), _model_case(6, 1, 412)],
    errors={
        "Module.__init__() call": "the first line of __init__ must be super().__init__(): it sets "
        "up the module's bookkeeping of parameters."
    },
    rules=[
        (
            lambda model, c: not _is_module(model),
            "MyLinearRegression(num_features) should create an nn.Module: write class "
            "MyLinearRegression(nn.Module).",
        ),
        (
            lambda model, c: not _shapes(model),
            "model.parameters() is empty, so an optimizer would have nothing to train.\n  Hint: "
            "wrap the tensors in nn.Parameter: self.w = nn.Parameter(torch.zeros(num_features)).",
        ),
        (
            lambda model, c: sorted(_shapes(model).values()) != [(), (c.d,)],
            lambda model, c: (
                f"with num_features = {c.d} the parameters should be w of shape "
                f"({c.d},) and b of shape (), but they are {_shapes(model)}.\n  Hint: self.w = "
                "nn.Parameter(torch.zeros(num_features)) and self.b = "
                "nn.Parameter(torch.zeros(()))."
            ),
        ),
        (
            lambda model, c: any(float(p.detach().abs().sum()) for p in model.parameters()),
            "the parameters should start at zero (torch.zeros), as in lessons 01-05: then no "
            "random generator is needed.",
        ),
    ],
    read=_forward,
    reference=_model_reference,
    setting=lambda got, c: (
        f"On hidden data (n = {c.n}) at w = {fmt(c.w_set)}, b = 0.25, "
        f"model(X) starts {fmt(got[:3])}…; X @ w + b starts {fmt(c.want[:3])}…."
    ),
    mistakes=[
        Shows(
            lambda got, c: not close(got[: c.n], c.want[: c.n]),
            "model(X) is not X @ w + b: compute X @ self.w + self.b in forward.",
        )
    ],
    otherwise="backward() through model(X) does not give the MSE gradient: use the parameters "
    "directly in forward, X @ self.w + self.b.",
    passed="MyLinearRegression registers w and b as parameters starting at zero, and "
    "model(X) = X @ w + b with gradients flowing back.",
)


def _sgd_run(c: Case, batch_size: int | None = None, momentum: float = 0.0) -> History:
    """``train_minibatch`` with LinearRegression and torch.optim.SGD, from zero."""
    import torch

    from gdlessons.modules import LinearRegression, train_minibatch

    model = LinearRegression(c.d)
    optimizer = torch.optim.SGD(model.parameters(), lr=c.lr, momentum=momentum)
    return train_minibatch(
        model, optimizer, c.X, c.y, c.num_epochs, batch_size=batch_size, seed=c.seed
    )


def _loader_run(c: Case, shuffle: bool = True, every_epoch: bool = False) -> np.ndarray:
    """A mini-batch run with a plain DataLoader: unshuffled, or made anew in every epoch."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from gdlessons.modules import LinearRegression

    model = LinearRegression(c.d)
    optimizer = torch.optim.SGD(model.parameters(), lr=c.lr)

    def loader() -> DataLoader:
        shuffled = torch.Generator().manual_seed(c.seed)
        data = TensorDataset(*tensors(c.X, c.y))
        return DataLoader(data, batch_size=c.batch_size, shuffle=shuffle, generator=shuffled)

    batches = loader()
    for _ in range(c.num_epochs):
        for X_batch, y_batch in loader() if every_epoch else batches:
            loss = torch.nn.MSELoss()(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return np.append(model.w.detach().numpy(), model.b.item())


WB = read_pair("(w, b)", "Your w, Your b", d=True)
ex05_2 = exercise(
    "5.2",
    2,
    "my_train_minibatch(X, y, lr, num_epochs, batch_size, seed) -> (w, b): the loop over a "
    "DataLoader's mini-batches",
    cases=[
        hidden_case(50, [1.5, -2.0], 0.5, 421, lr=0.1, num_epochs=3, batch_size=8),
        hidden_case(24, [1.5, -2.0], 0.5, 422, lr=0.05, num_epochs=2, batch_size=5),
    ],
    steps=True,
    read=WB,
    reference=lambda c: _sgd_run(c, batch_size=c.batch_size),
    mistakes=[
        Gives(
            _sgd_run,
            "that is one full-batch step per epoch. Loop over the loader's batches inside each "
            "epoch: one step per batch.",
        ),
        Gives(
            lambda c: _loader_run(c, shuffle=False),
            "the batches were never shuffled: DataLoader(..., shuffle=True, "
            "generator=torch.Generator().manual_seed(seed)).",
        ),
        Gives(
            lambda c: _loader_run(c, every_epoch=True),
            "every epoch deals the same batches: a loader (and its generator) made inside the "
            "epoch loop starts afresh each epoch. Create it once, before the epochs.",
        ),
    ],
    otherwise="use DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, "
    "generator=torch.Generator().manual_seed(seed)) (created once, before the epochs), "
    "LinearRegression from zero, nn.MSELoss() and SGD; zero_grad, backward, step for every batch.",
    passed="my_train_minibatch is where train_minibatch is after every epoch, on two hidden data "
    "sets.",
)


def _momentum_run(c: Case, variant: str) -> np.ndarray:
    """Full-batch momentum in NumPy with one classic slip.

    'dampened': v = m v + (1 - m) g; 'late': step with the old velocity, then update it.
    """
    w, b, vw, vb = np.zeros(c.d), 0.0, np.zeros(c.d), 0.0
    for _ in range(c.num_epochs):
        dw, db = mse_gradient(c.X, c.y, forward(c.X, w, b))
        if variant == "late":
            w, b = w - c.lr * vw, b - c.lr * vb
        scale = 1 - c.momentum if variant == "dampened" else 1.0
        vw, vb = c.momentum * vw + scale * dw, c.momentum * vb + scale * db
        if variant != "late":
            w, b = w - c.lr * vw, b - c.lr * vb
    return np.append(w, b)


ex05_3 = exercise(
    "5.3",
    3,
    "my_momentum(X, y, lr, momentum, num_epochs) -> (w, b): full-batch SGD with momentum, in NumPy",
    cases=[
        hidden_case(30, [2.0, -1.0], 1.0, 431, lr=0.05, momentum=0.9, num_epochs=15),
        hidden_case(12, [2.0, -1.0], 1.0, 432, lr=0.1, momentum=0.5, num_epochs=8),
    ],
    steps=True,
    read=WB,
    reference=lambda c: _sgd_run(c, momentum=c.momentum),
    mistakes=[
        Gives(
            _sgd_run,
            "that is plain gradient descent: the velocity must carry over from one epoch to the "
            "next (create v before the loop, v = momentum * v + g inside).",
        ),
        Gives(
            lambda c: _momentum_run(c, "dampened"),
            "PyTorch's SGD adds the whole gradient, v = momentum * v + g, without a "
            "(1 - momentum) factor.",
        ),
        Gives(
            lambda c: _momentum_run(c, "late"),
            "update the velocity first, then step with the new one: v = momentum * v + g; "
            "w = w - lr * v.",
        ),
    ],
    otherwise="start from w = 0, b = 0 and v = 0 (one velocity for w, one for b); each epoch: the "
    "full gradient g, then v = momentum * v + g, then w = w - lr * v.",
    passed="my_momentum takes the same steps as torch.optim.SGD with momentum on two hidden data "
    "sets.",
)
