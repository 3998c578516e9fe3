"""How real PyTorch training code looks: a model class, mini-batches from a DataLoader, an optimizer.

``LinearRegression`` is the model of every lesson, ``y_hat = X w + b``, written as an ``nn.Module``.
``train_minibatch(model, optimizer, X, y, num_epochs, batch_size=...)`` is lesson 05's loop: a
``DataLoader`` deals out shuffled mini-batches from a seeded ``torch.Generator``, and each batch
takes one ``zero_grad / backward / step`` (and ``scheduler.step()``, when a learning-rate schedule
is given). The model and the optimizer are made by the caller, in
the cell that compares them; the function returns a ``History`` like the other trainers, with the
loss measured on *all* the training data, so runs with different batch sizes can be compared.

This module imports torch; the lessons import it as
``from gdlessons.modules import LinearRegression, train_minibatch``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gdlessons._validate import as_array, require_int, require_same_length
from gdlessons.history import History, Recorder

__all__ = ["LinearRegression", "train_minibatch"]


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
        # nn.Parameter marks a tensor as something to train: model.parameters() finds it, and it
        # moves with model.to(device).
        self.w = nn.Parameter(torch.zeros(num_features))
        self.b = nn.Parameter(torch.zeros(())) if bias else None

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        y_hat = X @ self.w
        return y_hat if self.b is None else y_hat + self.b


def train_minibatch(
    model: LinearRegression,
    optimizer: torch.optim.Optimizer,
    X: Any,
    y: Any,
    num_epochs: int,
    *,
    batch_size: int | None = None,
    seed: int = 0,
    record_every: int | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> History:
    """Train ``model`` with ``optimizer`` on mini-batches from a ``DataLoader``; return a History.

    - ``X`` is (n,) (one feature) or (n, d), ``y`` is (n,); they are moved to the model's device.
    - ``batch_size``: samples per step; ``None`` means all ``n`` (full-batch gradient descent),
      ``1`` is one-sample SGD. The batches are reshuffled every epoch by a ``torch.Generator``
      seeded with ``seed`` (the global random generator is not touched).
    - ``record_every``: a History row every this many steps; ``None``: once per epoch, so row k is
      the start of epoch k, as for the other trainers.
    - ``scheduler``: a ``torch.optim.lr_scheduler`` of ``optimizer``, stepped after every
      optimizer step (so its step counts are optimizer steps, not epochs).

    Row k holds the parameters and the loss on *all* of ``X`` at exactly those parameters.

    >>> from gdlessons import toy_data
    >>> X, y = toy_data()
    >>> model = LinearRegression(num_features=1, bias=False)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    >>> history = train_minibatch(model, optimizer, X, y, num_epochs=10)  # lesson 01's run
    >>> history.w[::2].round(3).tolist(), round(history.predict(5.0), 3)
    ([0.0, 0.555, 0.956, 1.246, 1.455], 8.031)
    """
    X_np, y_np = as_array("X", X), as_array("y", y)
    require_same_length(X_np, y_np)
    n = len(X_np)
    batch_size = n if batch_size is None else require_int("batch_size", batch_size, maximum=n)
    steps_per_epoch = math.ceil(n / batch_size)
    every = steps_per_epoch if record_every is None else require_int("record_every", record_every)
    num_epochs, seed = require_int("num_epochs", num_epochs), require_int("seed", seed, minimum=0)
    d = 1 if X_np.ndim == 1 else X_np.shape[1]
    if model.w.shape != (d,):
        raise ValueError(
            f"the model has {model.w.numel()} weights but X has {d} feature{'s' * (d != 1)}: "
            f"make it with LinearRegression(num_features={d})."
        )
    w = next(model.parameters())  # the data goes where the model is, in the model's dtype
    X_all = torch.as_tensor(X_np.reshape(n, -1), dtype=w.dtype, device=w.device)
    y_all = torch.as_tensor(y_np, dtype=w.dtype, device=w.device)
    if scheduler is not None and scheduler.optimizer is not optimizer:
        raise ValueError(
            "the scheduler belongs to another optimizer: make it from this one, e.g. "
            "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_steps)."
        )
    lr = optimizer.param_groups[0].get("initial_lr", optimizer.param_groups[0]["lr"])
    rows = math.ceil(num_epochs * steps_per_epoch / every)
    record = Recorder(X_np, lr, rows, bias=model.b is not None)
    loss_fn = nn.MSELoss()
    if batch_size == n:  # full batch: the data itself is the one batch of every epoch
        loader = [(X_all, y_all)]
    else:
        shuffle = torch.Generator().manual_seed(seed)  # this run's own seeded shuffle
        loader = DataLoader(
            TensorDataset(X_all, y_all), batch_size, shuffle=True, generator=shuffle
        )
    step = 0
    for epoch in range(num_epochs):
        for X_batch, y_batch in loader:
            if step % every == 0:  # watch the loss on all the data (no graph needed for that)
                with torch.no_grad():
                    record(step // every, model.w, model.b, loss_fn(model(X_all), y_all))
            loss = loss_fn(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
    return record.finish(model.w, model.b)
