"""Checks of lesson 08: data-parallel gradient descent.

>>> verdict = ex08_2(lambda grads, sizes: grads[0])
✗ Exercise 8.2: not yet. For shards of sizes [3, 5, 9] your gradient is ...
"""

from __future__ import annotations

from functools import partial
from itertools import pairwise

import numpy as np

from gdlessons.check.cases import WB, from_zero
from gdlessons.check.core import read_pair
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Factor, Gives, exercise, hidden_case, mse_reference
from gdlessons.data import shard, toy_data
from gdlessons.numpy_gd import forward, mse_gradient
from gdlessons.train import train_numpy

__all__ = ["ex08_1", "ex08_2", "ex08_3", "predict08_a", "predict08_b"]


W = np.array([0.5, 0.5], dtype=np.float32)
ex08_1 = exercise(
    "8.1",
    1,
    "my_shard_gradient_mean(X, y, w, b, world_size) -> (dw, db): the mean of the shards' gradients",
    cases=[
        hidden_case(12, [1.0, -2.5], 0.75, 511, w=W, b=-0.25, world_size=3),
        hidden_case(20, [1.0, -2.5], 0.75, 512, w=W, b=-0.25, world_size=4),
    ],
    read=read_pair(d=True),
    reference=mse_reference,
    mistakes=[
        Factor(
            "Your (dw, db)",
            hints={
                "n": "all_reduce (and a plain sum) adds the workers' gradients: divide by "
                "world_size to get their mean."
            },
            count="world_size",
        )
    ],
    rtol=1e-4,
    passed="the mean of the shards' gradients is the full gradient, on two hidden data sets (3 "
    "and 4 workers).",
)


def _shards_case(sizes: list[int], seed: int) -> Case:
    """Unequal shards of hidden data, and each shard's mean gradient (db a Python float)."""
    c = hidden_case(sum(sizes), [2.0, 1.0], -1.0, seed, sizes=sizes, shards=len(sizes))
    c = c.but(w=np.array([0.25, -0.5], dtype=np.float32), b=0.5)
    parts = [(c.X[lo:hi], c.y[lo:hi]) for lo, hi in pairwise(np.cumsum([0, *sizes]))]
    grads = [mse_gradient(X, y, forward(X, c.w, c.b)) for X, y in parts]
    return c.but(grads=[(dw, float(db)) for dw, db in grads])


ex08_2 = exercise(
    "8.2",
    2,
    "my_combine(grads, sizes) -> (dw, db): the full gradient from unequal shards' mean gradients",
    cases=[_shards_case([3, 5, 9], 521), _shards_case([1, 6], 522)],
    read=read_pair(d=True),
    reference=mse_reference,
    setting="For shards of sizes {sizes} your gradient is {got}, the full gradient is {want}.",
    mistakes=[
        Gives(
            lambda c: np.append(*(np.mean(part, axis=0) for part in zip(*c.grads))),
            "that is the plain mean of the shards' gradients, which weighs a small shard's "
            "samples more. Weigh each shard's gradient by its size m_k: sum(m_k g_k) / sum(m_k).",
        ),
        Gives(
            lambda c: c.want * c.n,
            "the weighted sum is right; divide it by the total number of samples, {n}.",
        ),
        Gives(
            lambda c: c.want * c.n / c.shards,
            "divide the weighted sum by the total number of samples ({n}), not by the number of "
            "shards ({shards}).",
        ),
    ],
    otherwise="each shard's gradient is a mean over its m_k samples, so m_k g_k is its sum; add "
    "the sums and divide by N = sum(m_k).",
    rtol=1e-4,
    passed="weighting each shard's gradient by its size gives the full gradient, even for unequal "
    "shards.",
)


ex08_3 = exercise(
    "8.3",
    3,
    "my_data_parallel(X, y, lr, num_epochs, world_size) -> (w, b): simulated workers with an "
    "all_reduce mean",
    cases=[
        hidden_case(24, [-1.0, 2.0], 0.5, 531, lr=0.05, num_epochs=10, world_size=4),
        hidden_case(15, [-1.0, 2.0], 0.5, 532, lr=0.1, num_epochs=6, world_size=3),
    ],
    steps=True,
    read=WB,
    reference=partial(from_zero, trainer=train_numpy),  # one process with all the data
    mistakes=[
        Gives(
            lambda c: from_zero(c, train_numpy, lr=c.world_size * c.lr),
            "your steps are {world_size} times too large: all_reduce sums the workers' "
            "gradients; divide by world_size.",
        ),
        Gives(
            lambda c: from_zero(
                c, train_numpy, **dict(zip("Xy", shard(c.X, c.y, 0, c.world_size)))
            ),
            "that is worker 0 alone, on its own shard. Every worker's gradient must enter the "
            "average in every epoch.",
        ),
    ],
    otherwise="per epoch: every worker k computes mse_gradient on shard(X, y, k, world_size) at "
    "the *same* (w, b); average the world_size gradients; one step for all.",
    passed="your simulated workers take the same step as one process with all the data in every "
    "epoch, on two hidden data sets.",
)


# ---- Prediction checkpoints of the lesson


def _shard_gradients() -> list[float]:
    """dJ_k/dw at w = 0 of the toy data's 2 shards, as the 2 workers compute them."""
    X, y = toy_data()
    return [
        float(mse_gradient(*s, forward(s[0], 0.0))[0]) for s in (shard(X, y, r, 2) for r in (0, 1))
    ]


predict08_a = prediction(
    "8a",
    "the mean of the 2 workers' gradients dJ_k/dw at w = 0 (x = 1, 2 and x = 3, 4)",
    lambda: float(np.mean(_shard_gradients())),
    "worker 0 gets -10 and worker 1 gets -50; their mean, -30, is the gradient of all 4 "
    "samples, exactly: the gradient of a mean over equal shards is the mean of their gradients.",
    mistakes=[
        Said(
            lambda: float(np.sum(_shard_gradients())),
            "that is what all_reduce returns, the sum over the workers; divided by K = 2 it is the "
            "mean.",
        ),
        Said(
            lambda: _shard_gradients()[0],
            "that is worker 0's own gradient, from x = 1, 2 only: before all_reduce.",
        ),
        Said(
            lambda: float(np.mean(_shard_gradients())) * len(toy_data()[0]),
            "that is the gradient summed over the 4 samples, lesson 01's classic slip: n times "
            "the mean's.",
        ),
    ],
)


def _scaled_lr(num_workers: int, power: float = 1.0) -> float:
    """The one-worker lr 0.01 scaled for ``num_workers`` workers (the linear rule: power 1)."""
    return 0.01 * num_workers**power


predict08_b = prediction(
    "8b",
    "the lr for 4 workers with batches of 8 each, by the linear scaling rule (1 worker: 0.01)",
    lambda: _scaled_lr(4),
    "4 workers make the global batch 4 times larger, so an epoch has 4 times fewer steps; 4 times "
    "the lr makes each step go as far as the 4 small ones it replaces: 4 · 0.01 = 0.04, while it "
    "stays below 2/L.",
    mistakes=[
        Said(
            lambda: _scaled_lr(4, power=0.0),
            "at the same lr the 4 workers take a quarter of the steps per epoch, each no longer: "
            "they fall behind. The rule multiplies the lr by K.",
        ),
        Said(
            lambda: _scaled_lr(4, power=0.5),
            "√K scaling (0.02) is another rule, for adaptive optimizers; the linear rule for SGD "
            "multiplies by K.",
        ),
        Said(
            lambda: _scaled_lr(4, power=-1.0),
            "a larger batch is less noisy, so it takes a larger lr, not a smaller one.",
        ),
    ],
)
