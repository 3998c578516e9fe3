"""LinearRegression (an nn.Module) and train_minibatch: mini-batches, optimizers, honest histories."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gdlessons import DivergenceError, make_linear_data, toy_data, train_nn
from gdlessons.modules import LinearRegression, _loader, train_minibatch

W_TRUE, B_TRUE = [2.0, -3.4], 4.2


def lesson_data(n=1000):
    return make_linear_data(n, w=W_TRUE, b=B_TRUE, noise=0.01, seed=0)


def least_squares(X, y):
    A = np.column_stack([X.reshape(len(X), -1), np.ones(len(X))]).astype(np.float64)
    return np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]


def test_linear_regression_registers_w_and_b_and_predicts_X_w_plus_b():
    model = LinearRegression(num_features=2)
    assert [name for name, _ in model.named_parameters()] == ["w", "b"]
    assert all(float(p.detach().abs().sum()) == 0.0 for p in model.parameters())  # starts at zero, no RNG
    with torch.no_grad():
        model.w.copy_(torch.tensor([2.0, -1.0]))
        model.b.fill_(0.5)
    X = torch.tensor([[1.0, 1.0], [0.0, 2.0], [3.0, 0.0]])
    assert model(X).tolist() == [1.5, -1.5, 6.5]
    assert [name for name, _ in LinearRegression(3, bias=False).named_parameters()] == ["w"]


def test_full_batch_is_exactly_train_nn_gradient_descent():
    X, y = toy_data()
    h = train_minibatch(X, y, lr=0.01, num_epochs=10)
    assert h.lines() == train_nn(X, y, lr=0.01, num_epochs=10).lines()
    X2, y2 = lesson_data(200)
    h2 = train_minibatch(X2, y2, lr=0.1, num_epochs=30, b0=0.0)
    ref = train_nn(X2, y2, lr=0.1, num_epochs=30, b0=0.0)
    np.testing.assert_allclose(h2.w, ref.w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h2.loss, ref.loss, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_minibatches_are_those_of_a_plain_shuffling_dataloader(batch_size):
    X, y = (torch.from_numpy(a) for a in lesson_data(100))
    plain = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(3))
    fast = _loader(X, y, batch_size, seed=3)
    for _ in range(2):  # two epochs: reshuffled, and still the same
        pairs = list(zip(plain, fast, strict=True))
        assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in pairs)


@pytest.mark.parametrize("batch_size, lr, num_epochs", [(None, 0.1, 100), (32, 0.1, 4), (1, 0.1, 1)])
def test_every_batch_size_reaches_least_squares(batch_size, lr, num_epochs):
    X, y = lesson_data()
    h = train_minibatch(X, y, lr=lr, num_epochs=num_epochs, b0=0.0, batch_size=batch_size)
    np.testing.assert_allclose(np.append(h.w_final, h.b_final), least_squares(X, y), atol=5e-3)
    final_loss = np.mean((X.astype(np.float64) @ h.w_final + h.b_final - y) ** 2)
    assert final_loss < 2e-4  # the noise floor is noise**2 = 1e-4


def test_record_every_step_counts_steps_and_the_loss_is_on_all_the_data():
    X, y = lesson_data(100)
    h = train_minibatch(X, y, lr=0.1, num_epochs=3, b0=0.0, batch_size=32, record_every=1)
    assert len(h) == 3 * 4  # ceil(100 / 32) = 4 steps per epoch
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    expected = [np.mean((X64 @ w + b - y64) ** 2) for w, b in zip(h.w, h.b)]
    np.testing.assert_allclose(h.loss, expected, rtol=1e-4)
    assert len(train_minibatch(X, y, lr=0.1, num_epochs=3, b0=0.0, batch_size=32)) == 3  # default: per epoch


def test_the_seed_fixes_the_shuffle_and_nothing_global_is_touched():
    X, y = lesson_data(100)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    runs = [train_minibatch(X, y, lr=0.05, num_epochs=2, b0=0.0, batch_size=8, seed=s) for s in (1, 1, 2)]
    assert torch.equal(torch.rand(3), expected)
    assert runs[0].lines() == runs[1].lines()
    assert not np.array_equal(runs[0].w, runs[2].w)


@pytest.mark.parametrize("optimizer, lr, momentum", [("sgd", 0.1, 0.0), ("sgd", 0.02, 0.9), ("adam", 0.3, 0.0)])
def test_each_optimizer_descends_the_valley_of_the_toy_problem(optimizer, lr, momentum):
    X, y = toy_data()
    h = train_minibatch(X, y, lr=lr, num_epochs=100, w0=0.0, b0=3.0, optimizer=optimizer, momentum=momentum)
    assert h.loss[-1] < 0.05 * h.loss[0]
    assert abs(h.w_final - 2.0) < 0.2 and abs(h.b_final) < 0.5


def test_momentum_and_adam_take_other_paths_than_plain_sgd():
    X, y = toy_data()
    runs = [train_minibatch(X, y, lr=0.02, num_epochs=5, b0=0.0, **kw)
            for kw in ({}, {"momentum": 0.9}, {"optimizer": "adam"})]
    assert all(r.w[1] == runs[0].w[1] for r in runs[1:2])  # momentum's first step is plain SGD's
    assert runs[1].w[2] > runs[0].w[2]  # then the velocity adds up
    assert runs[2].w[1] == pytest.approx(0.02)  # Adam's first step is lr in each coordinate


def test_a_diverging_run_stops_with_a_divergence_error():
    X, y = toy_data()
    with pytest.raises(DivergenceError, match=r"lr=1\b"):
        train_minibatch(X, y, lr=1.0, num_epochs=200)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 0}, ValueError, r"batch_size must be an int >= 1"),
        ({"batch_size": 5}, ValueError, r"batch_size must be at most the number of samples, 4"),
        ({"optimizer": "rmsprop"}, ValueError, r"optimizer must be one of \('sgd', 'adam'\)"),
        ({"momentum": 1.0}, ValueError, r"momentum must be in \[0, 1\)"),
        ({"optimizer": "adam", "momentum": 0.9}, ValueError, r"momentum is an option of optimizer='sgd'"),
        ({"record_every": 0}, ValueError, r"record_every must be an int >= 1"),
        ({"seed": "0"}, TypeError, r"seed must be an int"),
        ({"lr": 0.0}, ValueError, r"lr must be positive"),
    ],
)
def test_bad_arguments_say_what_to_do(kwargs, error, match):
    X, y = toy_data()
    args = {"lr": 0.01, "num_epochs": 2, **kwargs}
    with pytest.raises(error, match=match):
        train_minibatch(X, y, **args)


def test_linear_regression_refuses_a_bad_number_of_features():
    with pytest.raises(ValueError, match=r"num_features must be an int >= 1"):
        LinearRegression(0)
