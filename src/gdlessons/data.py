"""Numbers in: the classic toy problem, synthetic linear data from an explicit seed, shards, and
standardized inputs."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons._validate import as_array, as_scalar, require_int, require_same_length

__all__ = ["make_linear_data", "make_wave_data", "shard", "standardize", "toy_data"]


def toy_data() -> tuple[np.ndarray, np.ndarray]:
    """The classic problem: ``X = [1, 2, 3, 4]``, ``y = 2 X``, as float32 arrays.

    A fresh pair each call, so a student who edits one cannot change another lesson's data.

    >>> X, y = toy_data()
    >>> X, y
    (array([1., 2., 3., 4.], dtype=float32), array([2., 4., 6., 8.], dtype=float32))
    """
    X = np.array([1, 2, 3, 4], dtype=np.float32)
    return X, 2 * X


def make_linear_data(
    n: int, w: Any, b: float = 0.0, noise: float = 0.0, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``y = X w + b + noise * N(0, 1)`` with ``X ~ N(0, 1)``, as float32.

    A number ``w`` gives ``X`` of shape (n,); a list or array of d weights gives (n, d).
    All randomness comes from ``numpy.random.default_rng(seed)``: same seed, same data, and
    nothing global is seeded.

    >>> X, y = make_linear_data(1000, w=[2.0, -3.4], b=4.2, noise=0.01, seed=0)
    >>> X.shape, y.shape, X.dtype
    ((1000, 2), (1000,), dtype('float32'))
    """
    n, seed = require_int("n", n), require_int("seed", seed, minimum=0)
    noise = as_scalar("noise", noise)
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise}.")
    rng = np.random.default_rng(seed)
    w_arr = as_array("w", w, ndims=(0, 1)).astype(np.float64)
    shape = (n,) if w_arr.ndim == 0 else (n, w_arr.shape[0])
    X = rng.standard_normal(shape)
    y = (X * w_arr if w_arr.ndim == 0 else X @ w_arr) + as_scalar("b", b)
    y = y + noise * rng.standard_normal(n)
    return X.astype(np.float32), y.astype(np.float32)


def make_wave_data(n: int, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``y = sin(x) + noise * N(0, 1)`` at ``x`` evenly spaced on [-3, 3], float64.

    Lesson 07's problem: a wave that no line fits. The noise comes from
    ``numpy.random.default_rng(seed)``: same seed, same data, nothing global seeded.

    >>> X, y = make_wave_data(20, noise=0.1, seed=0)
    >>> X.shape, y.shape, str(X.dtype), float(X[0]), float(X[-1])
    ((20,), (20,), 'float64', -3.0, 3.0)
    """
    n, seed = require_int("n", n), require_int("seed", seed, minimum=0)
    noise = as_scalar("noise", noise)
    if noise < 0:
        raise ValueError(f"noise is a standard deviation and must be >= 0, got {noise}.")
    X = np.linspace(-3.0, 3.0, n)
    return X, np.sin(X) + noise * np.random.default_rng(seed).standard_normal(n)


def shard(X: Any, y: Any, rank: int, world_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Worker ``rank``'s equal share of the data: rows ``rank*m : (rank+1)*m``, ``m = n/world_size``.

    Shards must be equal: only then is the mean of the shards' mean gradients the mean gradient of
    all the data. ``n`` must therefore be a multiple of ``world_size``.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0])
    >>> shard(X, 2 * X, rank=1, world_size=2)
    (array([3., 4.]), array([6., 8.]))
    """
    X, y = as_array("X", X), as_array("y", y)
    require_same_length(X, y)
    world_size = require_world_size(world_size, n=len(X))
    rank = require_int("rank", rank, minimum=0, maximum=world_size - 1)
    m = len(X) // world_size
    return X[rank * m : (rank + 1) * m], y[rank * m : (rank + 1) * m]


def require_world_size(world_size: Any, n: int) -> int:
    """``world_size`` as an int that divides ``n``: equal shards."""
    world_size = require_int("world_size", world_size)
    if n % world_size:
        raise ValueError(
            f"the {n} samples cannot be split into {world_size} equal shards: the mean of "
            f"unequal shards' gradients is not the full gradient. Use a world_size that divides "
            f"{n}, or drop {n % world_size} sample(s)."
        )
    return world_size


def standardize(X: Any, X_train: Any = None) -> np.ndarray:
    """``X`` minus the training inputs' mean, divided by their standard deviation, in float64.

    The statistics are those of ``X_train``, per feature (default: ``X`` itself, when ``X`` is the
    training set). New inputs are transformed with the training set's numbers, never their own.

    >>> X_train = np.array([1.0, 2.0, 3.0, 4.0])
    >>> standardize(X_train).round(3).tolist()
    [-1.342, -0.447, 0.447, 1.342]
    >>> standardize(np.array([5.0]), X_train=X_train).round(3).tolist()
    [2.236]
    """
    X = as_array("X", X, ndims=(1, 2)).astype(np.float64)
    X_train = (
        X if X_train is None else as_array("X_train", X_train, ndims=(1, 2)).astype(np.float64)
    )
    if X.shape[1:] != X_train.shape[1:]:
        raise ValueError(
            f"X has shape {X.shape} but X_train has shape {X_train.shape}: they must have the "
            "same features (columns)."
        )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    if np.any(std == 0):
        raise ValueError(
            "a feature of X_train is constant (standard deviation 0), so it cannot be "
            "standardized: drop it, or use more than one distinct training input."
        )
    return (X - mean) / std
