"""Three trainers, one algorithm: plain gradient descent on the mean squared error.

``train_numpy`` is lesson 01's loop (the gradient derived by hand), ``train_autograd`` lesson 03's
(torch's autograd computes it), ``train_nn`` lesson 04's (``nn.Linear`` + ``nn.MSELoss`` +
``torch.optim.SGD``). Each is the lesson's loop plus one line that records a row of the ``History``
(the loss at the parameters *before* the update), so their trajectories can be put side by side
and must agree.

``b0=None`` trains the model without bias, ``y_hat = X w`` (the classic ``f(x) = w*x``); a number
``b0`` trains ``y_hat = X w + b`` from ``b = b0``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons._validate import require_training_args
from gdlessons.history import DivergenceError, History, Recorder
from gdlessons.numpy_gd import forward, mse_gradient, mse_loss

__all__ = ["DivergenceError", "History", "train_autograd", "train_nn", "train_numpy"]


def train_numpy(
    X: Any, y: Any, lr: float, num_epochs: int, w0: Any = 0.0, b0: float | None = None
) -> History:
    """Gradient descent with the hand-derived gradient (``mse_gradient``), in NumPy.

    >>> from gdlessons import toy_data
    >>> X, y = toy_data()
    >>> history = train_numpy(X, y, lr=0.01, num_epochs=10)
    >>> history.w[::2].round(3).tolist(), round(history.predict(5.0), 3)
    ([0.0, 0.555, 0.956, 1.246, 1.455], 8.031)
    """
    X, y, w, b, lr, num_epochs = require_training_args(X, y, lr, num_epochs, w0, b0)
    record = Recorder(X, lr, num_epochs, bias=b is not None)
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is a DivergenceError instead
        for epoch in range(num_epochs):
            y_hat = forward(X, w, b)
            loss = mse_loss(y_hat, y)
            record(epoch, w, b, loss)  # the loss at the w we are about to move
            dw, db = mse_gradient(X, y, y_hat)
            w = w - lr * dw
            if b is not None:
                b = b - lr * db
    return record.finish(w, b)


def train_autograd(
    X: Any, y: Any, lr: float, num_epochs: int, w0: Any = 0.0, b0: float | None = None
) -> History:
    """The same gradient descent, with torch's autograd computing the gradient.

    >>> from gdlessons import toy_data
    >>> X, y = toy_data()
    >>> round(train_autograd(X, y, lr=0.01, num_epochs=10).predict(5.0), 3)
    8.031
    """
    import torch

    X, y, w0, b0, lr, num_epochs = require_training_args(X, y, lr, num_epochs, w0, b0)
    record = Recorder(X, lr, num_epochs, bias=b0 is not None)
    X, y = torch.from_numpy(X.copy()), torch.from_numpy(y.copy())
    w = torch.tensor(w0, requires_grad=True)
    b = None if b0 is None else torch.tensor(b0, requires_grad=True)
    params = [w] if b is None else [w, b]
    for epoch in range(num_epochs):
        loss = mse_loss(forward(X, *params), y)
        record(epoch, w, b, loss)
        loss.backward()  # fills w.grad (and b.grad) with dJ/dw (and dJ/db)
        with torch.no_grad():  # the update itself must not become part of the graph
            for p in params:
                p -= lr * p.grad
                p.grad.zero_()  # backward accumulates into .grad: clear it for the next epoch
    return record.finish(w, b)


def train_nn(
    X: Any, y: Any, lr: float, num_epochs: int, w0: Any = 0.0, b0: float | None = None
) -> History:
    """The same gradient descent with ``nn.Linear``, ``nn.MSELoss`` and ``torch.optim.SGD``.

    The layer has ``bias=False`` when ``b0 is None``; its parameters are set to ``w0``/``b0``
    (``skip_init``: no random initialization, so no random generator is touched).

    >>> from gdlessons import toy_data
    >>> X, y = toy_data()
    >>> round(train_nn(X, y, lr=0.01, num_epochs=10).predict(5.0), 3)
    8.031
    """
    import torch
    from torch import nn

    X, y, w0, b0, lr, num_epochs = require_training_args(X, y, lr, num_epochs, w0, b0)
    record = Recorder(X, lr, num_epochs, bias=b0 is not None)
    n, d = len(X), (1 if X.ndim == 1 else X.shape[1])
    X_t = torch.from_numpy(X.copy()).reshape(n, d)  # layers want (samples, features) ...
    y_t = torch.from_numpy(y.copy()).reshape(n, 1)  # ... and targets shaped like their output
    model = nn.utils.skip_init(nn.Linear, d, 1, bias=b0 is not None, dtype=X_t.dtype)
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(w0).reshape(1, -1).expand(1, d))
        if b0 is not None:
            model.bias.fill_(float(b0))
    loss_fn = nn.MSELoss()  # called as loss_fn(input, target): the prediction comes first
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    for epoch in range(num_epochs):
        loss = loss_fn(model(X_t), y_t)
        record(epoch, model.weight, model.bias, loss)
        optimizer.zero_grad()  # backward accumulates into .grad: start from zero
        loss.backward()
        optimizer.step()  # w -= lr * w.grad, without recording it
    return record.finish(model.weight, model.bias)
