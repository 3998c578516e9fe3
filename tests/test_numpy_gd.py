"""The math in NumPy: forward, mse_loss, mse_gradient agree with central differences and torch."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from gdlessons import (
    forward,
    lipschitz_constant,
    mse_gradient,
    mse_loss,
    numerical_gradient,
    rel_error,
)

TOL = 1e-7  # float64 analytic vs autograd / central differences


def random_problem(seed, n, d):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) if d else rng.standard_normal(n)
    w = rng.standard_normal(d) if d else float(rng.standard_normal())
    return X, rng.standard_normal(n), w, float(rng.standard_normal())


def torch_gradient(X, y, w, b):
    Xt, yt = torch.tensor(X), torch.tensor(y)
    wt = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    y_hat = Xt * wt + bt if Xt.ndim == 1 else Xt @ wt + bt
    torch.nn.functional.mse_loss(y_hat, yt).backward()
    return wt.grad.numpy(), bt.grad.item()


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50), d=st.integers(0, 4))
def test_gradient_matches_torch_autograd_in_float64(seed, n, d):
    X, y, w, b = random_problem(seed, n, d)
    dw, db = mse_gradient(X, y, forward(X, w, b))
    dw_t, db_t = torch_gradient(X, y, w, b)
    assert rel_error(dw, dw_t) < TOL and rel_error(db, db_t) < TOL


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 50), d=st.integers(0, 4))
def test_gradient_matches_central_differences(seed, n, d):
    X, y, w, b = random_problem(seed, n, d)
    dw, db = mse_gradient(X, y, forward(X, w, b))
    dw_num = numerical_gradient(lambda v: mse_loss(forward(X, v, b), y), w)
    db_num = numerical_gradient(lambda v: mse_loss(forward(X, w, v), y), b)
    assert rel_error(dw, dw_num) < TOL and rel_error(db, db_num) < TOL


def test_gradient_of_toy_problem_is_the_mean_not_the_sum():
    X = np.array([1.0, 2.0, 3.0, 4.0])
    dw, _ = mse_gradient(X, 2 * X, forward(X, 0.0))
    assert dw == pytest.approx(np.mean(2 * X * (0.0 * X - 2 * X)))  # -30
    assert np.dot(2 * X, 0.0 * X - 2 * X).mean() == pytest.approx(4 * dw)  # the classic bug


def test_gradient_is_a_float_for_1d_X_and_an_array_for_2d_X():
    X = np.ones((3, 2))
    dw, db = mse_gradient(X, np.ones(3), forward(X, [0.0, 0.0]))
    assert dw.shape == (2,) and isinstance(db, float)
    dw1, _ = mse_gradient(np.ones(3), np.ones(3), np.zeros(3))
    assert isinstance(dw1, float)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 30))
def test_loss_is_nonnegative_and_zero_only_at_a_perfect_fit(seed, n):
    X, y, w, b = random_problem(seed, n, 0)
    y_hat = forward(X, w, b)
    assert mse_loss(y_hat, y) >= 0
    assert mse_loss(y, y) == 0
    assert (mse_loss(y_hat, y) == 0) == bool(np.all(y_hat == y))


def test_loss_matches_torch_mse_loss():
    X, y, w, b = random_problem(1, 20, 3)
    y_hat = forward(X, w, b)
    expected = torch.nn.functional.mse_loss(torch.tensor(y_hat), torch.tensor(y)).item()
    assert rel_error(mse_loss(y_hat, y), expected) < TOL


def test_forward_takes_w_and_b_as_arguments_and_keeps_float32():
    X = np.array([1, 2, 3, 4], dtype=np.float32)
    y_hat = forward(X, 2.0, b=1.0)
    assert y_hat.dtype == np.float32 and y_hat.tolist() == [3.0, 5.0, 7.0, 9.0]
    assert forward(5, 2.0) == 10.0


def test_forward_with_features_is_a_matrix_product():
    X = np.arange(6.0).reshape(3, 2)
    np.testing.assert_allclose(forward(X, [1.0, -1.0], 0.5), X @ [1.0, -1.0] + 0.5)


def test_lipschitz_constant_of_toy_data_is_15_and_bounds_the_step():
    X = np.array([1.0, 2.0, 3.0, 4.0])
    assert lipschitz_constant(X) == pytest.approx(2 * np.mean(X**2)) == pytest.approx(15.0)
    H = 2 / 4 * np.array([[np.sum(X**2), np.sum(X)], [np.sum(X), 4]])
    assert lipschitz_constant(X, bias=True) == pytest.approx(np.linalg.eigvalsh(H)[-1])


def test_forward_and_loss_on_tensors_keep_the_autograd_graph():
    X = torch.tensor([1.0, 2.0, 3.0, 4.0])
    w = torch.tensor(0.0, requires_grad=True)
    loss = mse_loss(forward(X, w), 2 * X)
    assert isinstance(loss, torch.Tensor) and loss.item() == 30.0
    loss.backward()
    assert w.grad.item() == mse_gradient(X, 2 * X, forward(X, 0.0))[0] == -30.0


def test_forward_converts_numpy_X_to_the_dtype_of_a_tensor_w():
    w = torch.tensor([1.0, -1.0], dtype=torch.float64, requires_grad=True)
    y_hat = forward(np.ones((3, 2), dtype=np.float32), w, 0.5)
    assert y_hat.dtype == torch.float64 and y_hat.requires_grad
