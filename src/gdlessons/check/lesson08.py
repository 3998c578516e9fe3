"""Checks of lesson 08: data-parallel gradient descent.

>>> def my_combine(grads, sizes):
...     return grads[0]
>>> verdict = ex08_2(my_combine)
✗ Exercise 8.2: not yet. For shards of sizes [3, 5, 9] your gradient is ...
>>> verdict.status, verdict.points
('fail', 0)
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from itertools import pairwise
from typing import Any

import numpy as np

from gdlessons.check.core import (
    call,
    compare,
    diagnose,
    exercise,
    final,
    fmt,
    function,
    hidden,
    number,
    pair,
    vector,
    w_b,
)
from gdlessons.data import shard
from gdlessons.numpy_gd import forward, mse_gradient
from gdlessons.train import train_numpy

__all__ = ["ex08_1", "ex08_2", "ex08_3"]


def _dw_db(value: Any, d: int, name: str) -> np.ndarray:
    """A student's gradient ``(dw, db)`` with dw of shape (d,), as one array ``[*dw, db]``."""
    dw, db = pair(value, f"What {name} returns")
    return np.append(vector(dw, d, "Your dw"), number(db, "Your db"))


@exercise("8.1", points=1)
def ex08_1(my_shard_gradient_mean: Callable[..., Any]) -> str:
    """Check ``my_shard_gradient_mean(X, y, w, b, world_size) -> (dw, db)``: the mean of the
    shards' gradients.

    >>> def my_shard_gradient_mean(X, y, w, b, world_size):
    ...     shards = [shard(X, y, k, world_size) for k in range(world_size)]
    ...     grads = [mse_gradient(Xs, ys, forward(Xs, w, b)) for Xs, ys in shards]
    ...     return np.mean([dw for dw, _ in grads], axis=0), np.mean([db for _, db in grads])
    >>> ex08_1(my_shard_gradient_mean)
    ✓ Exercise 8.1: right! ...
    """
    name = "my_shard_gradient_mean"
    fn = function(my_shard_gradient_mean, name)
    hints = {
        "n": "all_reduce (and a plain sum) adds the workers' gradients: divide by world_size to "
        "get their mean."
    }
    for n, world_size, seed in [(12, 3, 511), (20, 4, 512)]:
        X, y = hidden(n, [1.0, -2.5], 0.75, seed)
        w, b = np.array([0.5, 0.5], dtype=np.float32), -0.25
        want = np.append(*mse_gradient(X, y, forward(X, w, b)))
        got = _dw_db(call(fn, name, X, y, w, b, world_size), 2, name)
        diagnose(got, want, world_size, "Your (dw, db)", hints, count="number of workers")
    return (
        "the mean of the shards' gradients is the full gradient, on two hidden data sets (3 and "
        "4 workers)."
    )


@exercise("8.2", points=2)
def ex08_2(my_combine: Callable[..., Any]) -> str:
    """Check ``my_combine(grads, sizes) -> (dw, db)``: the full gradient from unequal shards'
    mean gradients.

    >>> def my_combine(grads, sizes):
    ...     total = sum(sizes)
    ...     dw = sum(m * dw for (dw, _), m in zip(grads, sizes)) / total
    ...     return dw, sum(m * db for (_, db), m in zip(grads, sizes)) / total
    >>> ex08_2(my_combine)
    ✓ Exercise 8.2: right! ...
    """
    fn = function(my_combine, "my_combine")
    for sizes, seed in [([3, 5, 9], 521), ([1, 6], 522)]:
        n = sum(sizes)
        X, y = hidden(n, [2.0, 1.0], -1.0, seed)
        w, b = np.array([0.25, -0.5], dtype=np.float32), 0.5
        edges = np.cumsum([0, *sizes])
        grads = [
            mse_gradient(X[lo:hi], y[lo:hi], forward(X[lo:hi], w, b)) for lo, hi in pairwise(edges)
        ]
        want = np.append(*mse_gradient(X, y, forward(X, w, b)))
        given = [(dw.copy(), float(db)) for dw, db in grads]  # db a Python float, as always
        got = _dw_db(call(fn, "my_combine", given, list(sizes)), 2, "my_combine")
        plain = np.append(
            np.mean([dw for dw, _ in given], axis=0), np.mean([db for _, db in given])
        )
        compare(
            got,
            want,
            f"For shards of sizes {sizes} your gradient is {fmt(got)}, the full gradient is "
            f"{fmt(want)}.",
            [
                (
                    plain,
                    (
                        "that is the plain mean of the shards' gradients, which weighs a small "
                        "shard's samples more. Weigh each shard's gradient by its size m_k: "
                        "sum(m_k g_k) / sum(m_k)."
                    ),
                ),
                (
                    want * n,
                    f"the weighted sum is right; divide it by the total number of samples, {n}.",
                ),
                (
                    want * n / len(sizes),
                    (
                        f"divide the weighted sum by the total number of samples ({n}), not by the "
                        f"number of shards ({len(sizes)})."
                    ),
                ),
            ],
            "each shard's gradient is a mean over its m_k samples, so m_k g_k is its sum; add "
            "the sums and divide by N = sum(m_k).",
            rtol=1e-4,
        )
    return (
        "weighting each shard's gradient by its size gives the full gradient, even for unequal "
        "shards."
    )


def _numpy_final(X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int) -> np.ndarray:
    """The final ``[*w, b]`` of one process with all of ``X``: ``train_numpy`` from zero."""
    return final(train_numpy(X, y, lr, num_epochs, w0=0.0, b0=0.0))


@exercise("8.3", points=3)
def ex08_3(my_data_parallel: Callable[..., Any]) -> str:
    """Check ``my_data_parallel(X, y, lr, num_epochs, world_size) -> (w, b)``: simulated workers
    with an all_reduce mean.

    >>> def my_data_parallel(X, y, lr, num_epochs, world_size):
    ...     w, b = np.zeros(X.shape[1]), 0.0
    ...     shards = [shard(X, y, k, world_size) for k in range(world_size)]
    ...     for epoch in range(num_epochs):
    ...         grads = [mse_gradient(Xs, ys, forward(Xs, w, b)) for Xs, ys in shards]
    ...         dw = sum(g[0] for g in grads) / world_size
    ...         db = sum(g[1] for g in grads) / world_size
    ...         w, b = w - lr * dw, b - lr * db
    ...     return w, b
    >>> ex08_3(my_data_parallel)
    ✓ Exercise 8.3: right! ...
    """
    name = "my_data_parallel"
    fn = function(my_data_parallel, name)
    cases = [(24, 4, 0.05, 10, 531), (15, 3, 0.1, 6, 532)]
    for n, world_size, lr, num_epochs, seed in cases:
        X, y = hidden(n, [-1.0, 2.0], 0.5, seed)
        want = _numpy_final(X, y, lr, num_epochs)
        got = w_b(call(fn, name, X, y, lr, num_epochs, world_size), 2, name)
        X0, y0 = shard(X, y, 0, world_size)
        compare(
            got,
            want,
            f"On hidden data (n = {n}, {world_size} workers, lr = {lr}, {num_epochs} epochs) you "
            f"end at (w, b) = {fmt(got)}; one process with all the data ends at {fmt(want)}.",
            [
                (
                    partial(_numpy_final, X, y, world_size * lr, num_epochs),
                    (
                        f"your steps are {world_size} times too large: all_reduce sums the "
                        f"workers' gradients; divide by world_size."
                    ),
                ),
                (
                    partial(_numpy_final, X0, y0, lr, num_epochs),
                    (
                        "that is worker 0 alone, on its own shard. Every worker's gradient must "
                        "enter the average in every epoch."
                    ),
                ),
            ],
            "per epoch: every worker k computes mse_gradient on shard(X, y, k, world_size) at the "
            "*same* (w, b); average the world_size gradients; one step for all.",
        )
    return (
        "your simulated workers take exactly the steps of one process with all the data, on two "
        "hidden data sets."
    )
