"""How real PyTorch training code looks: a model class, mini-batches from a DataLoader, an optimizer.

``LinearRegression`` is the model of every lesson, ``y_hat = X w + b``, written as an ``nn.Module``:
its parameters are registered attributes and ``forward`` says how to compute a prediction.
``train_minibatch`` trains it the way most PyTorch scripts train anything: a ``TensorDataset`` of
``(X, y)``, a ``DataLoader`` that deals out shuffled mini-batches from a seeded ``torch.Generator``,
and ``torch.optim.SGD`` (with or without momentum) or ``torch.optim.Adam``. It returns the same
``History`` as the other trainers, with the loss measured on *all* the training data at each row,
so runs with different batch sizes can be compared.

This module imports torch (``LinearRegression`` subclasses ``nn.Module``); the lessons import it as
``from gdlessons.modules import LinearRegression, train_minibatch``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset

from gdlessons._validate import as_scalar
from gdlessons.train import History, _prepare, _Recorder

__all__ = ["OPTIMIZERS", "LinearRegression", "train_minibatch"]

OPTIMIZERS = ("sgd", "adam")


class LinearRegression(nn.Module):
    """Linear regression as a PyTorch module: ``y_hat = X @ w + b``.

    ``X`` has shape (n, num_features); the prediction has shape (n,), like ``y``. The parameters
    start at zero (no random initialization, so no random generator is touched).

    >>> model = LinearRegression(num_features=2)
    >>> [(name, tuple(p.shape)) for name, p in model.named_parameters()]
    [('w', (2,)), ('b', ())]
    >>> model(torch.ones(3, 2)).shape
    torch.Size([3])
    """

    def __init__(self, num_features: int, bias: bool = True) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, numbers.Integral) or num_features < 1:
            raise ValueError(f"num_features must be an int >= 1 (columns of X), got {num_features!r}.")
        # nn.Parameter marks a tensor as something to train: model.parameters() finds it, and it
        # moves with model.to(device).
        self.w = nn.Parameter(torch.zeros(num_features))
        self.b = nn.Parameter(torch.zeros(())) if bias else None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        y_hat = X @ self.w
        return y_hat if self.b is None else y_hat + self.b


def train_minibatch(
    X: Any,
    y: Any,
    lr: float,
    num_epochs: int,
    w0: Any = 0.0,
    b0: float | None = None,
    *,
    batch_size: int | None = None,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    seed: int = 0,
    record_every: int | None = None,
    device: str = "cpu",
) -> History:
    """Train ``LinearRegression`` with mini-batches from a ``DataLoader`` and a torch optimizer.

    - ``batch_size``: samples per gradient step; ``None`` means all ``n`` (full-batch gradient
      descent), ``1`` is one-sample SGD. Mini-batches are reshuffled every epoch by a
      ``torch.Generator`` seeded with ``seed`` (the global random generator is not touched).
    - ``optimizer``: ``"sgd"`` (with ``momentum`` between 0 and 1) or ``"adam"``.
    - ``record_every``: record a History row every this many optimizer steps; ``None`` means once
      per epoch, so row k is the start of epoch k, as for the other trainers. With a number, row k
      is the state after ``k * record_every`` steps (``k * record_every * batch_size`` per-sample
      gradients computed).
    - ``device``: where the model and data live (``"cpu"`` or ``"cuda"``); the History is NumPy.

    The recorded loss is the mean squared error on all of ``X``, at exactly the row's parameters.
    ``b0=None`` trains a model without bias, as in the other trainers.

    >>> from gdlessons import toy_data
    >>> X, y = toy_data()
    >>> h = train_minibatch(X, y, lr=0.01, num_epochs=10)  # full batch, plain SGD: lesson 01's run
    >>> h.w[1::2].round(3).tolist(), round(h.predict(5.0), 3)
    ([0.3, 0.772, 1.113, 1.359, 1.537], 8.031)
    """
    X_np, y_np, w0, b0, lr, num_epochs = _prepare(X, y, lr, num_epochs, w0, b0)
    n = X_np.shape[0]
    batch_size = n if batch_size is None else _positive_int("batch_size", batch_size, most=n)
    make_optimizer = _optimizer(optimizer, momentum)
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an int so the shuffling can be reproduced, got {seed!r}.")
    steps_per_epoch = math.ceil(n / batch_size)
    record_every = steps_per_epoch if record_every is None else _positive_int("record_every", record_every)
    device = torch.device(device)

    one_feature = X_np.ndim == 1
    d = 1 if one_feature else X_np.shape[1]
    X_all = torch.from_numpy(np.ascontiguousarray(X_np).reshape(n, d)).to(device)
    y_all = torch.from_numpy(np.ascontiguousarray(y_np)).to(device)
    model = LinearRegression(d, bias=b0 is not None).to(device=device, dtype=X_all.dtype)
    with torch.no_grad():
        model.w.copy_(torch.as_tensor(w0, dtype=X_all.dtype).reshape(-1).expand(d))
        if b0 is not None:
            model.b.fill_(float(b0))
    loss_fn = nn.MSELoss()
    opt = make_optimizer(model.parameters(), lr)
    loader = _loader(X_all, y_all, batch_size, seed)

    total_steps = num_epochs * steps_per_epoch
    record = _Recorder(X_np, lr, math.ceil(total_steps / record_every), bias=b0 is not None)

    def params() -> tuple[torch.Tensor, torch.Tensor | None]:
        return (model.w[0] if one_feature else model.w), model.b

    step = 0
    for _ in range(num_epochs):
        for X_batch, y_batch in loader:
            if step % record_every == 0:
                with torch.no_grad():
                    record.add(step // record_every, *params(), loss_fn(model(X_all), y_all))
            loss = loss_fn(model(X_batch), y_batch)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
    return record.finish(*params())


def _loader(X: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int) -> Any:
    """The mini-batches of ``DataLoader(TensorDataset(X, y), batch_size, shuffle=True, generator=...)``.

    The same batches in the same order, but each batch is taken with one index operation instead of
    ``batch_size`` single-sample lookups stacked together (which makes a large batch slow). A full
    batch is the data itself: the same set in any order.
    """
    n = X.shape[0]
    if batch_size == n:
        return [(X, y)]
    generator = torch.Generator().manual_seed(int(seed))
    dataset = TensorDataset(X, y)
    batches = BatchSampler(RandomSampler(dataset, generator=generator), batch_size, drop_last=False)
    # generator= here too: the DataLoader draws a seed from it each epoch, as the plain one does,
    # so that the shuffles match it (and the global random generator is never used).
    return DataLoader(dataset, batch_size=None, sampler=batches, generator=generator)


def _positive_int(name: str, value: Any, most: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
    if most is not None and value > most:
        raise ValueError(f"{name} must be at most the number of samples, {most}, got {value}; use None for all.")
    return int(value)


def _optimizer(name: Any, momentum: Any) -> Any:
    """A function ``(parameters, lr) -> torch optimizer`` for ``name``, after checking the arguments."""
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}.")
    momentum = as_scalar("momentum", momentum)
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"momentum must be in [0, 1) (0.9 is common), got {momentum}.")
    if name == "adam":
        if momentum:
            raise ValueError("momentum is an option of optimizer='sgd'; Adam has its own (betas). Leave momentum=0.")
        return lambda params, lr: torch.optim.Adam(params, lr=lr)
    return lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=momentum)
