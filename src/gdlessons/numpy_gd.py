"""The math of linear regression with the mean squared error, in NumPy.

The model is :math:`\\hat y = X w + b` and the loss is
:math:`J(w, b) = \\frac{1}{n}\\sum_i (\\hat y_i - y_i)^2`. Its exact gradient is

.. math::
    \\frac{\\partial J}{\\partial w} = \\frac{2}{n} X^\\top (\\hat y - y), \\qquad
    \\frac{\\partial J}{\\partial b} = \\frac{2}{n} \\sum_i (\\hat y_i - y_i).

Each function checks its inputs in one line (``_validate`` words the errors), then computes the
formula. ``forward`` and ``mse_loss`` also take torch tensors and then compute with torch
operations, so the autograd lessons can call the very same functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons._validate import as_array, check_gradient_args, check_model_args, check_same_shape

__all__ = ["forward", "lipschitz_constant", "mse_gradient", "mse_loss"]


def forward(X: Any, w: Any, b: Any = 0.0) -> Any:
    """Predictions ``y_hat = X w + b`` of a linear model.

    ``X`` is (n,) with a single weight ``w``, or (n, d) with ``w`` of shape (d,); a single number
    ``X`` gives a single prediction. With a torch tensor among the arguments the result is a
    tensor that autograd can follow.

    >>> forward(np.array([1.0, 2.0, 3.0]), 2.0)
    array([2., 4., 6.])
    >>> float(forward(5.0, 2.0, b=1.0))
    11.0
    """
    X, w, b = check_model_args(X, w, b)
    return X * w + b if X.ndim < 2 else X @ w + b  # (n, d) X: one weight per feature


def mse_loss(y_hat: Any, y: Any) -> Any:
    """Mean squared error ``mean((y_hat - y) ** 2)``: a number (a 0-d tensor for tensors).

    ``y_hat`` and ``y`` must have the same shape: a (4,) against a (4, 1) would broadcast to a
    (4, 4) table of every prediction against every target, a silent wrong number.

    >>> float(mse_loss(np.array([2.0, 4.0]), np.array([2.0, 6.0])))
    2.0
    """
    y_hat, y = check_same_shape(y_hat, y)
    return ((y_hat - y) ** 2).mean()


def mse_gradient(X: Any, y: Any, y_hat: Any) -> tuple[Any, Any]:
    """Exact gradient ``(dw, db)`` of the mean squared error at the predictions ``y_hat``.

    ``dw = 2/n * X.T @ (y_hat - y)`` (one number for 1-D ``X``, shape (d,) for (n, d) ``X``) and
    ``db = 2/n * sum(y_hat - y)``. For 1-D ``X``, ``X.T @ r`` is the dot product, a *sum*: the
    classic ``np.dot(2*X, y_hat - y).mean()`` forgets the ``1/n`` and is n times too large.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0]); y = 2 * X
    >>> dw, db = mse_gradient(X, y, forward(X, 0.0))
    >>> float(dw), float(db)
    (-30.0, -10.0)
    """
    X, y, y_hat = check_gradient_args(X, y, y_hat)
    r = y_hat - y  # the residuals
    n = len(y)
    return 2 / n * (X.T @ r), 2 / n * r.sum()


def lipschitz_constant(X: Any, bias: bool = False) -> float:
    """L, the largest curvature of the MSE loss: plain gradient descent converges iff 0 < lr < 2/L.

    The loss is quadratic with Hessian ``H = 2/n * A.T @ A``, where ``A`` is ``X`` as a column
    matrix (with a column of ones appended when the model has a bias); L is H's largest
    eigenvalue. For 1-D ``X`` without bias, ``L = 2 * mean(X**2)``.

    >>> lipschitz_constant(np.array([1.0, 2.0, 3.0, 4.0]))
    15.0
    """
    X = as_array("X", X).astype(np.float64)
    A = X.reshape(len(X), -1)
    if bias:
        A = np.column_stack([A, np.ones(len(A))])
    return float(np.linalg.eigvalsh(2 / len(A) * (A.T @ A))[-1])
