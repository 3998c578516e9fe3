"""LinearRegression (an nn.Module) and train_minibatch: mini-batches, optimizers, honest histories."""

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from gdlessons import DivergenceError, make_linear_data, toy_data, train_nn
from gdlessons.modules import LinearRegression, train_minibatch

W_TRUE, B_TRUE = [2.0, -3.4], 4.2


def lesson_data(n=1000):
    return make_linear_data(n, w=W_TRUE, b=B_TRUE, noise=0.01, seed=0)


def least_squares(X, y):
    A = np.column_stack([X.reshape(len(X), -1), np.ones(len(X))]).astype(np.float64)
    return np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]


def sgd_model(num_features, lr, bias=True, momentum=0.0, w0=0.0, b0=0.0):
    model = LinearRegression(num_features, bias=bias)
    with torch.no_grad():
        model.w.fill_(w0)
        if bias:
            model.b.fill_(b0)
    return model, torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)


def test_linear_regression_registers_w_and_b_and_predicts_X_w_plus_b():
    model = LinearRegression(num_features=2)
    assert [name for name, _ in model.named_parameters()] == ["w", "b"]
    assert all(float(p.detach().abs().sum()) == 0.0 for p in model.parameters())  # zero, no RNG
    with torch.no_grad():
        model.w.copy_(torch.tensor([2.0, -1.0]))
        model.b.fill_(0.5)
    X = torch.tensor([[1.0, 1.0], [0.0, 2.0], [3.0, 0.0]])
    assert model(X).tolist() == [1.5, -1.5, 6.5]
    assert [name for name, _ in LinearRegression(3, bias=False).named_parameters()] == ["w"]


def test_full_batch_is_exactly_train_nn_gradient_descent():
    X, y = toy_data()
    h = train_minibatch(*sgd_model(1, lr=0.01, bias=False), X, y, num_epochs=10)
    assert h.lines() == train_nn(X, y, lr=0.01, num_epochs=10).lines()
    X2, y2 = lesson_data(200)
    h2 = train_minibatch(*sgd_model(2, lr=0.1), X2, y2, num_epochs=30)
    ref = train_nn(X2, y2, lr=0.1, num_epochs=30, b0=0.0)
    np.testing.assert_allclose(h2.w, ref.w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h2.loss, ref.loss, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("batch_size", [1, 7, 32])
def test_each_step_is_one_sgd_step_on_the_batches_of_a_seeded_dataloader(batch_size):
    X, y = lesson_data(50)
    h = train_minibatch(*sgd_model(2, lr=0.05), X, y, num_epochs=2, batch_size=batch_size, seed=3)
    # The same loop written out, with the DataLoader every PyTorch script uses.
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    w, b = torch.zeros(2, dtype=torch.float64), torch.zeros((), dtype=torch.float64)
    gen = torch.Generator().manual_seed(3)
    loader = DataLoader(TensorDataset(Xt, yt), batch_size=batch_size, shuffle=True, generator=gen)
    for _ in range(2):
        for X_batch, y_batch in loader:
            r = X_batch.double() @ w + b - y_batch.double()
            w = w - 0.05 * 2 * X_batch.double().T @ r / len(r)
            b = b - 0.05 * 2 * r.mean()
    np.testing.assert_allclose(np.append(h.w_final, h.b_final), [*w.tolist(), b.item()], atol=1e-5)


@pytest.mark.parametrize(
    "batch_size, lr, num_epochs", [(None, 0.1, 100), (32, 0.1, 4), (1, 0.1, 1)]
)
def test_every_batch_size_reaches_least_squares(batch_size, lr, num_epochs):
    X, y = lesson_data()
    model, optimizer = sgd_model(2, lr=lr)
    h = train_minibatch(model, optimizer, X, y, num_epochs=num_epochs, batch_size=batch_size)
    np.testing.assert_allclose(np.append(h.w_final, h.b_final), least_squares(X, y), atol=5e-3)
    final_loss = np.mean((X.astype(np.float64) @ h.w_final + h.b_final - y) ** 2)
    assert final_loss < 2e-4  # the noise floor is noise**2 = 1e-4


def test_record_every_step_counts_steps_and_the_loss_is_on_all_the_data():
    X, y = lesson_data(100)
    h = train_minibatch(*sgd_model(2, 0.1), X, y, num_epochs=3, batch_size=32, record_every=1)
    assert len(h) == 3 * 4  # ceil(100 / 32) = 4 steps per epoch
    X64, y64 = X.astype(np.float64), y.astype(np.float64)
    expected = [np.mean((X64 @ w + b - y64) ** 2) for w, b in zip(h.w, h.b)]
    np.testing.assert_allclose(h.loss, expected, rtol=1e-4)
    assert len(train_minibatch(*sgd_model(2, 0.1), X, y, num_epochs=3, batch_size=32)) == 3


def test_the_seed_fixes_the_shuffle_and_nothing_global_is_touched():
    X, y = lesson_data(100)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    runs = [
        train_minibatch(*sgd_model(2, 0.05), X, y, num_epochs=2, batch_size=8, seed=seed)
        for seed in (1, 1, 2)
    ]
    assert torch.equal(torch.rand(3), expected)
    assert runs[0].lines() == runs[1].lines()
    assert not np.array_equal(runs[0].w, runs[2].w)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: torch.optim.SGD(p, lr=0.1),
        lambda p: torch.optim.SGD(p, lr=0.02, momentum=0.9),
        lambda p: torch.optim.Adam(p, lr=0.3),
    ],
)
def test_each_optimizer_descends_the_valley_of_the_toy_problem(make):
    X, y = toy_data()
    model, _ = sgd_model(1, lr=0.1, b0=3.0)
    h = train_minibatch(model, make(model.parameters()), X, y, num_epochs=100)
    assert h.w.ndim == 1 and h.w[0] == 0.0 and h.b[0] == 3.0  # one weight: 1-D X
    assert h.loss[-1] < 0.05 * h.loss[0]
    assert abs(h.w_final - 2.0) < 0.2 and abs(h.b_final) < 0.5


def test_the_history_carries_the_optimizers_learning_rate():
    X, y = toy_data()
    model = LinearRegression(1)
    h = train_minibatch(model, torch.optim.Adam(model.parameters(), lr=0.3), X, y, num_epochs=2)
    assert h.lr == 0.3 and h.lines()[0] == "epoch 0: w = 0.000, b = 0.000, loss = 30.0000"


def test_the_data_goes_to_the_models_dtype():
    X, y = toy_data()
    model = LinearRegression(1, bias=False).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    h = train_minibatch(model, optimizer, X, y, num_epochs=10)
    assert round(h.predict(5.0), 3) == 8.031


def test_a_diverging_run_stops_with_a_divergence_error():
    X, y = toy_data()
    with pytest.raises(DivergenceError, match=r"lr=1\b"):
        train_minibatch(*sgd_model(1, lr=1.0, bias=False), X, y, num_epochs=200)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"batch_size": 0}, ValueError, r"batch_size must be at least 1 and at most 4, got 0"),
        ({"batch_size": 5}, ValueError, r"batch_size must be at least 1 and at most 4, got 5"),
        ({"batch_size": 2.0}, TypeError, r"batch_size must be an int"),
        ({"record_every": 0}, ValueError, r"record_every must be at least 1"),
        ({"seed": "0"}, TypeError, r"seed must be an int"),
        ({"num_epochs": 0}, ValueError, r"num_epochs must be at least 1"),
        ({"X": [[1.0], [2.0]]}, ValueError, r"X has 2 samples but y has 4"),
    ],
)
def test_bad_arguments_say_what_to_do(kwargs, error, match):
    X, y = toy_data()
    args = {"X": X, "y": y, "num_epochs": 2, **kwargs}
    with pytest.raises(error, match=match):
        train_minibatch(*sgd_model(1, 0.01), **args)


def test_training_refuses_a_model_whose_features_do_not_match_X():
    model = LinearRegression(num_features=2)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"model has 2 weights but X has 1 feature"):
        train_minibatch(model, optimizer, np.ones(4), np.ones(4), num_epochs=1)


def test_a_scheduler_steps_after_every_optimizer_step_and_sets_each_steps_lr():
    X, y = lesson_data(40)
    model, optimizer = sgd_model(2, lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=5, gamma=0.5)
    h = train_minibatch(model, optimizer, X, y, 3, batch_size=8, scheduler=scheduler)
    assert scheduler.last_epoch == 15 and optimizer.param_groups[0]["lr"] == 0.1 * 0.5**3
    assert h.lr == 0.1  # the history keeps the lr the run started from
    # the same run by hand: step k at lr 0.1 * 0.5 ** (k // 5)
    ref, ref_optimizer = sgd_model(2, lr=0.1)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_size=8,
        shuffle=True,
        generator=torch.Generator().manual_seed(0),
    )
    step = 0
    for _ in range(3):
        for X_batch, y_batch in loader:
            ref_optimizer.param_groups[0]["lr"] = 0.1 * 0.5 ** (step // 5)
            loss = torch.nn.MSELoss()(ref(X_batch), y_batch)
            ref_optimizer.zero_grad()
            loss.backward()
            ref_optimizer.step()
            step += 1
    assert np.allclose(h.w_final, ref.w.detach().numpy()) and np.isclose(h.b_final, ref.b.item())


def test_a_decaying_schedule_gets_below_the_constant_lr_noise_floor():
    X, y = lesson_data(200)
    A = np.column_stack([X, np.ones(len(X))]).astype(np.float64)
    J_min = np.mean((A @ least_squares(X, y) - y) ** 2)
    ends = {}
    for name in ("constant", "cosine"):
        model, optimizer = sgd_model(2, lr=0.1)
        cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=400)
        scheduler = cosine if name == "cosine" else None
        h = train_minibatch(
            model, optimizer, X, y, 2, batch_size=1, record_every=10, scheduler=scheduler
        )
        ends[name] = np.mean(h.loss[-5:] - J_min)
    assert ends["cosine"] < ends["constant"] / 10


def test_a_scheduler_of_another_optimizer_is_refused():
    X, y = lesson_data(20)
    model, optimizer = sgd_model(2, lr=0.1)
    other = torch.optim.SGD([torch.zeros(1)], lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(other, step_size=1)
    with pytest.raises(ValueError, match="scheduler belongs to another optimizer"):
        train_minibatch(model, optimizer, X, y, 1, scheduler=scheduler)
