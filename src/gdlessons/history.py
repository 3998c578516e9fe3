"""What a training run leaves behind: a ``History``, filled row by row by a ``Recorder``.

Row k of a ``History`` holds the parameters at the *start* of epoch k and the loss at exactly
those parameters, so a printed loss always belongs to the printed w (the classic notebook printed
the loss before the update next to w after it). Every trainer of the package returns one, so runs
can be put side by side, drawn, and compared row by row.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdlessons._validate import is_tensor, require_model_args
from gdlessons.numpy_gd import forward, lipschitz_constant

__all__ = ["DivergenceError", "History", "Recorder"]


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

    >>> from gdlessons import toy_data, train_numpy
    >>> X, y = toy_data()
    >>> history = train_numpy(X, y, lr=0.01, num_epochs=3)
    >>> print(history)
    epoch 0: w = 0.000, loss = 30.0000
    epoch 1: w = 0.300, loss = 21.6750
    epoch 2: w = 0.555, loss = 15.6602
    >>> round(history.predict(5.0), 3)
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

    def predict(self, X: Any) -> Any:
        """Predictions of the trained model (the final parameters): a float for a number ``X``."""
        y_hat = forward(*require_model_args(X, self.w_final, self.b_final))
        return float(y_hat) if np.ndim(y_hat) == 0 else y_hat

    def lines(self, every: int = 1) -> list[str]:
        """One line per ``every``-th epoch: ``epoch k: w = …, [b = …,] loss = …``."""
        return [self.line(k) for k in range(0, self.num_epochs, every)]

    def line(self, k: int) -> str:
        """Row ``k`` as ``epoch k: w = …, [b = …,] loss = …``."""
        w = f"{self.w[k]:.3f}" if self.w.ndim == 1 else np.array2string(self.w[k], precision=3)
        b = "" if self.b is None else f", b = {self.b[k]:.3f}"
        return f"epoch {k}: w = {w}{b}, loss = {self.loss[k]:.4f}"

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _plain(value: Any, one_weight: bool = False) -> Any:
    """A parameter or loss as a float (or a float64 array), detached from any autograd graph."""
    if is_tensor(value):
        value = value.detach().cpu().numpy()
    value = np.asarray(value, dtype=np.float64)
    return float(value.item()) if one_weight or value.ndim == 0 else value.reshape(-1)


class Recorder:
    """Fills a ``History`` row by row and stops a run whose loss is no longer finite.

    A trainer calls ``record(epoch, w, b, loss)`` once per row (``b=None`` without bias; tensors
    are detached) and ``record.finish(w, b)`` at the end. A loss of inf or NaN raises a
    ``DivergenceError`` that names lr and the bound 2/L of data ``X``.

    >>> import numpy as np
    >>> record = Recorder(np.array([1.0, 2.0]), lr=0.1, num_epochs=1, bias=False)
    >>> record(0, 0.0, None, 2.5)
    >>> record.finish(0.5, None).loss.tolist()
    [2.5]
    """

    def __init__(self, X: np.ndarray, lr: float, num_epochs: int, bias: bool) -> None:
        self.X, self.lr, self.one_weight = X, lr, X.ndim == 1
        self.w = np.empty((num_epochs,) if self.one_weight else (num_epochs, X.shape[1]))
        self.b = np.empty(num_epochs) if bias else None
        self.loss = np.empty(num_epochs)

    def __call__(self, row: int, w: Any, b: Any, loss: Any) -> None:
        loss = _plain(loss)
        if not math.isfinite(loss):
            self.diverged(f"the loss became {loss} at epoch {row}")
        self.w[row], self.loss[row] = _plain(w, self.one_weight), loss
        if self.b is not None:
            self.b[row] = _plain(b, one_weight=True)

    def finish(self, w: Any, b: Any) -> History:
        """The ``History`` of the run, with the parameters after its last update."""
        w_final = _plain(w, self.one_weight)
        b_final = None if b is None else _plain(b, one_weight=True)
        if not np.isfinite(w_final).all() or (b_final is not None and not math.isfinite(b_final)):
            self.diverged("the parameters became inf or NaN in the last step")
        return History(self.w, self.b, self.loss, w_final, b_final, self.lr)

    def diverged(self, what: str) -> None:
        """Raise a ``DivergenceError`` that says what happened and which lr would converge."""
        L = lipschitz_constant(self.X, bias=self.b is not None)
        raise DivergenceError(
            f"Training diverged: {what} with lr={self.lr:g}. The learning rate is too large: "
            f"for the MSE on this data gradient descent converges only for lr < 2/L = "
            f"{2 / L:.4g} (L = {L:.4g}, the loss's largest curvature). Try lr={1 / L:.2g} or "
            "smaller."
        )
