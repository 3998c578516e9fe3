"""The runs and formulas several lessons' checks compare with, written once.

A reference or a classic mistake is often a run on a hidden ``Case``: from zero with a lesson's
trainer (``from_zero``), or through ``torch.optim.SGD`` (``sgd_run``); ``slips`` and
``epoch_slips`` turn a table of classic slips into ``Gives`` mistakes.

>>> from gdlessons.check.problem import hidden_case
>>> case = hidden_case(6, 1.5, -2.0, 7, lr=0.1, num_epochs=3)
>>> h = from_zero(case)
>>> float(h.w[0]), float(h.b[0]), float(from_zero(case, num_epochs=1).w_final) == float(h.w[1])
(0.0, 0.0, True)
>>> [mistake.hint for mistake in epoch_slips(from_zero)][0]
'that is one epoch too few: loop `for epoch in range(num_epochs)`.'
"""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from gdlessons.check.core import read_pair
from gdlessons.check.problem import Case, Gives, Message
from gdlessons.history import History
from gdlessons.train import train_nn

__all__ = ["WB", "epoch_slips", "from_zero", "hessian", "is_nn", "sgd_run", "slips"]
__all__ += ["small_lr_floor"]

WB = read_pair("(w, b)", "Your w, Your b", d=True)  # a run's final (w, b), w a vector


def is_nn(value: Any, kind: str) -> bool:
    """Whether ``value`` is a ``torch.nn.<kind>`` (torch is imported when a check runs)."""
    from torch import nn

    return isinstance(value, getattr(nn, kind))


def from_zero(case: Case, trainer: Any = train_nn, **changes: Any) -> History:
    """A run of ``trainer`` from zero on the case, with some of its settings or data changed."""
    c = case.but(**changes)
    return trainer(c.X, c.y, c.lr, c.num_epochs, w0=0.0, b0=0.0)


def sgd_run(c: Case, batch_size: Any = None, momentum: float = 0.0, **how: Any) -> History:
    """``train_minibatch`` with LinearRegression and torch.optim.SGD, from zero. ``how``:
    ``schedule`` makes its scheduler from the optimizer; ``anew``: a loader made anew in every
    epoch (one call per epoch), which deals the first epoch's batches again."""
    import torch

    from gdlessons.modules import LinearRegression, train_minibatch

    model = LinearRegression(c.d)
    optimizer = torch.optim.SGD(model.parameters(), lr=c.lr, momentum=momentum)
    options = dict(batch_size=batch_size, seed=c.seed, record_every=c.get("record_every"))
    options["scheduler"] = how["schedule"](optimizer) if "schedule" in how else None
    for epochs in [1] * c.num_epochs if how.get("anew") else [c.num_epochs]:
        h = train_minibatch(model, optimizer, c.X, c.y, epochs, **options)
    return h


def hessian(X: Any, scale: float = 2.0, bias: bool = True) -> np.ndarray:
    """The MSE's Hessian for y_hat = X w + b, ``scale``/n A^T A with A = [X, 1] (or X alone)."""
    A = np.column_stack([X, np.ones(len(X))] if bias else [X]).astype(np.float64)
    return scale / len(X) * A.T @ A


def small_lr_floor(c: Case, batch_power: float = 1.0, scale: float = 2.0) -> float:
    """The small-lr noise floor J - J_min = lr sigma² trace(H) / (2 B) of the case's ``X``, ``lr``,
    ``sigma`` and ``batch_size``; the usual slips: other powers of B, H without its 2."""
    trace = np.trace(hessian(c.X, scale))
    return float(c.lr * c.sigma**2 * trace / (2 * c.batch_size**batch_power))


def slips(formula: Any, hints: dict[str, Message]) -> list[Gives]:
    """The mistakes ``formula(case, slip=...)`` gives, one per slip of ``hints``, with its hint."""
    return [Gives(partial(formula, slip=slip), hint) for slip, hint in hints.items()]


def epoch_slips(run: Any) -> list[Gives]:
    """``run(case, num_epochs=...)`` one epoch short and one epoch over: the loop's classic slips."""
    hint = "that is one epoch too {}: loop `for epoch in range(num_epochs)`."
    return [
        Gives(lambda c, k=k: run(c, num_epochs=c.num_epochs + k), hint.format(word))
        for k, word in ((-1, "few"), (1, "many"))
    ]
