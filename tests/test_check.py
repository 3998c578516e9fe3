"""The exercise self-checks, driven by one table of right and wrong answers per exercise.

``ANSWERS[name]`` holds realistic student answers to exercise ``name``: a right one, which must
pass with a check mark, and classic mistakes, each with the words its message must hold (the
diagnosis and its hint). Lesson 02's answers are built on the lesson's own engine, read from the
lesson's cells tagged ``engine`` (as tests/test_autograd_engine.py does), never on a copy.
Points and texts come from each check's declaration, ``check.<name>.problem``.
"""

import contextlib
import inspect
import io
import math
import re
from dataclasses import FrozenInstanceError
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from gdlessons import (
    check,
    forward,
    lipschitz_constant,
    mse_gradient,
    mse_loss,
    train_autograd,
    train_nn,
    train_numpy,
)
from gdlessons.check.problem import Gives, Shows
from gdlessons.modules import LinearRegression
from gdlessons.parallel import shard

ROOT = Path(__file__).resolve().parents[1]
NAMES = sorted(name for name in check.__all__ if name.startswith("ex"))


def lesson_engine():
    """The namespace of the lesson cells tagged ``engine``: Value, add, mul, power, backward."""
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = [c.source for c in nb.cells if "engine" in c.metadata.get("tags", [])]
        if cells:
            namespace = {}
            exec(compile("\n\n".join(cells), str(path), "exec"), namespace)
            return namespace
    raise AssertionError("no lesson has cells tagged 'engine'")


Value = lesson_engine()["Value"]


# ---------------------------------------------------------------- students' answers, lesson 01


def right_gradient(X, y, y_hat):
    return float(np.mean(2 * X * (y_hat - y)))


def right_gradient_with_bias(X, y, y_hat):
    r = y_hat - y
    return float(np.mean(2 * X * r)), float(np.mean(2 * r))


def right_train(X, y, lr, num_epochs, bias=True):
    w, b = 0.0, 0.0
    for _ in range(num_epochs):
        dw, db = mse_gradient(X, y, forward(X, w, b if bias else 0.0))
        w, b = w - lr * dw, b - lr * db
    return w, b


def ascent(X, y, lr, num_epochs):
    w, b = 0.0, 0.0
    for _ in range(num_epochs):
        dw, db = mse_gradient(X, y, forward(X, w, b))
        w, b = w + lr * dw, b + lr * db  # up the slope
    return w, b


def never_moves_b(X, y, lr, num_epochs):
    w = 0.0
    for _ in range(num_epochs):
        w -= lr * mse_gradient(X, y, forward(X, w, 0.0))[0]
    return w, 0.0


def right_gradient_nd(X, y, y_hat):
    return 2 / len(y) * X.T @ (y_hat - y), float(np.mean(2 * (y_hat - y)))


# ---------------------------------------------------------------- lesson 02, on the lesson's Value


def unary(name, f, slope, assign=False, out_grad=True, record=True, attach=True):
    """A student's one-input function on Values, right or with one classic mistake."""

    def op(a):
        out = Value(f(a.data), (a,) if record else (), name)

        def backward_step():
            step = slope(a.data, out.data) * (out.grad if out_grad else 1.0)
            if assign:
                a.grad = step
            else:
                a.grad += step

        if attach:
            out.backward_step = backward_step
        return out

    op.__name__ = name
    return op


def exp_with(**mistake):
    return unary("exp", math.exp, lambda x, y: y, **mistake)


def relu_with(**mistake):
    return unary("relu", lambda x: max(0.0, x), lambda x, y: float(x > 0), **mistake)


def mul_fixed_with(assign_a=False, assign_b=False, swap=False, at_once=False, **mistake):
    """The exercise's mul, fixed (all False) or with some of its classic slips left in."""
    out_grad, record = mistake.get("out_grad", True), mistake.get("record", True)

    def mul_fixed(a, b):
        out = Value(a.data * b.data, (a, b) if record else (), "*")

        def backward_step():
            g = out.grad if out_grad else 1.0
            da, db = (a.data, b.data) if swap else (b.data, a.data)
            if at_once:  # both read the old grads first: a * a counts once
                a.grad, b.grad = a.grad + da * g, b.grad + db * g
                return
            a.grad = da * g if assign_a else a.grad + da * g
            b.grad = db * g if assign_b else b.grad + db * g

        out.backward_step = backward_step
        return out

    return mul_fixed


def exp_unanswered(a):
    out = Value(math.exp(a.data), (a,), "exp")

    def backward_step():
        raise NotImplementedError

    out.backward_step = backward_step
    return out


def exp_with_a_typo(a):
    out = Value(math.exp(a.data), (a,), "exp")

    def backward_step():
        a.grad += math.exp(a.data) * out_grad  # noqa: F821 (the student's typo)

    out.backward_step = backward_step
    return out


def gradient_with_values(X, y, w, b, mean=True, bias=True, sign=1.0, backward=True):
    w, b = Value(w), Value(b)
    total = Value(0.0)
    for x_i, y_i in zip(X, y):
        y_hat = w * x_i + b if bias else w * x_i
        total = total + (y_hat - y_i) ** 2
    loss = total * (1.0 / len(X)) if mean else total
    if backward:
        loss.backward()
    return sign * w.grad, sign * b.grad


def values_with(**mistake):
    return lambda X, y, w, b: gradient_with_values(X, y, w, b, **mistake)


# ---------------------------------------------------------------- lesson 03


def autograd_gradient(X, y, w, b, loss=mse_loss, backward=True):
    w, b = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    for _ in range(backward):  # 2: two losses, two backward passes into the same .grad
        loss(forward(X, w, b), y).backward()
    return w.grad, b.grad


def mae(y_hat, y):
    return (y_hat - y).abs().mean()


def forgot_zero_grad(X, y, lr, num_epochs, append=lambda g: g.item(), zero=False):
    w, grads = torch.tensor(0.0, requires_grad=True), []
    for _ in range(num_epochs):
        mse_loss(forward(X, w), y).backward()
        grads.append(append(w.grad))
        with torch.no_grad():
            w -= lr * w.grad
        if zero:
            w.grad.zero_()
    return grads


def predicted_grads(X, y, lr, num_epochs, moved=True, record_first=False):
    w, total, grads = 0.0, 0.0, []
    for _ in range(num_epochs):
        if record_first:
            grads.append(total)
        dw = mse_gradient(X, y, forward(X, w))[0]
        total += dw
        if not record_first:
            grads.append(total)
        w -= lr * (total if moved else dw)
    return grads


# ---------------------------------------------------------------- lesson 04


def linear(w, b, bias=True, frozen=False):
    layer = nn.utils.skip_init(nn.Linear, 1, 1, bias=bias)
    with torch.no_grad():
        layer.weight.fill_(w)
        if bias:
            layer.bias.fill_(b)
    if frozen:  # replaced by parameters that no longer learn
        layer.weight = nn.Parameter(layer.weight.detach().clone(), requires_grad=False)
    return layer


def linear_outside_no_grad(w, b):
    layer = nn.utils.skip_init(nn.Linear, 1, 1)
    layer.weight.fill_(w)
    return layer


def nn_loop(X, y, lr, num_epochs, reduction="mean", flat_y=False, zero_grad=True, lr_scale=1.0):
    X = torch.from_numpy(X).reshape(-1, 1)
    y = torch.from_numpy(y) if flat_y else torch.from_numpy(y).reshape(-1, 1)
    model = linear(0.0, 0.0)
    loss_fn = nn.MSELoss(reduction=reduction)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr * lr_scale)
    for _ in range(num_epochs):
        loss = loss_fn(model(X), y)
        if zero_grad:
            optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.weight.item(), model.bias.item()


def sum_loss_loop(X, y, lr, num_epochs):
    return nn_loop(X, y, lr, num_epochs, reduction="sum", lr_scale=1 / len(X))


def fit_three_ways(X, y, lr_factor=1.5, num_epochs=300, b0=0.0):
    lr = lr_factor / lipschitz_constant(X, bias=True)
    trainers = (train_numpy, train_autograd, train_nn)
    return tuple(t(X, y, lr=lr, num_epochs=num_epochs, b0=b0) for t in trainers)


def three_fits_at_a_fixed_lr(X, y):
    trainers = (train_numpy, train_autograd, train_nn)
    return tuple(t(X, y, lr=0.2, num_epochs=300, b0=0.0) for t in trainers)


def three_fits_with_other_settings(X, y):
    L = lipschitz_constant(X, bias=True)
    return fit_three_ways(X, y)[:2] + (train_nn(X, y, 1.4 / L, 400, b0=0.0),)


# ---------------------------------------------------------------- lesson 05


class MyLinearRegression(nn.Module):
    def __init__(self, num_features, wrap=nn.Parameter, shape=None, start=torch.zeros):
        super().__init__()
        self.w = wrap(start(shape or (num_features,)))
        self.b = wrap(torch.zeros(()))

    def forward(self, X):
        return X @ self.w + self.b


class NoSuperInit(nn.Module):
    def __init__(self, num_features):
        self.w = nn.Parameter(torch.zeros(num_features))


class NotAModule:
    def __init__(self, num_features):
        self.w = torch.zeros(num_features, requires_grad=True)
        self.b = torch.zeros((), requires_grad=True)

    def __call__(self, X):
        return X @ self.w + self.b


class Detached(MyLinearRegression):
    def forward(self, X):
        return X @ self.w.detach() + self.b.detach()


class DetachedBias(MyLinearRegression):
    def forward(self, X):
        return X @ self.w + self.b.detach()


class NoBiasInForward(MyLinearRegression):
    def forward(self, X):
        return X @ self.w


class ForwardUnanswered(MyLinearRegression):
    def forward(self, X):
        raise NotImplementedError


def seeded_randn(shape):
    return torch.randn(shape, generator=torch.Generator().manual_seed(0))


def minibatch_loop(X, y, lr, num_epochs, batch_size, seed, shuffle=True, full=False, fresh=False):
    """The mini-batch loop; ``fresh``: its loader made inside the epoch loop, newly seeded."""
    model = LinearRegression(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def loader():
        data = TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
        generator = torch.Generator().manual_seed(seed)
        return DataLoader(data, len(X) if full else batch_size, shuffle, generator=generator)

    batches = loader()
    for _ in range(num_epochs):
        for X_batch, y_batch in loader() if fresh else batches:
            loss = nn.MSELoss()(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.w, model.b


def momentum_loop(X, y, lr, momentum, num_epochs, keep=True, dampening=0.0, late=False):
    w, b, v_w, v_b = np.zeros(X.shape[1]), 0.0, 0.0, 0.0
    for _ in range(num_epochs):
        dw, db = mse_gradient(X, y, forward(X, w, b))
        if not keep:
            v_w, v_b = 0.0, 0.0
        if late:
            w, b = w - lr * v_w, b - lr * v_b
        v_w, v_b = (momentum * v_w + (1 - dampening) * dw, momentum * v_b + (1 - dampening) * db)
        if not late:
            w, b = w - lr * v_w, b - lr * v_b
    return w, b


def noise_floor(lr, batch_size, curvature, grad_variance, batch_power=1.0, small_lr=False):
    """The lesson's floor; batch_power=0.5 is the sqrt(B) slip, small_lr its approximation."""
    if small_lr:
        return lr * grad_variance / (4 * batch_size**batch_power)
    v = lr**2 * grad_variance / batch_size**batch_power / (1 - (1 - lr * curvature) ** 2)
    return curvature / 2 * v


def cosine(optimizer, num_steps, T_max=None):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T_max or num_steps)


def warmup_cosine(optimizer, num_steps):
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=20)
    rest = cosine(optimizer, num_steps, T_max=num_steps - 20)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, rest], milestones=[20])


# ---------------------------------------------------------------- lesson 06


def best_lr(X, bias=True, factor=2.0, pick=lambda lam: 2 / (lam[0] + lam[-1])):
    A = np.column_stack([X, np.ones(len(X))]) if bias else X
    return pick(np.linalg.eigvalsh(factor / len(X) * A.T @ A))


def fit_predict(
    X_train, y_train, X_new, lr, num_epochs, stats="train", ddof=0, power=1, transform=True
):
    """Standardize, train, predict; stats "all" / "new" / "none" and the others: classic slips."""
    source = {"train": X_train, "all": np.concatenate([X_train, X_new])}.get(stats, X_train)
    mean, std = source.mean(axis=0), source.std(axis=0, ddof=ddof) ** power
    if stats == "none":  # no standardization at all
        h = train_numpy(X_train, y_train, lr, num_epochs, b0=0.0)
        return forward(X_new, h.w_final, h.b_final)
    h = train_numpy((X_train - mean) / std, y_train, lr, num_epochs, b0=0.0)
    if stats == "new":
        mean, std = X_new.mean(axis=0), X_new.std(axis=0)
    return forward((X_new - mean) / std if transform else X_new, h.w_final, h.b_final)


def adam_step(w, g, m, s, t, lr, beta1, beta2, eps, correct=True, keep_state=False, slip=""):
    """Adam's update; slip: "no 1 - beta1", "t from 0", "eps inside" or "no sqrt"."""
    m_new = beta1 * m + (g if slip == "no 1 - beta1" else (1 - beta1) * g)
    s_new = beta2 * s + (1 - beta2) * g**2
    t = t + 1 if slip == "t from 0" else t
    m_hat = m_new / (1 - beta1**t) if correct else m_new
    s_hat = s_new / (1 - beta2**t) if correct else s_new
    root = {"eps inside": np.sqrt(s_hat + eps), "no sqrt": s_hat + eps}.get(slip)
    w = w - lr * m_hat / (np.sqrt(s_hat) + eps if root is None else root)
    return (w, m, s) if keep_state else (w, m_new, s_new)


# ---------------------------------------------------------------- lesson 08


def shard_mean(X, y, w, b, world_size, combine=np.mean):
    shards = (shard(X, y, k, world_size) for k in range(world_size))
    grads = [mse_gradient(Xs, ys, forward(Xs, w, b)) for Xs, ys in shards]
    return combine([dw for dw, _ in grads], axis=0), float(combine([db for _, db in grads]))


def combine(grads, sizes, divide_by="samples", weigh=True):
    weights = sizes if weigh else [1] * len(sizes)
    total = {"samples": sum(weights), "nothing": 1, "shards": len(sizes)}[divide_by]
    return (
        sum(m * dw for (dw, _), m in zip(grads, weights)) / total,
        sum(m * db for (_, db), m in zip(grads, weights)) / total,
    )


def data_parallel(X, y, lr, num_epochs, world_size, average=True, workers=None):
    shards = [shard(X, y, k, world_size) for k in range(world_size)][:workers]
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(num_epochs):
        grads = [mse_gradient(Xs, ys, forward(Xs, w, b)) for Xs, ys in shards]
        k = len(shards) if average else 1
        w, b = (w - lr * sum(g[0] for g in grads) / k, b - lr * sum(g[1] for g in grads) / k)
    return w, b


# ---------------------------------------------------------------- lesson 07


def mlp_forward(X, W1, b1, W2, b2, act=np.tanh, first_bias=True, last_bias=True, out=None):
    """A student's forward pass of the MLP in NumPy, right or with one classic slip."""
    y_hat = act(np.outer(X, W1) + (b1 if first_bias else 0.0)) @ W2 + (b2 if last_bias else 0.0)
    return y_hat if out is None else out(y_hat)


def seeded_init(num_hidden, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=num_hidden), rng.normal(size=num_hidden), np.zeros(num_hidden), 0.0


def constant_init(value):
    return lambda num_hidden, seed: (*(np.full(num_hidden, value) for _ in range(3)), 0.0)


def unseeded_init(num_hidden, seed):
    rng = np.random.default_rng()  # the slip: a fresh, unseeded generator each call
    return rng.normal(size=num_hidden), rng.normal(size=num_hidden), np.zeros(num_hidden), 0.0


def tanh_with(**mistake):
    return unary("tanh", math.tanh, lambda x, t: 1 - t**2, **mistake)


def mlp_hessian(X, y, W1, b1, W2, b2, mean=True):
    """The Hessian of the MLP's squared error (mean or sum) in its 3 H + 1 weights, float64."""
    X, y, H = torch.from_numpy(X), torch.from_numpy(y), len(W1)

    def J(theta):
        W1, b1, W2, b2 = theta.split([H, H, H, 1])
        errors = (torch.tanh(X[:, None] * W1 + b1) @ W2 + b2 - y) ** 2
        return errors.mean() if mean else errors.sum()

    theta = torch.from_numpy(np.concatenate([W1, b1, W2, [b2]]))
    return torch.autograd.functional.hessian(J, theta).numpy()


def max_lr(X, y, W1, b1, W2, b2, mean=True, numerator=2.0):
    return numerator / np.linalg.eigvalsh(mlp_hessian(X, y, W1, b1, W2, b2, mean))[-1]


def power_iteration_lr(num_iterations):
    """2 / the eigenvalue power iteration finds (the largest in size, sign unchecked)."""

    def my_max_lr(X, y, W1, b1, W2, b2):
        H, v = mlp_hessian(X, y, W1, b1, W2, b2), np.ones(3 * len(W1) + 1)
        for _ in range(num_iterations):
            v = H @ v / np.linalg.norm(H @ v)
        return 2 / abs(v @ H @ v)

    return my_max_lr


def predicted_floor(X, lr, sigma, batch_size, bias=True):
    """Lesson 05's predicted floor, lr sigma² trace(H) / (2 B), H the MSE's Hessian in (w, b)."""
    A = np.asarray(X, dtype=np.float64)
    A = np.column_stack([A, np.ones(len(A))]) if bias else A
    return lr * sigma**2 * np.trace(2 / len(A) * A.T @ A) / (2 * batch_size)


# ---------------------------------------------------------------- the table

PASS = "pass"


def fails(*words):
    return ("fail", *words)


def todo(*words):
    return ("todo", *words)


ASSIGNS = "your backward_step *assigns* (a.grad = ...)"
OUT_GRAD = "multiply by out.grad"
NEVER = "the gradient never arrived: set out.backward_step = backward_step"
NO_INPUTS = ".inputs does not hold the Values it was computed from"

# name -> [(id, answer, expected)]: the answer is what the notebook passes (lesson 02: with the
# lesson's Value class), or a tuple of exactly the arguments to pass.
ANSWERS = {
    "ex01_1": [
        ("right", right_gradient, PASS),
        (
            "np_dot_then_mean",
            lambda X, y, y_hat: float(np.dot(2 * X, y_hat - y).mean()),
            fails("7 times too large, and 7 is the number of samples", "np.dot already sums"),
        ),
        (
            "flipped_residual",
            lambda X, y, y_hat: float(np.mean(2 * X * (y - y_hat))),
            fails("wrong sign", "y_hat - y"),
        ),
        (
            "no_factor_two",
            lambda X, y, y_hat: float(np.mean(X * (y_hat - y))),
            fails("exactly half", "factor 2"),
        ),
        (
            "per_sample_array",
            lambda X, y, y_hat: 2 * X * (y_hat - y),
            fails("should be one number, but has shape (7,)", "mean over the samples"),
        ),
        ("dw_and_db", right_gradient_with_bias, fails("tuple of 2 items", "Only dw")),
    ],
    "ex01_2": [
        ("right", right_gradient_with_bias, PASS),
        (
            "no_db",
            lambda X, y, y_hat: (right_gradient(X, y, y_hat), 0.0),
            fails("the bias was forgotten", "db = mean(2 (y_hat - y))"),
        ),
        ("one_number", right_gradient, fails("should be a pair (dw, db)", "return dw, db")),
        ("swapped", lambda *a: right_gradient_with_bias(*a)[::-1], fails("swapped")),
        (
            "db_summed",
            lambda X, y, y_hat: (right_gradient(X, y, y_hat), float(np.sum(2 * (y_hat - y)))),
            fails("Your db", "7 times too large"),
        ),
    ],
    "ex01_3": [
        ("right", right_train, PASS),
        ("never_moves_b", never_moves_b, fails("b never moved")),
        ("epoch_short", lambda X, y, lr, n: right_train(X, y, lr, n - 1), fails("too few")),
        ("epoch_more", lambda X, y, lr, n: right_train(X, y, lr, n + 1), fails("too many")),
        (
            "y_hat_without_b",
            lambda X, y, lr, n: right_train(X, y, lr, n, bias=False),
            fails("w is the no-bias run's w"),
        ),
        (
            "summed_gradient",
            lambda X, y, lr, n: right_train(X, y, len(X) * lr, n),
            fails("30 times too large", "sums over the samples"),
        ),
        (
            "blew_up",
            lambda X, y, lr, n: (float("nan"), float("nan")),
            fails("blew up", "Subtract lr * gradient"),
        ),
        (
            "ascent",
            ascent,
            fails("you moved up the slope: subtract lr * gradient (w = w - lr * dw", "sign"),
        ),
    ],
    "ex01_4": [
        ("right", lambda X: 2 / (2 * float(np.mean(X**2))), PASS),
        ("one_over_L", lambda X: 1 / (2 * float(np.mean(X**2))), fails("that is 1/L")),
        ("sum_not_mean", lambda X: 1 / float(np.sum(X**2)), fails("the sum of x²")),
        (
            "factor_two_twice",
            lambda X: 2 / float(np.mean(X**2)),
            fails("already holds the factor 2"),
        ),
        ("a_constant", lambda X: 0.1, fails("shrinks iff |1 - lr L| < 1")),
    ],
    "ex01_5": [
        ("right", right_gradient_nd, PASS),
        (
            "per_sample",
            lambda X, y, y_hat: (2 / len(y) * X @ np.ones(X.shape[1]), 0.0),
            fails("one number per *sample*"),
        ),
        (
            "per_sample_and_feature",
            lambda X, y, y_hat: (2 * X * (y_hat - y)[:, None], 0.0),
            fails("per-sample terms"),
        ),
        (
            "summed_over_features",
            lambda X, y, y_hat: (float(np.mean(2 * X.T @ (y_hat - y))), 0.0),
            fails("summed over the features too"),
        ),
        (
            "sum_not_mean",
            lambda X, y, y_hat: (2 * X.T @ (y_hat - y), 0.0),
            fails("40 times too large"),
        ),
        (
            "matmul_shape_error",
            lambda X, y, y_hat: (X @ (y_hat - y), 0.0),
            fails("raised ValueError", "ndarray of shape (40, 3)"),
        ),
    ],
    "ex02_1": [
        ("right", exp_with(), PASS),
        ("assigns", exp_with(assign=True), fails(ASSIGNS)),
        ("no_out_grad", exp_with(out_grad=False), fails(OUT_GRAD)),
        (
            "derivative_a",
            unary("exp", math.exp, lambda x, y: x),
            fails("the local derivative of exp is exp itself"),
        ),
        ("no_inputs", exp_with(record=False), fails("exp(a)" + NO_INPUTS)),
        ("no_backward_step", exp_with(attach=False), fails(NEVER)),
        (
            "value",
            unary("exp", lambda x: math.exp(x) + 1, lambda x, y: y),
            fails("should be math.exp(a.data)"),
        ),
        (
            "float32",
            unary("exp", lambda x: float(np.float32(math.exp(x))), lambda x, y: y),
            fails("right to 5 digits but not to 1e-9", "np.float32"),
        ),
        (
            "no_value_class",
            (exp_with(),),
            fails("pass the lesson's Value class too: check.ex02_1(exp, Value)."),
        ),
        (
            "backward_unanswered",
            exp_unanswered,
            todo("Exercise 2.1: not answered yet. backward() on exp(a) still raises"),
        ),
        (
            "backward_typo",
            exp_with_a_typo,
            fails("backward() on exp(a) raised NameError: name 'out_grad' is not defined"),
        ),
    ],
    "ex02_2": [
        ("right", relu_with(), PASS),
        (
            "slope_one_everywhere",
            unary("relu", lambda x: max(0.0, x), lambda x, y: 1.0),
            fails("relu is flat where a < 0"),
        ),
        (
            "kink",
            unary("relu", lambda x: max(0.0, x), lambda x, y: float(x >= 0)),
            fails("at the kink a = 0"),
        ),
        ("assigns", relu_with(assign=True), fails(ASSIGNS)),
        ("no_out_grad", relu_with(out_grad=False), fails(OUT_GRAD)),
        ("no_inputs", relu_with(record=False), fails("relu(a)" + NO_INPUTS)),
        ("no_backward_step", relu_with(attach=False), fails(NEVER)),
        (
            "not_clamped",
            unary("relu", lambda x: x, lambda x, y: float(x > 0)),
            fails("Use max(0.0, a.data)"),
        ),
        (
            "returns_a_number",
            lambda a: max(0.0, a.data),
            fails("relu should return a Value, but returned a float"),
        ),
    ],
    "ex02_3": [
        ("right", mul_fixed_with(), PASS),
        ("unfixed", mul_fixed_with(assign_a=True, assign_b=True), fails("`a.grad = ...` replaced")),
        ("half_fixed", mul_fixed_with(assign_b=True), fails("`b.grad = ...` replaced it")),
        ("swapped", mul_fixed_with(swap=True), fails("with respect to a is b")),
        ("both_at_once", mul_fixed_with(at_once=True), fails("a and b are the same Value here")),
        ("no_out_grad", mul_fixed_with(out_grad=False), fails(OUT_GRAD)),
        ("no_inputs", mul_fixed_with(record=False), fails("mul(a, b)" + NO_INPUTS)),
    ],
    "ex02_4": [
        ("right", values_with(), PASS),
        ("sum_not_mean", values_with(mean=False), fails("6 times too large", "*mean*")),
        ("sign", values_with(sign=-1.0), fails("wrong sign", "return it as it is")),
        ("swapped", lambda *a: gradient_with_values(*a)[::-1], fails("dw and db are swapped")),
        ("no_bias", values_with(bias=False), fails("the bias was forgotten")),
        ("no_backward", values_with(backward=False), fails("both gradients are 0")),
        (
            "values",
            lambda X, y, w, b: (Value(w), Value(b)),
            fails("you returned a Value", "(w.grad, b.grad)"),
        ),
        ("data", lambda X, y, w, b: (w, b), fails("that is w and b themselves")),
    ],
    "ex03_1": [
        ("right", autograd_gradient, PASS),
        (
            "no_backward",
            lambda *a: autograd_gradient(*a, backward=False),
            fails("gradient is None", "requires_grad=True"),
        ),
        (
            "the_loss",
            lambda X, y, w, b: (mse_loss(forward(X, w, b), y).item(),) * 2,
            fails("the loss, not its gradient"),
        ),
        (
            "backward_twice",
            lambda *a: autograd_gradient(*a, backward=2),
            fails("exactly twice", "backward() adds into .grad"),
        ),
        ("swapped", lambda *a: autograd_gradient(*a)[::-1], fails("dw and db are swapped")),
    ],
    "ex03_2": [
        ("right", forgot_zero_grad, PASS),
        (
            "zeroes",
            lambda X, y, lr, n: forgot_zero_grad(X, y, lr, n, zero=True),
            fails("these are the *correct* gradients", "wants the bug"),
        ),
        (
            "appends_the_tensor",
            lambda X, y, lr, n: forgot_zero_grad(X, y, lr, n, append=lambda g: g),
            fails("appended the tensor w.grad itself", "w.grad.item()"),
        ),
    ],
    "ex03_3": [
        ("right", predicted_grads, PASS),
        (
            "w_not_moved",
            lambda X, y, lr, n: predicted_grads(X, y, lr, n, moved=False),
            fails("w moves by the *accumulated* gradient"),
        ),
        (
            "one_short",
            lambda X, y, lr, n: predicted_grads(X, y, lr, n)[:-1],
            fails("returned 5 values for num_epochs = 6"),
        ),
        (
            "recorded_before",
            lambda X, y, lr, n: predicted_grads(X, y, lr, n, record_first=True),
            fails("record w.grad right after backward(), before the update"),
        ),
    ],
    "ex03_4": [
        ("right", lambda *a: autograd_gradient(*a, loss=mae), PASS),
        ("squared_error", autograd_gradient, fails("gradient of the *squared* error")),
        (
            "no_backward",
            lambda *a: autograd_gradient(*a, loss=mae, backward=False),
            fails("a gradient is None", "loss.backward()"),
        ),
    ],
    "ex04_1": [
        ("right", linear, PASS),
        (
            "outside_no_grad",
            linear_outside_no_grad,
            fails("raised RuntimeError", "torch.no_grad()"),
        ),
        ("no_bias", lambda w, b: linear(w, b, bias=False), fails("has no bias")),
        ("the_weight", lambda w, b: linear(w, b).weight, fails("should return the layer")),
        (
            "two_inputs",
            lambda w, b: nn.utils.skip_init(nn.Linear, 2, 1),
            fails("the layer is nn.Linear(2, 1); one input feature and one output"),
        ),
        ("frozen", lambda w, b: linear(w, b, frozen=True), fails("no longer require grad")),
    ],
    "ex04_2": [
        ("right", nn_loop, PASS),
        (
            "flat_y",
            lambda X, y, lr, n: nn_loop(X, y, lr, n, flat_y=True),
            fails("y is still flat, shape (12,)", "y.reshape(-1, 1)"),
        ),
        (
            "no_zero_grad",
            lambda X, y, lr, n: nn_loop(X, y, lr, n, zero_grad=False),
            fails("optimizer.zero_grad()"),
        ),
        ("no_bias", lambda X, y, lr, n: (1.0, None), fails("b is None", "bias")),
        ("epoch_short", lambda X, y, lr, n: nn_loop(X, y, lr, n - 1), fails("too few")),
        ("epoch_more", lambda X, y, lr, n: nn_loop(X, y, lr, n + 1), fails("too many")),
    ],
    "ex04_3": [
        ("right", fit_three_ways, PASS),
        (
            "diverging_lr",
            three_fits_at_a_fixed_lr,
            fails("raised DivergenceError", "lipschitz_constant(X, bias=True)"),
        ),
        (
            "no_bias",
            lambda X, y: tuple(t(X, y, 0.06, 10) for t in (train_numpy, train_autograd, train_nn)),
            fails("has no bias", "b0=0.0"),
        ),
        (
            "too_few_epochs",
            lambda X, y: fit_three_ways(X, y, lr_factor=0.1, num_epochs=30),
            fails("not yet", "more epochs"),
        ),
        ("other_settings", three_fits_with_other_settings, fails("trajectories differ")),
        (
            "one_history",
            lambda X, y: train_numpy(X, y, 0.1, 100, b0=0.0),
            fails("should return three History objects"),
        ),
    ],
    "ex04_4": [
        ("right", lambda y_hat, y: float(np.mean((y_hat - y) ** 2)), PASS),
        (
            "matching_shapes",
            lambda y_hat, y: float(np.mean((y_hat.reshape(-1) - y) ** 2)),
            fails("loss with matching shapes", "(6, 6) table"),
        ),
        ("the_table", lambda y_hat, y: (y_hat - y) ** 2, fails("nn.MSELoss returns its mean")),
    ],
    "ex04_5": [
        ("right", sum_loss_loop, PASS),
        (
            "same_lr",
            lambda X, y, lr, n: nn_loop(X, y, lr, n, reduction="sum"),
            fails("n times larger", "Divide lr by n = 20"),
        ),
        (
            "lr_times_n",
            lambda X, y, lr, n: nn_loop(X, y, lr, n, reduction="sum", lr_scale=len(X)),
            fails("Divide by n instead"),
        ),
        (
            "blew_up",
            lambda X, y, lr, n: (float("inf"), 0.0),
            fails("blew up", "Use lr / n"),
        ),
        ("no_bias", lambda X, y, lr, n: (1.0, None), fails("b is None")),
    ],
    "ex05_1": [
        ("right", MyLinearRegression, PASS),
        (
            "plain_tensors",
            lambda d: MyLinearRegression(d, wrap=lambda t: t),
            fails("parameters() is empty", "nn.Parameter"),
        ),
        ("no_super_init", NoSuperInit, fails("raised AttributeError", "super().__init__()")),
        (
            "column_weight",
            lambda d: MyLinearRegression(d, shape=(d, 1)),
            fails("should be w of shape (3,) and b of shape ()"),
        ),
        ("detached", Detached, fails("does not track gradients")),
        ("detached_bias", DetachedBias, fails("does not give the MSE gradient")),
        ("forward_unanswered", ForwardUnanswered, todo("not answered yet. forward still raises")),
        ("not_a_module", NotAModule, fails("should create an nn.Module")),
        (
            "random_start",
            lambda d: MyLinearRegression(d, start=seeded_randn),
            fails("should start at zero"),
        ),
        ("no_bias_in_forward", NoBiasInForward, fails("model(X) is not X @ w + b")),
    ],
    "ex05_2": [
        ("right", minibatch_loop, PASS),
        (
            "unshuffled",
            lambda *a: minibatch_loop(*a, shuffle=False),
            fails("never shuffled", "shuffle=True"),
        ),
        (
            "full_batch",
            lambda *a: minibatch_loop(*a, full=True),
            fails("one full-batch step per epoch"),
        ),
        (
            "other_seed",
            lambda X, y, lr, n, bs, seed: minibatch_loop(X, y, lr, n, bs, seed + 1),
            fails("generator=torch.Generator().manual_seed(seed)"),
        ),
        (
            "loader_in_the_epoch_loop",
            lambda *a: minibatch_loop(*a, fresh=True),
            fails("num_epochs = 2", "every epoch deals the same batches", "before the epochs"),
        ),
    ],
    "ex05_3": [
        ("right", noise_floor, PASS),
        (
            "sqrt_B",
            lambda *a: noise_floor(*a, batch_power=0.5),
            fails("your floor is", "shrinks as 1/sqrt(B), but the floor follows its variance"),
        ),
        ("no_B", lambda *a: noise_floor(*a, batch_power=0.0), fails("divide by the batch size")),
        (
            "B_squared",
            lambda *a: noise_floor(*a, batch_power=2.0),
            fails("s^2 / B, not s^2 / B^2"),
        ),
        (
            "small_lr",
            lambda *a: noise_floor(*a, small_lr=True),
            fails("the small-lr approximation"),
        ),
        ("e_squared", lambda *a: 2 / a[2] * noise_floor(*a), fails("the squared distance")),
        ("no_half", lambda *a: 2 * noise_floor(*a), fails("a factor 1/2")),
    ],
    "ex05_4": [
        ("right", cosine, PASS),
        (
            "never_decays",
            lambda opt, n: torch.optim.lr_scheduler.StepLR(opt, step_size=10 * n, gamma=0.1),
            fails("times the floor of a constant lr", "count steps (num_steps in all), not epochs"),
        ),
        (
            "t_max_in_epochs",
            lambda opt, n: cosine(opt, n, T_max=2),
            fails("falls and then rises again", "past T_max the cosine starts over"),
        ),
        (
            "decays_too_early",
            lambda opt, n: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8),
            fails("almost 0 within the first quarter", "decay later or more slowly"),
        ),
        (
            "an_optimizer",
            lambda opt, n: torch.optim.SGD([torch.zeros(1)], lr=0.1),
            fails("should return a torch.optim.lr_scheduler, not a SGD"),
        ),
        (
            "a_new_optimizer",
            lambda opt, n: cosine(torch.optim.SGD([torch.zeros(1)], lr=0.1), n),
            fails("make the scheduler from the optimizer my_scheduler receives"),
        ),
        (
            "rising_lr",
            lambda opt, n: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.05**step),
            fails("the run diverged", "at or below the optimizer's lr"),
        ),
    ],
    "ex06_1": [
        ("right", best_lr, PASS),
        ("no_bias", lambda X: best_lr(X, bias=False), fails("append a column of ones")),
        ("no_factor_2", lambda X: best_lr(X, factor=1.0), fails("second derivative has a 2")),
        ("no_1_over_n", lambda X: best_lr(X, factor=2.0 * len(X)), fails("a mean over the n")),
        (
            "the_bound",
            lambda X: best_lr(X, pick=lambda lam: 2 / lam[-1]),
            fails("your lr is 0.1758", "the largest lr that still converges"),
        ),
        (
            "one_over_lambda_max",
            lambda X: best_lr(X, pick=lambda lam: 1 / lam[-1]),
            fails("settles the steepest direction in one step"),
        ),
        ("half", lambda X: best_lr(X) / 2, fails("exactly half")),
    ],
    "ex06_2": [
        ("right", fit_predict, PASS),
        (
            "new_not_transformed",
            lambda *a: fit_predict(*a, transform=False),
            fails("predictions for 6 new inputs", "went into the model raw"),
        ),
        (
            "new_own_statistics",
            lambda *a: fit_predict(*a, stats="new"),
            fails("with their own mean and std", "a single new input would have std 0"),
        ),
        ("all_data", lambda *a: fit_predict(*a, stats="all"), fails("on X_train alone")),
        ("torch_std", lambda *a: fit_predict(*a, ddof=1), fails("divides by n - 1")),
        ("variance", lambda *a: fit_predict(*a, power=2), fails("not by the variance")),
        ("raw", lambda *a: fit_predict(*a, stats="none"), fails("train on (X_train - mean) / std")),
    ],
    "ex06_3": [
        ("right", momentum_loop, PASS),
        (
            "velocity_reset",
            lambda *a: momentum_loop(*a, keep=False),
            fails("plain gradient descent", "carry over"),
        ),
        (
            "dampened",
            lambda X, y, lr, m, n: momentum_loop(X, y, lr, m, n, dampening=m),
            fails("without a (1 - momentum) factor"),
        ),
        (
            "old_velocity",
            lambda *a: momentum_loop(*a, late=True),
            fails("update the velocity first, then step with the new one"),
        ),
    ],
    "ex06_4": [
        ("right", adam_step, PASS),
        (
            "no_bias_correction",
            lambda *a: adam_step(*a, correct=False),
            fails("Step 1 from w", "3.16 times too large"),
        ),
        (
            "old_running_means",
            lambda *a: adam_step(*a, keep_state=True),
            fails("After 25 steps", "return the new m and s too"),
        ),
        ("only_w", lambda *a: adam_step(*a)[0], fails("should return three arrays, (w, m, s)")),
        (
            "no_1_minus_beta1",
            lambda *a: adam_step(*a, slip="no 1 - beta1"),
            fails("with the weight 1 - beta1 on the new gradient"),
        ),
        ("t_from_0", lambda *a: adam_step(*a, slip="t from 0"), fails("t counts the steps from 1")),
        ("eps_inside", lambda *a: adam_step(*a, slip="eps inside"), fails("eps goes outside")),
        ("no_sqrt", lambda *a: adam_step(*a, slip="no sqrt"), fails("the square root of s_hat")),
    ],
    "ex07_1": [
        ("right", mlp_forward, PASS),
        ("no_b1", lambda *a: mlp_forward(*a, first_bias=False), fails("its own bias")),
        ("no_b2", lambda *a: mlp_forward(*a, last_bias=False), fails("a bias too: ... + b2")),
        (
            "tanh_on_the_output",
            lambda *a: mlp_forward(*a, out=np.tanh),
            fails("tanh belongs to the hidden layer only"),
        ),
        ("no_tanh", lambda *a: mlp_forward(*a, act=lambda z: z), fails("a line again")),
        (
            "relu",
            lambda *a: mlp_forward(*a, act=lambda z: np.maximum(z, 0)),
            fails("not relu: np.tanh(...)"),
        ),
        (
            "transposed",
            lambda X, W1, b1, W2, b2: np.tanh(np.outer(W1, X) + b1) @ W2 + b2,
            fails("raised ValueError"),
        ),
    ],
    "ex07_2": [
        ("right", seeded_init, PASS),
        ("zeros", constant_init(0.0), fails("1 different gradient row(s)", "all zeros or one")),
        ("constant", constant_init(0.5), fails("stay copies of each other")),
        ("unseeded", unseeded_init, fails("two calls with seed = 721 gave different starts")),
        (
            "seed_ignored",
            lambda num_hidden, seed: seeded_init(num_hidden, 0),
            fails("gave the same start", "use the seed"),
        ),
        ("three_things", lambda num_hidden, seed: seeded_init(num_hidden, seed)[:3], fails("four")),
    ],
    "ex07_3": [
        ("right", tanh_with(), PASS),
        ("assigns", tanh_with(assign=True), fails(ASSIGNS)),
        ("no_out_grad", tanh_with(out_grad=False), fails(OUT_GRAD)),
        (
            "one_minus_a_squared",
            unary("tanh", math.tanh, lambda x, t: 1 - x**2),
            fails("not 1 - a**2", "(1 - t**2) * out.grad"),
        ),
        ("no_inputs", tanh_with(record=False), fails("tanh(a)" + NO_INPUTS)),
        ("no_backward_step", tanh_with(attach=False), fails(NEVER)),
        (
            "value",
            unary("tanh", lambda x: x, lambda x, t: 1 - math.tanh(x) ** 2),
            fails("should be math.tanh(a.data)"),
        ),
        (
            "float32",
            unary("tanh", lambda x: float(np.float32(math.tanh(x))), lambda x, t: 1 - t**2),
            fails("right to 5 digits but not to 1e-9"),
        ),
        ("no_value_class", (tanh_with(),), fails("check.ex07_3(tanh, Value).")),
    ],
    "ex07_4": [
        ("right", max_lr, PASS),
        ("one_over", lambda *a: max_lr(*a, numerator=1.0), fails("a safe lr, not the largest")),
        ("sum", lambda *a: max_lr(*a, mean=False), fails("every curvature is n times")),
        ("largest_in_size", power_iteration_lr(500), fails("largest in size, but negative")),
        ("few_iterations", power_iteration_lr(12), fails("run more power iterations")),
    ],
    "ex08_1": [
        ("right", shard_mean, PASS),
        (
            "summed",
            lambda *a: shard_mean(*a, combine=np.sum),
            fails("3 times too large, and 3 is the number of workers", "divide by world_size"),
        ),
    ],
    "ex08_2": [
        ("right", combine, PASS),
        (
            "plain_mean",
            lambda g, s: combine(g, s, weigh=False),
            fails("plain mean of the shards' gradients"),
        ),
        (
            "no_division",
            lambda g, s: combine(g, s, divide_by="nothing"),
            fails("divide it by the total number of samples, 17"),
        ),
        (
            "by_shards",
            lambda g, s: combine(g, s, divide_by="shards"),
            fails("not by the number of shards (3)"),
        ),
    ],
    "ex08_3": [
        ("right", data_parallel, PASS),
        (
            "summed",
            lambda *a: data_parallel(*a, average=False),
            fails("4 times too large", "all_reduce sums"),
        ),
        ("worker_0_alone", lambda *a: data_parallel(*a, workers=1), fails("worker 0 alone")),
    ],
    "ex09_1": [
        ("right", lambda lr, X: lr * 2 * np.mean(np.asarray(X, dtype=np.float64) ** 2), PASS),
        (
            "no_2",
            lambda lr, X: lr * np.mean(np.asarray(X, dtype=np.float64) ** 2),
            fails("mind the 2"),
        ),
        (
            "summed",
            lambda lr, X: lr * 2 * np.sum(np.asarray(X, dtype=np.float64) ** 2),
            fails("the sum of x²"),
        ),
        (
            "bound",
            lambda lr, X: 1 / np.mean(np.asarray(X, dtype=np.float64) ** 2),
            fails("the bound 2/L"),
        ),
    ],
    "ex09_2": [
        ("right", lambda losses: (losses[-1] / losses[0]) ** (1 / (len(losses) - 1)), PASS),
        (
            "whole_run",
            lambda losses: losses[-1] / losses[0],
            fails("the factor over the whole run"),
        ),
        (
            "root_len",
            lambda losses: (losses[-1] / losses[0]) ** (1 / len(losses)),
            fails("not len(losses)"),
        ),
        (
            "upside_down",
            lambda losses: (losses[0] / losses[-1]) ** (1 / (len(losses) - 1)),
            fails("first / last"),
        ),
    ],
    "ex09_3": [
        ("right", lambda X, lr, sigma, batch_size: predicted_floor(X, lr, sigma, batch_size), PASS),
        (
            "no_batch",
            lambda X, lr, sigma, batch_size: predicted_floor(X, lr, sigma, 1),
            fails("divide by the batch size"),
        ),
        (
            "sqrt_batch",
            lambda X, lr, sigma, batch_size: predicted_floor(X, lr, sigma, batch_size**0.5),
            fails("not with its standard deviation"),
        ),
        (
            "hessian_without_2",
            lambda X, lr, sigma, batch_size: predicted_floor(X, lr, sigma, batch_size) / 2,
            fails("mind the 2"),
        ),
        (
            "no_bias_column",
            lambda X, lr, sigma, batch_size: predicted_floor(X, lr, sigma, batch_size, bias=False),
            fails("lesson 05: J - J_min"),
        ),
    ],
}
ROWS = [(name, *row) for name, rows in ANSWERS.items() for row in rows]
RIGHT = {name: next(a for _, a, want in rows if want == PASS) for name, rows in ANSWERS.items()}


def arguments(name, answer):
    """What a notebook passes: the answer, and for lesson 02 and 7.3 also the lesson's Value."""
    if isinstance(answer, tuple):
        return answer
    return (answer, Value) if getattr(check, name).problem.also else (answer,)


def feedback(check_fn, *answers):
    """The check's Verdict and what it printed; only that line, never on stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        verdict = check_fn(*answers)
    assert err.getvalue() == ""
    assert isinstance(verdict, check.Verdict), verdict
    assert verdict.message + "\n" == out.getvalue()
    return verdict


@pytest.fixture(scope="module")
def verdicts():
    """Every answer of the table checked once: (name, id) -> Verdict."""
    return {
        (name, id_): feedback(getattr(check, name), *arguments(name, answer))
        for name, id_, answer, _ in ROWS
    }


@pytest.mark.parametrize(
    ("name", "id_", "expected"),
    [(name, id_, expected) for name, id_, _, expected in ROWS],
    ids=[f"{name}-{id_}" for name, id_, _, _ in ROWS],
)
def test_each_answer_in_the_table_gets_its_verdict_and_diagnosis(verdicts, name, id_, expected):
    verdict = verdicts[name, id_]
    text = verdict.message
    assert "Traceback" not in text, text
    if expected == PASS:
        assert verdict.status == "pass" and text.startswith("✓ Exercise") and "right!" in text
        return
    status, *words = expected
    assert verdict.status == status, text
    assert text.startswith("✗ Exercise" if status == "fail" else "… Exercise"), text
    for phrase in words:
        assert phrase in text, f"{phrase!r} not in:\n{text}"


def test_other_schedules_below_the_floor_pass_too():
    """Exercise 5.4 has no single right answer: a warmup then a cosine, and a step decay."""

    def step_decay(optimizer, num_steps):
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=num_steps // 4, gamma=0.3)

    for answer in (warmup_cosine, step_decay):
        assert feedback(check.ex05_4, answer).status == "pass"


def test_the_mlp_forward_check_compares_with_the_lessons_nn_sequential():
    """Exercise 7.1's reference is the NumPy formula; the verdict claims nn.Sequential's output."""
    problem = check.ex07_1.problem
    for case in problem.cases:
        H = len(case.W1)
        with torch.random.fork_rng(devices=[]):  # its random start is replaced below
            model = nn.Sequential(nn.Linear(1, H), nn.Tanh(), nn.Linear(H, 1)).double()
        with torch.no_grad():
            for p, value in zip(model.parameters(), (case.W1, case.b1, case.W2, [case.b2])):
                p.copy_(torch.tensor(value, dtype=torch.float64).reshape(p.shape))
            X = torch.tensor(case.X, dtype=torch.float64).reshape(-1, 1)
            np.testing.assert_allclose(problem.reference(case), model(X).flatten(), rtol=1e-12)


def test_the_adam_check_compares_with_torch_optim_adam():
    """Exercise 6.4's reference is the lesson's update; the lesson shows it is torch's Adam."""
    problem = check.ex06_4.problem
    for case in problem.cases:
        w = torch.tensor(case.w, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.Adam([w], lr=case.lr, eps=case.eps)
        for _ in range(case.num_steps):
            p = w.detach().numpy()
            if "g" in case:  # step 1: the case's own gradient
                g = case.g
            else:
                g = np.append(*mse_gradient(case.X, case.y, forward(case.X, p[:2], p[2])))
            w.grad = torch.from_numpy(np.asarray(g, dtype=np.float64))
            optimizer.step()
        # float32 data: gdlessons' checked helpers and numpy_gd's bare formulas round differently
        np.testing.assert_allclose(problem.reference(case), w.detach().numpy(), rtol=1e-7)


def test_every_check_has_a_right_and_a_wrong_answer_in_the_table():
    assert sorted(ANSWERS) == NAMES
    for name, rows in ANSWERS.items():
        assert [want for _, _, want in rows].count(PASS) == 1, name
        assert len(rows) >= 2, name


def declared_hints(problem):
    """The fixed texts of a declaration's mistakes, rules and error hints (templates' literal
    parts; texts computed from the answer are left out)."""
    mistakes = [*problem.mistakes, *(m for case in problem.cases for m in case.get("mistakes", []))]
    texts = [m.hint for m in mistakes if isinstance(m, (Gives, Shows))]
    texts += [rule[1] for rule in problem.rules if isinstance(rule, tuple)]  # else: computed
    texts += list(problem.errors.values())
    for text in texts:
        if isinstance(text, str):
            yield max(re.split(r"\{[^}]*\}", text), key=len)


def test_every_declared_mistake_is_shown_by_an_answer_in_the_table(verdicts):
    shown = {}
    for (name, _), verdict in verdicts.items():
        shown.setdefault(name, []).append(verdict.message)
    owners = {}
    for name in NAMES:
        for hint in declared_hints(getattr(check, name).problem):
            owners.setdefault(hint, set()).add(name)
    unshown = [
        (sorted(names), hint)
        for hint, names in owners.items()
        if not any(hint in text for name in names for text in shown[name])
    ]
    assert not unshown, "declared, never shown by a wrong answer of the table:\n" + "\n".join(
        map(str, unshown)
    )


# ---------------------------------------------------------------- what every check does


@pytest.mark.parametrize("name", NAMES)
def test_a_right_answer_earns_the_points_its_declaration_gives(name):
    problem = getattr(check, name).problem
    verdict = feedback(getattr(check, name), *arguments(name, RIGHT[name]))
    assert verdict.status == "pass" and verdict.exercise == problem.number
    assert verdict.points == verdict.max_points == problem.points == check.POINTS[name] >= 1


@pytest.mark.parametrize("name", NAMES)
def test_an_unanswered_exercise_says_not_answered_yet_and_earns_nothing(name):
    def my_answer(*args):
        raise NotImplementedError

    verdict = feedback(getattr(check, name), *arguments(name, my_answer))
    assert verdict.message.startswith("… Exercise") and "not answered yet" in verdict.message
    assert "my_answer" in verdict.message
    assert (verdict.status, verdict.points, bool(verdict)) == ("todo", 0, False)
    assert verdict.max_points == check.POINTS[name]


@pytest.mark.parametrize("name", NAMES)
def test_a_student_crash_is_named_kindly_without_a_traceback(name):
    def my_answer(*args):
        return 1 / 0

    verdict = feedback(getattr(check, name), *arguments(name, my_answer))
    assert verdict.message.startswith("✗ Exercise") and verdict.status == "fail"
    assert verdict.points == 0 and not verdict
    assert "my_answer raised ZeroDivisionError: division by zero" in verdict.message
    assert "It was called with" in verdict.message


@pytest.mark.parametrize("name", NAMES)
def test_passing_a_result_instead_of_the_function_gets_a_hint(name):
    verdict = feedback(getattr(check, name), *arguments(name, 3.0))
    assert verdict.status == "fail" and "without parentheses" in verdict.message


def test_passing_none_says_not_answered_yet():
    assert "not answered yet" in feedback(check.ex01_1, None).message


@pytest.mark.parametrize("answers", [(), (right_gradient, right_gradient)], ids=["none", "two"])
def test_calling_a_check_with_too_few_or_too_many_answers_says_how_to_call_it(answers):
    text = feedback(check.ex01_1, *answers).message
    assert "check.ex01_1 takes my_gradient: call check.ex01_1(my_gradient)." in text


def test_an_exercise_that_calls_an_unanswered_one_names_it():
    def my_linear(w, b):
        raise NotImplementedError

    def my_train_nn(X, y, lr, num_epochs):
        my_linear(0.0, 0.0)

    text = feedback(check.ex04_2, my_train_nn).message
    assert "my_train_nn calls my_linear, which still raises NotImplementedError" in text


def test_checks_leave_the_global_random_generators_alone():
    torch_state, np_state = torch.random.get_rng_state(), np.random.get_state()[1].copy()
    for name in NAMES:
        feedback(getattr(check, name), *arguments(name, RIGHT[name]))
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)


def test_a_verdict_is_frozen_and_short_and_a_notebook_shows_only_the_printed_line():
    from IPython.core.formatters import DisplayFormatter

    verdict = feedback(check.ex01_3, right_train)
    points = check.ex01_3.problem.points
    assert repr(verdict) == f"<Verdict 1.3: pass, {points}/{points} points>"
    assert DisplayFormatter().format(verdict) == ({}, {})  # no Out[] echo under the line
    with pytest.raises(FrozenInstanceError):
        verdict.points = 5


def test_points_are_declared_once_per_check_and_a_check_says_how_to_call_it():
    assert sorted(check.POINTS) == NAMES
    for name in NAMES:
        fn = getattr(check, name)
        assert fn.__name__ == name and check.POINTS[name] == fn.problem.points
        params = [fn.problem.answer, *fn.problem.also]
        assert list(inspect.signature(fn).parameters) == params


def test_the_checks_of_lesson_02_hold_no_engine_of_their_own():
    from gdlessons.check import lesson02

    classes = [v for v in vars(lesson02).values() if isinstance(v, type)]
    assert not any(hasattr(c, "backward") or hasattr(c, "backward_step") for c in classes)


# ---------------------------------------------------------------- what a verdict claims

CLAIMS = re.compile(r"\bsteps?\b|\bepochs?\b|batch for batch|trajector|\bis the\b.*\brun\b")


def right_only_at_the_end(answer):
    """The answer, but off by one in w and b whenever it is asked for a single epoch."""

    def my_run(*args):
        w, b = answer(*args)
        params = list(inspect.signature(answer).parameters)
        if args[params.index("num_epochs")] > 1:
            return w, b
        return np.asarray(w.detach() if hasattr(w, "detach") else w) + 1.0, float(b) + 1.0

    return my_run


def returns_a_run(name):
    """Whether the exercise's answer takes num_epochs and returns the final (w, b)."""
    problem = getattr(check, name).problem
    if "num_epochs" not in problem.inputs:
        return False
    case = problem.cases[0]
    args = [case[field] for field in problem.inputs]
    if problem.as_tensors:
        args[:2] = [torch.from_numpy(a) for a in args[:2]]
    result = RIGHT[name](*args)
    return isinstance(result, tuple) and len(result) == 2


RUNS = [name for name in NAMES if returns_a_run(name)]


@pytest.mark.parametrize("name", RUNS)
def test_a_verdict_claims_steps_or_epochs_exactly_where_the_check_compares_them(name):
    """A run right at its last epoch only: the check that catches it compares every epoch and
    may say so; the check that passes it compares the end, and its verdict must not claim more."""
    problem = getattr(check, name).problem
    assert min(case.num_epochs for case in problem.cases) > 1  # else the end is the first epoch
    claims = CLAIMS.search(problem.passed)
    verdict = feedback(getattr(check, name), right_only_at_the_end(RIGHT[name]))
    assert bool(claims) == (verdict.status == "fail"), (problem.passed, verdict.message)
    assert bool(claims) == problem.steps


def test_the_claim_test_sees_checks_of_both_kinds():
    kinds = {getattr(check, name).problem.steps for name in RUNS}
    assert kinds == {True, False}, RUNS
