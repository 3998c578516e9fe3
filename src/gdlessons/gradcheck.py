"""Proof that the math is right: compare an analytic gradient with central differences.

A gradient check is how you find the classic bug where ``np.dot(...).mean()`` is n times too
large: the analytic and the numerical gradient must agree to many digits (in float64).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gdlessons._validate import as_array, as_scalar

__all__ = ["numerical_gradient", "rel_error"]


def numerical_gradient(f: Callable[[Any], float], w: Any, h: float = 1e-5) -> float | np.ndarray:
    """Central-difference estimate of the gradient of the scalar function ``f`` at ``w``.

    ``(f(w + h) - f(w - h)) / (2h)`` for each entry of ``w``; its error shrinks like ``h**2``.
    ``w`` may be a number (returns a float) or an array (returns an array of its shape). The
    computation runs in float64; ``f`` is called with a float or a float64 array.

    >>> round(numerical_gradient(lambda w: w ** 2, 3.0), 6)
    6.0
    """
    if not callable(f):
        raise TypeError(f"f must be a function of w returning a number, got {type(f).__name__}.")
    h = as_scalar("h", h)
    if h <= 0:
        raise ValueError(f"h must be a small positive step such as 1e-5, got {h}.")
    if np.ndim(w) == 0:
        w = as_scalar("w", w)
        return (float(f(w + h)) - float(f(w - h))) / (2 * h)
    w = as_array("w", w, ndims=(1, 2)).astype(np.float64)  # a copy we may nudge
    grad = np.empty_like(w)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + h
        f_plus = float(f(w))
        w[i] = old - h
        f_minus = float(f(w))
        w[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def rel_error(a: Any, b: Any) -> float:
    """CS231n's relative error ``max(|a - b| / max(1e-8, |a| + |b|))``.

    Below about 1e-7 two gradients agree (in float64); above 1e-2 one of them is wrong.

    >>> rel_error(1.0, 1.0 + 1e-9) < 1e-8
    True
    >>> round(rel_error(4.0, 1.0), 3)
    0.6
    """
    a = as_array("a", a, ndims=(0, 1, 2)).astype(np.float64)
    b = as_array("b", b, ndims=(0, 1, 2)).astype(np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"a has shape {a.shape} but b has shape {b.shape}; compare like with like."
        )
    return float(np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))))
