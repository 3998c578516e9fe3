"""Lesson 07's engine MLP, loaded from the lessons themselves, against torch's nn.Sequential.

Lesson 02's cells tagged ``engine`` (Value, add, mul, power, backward) and lesson 07's cells
tagged ``engine-mlp`` (the function ``tanh`` and the model ``mlp``) are executed into one
namespace, as tests/test_autograd_engine.py does: no copy of either lives anywhere else. On
random weights and inputs, in float64, the engine's loss and every weight's gradient agree with
``nn.Sequential(nn.Linear(1, H), nn.Tanh(), nn.Linear(H, 1))`` to 1e-9; a ``tanh`` whose
``backward_step`` uses 1 - a² instead of 1 - tanh²(a) must fail the same comparison.
"""

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]


def tagged(tag):
    """The source of the cells tagged ``tag``, from the lesson that has them (found by tag)."""
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        sources = [c.source for c in cells if tag in c.metadata.get("tags", [])]
        if sources:
            return path, "\n\n".join(sources)
    raise AssertionError(f"no lesson has cells tagged {tag!r}")


def engine():
    """Lesson 02's engine with lesson 07's tanh and mlp, in one namespace (with ``math``, which
    lesson 07 imports in its first cell)."""
    namespace = {"math": math}
    for tag in ("engine", "engine-mlp"):
        path, source = tagged(tag)
        exec(compile(source, str(path), "exec"), namespace)
    return namespace


ENGINE = engine()


def engine_loss_and_grads(ns, X, y, W1, b1, W2, b2):
    """The MSE of the engine's mlp and the gradients of W1, b1, W2, b2 after backward()."""
    Value = ns["Value"]
    W1, b1, W2 = ([Value(float(v)) for v in a] for a in (W1, b1, W2))
    b2 = Value(float(b2))
    loss = sum((ns["mlp"](x, W1, b1, W2, b2) - t) ** 2 for x, t in zip(X, y)) / len(X)
    loss.backward()
    grads = [[v.grad for v in W] for W in (W1, b1, W2)] + [[b2.grad]]
    return loss.data, np.concatenate(grads)


def torch_loss_and_grads(X, y, W1, b1, W2, b2):
    H = len(W1)
    model = nn.Sequential(nn.Linear(1, H), nn.Tanh(), nn.Linear(H, 1)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W1).reshape(H, 1))
        model[0].bias.copy_(torch.from_numpy(b1))
        model[2].weight.copy_(torch.from_numpy(W2).reshape(1, H))
        model[2].bias.fill_(b2)
    X_t, y_t = (torch.from_numpy(a).reshape(-1, 1) for a in (X, y))
    loss = nn.MSELoss()(model(X_t), y_t)
    loss.backward()
    grads = [model[0].weight.grad.flatten(), model[0].bias.grad, model[2].weight.grad.flatten()]
    return loss.item(), torch.cat([*grads, model[2].bias.grad]).numpy()


def random_problem(seed):
    rng = np.random.default_rng(seed)
    H, n = int(rng.integers(1, 6)), int(rng.integers(1, 9))
    W1, b1, W2 = rng.normal(scale=1.5, size=(3, H))
    return rng.uniform(-3, 3, n), rng.normal(size=n), W1, b1, W2, float(rng.normal())


@pytest.mark.parametrize("seed", range(20))
def test_the_engine_mlp_and_nn_sequential_agree_to_1e_9_in_float64(seed):
    problem = random_problem(seed)
    loss, grads = engine_loss_and_grads(ENGINE, *problem)
    loss_t, grads_t = torch_loss_and_grads(*problem)
    assert loss == pytest.approx(loss_t, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(grads, grads_t, rtol=1e-9, atol=1e-12)


def test_a_tanh_with_the_slope_one_minus_a_squared_fails_the_same_comparison():
    ns = engine()  # a fresh namespace: its mlp looks tanh up there when called
    Value, as_value = ns["Value"], ns["as_value"]

    def tanh(a):  # the classic slip: 1 - a**2, from the input instead of the output
        a = as_value(a)
        out = Value(math.tanh(a.data), (a,), "tanh")

        def backward_step():
            a.grad += (1 - a.data**2) * out.grad

        out.backward_step = backward_step
        return out

    ns["tanh"] = tanh
    problem = random_problem(0)
    _, grads = engine_loss_and_grads(ns, *problem)
    _, grads_t = torch_loss_and_grads(*problem)
    assert not np.allclose(grads, grads_t, rtol=1e-9, atol=1e-12)


def test_the_lesson_grows_tanh_as_a_function_and_leaves_value_unpatched():
    """tanh is a function in the style of add, mul and power: no method patched onto Value."""
    source = tagged("engine-mlp")[1]
    assert "def tanh(a):" in source and "backward_step" in source
    assert "Value." not in source and "setattr" not in source
    assert not hasattr(ENGINE["Value"], "tanh")
