"""Three trainers, one algorithm: plain gradient descent on the mean squared error.

``train_numpy`` computes the gradient by hand, ``train_autograd`` lets torch's autograd compute it,
``train_nn`` uses ``nn.Linear`` + ``nn.MSELoss`` + ``torch.optim.SGD``. They share one signature and
return one ``History``, so their trajectories can be put side by side and must agree.

Row k of a ``History`` holds the parameters at the *start* of epoch k and the loss at exactly those
parameters, so a printed loss always belongs to the printed w (the classic notebook printed the
loss before the update next to w after it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlessons._validate import (
    as_array,
    check_lr,
    check_num_epochs,
    check_same_length,
    check_weights,
    is_tensor,
)
from gdlessons.numpy_gd import (
    _forward,
    _loss_and_gradient,
    _mse_loss,
    _scratch,
    forward,
    lipschitz_constant,
)

__all__ = ["DivergenceError", "History", "train_autograd", "train_nn", "train_numpy"]


class DivergenceError(ValueError):
    """Gradient descent blew up: the loss became inf or NaN because lr is too large."""


@dataclass(frozen=True, eq=False)
class History:
    """The trajectory of one training run.

    Attributes:
        w: shape (num_epochs,) for 1-D ``X`` or (num_epochs, d): w at the start of each epoch.
        b: shape (num_epochs,), or ``None`` for a model without bias.
        loss: shape (num_epochs,): the loss at row k's parameters.
        w_final, b_final: the parameters after the last update (``b_final`` is ``None``
            without bias).
        lr: the learning rate of the run.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0]); h = train_numpy(X, 2 * X, lr=0.01, num_epochs=3)
    >>> print(h)
    epoch 0: w = 0.000, loss = 30.0000
    epoch 1: w = 0.300, loss = 21.6750
    epoch 2: w = 0.555, loss = 15.6602
    >>> round(h.predict(5.0), 3)
    3.859
    """

    w: np.ndarray
    b: np.ndarray | None
    loss: np.ndarray
    w_final: float | np.ndarray
    b_final: float | None
    lr: float

    @property
    def num_epochs(self) -> int:
        """How many epochs (rows) the run has."""
        return len(self.loss)

    def __len__(self) -> int:
        return self.num_epochs

    def predict(self, X: Any) -> float | np.ndarray:
        """Predictions of the trained model (the final parameters) for ``X``."""
        return forward(X, self.w_final, 0.0 if self.b_final is None else self.b_final)

    def lines(self, every: int = 1) -> list[str]:
        """One line per ``every``-th epoch: ``epoch k: w = …, [b = …,] loss = …``."""
        return [self._line(k) for k in range(0, self.num_epochs, every)]

    def _line(self, k: int) -> str:
        w = f"{self.w[k]:.3f}" if self.w.ndim == 1 else np.array2string(self.w[k], precision=3)
        b = "" if self.b is None else f", b = {self.b[k]:.3f}"
        return f"epoch {k}: w = {w}{b}, loss = {self.loss[k]:.4f}"

    def __str__(self) -> str:
        return "\n".join(self.lines())


class _Recorder:
    """Fills a History row by row and stops a run whose loss is no longer finite."""

    def __init__(self, X: np.ndarray, lr: float, num_epochs: int, bias: bool) -> None:
        self.X, self.lr, self.bias = X, lr, bias
        w_shape = (num_epochs,) if X.ndim == 1 else (num_epochs, X.shape[1])
        self.w = np.empty(w_shape)
        self.b = np.empty(num_epochs) if bias else None
        self.loss = np.empty(num_epochs)

    def add(self, epoch: int, w: Any, b: Any, loss: Any) -> None:
        loss = _plain(loss)
        if not math.isfinite(loss):
            self._diverged(f"the loss became {loss} at epoch {epoch}")
        self.w[epoch], self.loss[epoch] = _plain(w), loss
        if self.b is not None:
            self.b[epoch] = _plain(b)

    def finish(self, w: Any, b: Any) -> History:
        w_final, b_final = _plain(w), (None if b is None else _plain(b))
        if not np.isfinite(w_final).all() or (b_final is not None and not math.isfinite(b_final)):
            self._diverged("the parameters became inf or NaN in the last step")
        return History(self.w, self.b, self.loss, w_final, b_final, self.lr)

    def _diverged(self, what: str) -> None:
        L = lipschitz_constant(self.X, bias=self.bias)
        raise DivergenceError(
            f"Training diverged: {what} with lr={self.lr:g}. The learning rate is too large: "
            f"for the MSE on this data gradient descent converges only for lr < 2/L = {2 / L:.4g} "
            f"(L = {L:.4g}, the loss's largest curvature). Try lr={1 / L:.2g} or smaller."
        )


def _plain(v: Any) -> Any:
    """A recorded value as a float or a NumPy array, detached from any autograd graph."""
    if isinstance(v, (float, np.floating)):  # the common cases first: this runs every epoch
        return float(v)
    if is_tensor(v):
        if v.ndim == 0:
            return v.item()
        v = v.detach().cpu().numpy()
    return float(v) if np.ndim(v) == 0 else np.asarray(v, dtype=np.float64).reshape(-1)


def _prepare(
    X: Any, y: Any, lr: Any, num_epochs: Any, w0: Any, b0: Any
) -> tuple[np.ndarray, np.ndarray, Any, Any, float, int]:
    """Check every argument once, so the training loops run on clean arrays."""
    X, y = as_array("X", X), as_array("y", y, ndims=(1, 2))
    check_same_length(X, y)
    y = y.astype(X.dtype, copy=False)
    w = check_weights(X, w0, name="w0")
    w = X.dtype.type(w) if X.ndim == 1 else w
    b = None if b0 is None else X.dtype.type(check_weights(np.empty(1), b0, name="b0"))
    return X, y, w, b, check_lr(lr), check_num_epochs(num_epochs)


def train_numpy(
    X: Any, y: Any, lr: float, num_epochs: int, w0: Any = 0.0, b0: float | None = None
) -> History:
    """Gradient descent with the hand-derived gradient (``mse_gradient``), in NumPy.

    ``b0=None`` trains the model without bias, ``y_hat = X w`` (the classic ``f(x) = w*x``).

    >>> X = np.array([1.0, 2.0, 3.0, 4.0])
    >>> h = train_numpy(X, 2 * X, lr=0.01, num_epochs=10)
    >>> h.w[1::2].round(3).tolist(), round(h.predict(5.0), 3)
    ([0.3, 0.772, 1.113, 1.359, 1.537], 8.031)
    """
    X, y, w, b, lr, num_epochs = _prepare(X, y, lr, num_epochs, w0, b0)
    record = _Recorder(X, lr, num_epochs, bias=b is not None)
    scratch = _scratch(X)  # working memory for every step: no step allocates an n-sized array
    with np.errstate(over="ignore", invalid="ignore"):  # a blow-up is reported by the recorder
        for epoch in range(num_epochs):
            # loss = mse_loss(forward(X, w, b), y) and (dw, db) = mse_gradient(X, y, y_hat), fused
            loss, dw, db = _loss_and_gradient(X, y, w, b, scratch)
            record.add(epoch, w, b, loss)  # the loss at the w we are about to move
            w = w - lr * dw
            b = None if b is None else b - lr * db
    return record.finish(w, b)


# Samples per block in the torch trainers. A step over more samples than this runs block by block,
# adding each block's gradient into .grad (gradient accumulation), so autograd never allocates an
# n-sized temporary (on the CPU, every fresh large tensor is memory the kernel must map and zero):
# the temporaries of one block (1 MiB each in float32) stay in cache and are reused.
_TORCH_BLOCK = 1 << 18


def _tensor_blocks(X: np.ndarray, y: np.ndarray) -> list[tuple[Any, Any, float]]:
    """``(X_block, y_block, share)`` views as tensors; ``share`` = block size / n weights its mean loss.

    Training in blocks gives the same run as in one piece, up to rounding. The check runs in float64:
    in float32 a one-thread BLAS sum over 2**18 terms alone drifts by ~1e-5, which would hide a bug.

    >>> X = np.linspace(-1, 1, 2 * _TORCH_BLOCK + 3); y = 2 * X + 1
    >>> [len(_tensor_blocks(X, y)), len(_tensor_blocks(X[:4], y[:4]))]
    [3, 1]
    >>> runs = [train(X, y, lr=0.5, num_epochs=3, b0=0.0) for train in (train_numpy, train_autograd, train_nn)]
    >>> all(np.allclose(h.loss, runs[0].loss, rtol=1e-9) and np.allclose(h.w, runs[0].w, rtol=1e-9) for h in runs)
    True
    """
    import torch

    # np.require copies only read-only or non-contiguous arrays, which torch cannot share.
    X_t, y_t = (torch.from_numpy(np.require(a, requirements=["C", "W"])) for a in (X, y))
    n = X.shape[0]
    return [
        (X_t[i : i + _TORCH_BLOCK], y_t[i : i + _TORCH_BLOCK], min(_TORCH_BLOCK, n - i) / n)
        for i in range(0, n, _TORCH_BLOCK)
    ]


def _predict(X: Any, w: Any, b: Any) -> Any:
    """``_forward(X, w, b)``, where ``b=None`` (no bias) skips the pass that would add a zero."""
    return _forward(X, w, b) if b is not None else (X * w if X.ndim == 1 else X @ w)


def train_autograd(
    X: Any, y: Any, lr: float, num_epochs: int, w0: Any = 0.0, b0: float | None = None
) -> History:
    """The same gradient descent, with torch's autograd computing the gradient.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    >>> round(train_autograd(X, 2 * X, lr=0.01, num_epochs=10).predict(5.0), 3)
    8.031
    """
    import torch

    X_np, y_np, w0, b0, lr, num_epochs = _prepare(X, y, lr, num_epochs, w0, b0)
    record = _Recorder(X_np, lr, num_epochs, bias=b0 is not None)
    blocks = _tensor_blocks(X_np, y_np)  # one block, (X, y, 1.0), unless n is large
    dtype = blocks[0][0].dtype
    w = torch.tensor(w0, dtype=dtype, requires_grad=True)
    b = None if b0 is None else torch.tensor(b0, dtype=dtype, requires_grad=True)
    params = [p for p in (w, b) if p is not None]
    for epoch in range(num_epochs):
        loss = 0.0
        for X, y, share in blocks:
            block_loss = _mse_loss(_predict(X, w, b), y)
            if share != 1.0:  # one block of several: its mean counts by its share of the samples
                block_loss = block_loss * share
            block_loss.backward()  # adds d loss / d parameter into w.grad (and b.grad)
            loss += block_loss.item()
        record.add(epoch, w, b, loss)
        with torch.no_grad():  # the update itself must not become part of the graph
            for p in params:
                p -= lr * p.grad
                p.grad.zero_()  # backward accumulates into .grad: clear it for the next epoch
    return record.finish(w, b)


def train_nn(
    X: Any, y: Any, lr: float, num_epochs: int, w0: Any = 0.0, b0: float | None = None
) -> History:
    """The same gradient descent with ``nn.Linear``, ``nn.MSELoss`` and ``torch.optim.SGD``.

    The layer is built with ``bias=False`` when ``b0 is None`` and its parameters are set to
    ``w0``/``b0`` (no random initialization, so no RNG is touched).

    >>> X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    >>> round(train_nn(X, 2 * X, lr=0.01, num_epochs=10).predict(5.0), 3)
    8.031
    """
    import torch
    from torch import nn

    X_np, y_np, w0, b0, lr, num_epochs = _prepare(X, y, lr, num_epochs, w0, b0)
    record = _Recorder(X_np, lr, num_epochs, bias=b0 is not None)
    n, d = X_np.shape[0], (1 if X_np.ndim == 1 else X_np.shape[1])
    # nn layers want (samples, features); one block, (X, y, 1.0), unless n is large
    blocks = [(X.reshape(-1, d), y.reshape(-1, 1), share) for X, y, share in _tensor_blocks(X_np, y_np)]
    dtype = blocks[0][0].dtype
    model = nn.utils.skip_init(nn.Linear, d, 1, bias=b0 is not None, dtype=dtype)
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(w0, dtype=dtype).reshape(1, d).expand(1, d))
        if b0 is not None:
            model.bias.fill_(float(b0))
    loss_fn = nn.MSELoss()  # called as loss_fn(input, target): the prediction comes first
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def params() -> tuple[Any, Any]:
        w = model.weight.detach()
        return (w.item() if X_np.ndim == 1 else w[0]), (None if b0 is None else model.bias.item())

    for epoch in range(num_epochs):
        optimizer.zero_grad()  # backward accumulates into .grad: start from zero
        loss = 0.0
        for X, y, share in blocks:
            block_loss = loss_fn(model(X), y)
            if share != 1.0:  # one block of several: its mean counts by its share of the samples
                block_loss = block_loss * share
            block_loss.backward()
            loss += block_loss.item()
        record.add(epoch, *params(), loss)
        optimizer.step()  # w -= lr * w.grad, inside no_grad
    return record.finish(*params())
