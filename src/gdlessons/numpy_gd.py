"""The math of linear regression with mean squared error, in NumPy.

The model is :math:`\\hat y = X w + b` and the loss is
:math:`L(w, b) = \\frac{1}{n}\\sum_i (\\hat y_i - y_i)^2`. Its exact gradient is

.. math::
    \\frac{\\partial L}{\\partial w} = \\frac{2}{n} X^\\top (\\hat y - y), \\qquad
    \\frac{\\partial L}{\\partial b} = \\frac{2}{n} \\sum_i (\\hat y_i - y_i).

Each public function checks its inputs once (``_validate``) and then calls a private kernel
(``_forward``, ``_mse_loss``, ``_mse_gradient``). The trainers call the kernels directly, so a
training step pays for no checks; the kernels are plain array expressions that work unchanged on
NumPy arrays and on torch tensors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons._validate import as_array, as_tensor, check_same_length, check_weights, is_tensor

__all__ = ["forward", "lipschitz_constant", "mse_gradient", "mse_loss"]


def _forward(X: Any, w: Any, b: Any = 0.0) -> Any:
    return X * w + b if X.ndim == 1 else X @ w + b


def _mse_loss(y_hat: Any, y: Any) -> Any:
    return ((y_hat - y) ** 2).mean()


def _mse_gradient(X: Any, y: Any, y_hat: Any) -> tuple[Any, Any]:
    r = y_hat - y
    scale = 2.0 / r.shape[0]
    return scale * (r @ X), scale * r.sum()  # r @ X is Xᵀr for (n,) and (n, d) X alike


# Samples per block in ``_loss_and_gradient``: a block of X and y and the scratch rows (float32:
# 4 x 256 KiB) stay in a core's L2 cache, so main memory sees X and y once per step, and the Python
# cost of a block (a few NumPy calls) is small next to its arithmetic.
_BLOCK = 1 << 16
_BLOCKED_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _scratch(X: np.ndarray) -> np.ndarray:
    """Working memory for ``_loss_and_gradient`` (a residual row and a row of ones), made once per run."""
    scratch = np.empty((2, min(X.shape[0], _BLOCK)), dtype=X.dtype)
    scratch[1] = 1.0
    return scratch


def _loss_and_gradient(
    X: np.ndarray, y: np.ndarray, w: Any, b: Any, scratch: np.ndarray
) -> tuple[Any, Any, Any]:
    """``(loss, dw, db)`` at ``(w, b)`` in one pass over checked arrays; ``b=None``: no bias.

    The same numbers as ``_mse_loss(_forward(X, w, b), y)`` and ``_mse_gradient`` (up to rounding),
    computed block by block in ``scratch``: no step allocates an n-sized temporary or reads X and y
    from memory twice, and every sum is a BLAS dot product (``r·r``, ``r·X``, ``r·1``), the fastest
    reduction NumPy has. The partial sums of blocks are added in float64; the results have X's dtype.

    >>> X = np.linspace(-1, 1, 3 * _BLOCK + 5, dtype=np.float32); y = 2 * X + 1
    >>> loss, dw, db = _loss_and_gradient(X, y, np.float32(0.5), np.float32(0.0), _scratch(X))
    >>> y_hat = forward(X, 0.5, 0.0)
    >>> np.allclose([loss, dw, db], [mse_loss(y_hat, y), *mse_gradient(X, y, y_hat)], rtol=1e-5)
    True
    """
    if X.dtype not in _BLOCKED_DTYPES:  # e.g. float16, which BLAS does not do
        y_hat = _forward(X, w, 0.0 if b is None else b)
        return (_mse_loss(y_hat, y), *_mse_gradient(X, y, y_hat))
    n, one_feature, dtype = X.shape[0], X.ndim == 1, X.dtype.type
    sq_sum, r_sum = 0.0, 0.0
    rX_sum: Any = 0.0 if one_feature else np.zeros(X.shape[1])
    for start in range(0, n, _BLOCK):
        Xb, yb = X[start : start + _BLOCK], y[start : start + _BLOCK]
        r, ones = scratch[0, : yb.shape[0]], scratch[1, : yb.shape[0]]
        if one_feature:
            np.multiply(Xb, w, out=r)
        else:
            np.matmul(Xb, w, out=r)
        if b is not None:
            np.add(r, b, out=r)
        np.subtract(r, yb, out=r)  # r = y_hat - y
        sq_sum += float(np.dot(r, r))
        if one_feature:
            rX_sum += float(np.dot(r, Xb))  # Xᵀr
        else:
            rX_sum += r @ Xb
        if b is not None:
            r_sum += float(np.dot(r, ones))
    scale = 2.0 / n
    rX = dtype(rX_sum) if one_feature else rX_sum.astype(X.dtype)
    return dtype(sq_sum) / n, scale * rX, scale * dtype(r_sum)


def forward(X: Any, w: Any, b: Any = 0.0) -> Any:
    """Predictions ``y_hat = X w + b`` of a linear model.

    ``X`` has shape (n,) with a scalar ``w``, or (n, d) with ``w`` of shape (d,). A single
    number ``X`` gives a single float prediction. All state comes in as arguments.
    If any argument is a torch tensor the result is a tensor and autograd can follow it (the same
    function serves the NumPy and the autograd lessons); arrays and numbers are converted.

    >>> forward(np.array([1.0, 2.0, 3.0]), 2.0)
    array([2., 4., 6.])
    >>> forward(5.0, 2.0, b=1.0)
    11.0
    """
    if is_tensor(X) or is_tensor(w) or is_tensor(b):
        return _forward_torch(X, w, b)
    X = as_array("X", X, ndims=(0, 1, 2))
    if X.ndim == 0:
        return float(forward(X.reshape(1), w, b)[0])
    return _forward(X, check_weights(X, w), _bias(b))


def _forward_torch(X: Any, w: Any, b: Any) -> Any:
    like = next(v for v in (w, X, b) if is_tensor(v))
    X, w, b = as_tensor("X", X, like), as_tensor("w", w, like), as_tensor("b", b, like)
    want = () if X.ndim < 2 else (X.shape[1],)
    if tuple(w.shape) != want or b.ndim != 0:
        raise ValueError(
            f"for X of shape {tuple(X.shape)}, w must have shape {want} and b shape (), "
            f"got {tuple(w.shape)} and {tuple(b.shape)}."
        )
    return _forward(X, w, b)


def _bias(b: Any) -> float:
    return check_weights(np.empty(1), b, name="b")


def mse_loss(y_hat: Any, y: Any) -> Any:
    """Mean squared error ``mean((y_hat - y)**2)``: a float (a 0-d tensor for tensors).

    ``y_hat`` and ``y`` must have the same shape: a (4,) against a (4, 1) would broadcast to a
    (4, 4) table of every prediction against every target, a silent wrong number.

    >>> mse_loss(np.array([2.0, 4.0]), np.array([2.0, 6.0]))
    2.0

    With a torch tensor among the arguments it returns a 0-d tensor, so ``loss.backward()`` works.
    """
    if is_tensor(y_hat) or is_tensor(y):
        like = y_hat if is_tensor(y_hat) else y
        y_hat, y = as_tensor("y_hat", y_hat, like), as_tensor("y", y, like)
    else:
        y_hat, y = as_array("y_hat", y_hat), as_array("y", y)
    if y_hat.shape != y.shape:
        raise ValueError(
            f"y_hat has shape {tuple(y_hat.shape)} but y has shape {tuple(y.shape)}; they must match "
            "(broadcasting would compare every prediction with every target). "
            "Reshape one of them, e.g. y_hat.reshape(-1)."
        )
    loss = _mse_loss(y_hat, y)
    return loss if is_tensor(loss) else float(loss)


def mse_gradient(X: Any, y: Any, y_hat: Any) -> tuple[float | np.ndarray, float]:
    """Exact gradient ``(dw, db)`` of the mean squared error at the predictions ``y_hat``.

    ``dw = 2/n * X.T @ (y_hat - y)`` (a float for 1-D ``X``, shape (d,) for (n, d) ``X``) and
    ``db = 2/n * sum(y_hat - y)``. For 1-D ``X`` this is ``mean(2 * X * (y_hat - y))``; note that
    ``np.dot`` already sums, so the classic ``np.dot(2*X, y_hat - y).mean()`` is n times too large.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0]); y = 2 * X
    >>> mse_gradient(X, y, forward(X, 0.0))
    (-30.0, -10.0)
    """
    X, y, y_hat = as_array("X", X), as_array("y", y), as_array("y_hat", y_hat)
    check_same_length(X, y)
    check_same_length(X, y_hat, y_name="y_hat")
    dw, db = _mse_gradient(X, y, y_hat)
    return (float(dw) if X.ndim == 1 else dw), float(db)


def lipschitz_constant(X: Any, bias: bool = False) -> float:
    """L, the largest curvature of the MSE loss: plain gradient descent converges iff 0 < lr < 2/L.

    The loss is quadratic with Hessian ``H = 2/n * A.T @ A``, where ``A`` is ``X`` as a column
    matrix (with a column of ones appended when the model has a bias); L is H's largest
    eigenvalue. For 1-D ``X`` without bias, ``L = 2 * mean(X**2)``.

    >>> lipschitz_constant(np.array([1.0, 2.0, 3.0, 4.0]))
    15.0
    """
    X = as_array("X", X).astype(np.float64)
    A = X.reshape(X.shape[0], -1)
    if bias:
        A = np.column_stack([A, np.ones(A.shape[0])])
    return float(np.linalg.eigvalsh(2.0 / A.shape[0] * (A.T @ A))[-1])
