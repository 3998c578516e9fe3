"""The three trainers run the same algorithm and record honest histories."""

import numpy as np
import pytest

from gdlessons import DivergenceError, History, toy_data, train_autograd, train_nn, train_numpy

TRAINERS = [train_numpy, train_autograd, train_nn]
CLASSIC_W = [0.300, 0.772, 1.113, 1.359, 1.537]  # w at the start of epochs 1, 3, 5, 7, 9


@pytest.mark.parametrize("train", TRAINERS)
def test_each_trainer_reproduces_the_corrected_classic_trajectory(train):
    X, y = toy_data()
    h = train(X, y, lr=0.01, num_epochs=10)
    assert np.round(h.w[1::2], 3).tolist() == CLASSIC_W
    assert h.w[0] == 0.0 and h.loss[0] == pytest.approx(30.0)
    assert round(h.predict(5.0), 3) == 8.031
    assert h.b is None and h.b_final is None


@pytest.mark.parametrize("b0", [None, 0.0])
def test_the_three_trainers_give_the_same_trajectory(b0):
    X, y = toy_data()
    runs = [train(X, y, lr=0.01, num_epochs=25, b0=b0) for train in TRAINERS]
    for h in runs[1:]:
        np.testing.assert_allclose(h.w, runs[0].w, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(h.loss, runs[0].loss, rtol=1e-5, atol=1e-6)
        assert h.lines(every=2) == runs[0].lines(every=2)  # what a student sees is identical
        if b0 is not None:
            np.testing.assert_allclose(h.b, runs[0].b, rtol=1e-5, atol=1e-6)


def test_history_rows_pair_each_w_with_the_loss_at_that_w():
    X, y = toy_data()
    h = train_numpy(X, y, lr=0.01, num_epochs=10)
    X64, y64 = X.astype(float), y.astype(float)
    np.testing.assert_allclose(h.loss, [np.mean((w * X64 - y64) ** 2) for w in h.w], rtol=1e-5)
    assert h.w_final == pytest.approx(2 - 2 * 0.85**10, rel=1e-5)  # w_k = 2 - 2 * 0.85**k
    assert h.lines(every=2)[1] == "epoch 2: w = 0.555, loss = 15.6602"


@pytest.mark.parametrize("train", TRAINERS)
def test_with_a_bias_each_trainer_approaches_least_squares(train):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 2)).astype(np.float32)
    y = (X @ np.array([1.5, -2.0]) + 0.7 + 0.1 * rng.standard_normal(40)).astype(np.float32)
    h = train(X, y, lr=0.3, num_epochs=400, b0=0.0)
    A = np.column_stack([X, np.ones(len(X))]).astype(np.float64)
    coef = np.linalg.lstsq(A, y.astype(np.float64), rcond=None)[0]
    np.testing.assert_allclose(np.append(h.w_final, h.b_final), coef, atol=1e-4)


def test_history_is_a_plain_record_with_its_learning_rate():
    X, y = toy_data()
    h = train_autograd(X, y, lr=0.05, num_epochs=4, w0=1.0, b0=0.5)
    assert isinstance(h, History) and len(h) == h.num_epochs == 4
    assert h.lr == 0.05 and h.w[0] == 1.0 and h.b[0] == 0.5
    assert isinstance(h.w_final, float) and isinstance(h.b_final, float)


@pytest.mark.parametrize("train", TRAINERS)
def test_a_diverging_run_stops_with_an_error_naming_lr_and_the_bound(train):
    X, y = toy_data()
    with pytest.raises(DivergenceError, match=r"lr=1\b.*2/L = 0\.1333"):
        train(X, y, lr=1.0, num_epochs=200)


def test_a_short_run_above_the_bound_is_recorded_not_hidden():
    X, y = toy_data()
    h = train_numpy(X, y, lr=0.15, num_epochs=8)  # above 2/15: the loss grows every epoch
    assert np.all(np.diff(h.loss) > 0)


def test_train_nn_does_not_touch_the_global_torch_rng():
    import torch

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    X, y = toy_data()
    train_nn(X, y, lr=0.01, num_epochs=2, b0=0.0)
    assert torch.equal(torch.rand(3), expected)
