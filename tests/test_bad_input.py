"""Bad input a student produces ends in one clear error that names the argument.

Table-driven: each row is (helper call, expected exception, words the message must contain).
Documented conversions (lists, ints, tensors without grad) are tested to work, not to fail.
"""

import numpy as np
import pytest
import torch

from gdlessons import (
    forward,
    mse_gradient,
    mse_loss,
    numerical_gradient,
    rel_error,
    train_autograd,
    train_nn,
    train_numpy,
)

X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
Y = 2 * X
TRAINERS = [train_numpy, train_autograd, train_nn]

BAD_CALLS = [
    ("forward: empty X", lambda: forward(np.array([]), 1.0), ValueError, "X is empty"),
    ("forward: NaN in X", lambda: forward([1.0, np.nan], 1.0), ValueError, "X contains 1 NaN"),
    (
        "forward: inf in X",
        lambda: forward([1.0, np.inf], 1.0),
        ValueError,
        "X contains 1 NaN or inf",
    ),
    (
        "forward: strings",
        lambda: forward(np.array(["a", "b"]), 1.0),
        TypeError,
        "X must hold real numbers",
    ),
    (
        "forward: object dtype",
        lambda: forward(np.array([1, None]), 1.0),
        TypeError,
        "X must hold real",
    ),
    (
        "forward: bool X",
        lambda: forward(np.array([True, False]), 1.0),
        TypeError,
        "X must hold real",
    ),
    (
        "forward: ragged list",
        lambda: forward([[1.0], [1.0, 2.0]], 1.0),
        TypeError,
        "X must be an array",
    ),
    (
        "forward: 3-D X",
        lambda: forward(np.ones((2, 2, 2)), 1.0),
        ValueError,
        "X must be 0-D, 1-D or 2-D",
    ),
    (
        "forward: w wrong shape",
        lambda: forward(np.ones((4, 2)), [1.0, 2.0, 3.0]),
        ValueError,
        r"w must have shape \(2,\)",
    ),
    (
        "forward: w array for 1-D X",
        lambda: forward(X, np.ones(2)),
        ValueError,
        "w must be a single number",
    ),
    ("forward: w is a string", lambda: forward(X, "2"), TypeError, "w must be a real number"),
    ("forward: w is NaN", lambda: forward(X, float("nan")), ValueError, "w must be finite"),
    (
        "forward: b is a list",
        lambda: forward(X, 1.0, [1.0, 2.0]),
        ValueError,
        "b must be a single number",
    ),
    (
        "mse_gradient: tensor with grad",
        lambda: mse_gradient(torch.ones(4, requires_grad=True), Y, Y),
        TypeError,
        "detach",
    ),
    (
        "forward: int tensor",
        lambda: forward(torch.arange(4), torch.tensor(1.0)),
        TypeError,
        r"X must be a floating-point tensor.*\.float\(\)",
    ),
    (
        "forward: tensor w wrong shape",
        lambda: forward(torch.ones(4, 2), torch.ones(3)),
        ValueError,
        r"w must have shape \(2,\)",
    ),
    (
        "mse_loss: tensor (4, 1) vs (4,)",
        lambda: mse_loss(torch.ones(4, 1), torch.ones(4)),
        ValueError,
        r"y_hat has shape \(4, 1\) but y has shape \(4,\)",
    ),
    (
        "mse_loss: NaN tensor",
        lambda: mse_loss(torch.tensor([float("nan")]), torch.ones(1)),
        ValueError,
        "y_hat contains NaN",
    ),
    (
        "mse_loss: (4,) vs (4, 1)",
        lambda: mse_loss(Y.reshape(4, 1), Y),
        ValueError,
        r"y_hat has shape \(4, 1\) but y has shape \(4,\)",
    ),
    ("mse_loss: different lengths", lambda: mse_loss(Y[:3], Y), ValueError, "y_hat has shape"),
    (
        "mse_loss: NaN prediction",
        lambda: mse_loss([np.nan] * 4, Y),
        ValueError,
        "y_hat contains 4 NaN",
    ),
    ("mse_loss: empty", lambda: mse_loss([], []), ValueError, "y_hat is empty"),
    (
        "mse_gradient: y is a column",
        lambda: mse_gradient(X, Y.reshape(4, 1), Y),
        ValueError,
        r"y must be 1-D .*reshape\(-1\)",
    ),
    (
        "mse_gradient: X, y lengths",
        lambda: mse_gradient(X, Y[:3], Y[:3]),
        ValueError,
        "X has 4 samples but y has 3",
    ),
    (
        "mse_gradient: y_hat length",
        lambda: mse_gradient(X, Y, Y[:2]),
        ValueError,
        "X has 4 samples but y_hat has 2",
    ),
    (
        "numerical_gradient: f",
        lambda: numerical_gradient(None, 1.0),
        TypeError,
        "f must be a function",
    ),
    (
        "numerical_gradient: h < 0",
        lambda: numerical_gradient(abs, 1.0, h=-1),
        ValueError,
        "h must be",
    ),
    ("rel_error: shapes", lambda: rel_error([1.0], [1.0, 2.0]), ValueError, "a has shape"),
]
for train in TRAINERS:
    name = train.__name__
    BAD_CALLS += [
        (f"{name}: lr = 0", lambda t=train: t(X, Y, 0.0, 5), ValueError, "lr must be positive"),
        (f"{name}: lr < 0", lambda t=train: t(X, Y, -0.01, 5), ValueError, "lr must be positive"),
        (
            f"{name}: lr NaN",
            lambda t=train: t(X, Y, float("nan"), 5),
            ValueError,
            "lr must be finite",
        ),
        (
            f"{name}: lr string",
            lambda t=train: t(X, Y, "0.01", 5),
            TypeError,
            "lr must be a real number",
        ),
        (
            f"{name}: num_epochs 0",
            lambda t=train: t(X, Y, 0.01, 0),
            ValueError,
            "num_epochs must be at least 1",
        ),
        (
            f"{name}: num_epochs float",
            lambda t=train: t(X, Y, 0.01, 10.0),
            TypeError,
            "num_epochs must be an int",
        ),
        (
            f"{name}: y column",
            lambda t=train: t(X, Y.reshape(4, 1), 0.01, 5),
            ValueError,
            "y must be 1-D",
        ),
        (
            f"{name}: lengths",
            lambda t=train: t(X, Y[:3], 0.01, 5),
            ValueError,
            "X has 4 samples but y has 3",
        ),
        (f"{name}: empty", lambda t=train: t([], [], 0.01, 5), ValueError, "X is empty"),
        (
            f"{name}: NaN in y",
            lambda t=train: t(X, [2.0, np.nan, 6.0, 8.0], 0.01, 5),
            ValueError,
            "y contains 1 NaN",
        ),
        (
            f"{name}: w0 shape",
            lambda t=train: t(np.ones((4, 2)), Y, 0.01, 5, w0=[0.0]),
            ValueError,
            r"w0 must have shape \(2,\)",
        ),
        (
            f"{name}: b0 string",
            lambda t=train: t(X, Y, 0.01, 5, b0="0"),
            TypeError,
            "b0 must be a real number",
        ),
    ]


@pytest.mark.parametrize(
    "call, error, words", [row[1:] for row in BAD_CALLS], ids=[row[0] for row in BAD_CALLS]
)
def test_bad_input_raises_a_clear_error_naming_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


@pytest.mark.parametrize("train", TRAINERS)
def test_lists_ints_and_tensors_are_converted_as_documented(train):
    expected = train_numpy(X, Y, 0.01, 3).w
    for X_in, y_in in [([1, 2, 3, 4], [2, 4, 6, 8]), (torch.from_numpy(X), torch.from_numpy(Y))]:
        np.testing.assert_allclose(train(X_in, y_in, 0.01, 3).w, expected, rtol=1e-6)


def test_numpy_helpers_accept_tensors_without_grad():
    assert mse_loss(torch.tensor([1.0, 2.0]), np.array([1.0, 2.0])) == 0.0
    np.testing.assert_allclose(forward(torch.tensor([1.0, 2.0]), 3.0), [3.0, 6.0])
