"""The one place that checks inputs and words the errors.

Every public helper calls these once, up front, so that a student's mistake (a list where an array
was expected, mismatched shapes, a NaN, a negative learning rate) ends in one clear sentence that
names the argument and says what to do, instead of a silent wrong number or a deep NumPy traceback.
The hot loops in ``numpy_gd`` and ``train`` run on already-checked arrays and never call back here.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "as_array",
    "as_scalar",
    "as_tensor",
    "check_lr",
    "check_num_epochs",
    "check_same_length",
    "check_weights",
    "is_tensor",
]


def is_tensor(value: Any) -> bool:
    """True for a ``torch.Tensor``, checked without importing torch."""
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def _to_numpy(name: str, value: Any) -> np.ndarray:
    if is_tensor(value):
        if value.requires_grad:
            raise TypeError(
                f"{name} is a torch tensor that requires grad; these NumPy helpers cannot "
                f"follow the autograd graph. Pass {name}.detach().numpy() (or do the math "
                "with torch operations)."
            )
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as err:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers; could not convert it ({err}).") from None


def as_array(name: str, value: Any, ndims: tuple[int, ...] = (1, 2)) -> np.ndarray:
    """Return ``value`` as a finite, non-empty float NumPy array with an allowed ``ndim``.

    Documented conversions: lists, tuples and torch tensors (without grad) become NumPy arrays;
    integer arrays become float64. Everything else that is not a real number raises.

    >>> as_array("X", [1, 2, 3])
    array([1., 2., 3.])
    """
    arr = _to_numpy(name, value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{name} must hold real numbers (int or float), got dtype {arr.dtype}. "
            f"Convert it first, e.g. np.asarray({name}, dtype=np.float32)."
        )
    if arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    if arr.ndim not in ndims:
        dims = [f"{d}-D" for d in ndims]
        want = " or ".join([", ".join(dims[:-1]), dims[-1]] if len(dims) > 1 else dims)
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one sample.")
    if not _all_finite(arr):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); remove or replace them "
            "before training (one NaN makes every loss and gradient NaN)."
        )
    return arr


def _all_finite(arr: np.ndarray) -> bool:
    """No NaN or inf in ``arr``, checked in one pass without a temporary for large float arrays.

    A finite sum of squares proves that every entry is finite (one NaN or inf makes it NaN or inf),
    and BLAS computes it at the speed of reading the array; only when it is not finite (a bad entry,
    or squares too large for the dtype) does the exact, slower ``np.isfinite`` decide.
    """
    if arr.size >= 4096 and arr.dtype in _BLAS_DTYPES and arr.flags.c_contiguous:
        flat = arr.reshape(-1)
        with np.errstate(over="ignore", invalid="ignore"):  # an overflow only sends us to the exact check
            if math.isfinite(np.dot(flat, flat)):
                return True
    return bool(np.isfinite(arr).all())


_BLAS_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_scalar(name: str, value: Any) -> float:
    """Return ``value`` as a finite Python float, or raise naming ``name``.

    >>> as_scalar("lr", 0.01)
    0.01
    """
    if isinstance(value, (list, tuple)):
        value = _to_numpy(name, value)
    if is_tensor(value) or isinstance(value, np.ndarray):
        if np.size(value) != 1:
            raise ValueError(f"{name} must be a single number, got shape {tuple(value.shape)}.")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}.")
    return value


def check_lr(lr: Any) -> float:
    """The learning rate as a float; it must be finite and positive.

    >>> check_lr(0.01)
    0.01
    """
    lr = as_scalar("lr", lr)
    if lr <= 0:
        raise ValueError(f"lr must be positive (a step size), got {lr}. Try lr=0.01.")
    return lr


def check_num_epochs(num_epochs: Any) -> int:
    """The number of epochs as an int >= 1.

    >>> check_num_epochs(10)
    10
    """
    if isinstance(num_epochs, bool) or not isinstance(num_epochs, numbers.Integral):
        raise TypeError(f"num_epochs must be an int, got {type(num_epochs).__name__}.")
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be at least 1, got {num_epochs}.")
    return int(num_epochs)


def check_same_length(X: np.ndarray, y: np.ndarray, x_name: str = "X", y_name: str = "y") -> None:
    """Raise unless ``y`` is 1-D with one target per row of ``X``."""
    if y.ndim != 1:
        raise ValueError(
            f"{y_name} must be 1-D with shape (n,), got shape {y.shape}. "
            f"Use {y_name}.reshape(-1) to flatten a column of targets."
        )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{x_name} has {X.shape[0]} samples but {y_name} has {y.shape[0]}; "
            "they need one target per sample."
        )


def check_weights(X: np.ndarray, w: Any, name: str = "w") -> float | np.ndarray:
    """``w`` shaped for ``X``: a float for 1-D ``X``, a (d,) array for (n, d) ``X``.

    A scalar ``w`` is accepted for (n, 1) ``X`` and for any ``d`` it is broadcast (documented).
    """
    if X.ndim == 1:
        return as_scalar(name, w)
    d = X.shape[1]
    arr = as_array(name, w, ndims=(0, 1)) if np.ndim(w) else np.full(d, as_scalar(name, w))
    if arr.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},) to match X of shape {X.shape}, got {arr.shape}.")
    return arr.astype(X.dtype, copy=False)


def as_tensor(name: str, value: Any, like: Any = None) -> Any:
    """``value`` as a floating torch tensor (dtype of ``like`` when numbers are converted).

    Tensors are returned as they are (their autograd graph is kept); NumPy arrays, lists and
    numbers are converted (documented), then checked like ``as_array`` checks arrays.
    """
    import torch

    if not is_tensor(value):
        dtype = like.dtype if is_tensor(like) and like.is_floating_point() else None
        arr = as_array(name, value, ndims=(0, 1, 2))
        return torch.as_tensor(arr, dtype=dtype)
    if not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {value.dtype}; use {name}.float().")
    if value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}); it needs at least one sample.")
    if not bool(torch.isfinite(value.detach()).all()):
        raise ValueError(f"{name} contains NaN or infinite values; remove or replace them first.")
    return value
