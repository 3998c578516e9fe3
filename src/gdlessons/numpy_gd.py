"""The math of linear regression with the mean squared error, in NumPy.

The model is :math:`\\hat y = X w + b` and the loss is
:math:`J(w, b) = \\frac{1}{n}\\sum_i (\\hat y_i - y_i)^2`. Its exact gradient is

.. math::
    \\frac{\\partial J}{\\partial w} = \\frac{2}{n} X^\\top (\\hat y - y), \\qquad
    \\frac{\\partial J}{\\partial b} = \\frac{2}{n} \\sum_i (\\hat y_i - y_i).

Each function is the formula and nothing else: ``inspect.getsource`` shows what a lesson derives.
``gdlessons.forward``, ``gdlessons.mse_loss`` and ``gdlessons.mse_gradient`` are these functions
with their arguments checked first (one clear message for a student's mistake); the package's own
trainers check their data once, where it enters, and then call the formulas here. ``forward`` and
``mse_loss`` also take torch tensors and then compute with torch operations, so the autograd
lessons can call the very same functions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gdlessons._validate import as_array

__all__ = ["forward", "lipschitz_constant", "mse_gradient", "mse_loss"]


def forward(X: Any, w: Any, b: Any = None) -> Any:
    """Predictions ``y_hat = X w + b`` of a linear model (``y_hat = X w`` without ``b``).

    ``X`` is (n,) with a single weight ``w``, or (n, d) with ``w`` of shape (d,); a single number
    ``X`` gives a single prediction. With a torch tensor among the arguments the result is a
    tensor that autograd can follow.

    >>> forward(np.array([1.0, 2.0, 3.0]), 2.0)
    array([2., 4., 6.])
    >>> float(forward(5.0, 2.0, b=1.0))
    11.0
    """
    y_hat = X * w if np.ndim(X) < 2 else X @ w  # (n, d) X: one weight per feature
    return y_hat if b is None else y_hat + b


def mse_loss(y_hat: Any, y: Any) -> Any:
    """Mean squared error ``mean((y_hat - y) ** 2)``: a number (a 0-d tensor for tensors).

    ``y_hat`` and ``y`` must have the same shape: a (4,) against a (4, 1) would broadcast to a
    (4, 4) table of every prediction against every target, a silent wrong number.

    >>> float(mse_loss(np.array([2.0, 4.0]), np.array([2.0, 6.0])))
    2.0
    """
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
