"""Numbers in: the classic toy problem and synthetic linear data from an explicit seed."""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons._validate import as_array, as_scalar, check_int

__all__ = ["make_linear_data", "toy_data"]


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
    n, seed = check_int("n", n), check_int("seed", seed, minimum=0)
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
