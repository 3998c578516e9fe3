"""Gradient-check helpers: central differences are accurate and rel_error is CS231n's."""

import numpy as np
import pytest

from gdlessons import numerical_gradient, rel_error


def test_numerical_gradient_of_a_quadratic_is_exact_to_rounding():
    assert numerical_gradient(lambda w: 3 * w**2 + 2 * w, 1.5) == pytest.approx(11.0, rel=1e-9)


def test_numerical_gradient_of_an_array_has_its_shape_and_leaves_it_unchanged():
    w = np.array([[1.0, -2.0], [0.5, 3.0]])
    before = w.copy()
    grad = numerical_gradient(lambda v: float(np.sum(v**3)), w)
    assert grad.shape == w.shape
    np.testing.assert_allclose(grad, 3 * w**2, rtol=1e-8)
    np.testing.assert_array_equal(w, before)


def test_numerical_gradient_rejects_a_bad_step_and_a_non_function():
    with pytest.raises(ValueError, match="h must be"):
        numerical_gradient(lambda w: w, 1.0, h=0.0)
    with pytest.raises(TypeError, match="f must be a function"):
        numerical_gradient(3.0, 1.0)


def test_rel_error_follows_cs231n():
    assert rel_error(4.0, 1.0) == pytest.approx(3 / 5)
    assert rel_error(0.0, 0.0) == 0.0
    assert rel_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 4.2)


def test_rel_error_refuses_different_shapes():
    with pytest.raises(ValueError, match="shape"):
        rel_error([1.0, 2.0], [1.0, 2.0, 3.0])
