"""The one place that validates inputs and words the errors.

Every public helper calls one of these first, so that a student's mistake (a list where an array
was expected, mismatched shapes, a NaN, a negative learning rate) ends in one clear sentence that
names the argument and says what to do, instead of a silent wrong number or a deep traceback.
Documented conversions: lists and torch tensors without grad become arrays, ints become floats.
"""

from __future__ import annotations

import functools
import inspect
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "as_scalar",
    "as_tensor",
    "is_tensor",
    "require_gradient_args",
    "require_int",
    "require_lr",
    "require_model_args",
    "require_positive",
    "require_same_length",
    "require_same_shape",
    "require_training_args",
    "validated",
]


def is_tensor(value: Any) -> bool:
    """True for a ``torch.Tensor``, checked without importing torch."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def as_array(name: str, value: Any, ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """``value`` as a finite, non-empty float NumPy array with an allowed ``ndim``.

    >>> as_array("X", [1, 2, 3])
    array([1., 2., 3.])
    """
    if is_tensor(value) and value.requires_grad:
        raise TypeError(
            f"{name} is a torch tensor that requires grad; these NumPy helpers cannot follow the "
            f"autograd graph. Pass {name}.detach().numpy() (or do the math with torch operations)."
        )
    try:
        arr = np.asarray(value.detach().cpu().numpy() if is_tensor(value) else value)
    except (ValueError, TypeError) as err:  # ragged lists and the like
        raise TypeError(
            f"{name} must be an array of numbers; could not convert it ({err})."
        ) from None
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold real numbers (int or float), got dtype {arr.dtype}. "
            f"Convert it first, e.g. np.asarray({name}, dtype=np.float32)."
        )
    arr = arr.astype(np.float64) if arr.dtype.kind in "iu" else arr
    if arr.ndim not in ndims:
        *rest, last = [f"{d}-D" for d in ndims]
        want = f"{', '.join(rest)} or {last}" if rest else last
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one sample.")
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{name} contains {int(arr.size - np.isfinite(arr).sum())} NaN or infinite value(s); "
            "remove or replace them (one NaN makes every loss and gradient NaN)."
        )
    return arr


def as_scalar(name: str, value: Any) -> float:
    """``value`` as a finite Python float.

    >>> as_scalar("lr", 0.01)
    0.01
    """
    if isinstance(value, (list, tuple, np.ndarray)) or is_tensor(value):
        if np.size(value) != 1:
            raise ValueError(f"{name} must be a single number, got shape {np.shape(value)}.")
        value = value.item() if is_tensor(value) else np.asarray(value).item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    return float(value)


def require_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int from ``minimum`` to ``maximum``; a bool or a float is refused.

    >>> require_int("num_epochs", 10)
    10
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        most = "" if maximum is None else f" and at most {maximum}"
        raise ValueError(f"{name} must be at least {minimum}{most}, got {value}.")
    return int(value)


def require_positive(name: str, value: Any) -> float:
    """``value`` as a float > 0 (a step size, a time limit)."""
    if (value := as_scalar(name, value)) <= 0:
        raise ValueError(f"{name} must be positive, got {value}.")
    return value


def require_lr(lr: Any) -> float:
    """The learning rate: a finite float > 0."""
    if (lr := as_scalar("lr", lr)) <= 0:
        raise ValueError(f"lr must be positive (a step size), got {lr}. Try lr=0.01.")
    return lr


def require_same_length(X: Any, y: Any, y_name: str = "y") -> None:
    """Raise unless ``y`` is 1-D with one target per row of ``X``."""
    if y.ndim != 1:
        raise ValueError(
            f"{y_name} must be 1-D with shape (n,), got shape {tuple(y.shape)}. "
            f"Use {y_name}.reshape(-1) to flatten a column of targets."
        )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"X has {X.shape[0]} samples but {y_name} has {y.shape[0]}; "
            "they need one target per sample."
        )


def _weights(X: np.ndarray, w: Any, name: str) -> Any:
    """``w`` shaped for ``X``: a float for (n,) X, shape (d,) for (n, d) X (a number broadcasts)."""
    if X.ndim < 2:
        return as_scalar(name, w)
    d = X.shape[1]
    arr = as_array(name, w, ndims=(1,)) if np.ndim(w) else np.full(d, as_scalar(name, w))
    if arr.shape != (d,):
        raise ValueError(
            f"{name} must have shape ({d},) to match X of shape {X.shape}, got {arr.shape}."
        )
    return arr.astype(X.dtype, copy=False)


def as_tensor(name: str, value: Any, like: Any = None) -> Any:
    """``value`` as a floating torch tensor; numbers and arrays get ``like``'s dtype."""
    import torch

    if not is_tensor(value):
        dtype = like.dtype if is_tensor(like) and like.is_floating_point() else None
        return torch.as_tensor(as_array(name, value, ndims=(0, 1, 2)), dtype=dtype)
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}; use .float().")
    if value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}); it needs a sample.")
    if not bool(torch.isfinite(value.detach()).all()):
        raise ValueError(f"{name} contains NaN or infinite values; remove or replace them first.")
    return value


def validated(formula: Callable, require: Callable) -> Callable:
    """``formula`` with its arguments passed through ``require`` first (it returns them
    converted, or raises with a clear message). ``inspect.getsource`` of the result shows the
    formula alone, so a lesson that prints a helper prints its math, not this machinery.

    >>> double = validated(lambda x: 2 * x, lambda x: (as_scalar("x", x),))
    >>> double(3)
    6.0
    """

    @functools.wraps(formula)
    def with_valid_args(*args: Any, **kwargs: Any) -> Any:
        bound = inspect.signature(formula).bind(*args, **kwargs)
        bound.apply_defaults()
        return formula(*require(*bound.args))

    return with_valid_args


def require_model_args(X: Any, w: Any, b: Any = None) -> tuple[Any, Any, Any]:
    """``forward``'s arguments as arrays (or tensors, if any is one) of shapes that fit."""
    if not any(is_tensor(v) for v in (X, w, b)):
        X = as_array("X", X, ndims=(0, 1, 2))
        return X, _weights(X, w, "w"), None if b is None else as_scalar("b", b)
    like = next(v for v in (w, X, b) if is_tensor(v))
    X, w = as_tensor("X", X, like), as_tensor("w", w, like)
    b = None if b is None else as_tensor("b", b, like)
    want = () if X.ndim < 2 else (X.shape[1],)
    if tuple(w.shape) != want or (b is not None and b.ndim != 0):
        raise ValueError(
            f"for X of shape {tuple(X.shape)}, w must have shape {want} and b shape (), "
            f"got {tuple(w.shape)} and {tuple(() if b is None else b.shape)}."
        )
    return X, w, b


def require_same_shape(y_hat: Any, y: Any) -> tuple[Any, Any]:
    """Arrays (or tensors) of one shape: a (4,) against a (4, 1) would broadcast to (4, 4)."""
    if is_tensor(y_hat) or is_tensor(y):
        like = y_hat if is_tensor(y_hat) else y
        y_hat, y = as_tensor("y_hat", y_hat, like), as_tensor("y", y, like)
    else:
        y_hat, y = as_array("y_hat", y_hat), as_array("y", y)
    if y_hat.shape != y.shape:
        raise ValueError(
            f"y_hat has shape {tuple(y_hat.shape)} but y has shape {tuple(y.shape)}; they must "
            "match (broadcasting would compare every prediction with every target). "
            "Reshape one of them, e.g. y_hat.reshape(-1)."
        )
    return y_hat, y


def require_gradient_args(X: Any, y: Any, y_hat: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mse_gradient``'s arguments: (n,) or (n, d) ``X``, one ``y`` and ``y_hat`` per sample."""
    X, y, y_hat = as_array("X", X), as_array("y", y), as_array("y_hat", y_hat)
    require_same_length(X, y)
    require_same_length(X, y_hat, y_name="y_hat")
    return X, y, y_hat


def require_training_args(X: Any, y: Any, lr: Any, num_epochs: Any, w0: Any, b0: Any) -> tuple:
    """A trainer's ``X, y, w0, b0, lr, num_epochs``; ``w0``, ``b0`` and ``y`` in X's dtype."""
    X, y = as_array("X", X), as_array("y", y, ndims=(1, 2))
    require_same_length(X, y)
    w = _weights(X, w0, "w0")
    w = X.dtype.type(w) if X.ndim == 1 else w
    b = None if b0 is None else X.dtype.type(as_scalar("b0", b0))
    return (
        X,
        y.astype(X.dtype, copy=False),
        w,
        b,
        require_lr(lr),
        require_int("num_epochs", num_epochs),
    )
