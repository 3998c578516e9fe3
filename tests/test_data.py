"""Data helpers: the toy problem, reproducible synthetic data, and standardized inputs."""

import re

import numpy as np
import pytest

from gdlessons import make_linear_data, make_wave_data, toy_data
from gdlessons.data import standardize


def test_toy_data_is_the_classic_float32_problem_and_a_fresh_copy():
    X, y = toy_data()
    assert X.dtype == y.dtype == np.float32
    assert X.tolist() == [1, 2, 3, 4] and y.tolist() == [2, 4, 6, 8]
    X[0] = 99
    assert toy_data()[0][0] == 1


def test_make_linear_data_is_reproducible_from_its_seed_and_nothing_global():
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    a = make_linear_data(50, w=[2.0, -3.4], b=4.2, noise=0.01, seed=7)
    b = make_linear_data(50, w=[2.0, -3.4], b=4.2, noise=0.01, seed=7)
    c = make_linear_data(50, w=[2.0, -3.4], b=4.2, noise=0.01, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])
    np.testing.assert_array_equal(np.random.get_state()[1], state)


def test_make_linear_data_follows_the_model():
    X, y = make_linear_data(2000, w=[2.0, -3.4], b=4.2, noise=0.0, seed=0)
    np.testing.assert_allclose(y, X @ np.array([2.0, -3.4]) + 4.2, atol=1e-5)
    X1, y1 = make_linear_data(10, w=3.0, b=1.0, seed=0)
    assert X1.shape == (10,)
    np.testing.assert_allclose(y1, 3 * X1 + 1, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(n=0, w=1.0), ValueError, "n must be"),
        (dict(n=5, w=1.0, noise=-1.0), ValueError, "noise"),
        (dict(n=5, w=1.0, seed=None), TypeError, "seed"),
        (dict(n=5, w=[[1.0]]), ValueError, "w must be"),
    ],
)
def test_make_linear_data_rejects_bad_arguments_by_name(kwargs, error, words):
    with pytest.raises(error, match=words):
        make_linear_data(**kwargs)


def test_make_wave_data_is_a_seeded_float64_sine_on_minus_3_to_3():
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    X, y = make_wave_data(20, noise=0.1, seed=0)
    assert X.dtype == y.dtype == np.float64 and X.shape == y.shape == (20,)
    np.testing.assert_allclose(X, np.linspace(-3, 3, 20))
    np.testing.assert_array_equal(y, make_wave_data(20, noise=0.1, seed=0)[1])
    assert not np.array_equal(y, make_wave_data(20, noise=0.1, seed=1)[1])
    np.testing.assert_allclose(make_wave_data(7, noise=0.0)[1], np.sin(np.linspace(-3, 3, 7)))
    assert 0.05 < np.std(y - np.sin(X)) < 0.2  # the noise: standard deviation 0.1
    np.testing.assert_array_equal(np.random.get_state()[1], state)
    with pytest.raises(ValueError, match="noise"):
        make_wave_data(5, noise=-0.1)


def test_standardize_uses_the_training_statistics_per_feature():
    X_train = np.array([[1.0, 10.0], [3.0, 20.0], [5.0, 30.0]])
    Z = standardize(X_train)
    assert np.allclose(Z.mean(axis=0), 0) and np.allclose(Z.std(axis=0), 1)
    X_new = np.array([[7.0, 10.0]])  # one new input: the training mean and std, never its own
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    assert np.allclose(standardize(X_new, X_train=X_train), (X_new - mean) / std)
    assert standardize(np.array([5.0]), X_train=np.array([1.0, 2.0, 3.0, 4.0])).dtype == np.float64


@pytest.mark.parametrize(
    ("X", "X_train", "words"),
    [
        (np.ones((3, 2)), None, "constant (standard deviation 0)"),
        (np.ones((3, 2)), np.ones((3, 3)) * [[1], [2], [3]], "the same features"),
    ],
    ids=["constant_feature", "other_features"],
)
def test_standardize_refuses_what_it_cannot_do_with_a_message(X, X_train, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        standardize(X, X_train=X_train)
