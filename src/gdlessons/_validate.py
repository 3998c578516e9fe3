"""The one place that checks inputs and words the errors.

Every public helper calls one of these first, so that a student's mistake (a list where an array
was expected, mismatched shapes, a NaN, a negative learning rate) ends in one clear sentence that
names the argument and says what to do, instead of a silent wrong number or a deep traceback.
After that line, a helper's body is only the math.
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
    "check_gradient_args",
    "check_int",
    "check_lr",
    "check_model_args",
    "check_num_epochs",
    "check_positive",
    "check_same_length",
    "check_same_shape",
    "check_training_args",
    "check_weights",
    "is_tensor",
]


def is_tensor(value: Any) -> bool:
    """True for a ``torch.Tensor``, checked without importing torch.

    >>> is_tensor([1.0])
    False
    """
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
        raise TypeError(
            f"{name} must be an array of numbers; could not convert it ({err})."
        ) from None


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
        want = dims[0] if len(dims) == 1 else ", ".join(dims[:-1]) + " or " + dims[-1]
        raise ValueError(f"{name} must be {want}, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"{name} is empty (shape {arr.shape}); it needs at least one sample.")
    if not np.isfinite(arr).all():
        bad = int(arr.size - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite value(s); remove or replace them "
            "before training (one NaN makes every loss and gradient NaN)."
        )
    return arr


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


def check_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int from ``minimum`` to ``maximum``; a bool or float is refused.

    >>> check_int("num_features", 2)
    2
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < minimum or (maximum is not None and value > maximum):
        most = "" if maximum is None else f" and at most {maximum}"
        raise ValueError(f"{name} must be at least {minimum}{most}, got {value}.")
    return int(value)


def check_positive(name: str, value: Any) -> float:
    """``value`` as a float > 0 (a step size, a time limit).

    >>> check_positive("timeout", 60)
    60.0
    """
    value = as_scalar(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be positive, got {value}.")
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
    return check_int("num_epochs", num_epochs)


def check_same_length(X: Any, y: Any, x_name: str = "X", y_name: str = "y") -> None:
    """Raise unless ``y`` is 1-D with one target per row of ``X``."""
    if y.ndim != 1:
        raise ValueError(
            f"{y_name} must be 1-D with shape (n,), got shape {tuple(y.shape)}. "
            f"Use {y_name}.reshape(-1) to flatten a column of targets."
        )
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"{x_name} has {X.shape[0]} samples but {y_name} has {y.shape[0]}; "
            "they need one target per sample."
        )


def check_weights(X: np.ndarray, w: Any, name: str = "w") -> Any:
    """``w`` shaped for ``X``: a float for 0-D or 1-D ``X``, a (d,) array for (n, d) ``X``.

    A single number ``w`` is broadcast to every feature of (n, d) ``X`` (documented).
    """
    if X.ndim < 2:
        return as_scalar(name, w)
    d = X.shape[1]
    arr = as_array(name, w, ndims=(0, 1)) if np.ndim(w) else np.full(d, as_scalar(name, w))
    if arr.shape != (d,):
        raise ValueError(
            f"{name} must have shape ({d},) to match X of shape {X.shape}, got {arr.shape}."
        )
    return arr.astype(X.dtype, copy=False)


def as_tensor(name: str, value: Any, like: Any = None) -> Any:
    """``value`` as a floating torch tensor (dtype of ``like`` when numbers are converted).

    Tensors are returned as they are (their autograd graph is kept); NumPy arrays, lists and
    numbers are converted (documented), then checked like ``as_array`` checks arrays.
    """
    import torch

    if not is_tensor(value):
        dtype = like.dtype if is_tensor(like) and like.is_floating_point() else None
        return torch.as_tensor(as_array(name, value, ndims=(0, 1, 2)), dtype=dtype)
    if not value.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor, got {value.dtype}; use {name}.float()."
        )
    if value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}); it needs a sample.")
    if not bool(torch.isfinite(value.detach()).all()):
        raise ValueError(f"{name} contains NaN or infinite values; remove or replace them first.")
    return value


def check_model_args(X: Any, w: Any, b: Any) -> tuple[Any, Any, Any]:
    """``forward``'s arguments as arrays (or tensors, if any is one) of shapes that fit.

    ``X`` is a number, (n,) with a single ``w``, or (n, d) with ``w`` of shape (d,); ``b`` is a
    single number.
    """
    if not any(is_tensor(v) for v in (X, w, b)):
        X = as_array("X", X, ndims=(0, 1, 2))
        return X, check_weights(X, w), as_scalar("b", b)
    like = next(v for v in (w, X, b) if is_tensor(v))
    X, w, b = (as_tensor(name, v, like) for name, v in (("X", X), ("w", w), ("b", b)))
    want = () if X.ndim < 2 else (X.shape[1],)
    if tuple(w.shape) != want or b.ndim != 0:
        raise ValueError(
            f"for X of shape {tuple(X.shape)}, w must have shape {want} and b shape (), "
            f"got {tuple(w.shape)} and {tuple(b.shape)}."
        )
    return X, w, b


def check_same_shape(y_hat: Any, y: Any) -> tuple[Any, Any]:
    """``y_hat`` and ``y`` as arrays (or tensors, if either is one) of the same shape.

    A (4,) against a (4, 1) would broadcast to a (4, 4) table of every prediction against every
    target: a silent wrong number, so it is refused.
    """
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


def check_gradient_args(X: Any, y: Any, y_hat: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``mse_gradient``'s arguments as arrays: (n,) or (n, d) ``X``, one ``y`` and ``y_hat``
    per sample."""
    X, y, y_hat = as_array("X", X), as_array("y", y), as_array("y_hat", y_hat)
    check_same_length(X, y)
    check_same_length(X, y_hat, y_name="y_hat")
    return X, y, y_hat


def check_training_args(
    X: Any, y: Any, lr: Any, num_epochs: Any, w0: Any, b0: Any
) -> tuple[np.ndarray, np.ndarray, Any, Any, float, int]:
    """A trainer's arguments, checked once: ``X, y, w0, b0, lr, num_epochs``.

    ``w0`` and ``b0`` come back in ``X``'s dtype (``b0=None``: a model without bias), ``y`` too.
    """
    X, y = as_array("X", X), as_array("y", y, ndims=(1, 2))
    check_same_length(X, y)
    y = y.astype(X.dtype, copy=False)
    w = check_weights(X, w0, name="w0")
    w = X.dtype.type(w) if X.ndim == 1 else w
    b = None if b0 is None else X.dtype.type(as_scalar("b0", b0))
    return X, y, w, b, check_lr(lr), check_num_epochs(num_epochs)
