"""The exercise self-checks: a right answer passes, each classic wrong answer gets its own hint,
an unanswered exercise says so, and a student's crash becomes a kind message, never a traceback.
Each check also returns a Verdict (for grading) that repeats the printed line."""

import math

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
from gdlessons.modules import LinearRegression
from gdlessons.parallel import shard


def feedback(capsys, check_fn, *answers):
    """What the student sees: the one line (plus hint) the check prints, also its Verdict's."""
    verdict = check_fn(*answers)
    out = capsys.readouterr()
    assert out.err == ""
    assert isinstance(verdict, check.Verdict), verdict
    assert verdict.message + "\n" == out.out
    return out.out


def passes(text):
    return text.startswith("✓ Exercise") and "Traceback" not in text


def fails_with(text, *phrases):
    assert text.startswith("✗ Exercise"), text
    assert "Traceback" not in text, text
    for phrase in phrases:
        assert phrase in text, f"{phrase!r} not in:\n{text}"
    return True


def todo():
    raise NotImplementedError


# ---------------------------------------------------------------- test fixtures: a Value engine
# Lesson 02 writes a micrograd-style engine in its notebook (the tests of the lesson load it from
# there). This copy, and the buggy functions built on it below, are test fixtures only: the checks
# of lesson 02 hold no engine of their own, they use the class the student passes.


class Value:
    """A scalar that remembers how it was computed: the lesson's interface."""

    def __init__(self, data, inputs=(), op=""):
        self.data = float(data)
        self.grad = 0.0
        self.inputs = tuple(inputs)
        self.op = op
        self.backward_step = lambda: None

    def __repr__(self):
        return f"Value(data={self.data:g}, grad={self.grad:g})"

    def backward(self):
        order, seen = [], set()

        def visit(v):
            if id(v) not in seen:
                seen.add(id(v))
                for i in v.inputs:
                    visit(i)
                order.append(v)

        visit(self)
        self.grad = 1.0
        for v in reversed(order):
            v.backward_step()

    def __add__(self, other):
        return add(self, other)

    def __radd__(self, other):
        return add(other, self)

    def __mul__(self, other):
        return mul(self, other)

    def __rmul__(self, other):
        return mul(other, self)

    def __neg__(self):
        return mul(self, -1.0)

    def __sub__(self, other):
        return add(self, -as_value(other))

    def __rsub__(self, other):
        return add(other, -self)

    def __pow__(self, k):
        return power(self, k)

    def __truediv__(self, other):
        return mul(self, power(as_value(other), -1.0))


def as_value(x):
    return x if isinstance(x, Value) else Value(x)


def add(a, b):
    a, b = as_value(a), as_value(b)
    out = Value(a.data + b.data, (a, b), "+")

    def backward_step():
        a.grad += out.grad
        b.grad += out.grad

    out.backward_step = backward_step
    return out


def mul(a, b):
    a, b = as_value(a), as_value(b)
    out = Value(a.data * b.data, (a, b), "*")

    def backward_step():
        a.grad += b.data * out.grad
        b.grad += a.data * out.grad

    out.backward_step = backward_step
    return out


def power(a, k):
    out = Value(a.data**k, (a,), f"**{k}")

    def backward_step():
        a.grad += k * a.data ** (k - 1) * out.grad

    out.backward_step = backward_step
    return out


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


def right_exp(**mistake):
    return unary("exp", math.exp, lambda x, y: y, **mistake)


def right_relu(**mistake):
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


def right_gradient_with_values(X, y, w, b):
    return gradient_with_values(X, y, w, b)


# ---------------------------------------------------------------- right answers: one per exercise


def right_gradient(X, y, y_hat):
    return float(np.mean(2 * X * (y_hat - y)))


def right_gradient_with_bias(X, y, y_hat):
    r = y_hat - y
    return float(np.mean(2 * X * r)), float(np.mean(2 * r))


def right_train(X, y, lr, num_epochs):
    w, b = 0.0, 0.0
    for _ in range(num_epochs):
        dw, db = mse_gradient(X, y, forward(X, w, b))
        w, b = w - lr * dw, b - lr * db
    return w, b


def right_autograd_gradient(X, y, w, b):
    w, b = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    mse_loss(forward(X, w, b), y).backward()
    return w.grad.item(), b.grad.item()


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


def predicted_grads(X, y, lr, num_epochs):
    w, total, grads = 0.0, 0.0, []
    for _ in range(num_epochs):
        total += mse_gradient(X, y, forward(X, w))[0]
        grads.append(total)
        w -= lr * total
    return grads


def mae_gradient(X, y, w, b):
    w, b = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    (forward(X, w, b) - y).abs().mean().backward()
    return w.grad.item(), b.grad.item()


def linear(w, b, bias=True):
    layer = nn.utils.skip_init(nn.Linear, 1, 1, bias=bias)
    with torch.no_grad():
        layer.weight.fill_(w)
        if bias:
            layer.bias.fill_(b)
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


def fit_three_ways(X, y, lr_factor=1.5, num_epochs=300, b0=0.0):
    lr = lr_factor / lipschitz_constant(X, bias=True)
    return tuple(
        t(X, y, lr=lr, num_epochs=num_epochs, b0=b0)
        for t in (train_numpy, train_autograd, train_nn)
    )


class MyLinearRegression(nn.Module):
    def __init__(self, num_features, wrap=nn.Parameter, shape=None):
        super().__init__()
        self.w = wrap(torch.zeros(shape or (num_features,)))
        self.b = wrap(torch.zeros(()))

    def forward(self, X):
        return X @ self.w + self.b


def minibatch_loop(X, y, lr, num_epochs, batch_size, seed, shuffle=True, full_batch=False):
    model = LinearRegression(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(
        TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_size=len(X) if full_batch else batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
    )
    for _ in range(num_epochs):
        for X_batch, y_batch in loader:
            loss = nn.MSELoss()(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.w, model.b


def momentum_loop(X, y, lr, momentum, num_epochs, keep_velocity=True, dampening=0.0):
    w, b, v_w, v_b = np.zeros(X.shape[1]), 0.0, 0.0, 0.0
    for _ in range(num_epochs):
        dw, db = mse_gradient(X, y, forward(X, w, b))
        if not keep_velocity:
            v_w, v_b = 0.0, 0.0
        v_w, v_b = (momentum * v_w + (1 - dampening) * dw, momentum * v_b + (1 - dampening) * db)
        w, b = w - lr * v_w, b - lr * v_b
    return w, b


def noise_floor(lr, batch_size, curvature, grad_variance, batch_power=1.0, small_lr=False):
    """The lesson's floor; batch_power=0.5 is the sqrt(B) slip, small_lr its approximation."""
    noise = lr**2 * grad_variance / batch_size**batch_power
    if small_lr:
        return lr * grad_variance / (4 * batch_size**batch_power)
    return curvature / 2 * noise / (1 - (1 - lr * curvature) ** 2)


def cosine(optimizer, num_steps, T_max=None):
    return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T_max or num_steps)


def best_lr(X, bias=True, factor=2.0, bound=False):
    A = np.column_stack([X, np.ones(len(X))]) if bias else X
    lam = np.linalg.eigvalsh(factor / len(X) * A.T @ A)
    return 2 / lam[-1] if bound else 2 / (lam[0] + lam[-1])


def fit_predict(X_train, y_train, X_new, lr, num_epochs, stats="train", transform_new=True):
    both = np.concatenate([X_train, X_new])
    source = {"train": X_train, "all": both, "new": X_new}[stats]
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    if stats == "all":
        mean, std = source.mean(axis=0), source.std(axis=0)
    h = train_numpy((X_train - mean) / std, y_train, lr, num_epochs, b0=0.0)
    if stats == "new":
        mean, std = X_new.mean(axis=0), X_new.std(axis=0)
    return forward((X_new - mean) / std if transform_new else X_new, h.w_final, h.b_final)


def adam_step(w, g, m, s, t, lr, beta1, beta2, eps, correct=True, new_state=True):
    m_new = beta1 * m + (1 - beta1) * g
    s_new = beta2 * s + (1 - beta2) * g**2
    m_hat = m_new / (1 - beta1**t) if correct else m_new
    s_hat = s_new / (1 - beta2**t) if correct else s_new
    w = w - lr * m_hat / (np.sqrt(s_hat) + eps)
    return (w, m_new, s_new) if new_state else (w, m, s)


def shard_mean(X, y, w, b, world_size, combine=np.mean):
    grads = [
        mse_gradient(Xs, ys, forward(Xs, w, b))
        for Xs, ys in (shard(X, y, k, world_size) for k in range(world_size))
    ]
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


def right_gradient_nd(X, y, y_hat):
    return 2 / len(y) * X.T @ (y_hat - y), float(np.mean(2 * (y_hat - y)))


def sum_loss_loop(X, y, lr, num_epochs):
    return nn_loop(X, y, lr, num_epochs, reduction="sum", lr_scale=1 / len(X))


RIGHT = [
    (check.ex01_1, right_gradient),
    (check.ex01_2, right_gradient_with_bias),
    (check.ex01_3, right_train),
    (check.ex01_4, lambda X: 2 / (2 * float(np.mean(X**2)))),
    (check.ex01_5, right_gradient_nd),
    (check.ex02_1, right_exp()),
    (check.ex02_2, right_relu()),
    (check.ex02_3, mul_fixed_with()),
    (check.ex02_4, right_gradient_with_values),
    (check.ex03_1, right_autograd_gradient),
    (check.ex03_2, forgot_zero_grad),
    (check.ex03_3, predicted_grads),
    (check.ex03_4, mae_gradient),
    (check.ex04_1, linear),
    (check.ex04_2, nn_loop),
    (check.ex04_3, fit_three_ways),
    (check.ex04_4, lambda y_hat, y: float(np.mean((y_hat - y) ** 2))),
    (check.ex04_5, sum_loss_loop),
    (check.ex05_1, MyLinearRegression),
    (check.ex05_2, minibatch_loop),
    (check.ex05_3, noise_floor),
    (check.ex05_4, cosine),
    (check.ex06_1, best_lr),
    (check.ex06_2, fit_predict),
    (check.ex06_3, momentum_loop),
    (check.ex06_4, adam_step),
    (check.ex08_1, shard_mean),
    (check.ex08_2, combine),
    (check.ex08_3, data_parallel),
]
IDS = [c.__name__ for c, _ in RIGHT]


def arguments(check_fn, answer):
    """What a notebook passes: the answer, and for lesson 02 also the lesson's Value class."""
    return (answer, Value) if check_fn.__name__.startswith("ex02_") else (answer,)


@pytest.mark.parametrize(("check_fn", "answer"), RIGHT, ids=IDS)
def test_a_right_answer_passes_with_a_check_mark(capsys, check_fn, answer):
    text = feedback(capsys, check_fn, *arguments(check_fn, answer))
    assert passes(text), text
    assert "right!" in text


def test_every_exercise_check_is_tested_here():
    assert sorted(IDS) == sorted(name for name in check.__all__ if name.startswith("ex"))


@pytest.mark.parametrize(("check_fn", "answer"), RIGHT, ids=IDS)
def test_an_unanswered_exercise_says_not_answered_yet(capsys, check_fn, answer):
    def my_answer(*args):
        raise NotImplementedError

    text = feedback(capsys, check_fn, *arguments(check_fn, my_answer))
    assert text.startswith("… Exercise") and "not answered yet" in text and "my_answer" in text


@pytest.mark.parametrize(("check_fn", "answer"), RIGHT, ids=IDS)
def test_a_student_crash_is_named_kindly_without_a_traceback(capsys, check_fn, answer):
    def my_answer(*args):
        return 1 / 0

    text = feedback(capsys, check_fn, *arguments(check_fn, my_answer))
    fails_with(text, "my_answer raised ZeroDivisionError: division by zero", "It was called with")


@pytest.mark.parametrize(("check_fn", "answer"), RIGHT, ids=IDS)
def test_passing_a_result_instead_of_the_function_gets_a_hint(capsys, check_fn, answer):
    fails_with(feedback(capsys, check_fn, *arguments(check_fn, 3.0)), "without parentheses")


def test_passing_none_says_not_answered_yet(capsys):
    assert "not answered yet" in feedback(capsys, check.ex01_1, None)


def test_an_exercise_that_calls_an_unanswered_one_names_it(capsys):
    def my_linear(w, b):
        raise NotImplementedError

    def my_train_nn(X, y, lr, num_epochs):
        my_linear(0.0, 0.0)

    text = feedback(capsys, check.ex04_2, my_train_nn)
    assert "my_train_nn calls my_linear, which still raises NotImplementedError" in text


def test_checks_leave_the_global_random_generators_alone(capsys):
    torch_state, np_state = (torch.random.get_rng_state(), np.random.get_state()[1].copy())
    for check_fn, answer in RIGHT:
        feedback(capsys, check_fn, *arguments(check_fn, answer))
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)


# ---------------------------------------------------------------- verdicts and points (grading)


@pytest.mark.parametrize(("check_fn", "answer"), RIGHT, ids=IDS)
def test_a_right_answer_earns_the_points_declared_for_its_check(capsys, check_fn, answer):
    verdict = check_fn(*arguments(check_fn, answer))
    name = check_fn.__name__
    assert verdict and verdict.status == "pass"
    assert verdict.points == verdict.max_points == check.POINTS[name]
    assert verdict.exercise == f"{int(name[2:4])}.{name[5:]}"
    assert verdict.message == capsys.readouterr().out.rstrip("\n")


def test_a_wrong_or_unanswered_exercise_earns_no_points_and_is_falsy(capsys):
    wrong = check.ex01_1(lambda X, y, y_hat: 0.5)
    todo_ = check.ex01_3(lambda *args: todo())
    capsys.readouterr()
    assert (wrong.status, wrong.points, wrong.max_points, bool(wrong)) == ("fail", 0, 1, False)
    assert (todo_.status, todo_.points, todo_.max_points, bool(todo_)) == ("todo", 0, 2, False)
    assert wrong.message.startswith("✗ Exercise 1.1: not yet.")


def test_points_are_declared_for_every_check_once_and_reward_the_stretching_ones_more():
    names = sorted(name for name in check.__all__ if name.startswith("ex"))
    assert sorted(check.POINTS) == names
    assert set(check.POINTS.values()) == {1, 2, 3}
    stretch = ["ex01_5", "ex02_4", "ex03_4", "ex04_5", "ex05_4", "ex06_4", "ex08_3"]
    assert [name for name, points in check.POINTS.items() if points == 3] == stretch
    assert sum(check.POINTS.values()) == 56


def test_a_verdict_is_frozen_and_short_and_a_notebook_shows_only_the_printed_line(capsys):
    from dataclasses import FrozenInstanceError

    from IPython.core.formatters import DisplayFormatter

    verdict = check.ex01_3(right_train)
    capsys.readouterr()
    assert repr(verdict) == "<Verdict 1.3: pass, 2/2 points>"
    assert DisplayFormatter().format(verdict) == ({}, {})  # no Out[] echo under the line
    with pytest.raises(FrozenInstanceError):
        verdict.points = 5


@pytest.mark.parametrize("answers", [(), (right_gradient, right_gradient)], ids=["none", "two"])
def test_calling_a_check_with_too_few_or_too_many_answers_says_how_to_call_it(capsys, answers):
    text = feedback(capsys, check.ex01_1, *answers)
    fails_with(text, "check.ex01_1 takes my_gradient: call check.ex01_1(my_gradient).")


# ---------------------------------------------------------------- lesson 01: the classic mistakes


def test_the_np_dot_mean_bug_is_called_n_times_too_large(capsys):
    text = feedback(
        capsys, check.ex01_1, lambda X, y, y_hat: float(np.dot(2 * X, y_hat - y).mean())
    )
    fails_with(text, "7 times too large, and 7 is the number of samples", "np.dot already sums")


def test_a_flipped_residual_is_called_the_wrong_sign(capsys):
    text = feedback(capsys, check.ex01_1, lambda X, y, y_hat: float(np.mean(2 * X * (y - y_hat))))
    fails_with(text, "wrong sign", "y_hat - y")


def test_a_missing_factor_two_is_called_half(capsys):
    text = feedback(capsys, check.ex01_1, lambda X, y, y_hat: float(np.mean(X * (y_hat - y))))
    fails_with(text, "exactly half", "factor 2")


def test_a_per_sample_array_is_called_the_wrong_shape(capsys):
    text = feedback(capsys, check.ex01_1, lambda X, y, y_hat: 2 * X * (y_hat - y))
    fails_with(text, "should be one number, but has shape (7,)", "mean over the samples")


def test_returning_dw_and_db_where_only_dw_is_asked_is_named(capsys):
    fails_with(
        feedback(capsys, check.ex01_1, right_gradient_with_bias), "tuple of 2 items", "Only dw"
    )


def test_a_forgotten_bias_gradient_is_named(capsys):
    text = feedback(capsys, check.ex01_2, lambda X, y, y_hat: (right_gradient(X, y, y_hat), 0.0))
    fails_with(text, "the bias was forgotten", "db = mean(2 (y_hat - y))")


def test_a_single_gradient_where_a_pair_is_asked_is_named(capsys):
    fails_with(
        feedback(capsys, check.ex01_2, right_gradient), "should be a pair (dw, db)", "return dw, db"
    )


def test_swapped_dw_and_db_are_named(capsys):
    text = feedback(
        capsys, check.ex01_2, lambda X, y, y_hat: right_gradient_with_bias(X, y, y_hat)[::-1]
    )
    fails_with(text, "swapped")


def test_a_db_summed_over_samples_is_n_times_too_large(capsys):
    def my_gradient_with_bias(X, y, y_hat):
        return right_gradient(X, y, y_hat), float(np.sum(2 * (y_hat - y)))

    fails_with(
        feedback(capsys, check.ex01_2, my_gradient_with_bias), "Your db", "7 times too large"
    )


def test_a_loop_that_never_moves_b_is_named(capsys):
    def my_train(X, y, lr, num_epochs):
        w = 0.0
        for _ in range(num_epochs):
            w -= lr * mse_gradient(X, y, forward(X, w, 0.0))[0]
        return w, 0.0

    fails_with(feedback(capsys, check.ex01_3, my_train), "b never moved")


def test_a_loop_one_epoch_short_is_named(capsys):
    text = feedback(
        capsys, check.ex01_3, lambda X, y, lr, num_epochs: right_train(X, y, lr, num_epochs - 1)
    )
    fails_with(text, "one epoch too few")


def test_a_loop_with_the_classic_summed_gradient_is_named(capsys):
    text = feedback(
        capsys,
        check.ex01_3,
        lambda X, y, lr, num_epochs: right_train(X, y, len(X) * lr, num_epochs),
    )
    fails_with(text, "30 times too large", "sums over the samples")


def test_gradient_ascent_that_blows_up_gets_a_hint_not_a_nan(capsys):
    def my_train(X, y, lr, num_epochs):
        return float("nan"), float("nan")

    fails_with(feedback(capsys, check.ex01_3, my_train), "blew up", "Subtract lr * gradient")


def test_gradient_ascent_is_named_by_the_sign_of_the_step(capsys):
    def my_train(X, y, lr, num_epochs):
        w, b = 0.0, 0.0
        for _ in range(num_epochs):
            dw, db = mse_gradient(X, y, forward(X, w, b))
            w, b = w + lr * dw, b + lr * db  # up the slope
        return w, b

    text = feedback(capsys, check.ex01_3, my_train)
    fails_with(text, "you moved up the slope: subtract lr * gradient (w = w - lr * dw", "sign")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda X: 1 / (2 * float(np.mean(X**2))), "that is 1/L"),
        (lambda X: 1 / float(np.sum(X**2)), "the sum of x²"),
        (lambda X: 2 / float(np.mean(X**2)), "already holds the factor 2"),
        (lambda X: 0.1, "shrinks iff |1 - lr L| < 1"),
    ],
    ids=["one_over_L", "sum_not_mean", "factor_two_twice", "a_constant_lr"],
)
def test_a_wrong_learning_rate_bound_gets_its_specific_hint(capsys, answer, hint):
    fails_with(feedback(capsys, check.ex01_4, answer), hint)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (
            lambda X, y, y_hat: (2 / len(y) * X @ np.ones(X.shape[1]), 0.0),
            "one number per *sample*",
        ),
        (lambda X, y, y_hat: (2 * X * (y_hat - y)[:, None], 0.0), "per-sample terms"),
        (
            lambda X, y, y_hat: (float(np.mean(2 * X.T @ (y_hat - y))), 0.0),
            "summed over the features too",
        ),
        (lambda X, y, y_hat: (2 * X.T @ (y_hat - y), 0.0), "40 times too large"),
    ],
    ids=["per_sample", "per_sample_and_feature", "scalar", "sum_not_mean"],
)
def test_a_wrong_shape_of_the_many_feature_gradient_is_named(capsys, answer, hint):
    fails_with(feedback(capsys, check.ex01_5, answer), hint)


def test_the_classic_matmul_shape_error_is_reported_kindly(capsys):
    text = feedback(capsys, check.ex01_5, lambda X, y, y_hat: (X @ (y_hat - y), 0.0))
    fails_with(text, "raised ValueError", "ndarray of shape (40, 3)")


# ---------------------------------------------------------------- lesson 02: autograd by hand
ASSIGNS = "your backward_step *assigns* (a.grad = ...)"
OUT_GRAD = "multiply by out.grad"
NEVER = "the gradient never arrived: set out.backward_step = backward_step"


@pytest.mark.parametrize(
    ("exp", "hint"),
    [
        (right_exp(assign=True), ASSIGNS),
        (right_exp(out_grad=False), OUT_GRAD),
        (unary("exp", math.exp, lambda x, y: x), "the local derivative of exp is exp itself"),
        (right_exp(record=False), "exp(a).inputs does not hold the Values it was computed from"),
        (right_exp(attach=False), NEVER),
        (unary("exp", lambda x: math.exp(x) + 1, lambda x, y: y), "should be math.exp(a.data)"),
    ],
    ids=["assigns", "no_out_grad", "derivative_a", "no_inputs", "no_backward", "value"],
)
def test_each_classic_slip_in_exp_gets_its_hint(capsys, exp, hint):
    fails_with(feedback(capsys, check.ex02_1, exp, Value), hint)


@pytest.mark.parametrize(
    ("relu", "hint"),
    [
        (unary("relu", lambda x: max(0.0, x), lambda x, y: 1.0), "relu is flat where a < 0"),
        (unary("relu", lambda x: max(0.0, x), lambda x, y: float(x >= 0)), "at the kink a = 0"),
        (right_relu(assign=True), ASSIGNS),
        (right_relu(out_grad=False), OUT_GRAD),
        (right_relu(record=False), "relu(a).inputs does not hold the Values it was computed from"),
        (unary("relu", lambda x: x, lambda x, y: float(x > 0)), "Use max(0.0, a.data)"),
    ],
    ids=["slope_one_everywhere", "kink", "assigns", "no_out_grad", "no_inputs", "not_clamped"],
)
def test_each_classic_slip_in_relu_gets_its_hint(capsys, relu, hint):
    fails_with(feedback(capsys, check.ex02_2, relu, Value), hint)


@pytest.mark.parametrize(
    ("mul_fixed", "hint"),
    [
        (mul_fixed_with(assign_a=True, assign_b=True), "`a.grad = ...` replaced it"),
        (mul_fixed_with(assign_b=True), "`b.grad = ...` replaced it"),
        (mul_fixed_with(swap=True), "with respect to a is b"),
        (mul_fixed_with(at_once=True), "a and b are the same Value here"),
        (mul_fixed_with(out_grad=False), OUT_GRAD),
        (
            mul_fixed_with(record=False),
            "mul(a, b).inputs does not hold the Values it was computed from",
        ),
    ],
    ids=["unfixed", "half_fixed", "swapped", "both_at_once", "no_out_grad", "no_inputs"],
)
def test_each_classic_slip_in_the_fixed_mul_gets_its_hint(capsys, mul_fixed, hint):
    fails_with(feedback(capsys, check.ex02_3, mul_fixed, Value), hint)


@pytest.mark.parametrize(
    ("answer", "hints"),
    [
        (lambda *a: gradient_with_values(*a, mean=False), ["6 times too large", "*mean*"]),
        (lambda *a: gradient_with_values(*a, sign=-1.0), ["wrong sign", "return it as it is"]),
        (lambda *a: gradient_with_values(*a)[::-1], ["dw and db are swapped"]),
        (lambda *a: gradient_with_values(*a, bias=False), ["the bias was forgotten"]),
        (lambda *a: gradient_with_values(*a, backward=False), ["both gradients are 0"]),
        (lambda X, y, w, b: (Value(w), Value(b)), ["you returned a Value", "(w.grad, b.grad)"]),
        (lambda X, y, w, b: (w, b), ["that is w and b themselves"]),
    ],
    ids=["sum_not_mean", "sign", "swapped", "no_bias", "no_backward", "values", "data"],
)
def test_each_classic_slip_in_the_gradient_by_values_gets_its_hint(capsys, answer, hints):
    fails_with(feedback(capsys, check.ex02_4, answer, Value), *hints)


def test_a_lesson_02_check_without_the_value_class_says_what_to_pass(capsys):
    text = feedback(capsys, check.ex02_1, right_exp())
    fails_with(text, "pass the lesson's Value class too: check.ex02_1(exp, Value).")


def test_returning_a_number_instead_of_a_value_is_named(capsys):
    text = feedback(capsys, check.ex02_2, lambda a: max(0.0, a.data), Value)
    fails_with(text, "relu should return a Value, but returned a float")


def test_an_unanswered_backward_says_not_answered_yet(capsys):
    def exp(a):
        out = Value(math.exp(a.data), (a,), "exp")

        def backward_step():
            raise NotImplementedError

        out.backward_step = backward_step
        return out

    text = feedback(capsys, check.ex02_1, exp, Value)
    assert text.startswith("… Exercise 2.1: not answered yet. backward() on exp(a) still raises")


def test_a_crash_inside_backward_is_named_kindly(capsys):
    def exp(a):
        out = Value(math.exp(a.data), (a,), "exp")

        def backward_step():
            a.grad += math.exp(a.data) * out_grad  # noqa: F821 (the student's typo)

        out.backward_step = backward_step
        return out

    text = feedback(capsys, check.ex02_1, exp, Value)
    fails_with(text, "backward() on exp(a) raised NameError: name 'out_grad' is not defined")


def test_the_checks_of_lesson_02_hold_no_engine_of_their_own():
    from gdlessons.check import lesson02

    classes = [v for v in vars(lesson02).values() if isinstance(v, type)]
    assert not any(hasattr(c, "backward") or hasattr(c, "backward_step") for c in classes)


# ---------------------------------------------------------------- lesson 03


def test_reading_grad_without_backward_is_named(capsys):
    def my_autograd_gradient(X, y, w, b):
        w, b = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        mse_loss(forward(X, w, b), y)  # no backward
        return w.grad, b.grad

    fails_with(
        feedback(capsys, check.ex03_1, my_autograd_gradient),
        "gradient is None",
        "requires_grad=True",
    )


def test_returning_the_loss_instead_of_the_gradient_is_named(capsys):
    def my_autograd_gradient(X, y, w, b):
        loss = mse_loss(forward(X, w, b), y).item()
        return loss, loss

    fails_with(feedback(capsys, check.ex03_1, my_autograd_gradient), "the loss, not its gradient")


def test_a_doubled_autograd_gradient_points_at_accumulation(capsys):
    def my_autograd_gradient(X, y, w, b):
        w, b = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
        for _ in range(2):
            mse_loss(forward(X, w, b), y).backward()
        return w.grad, b.grad

    fails_with(
        feedback(capsys, check.ex03_1, my_autograd_gradient),
        "exactly twice",
        "backward() adds into .grad",
    )


def test_zeroing_the_gradient_in_the_bug_exercise_is_named(capsys):
    text = feedback(
        capsys, check.ex03_2, lambda X, y, lr, n: forgot_zero_grad(X, y, lr, n, zero=True)
    )
    fails_with(text, "these are the *correct* gradients", "wants the bug")


def test_appending_the_grad_tensor_itself_is_named(capsys):
    text = feedback(
        capsys, check.ex03_2, lambda X, y, lr, n: forgot_zero_grad(X, y, lr, n, append=lambda g: g)
    )
    fails_with(text, "appended the tensor w.grad itself", "w.grad.item()")


def test_a_prediction_that_forgets_w_moves_further_is_named(capsys):
    def my_predicted_grads(X, y, lr, num_epochs):
        w, total, grads = 0.0, 0.0, []
        for _ in range(num_epochs):
            dw = mse_gradient(X, y, forward(X, w))[0]
            total += dw
            grads.append(total)
            w -= lr * dw  # the correct run's step
        return grads

    fails_with(
        feedback(capsys, check.ex03_3, my_predicted_grads), "w moves by the *accumulated* gradient"
    )


def test_the_wrong_number_of_gradients_is_named(capsys):
    text = feedback(capsys, check.ex03_3, lambda X, y, lr, n: predicted_grads(X, y, lr, n)[:-1])
    fails_with(text, "returned 5 values for num_epochs = 6")


def test_the_squared_error_gradient_in_the_mae_exercise_is_named(capsys):
    fails_with(
        feedback(capsys, check.ex03_4, right_autograd_gradient), "gradient of the *squared* error"
    )


# ---------------------------------------------------------------- lesson 04


def test_setting_a_parameter_outside_no_grad_is_named(capsys):
    def my_linear(w, b):
        layer = nn.utils.skip_init(nn.Linear, 1, 1)
        layer.weight.fill_(w)
        return layer

    fails_with(feedback(capsys, check.ex04_1, my_linear), "raised RuntimeError", "torch.no_grad()")


def test_a_layer_without_bias_is_named(capsys):
    fails_with(feedback(capsys, check.ex04_1, lambda w, b: linear(w, b, bias=False)), "has no bias")


def test_returning_the_weight_instead_of_the_layer_is_named(capsys):
    fails_with(
        feedback(capsys, check.ex04_1, lambda w, b: linear(w, b).weight), "should return the layer"
    )


def test_a_flat_target_in_the_pipeline_is_named_as_broadcasting(capsys):
    text = feedback(capsys, check.ex04_2, lambda X, y, lr, n: nn_loop(X, y, lr, n, flat_y=True))
    fails_with(text, "y is still flat, shape (12,)", "y.reshape(-1, 1)")


def test_a_forgotten_zero_grad_in_the_pipeline_is_named(capsys):
    text = feedback(capsys, check.ex04_2, lambda X, y, lr, n: nn_loop(X, y, lr, n, zero_grad=False))
    fails_with(text, "optimizer.zero_grad()")


def test_a_pipeline_without_bias_is_named(capsys):
    fails_with(feedback(capsys, check.ex04_2, lambda X, y, lr, n: (1.0, None)), "b is None", "bias")


def test_a_diverging_lr_for_new_data_points_at_the_bound_with_bias(capsys):
    def my_fit_three_ways(X, y):
        return tuple(
            t(X, y, lr=0.2, num_epochs=300, b0=0.0) for t in (train_numpy, train_autograd, train_nn)
        )

    text = feedback(capsys, check.ex04_3, my_fit_three_ways)
    fails_with(text, "raised DivergenceError", "lipschitz_constant(X, bias=True)")


def test_fitting_new_data_without_bias_is_named(capsys):
    text = feedback(
        capsys,
        check.ex04_3,
        lambda X, y: tuple(t(X, y, 0.06, 10) for t in (train_numpy, train_autograd, train_nn)),
    )
    fails_with(text, "has no bias", "b0=0.0")


def test_too_few_epochs_for_new_data_is_named(capsys):
    fails_with(
        feedback(
            capsys, check.ex04_3, lambda X, y: fit_three_ways(X, y, lr_factor=0.1, num_epochs=30)
        ),
        "not yet",
        "more epochs",
    )


def test_three_runs_with_different_settings_are_named(capsys):
    def my_fit_three_ways(X, y):
        L = lipschitz_constant(X, bias=True)
        return fit_three_ways(X, y)[:2] + (train_nn(X, y, 1.4 / L, 400, b0=0.0),)

    fails_with(feedback(capsys, check.ex04_3, my_fit_three_ways), "trajectories differ")


def test_the_matching_shape_loss_in_the_broadcast_exercise_is_named(capsys):
    text = feedback(
        capsys, check.ex04_4, lambda y_hat, y: float(np.mean((y_hat.reshape(-1) - y) ** 2))
    )
    fails_with(text, "loss with matching shapes", "(6, 6) table")


def test_returning_the_broadcast_table_is_named(capsys):
    fails_with(
        feedback(capsys, check.ex04_4, lambda y_hat, y: (y_hat - y) ** 2),
        "nn.MSELoss returns its mean",
    )


def test_the_sum_loss_at_an_unchanged_lr_is_named(capsys):
    text = feedback(capsys, check.ex04_5, lambda X, y, lr, n: nn_loop(X, y, lr, n, reduction="sum"))
    fails_with(text, "n times larger", "Divide lr by n = 20")


def test_the_sum_loss_with_lr_times_n_is_named(capsys):
    text = feedback(
        capsys,
        check.ex04_5,
        lambda X, y, lr, n: nn_loop(X, y, lr, n, reduction="sum", lr_scale=len(X)),
    )
    assert text.startswith("✗") and ("Divide by n instead" in text or "blew up" in text), text


# ---------------------------------------------------------------- lesson 05


def test_plain_tensors_instead_of_parameters_are_named(capsys):
    text = feedback(capsys, check.ex05_1, lambda d: MyLinearRegression(d, wrap=lambda t: t))
    fails_with(text, "parameters() is empty", "nn.Parameter")


def test_a_forgotten_super_init_is_named(capsys):
    class MyLinearRegression(nn.Module):
        def __init__(self, num_features):
            self.w = nn.Parameter(torch.zeros(num_features))

    fails_with(
        feedback(capsys, check.ex05_1, MyLinearRegression),
        "raised AttributeError",
        "super().__init__()",
    )


def test_a_column_weight_is_named_by_its_shape(capsys):
    text = feedback(capsys, check.ex05_1, lambda d: MyLinearRegression(d, shape=(d, 1)))
    fails_with(text, "should be w of shape (3,) and b of shape ()")


def test_a_forward_that_detaches_the_parameters_is_named(capsys):
    class Detached(MyLinearRegression):
        def forward(self, X):
            return X @ self.w.detach() + self.b.detach()

    fails_with(feedback(capsys, check.ex05_1, Detached), "does not track gradients")


def test_an_unanswered_forward_says_not_answered_yet(capsys):
    class Half(MyLinearRegression):
        def forward(self, X):
            raise NotImplementedError

    assert "not answered yet. forward still raises" in feedback(capsys, check.ex05_1, Half)


def test_unshuffled_batches_are_named(capsys):
    text = feedback(capsys, check.ex05_2, lambda *args: minibatch_loop(*args, shuffle=False))
    fails_with(text, "never shuffled", "shuffle=True")


def test_one_full_batch_step_per_epoch_is_named(capsys):
    text = feedback(capsys, check.ex05_2, lambda *args: minibatch_loop(*args, full_batch=True))
    fails_with(text, "one full-batch step per epoch")


def test_a_differently_seeded_shuffle_gets_the_seeding_hint(capsys):
    text = feedback(
        capsys,
        check.ex05_2,
        lambda X, y, lr, n, bs, seed: minibatch_loop(X, y, lr, n, bs, seed + 1),
    )
    fails_with(text, "generator=torch.Generator().manual_seed(seed)")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (
            lambda *a: noise_floor(*a, batch_power=0.5),
            "shrinks as 1/sqrt(B), but the floor follows",
        ),
        (lambda *a: noise_floor(*a, batch_power=0.0), "divide by the batch size"),
        (lambda *a: noise_floor(*a, batch_power=2.0), "s^2 / B, not s^2 / B^2"),
        (lambda *a: noise_floor(*a, small_lr=True), "the small-lr approximation"),
        (lambda *a: 2 / a[2] * noise_floor(*a), "the squared distance"),
        (lambda *a: 2 * noise_floor(*a), "a factor 1/2"),
    ],
    ids=["sqrt_B", "no_B", "B_squared", "small_lr", "e_squared", "no_half"],
)
def test_each_slip_in_the_noise_floor_gets_its_hint(capsys, answer, hint):
    text = feedback(capsys, check.ex05_3, answer)
    fails_with(text, "your floor is", hint)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (
            lambda opt, n: torch.optim.lr_scheduler.StepLR(opt, step_size=10 * n, gamma=0.1),
            "your lr is still 0.1 at the last step",
        ),
        (lambda opt, n: cosine(opt, n, T_max=2), "falls and then rises again"),
        (
            lambda opt, n: torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.8),
            "almost 0 after",
        ),
        (lambda opt, n: torch.optim.SGD([torch.zeros(1)], lr=0.1), "should return a scheduler"),
        (lambda opt, n: cosine(torch.optim.SGD([torch.zeros(1)], lr=0.1), n), "not from a new one"),
    ],
    ids=["never_decays", "t_max_in_epochs", "decays_too_early", "no_scheduler", "own_optimizer"],
)
def test_a_schedule_that_does_not_get_below_the_floor_gets_its_hint(capsys, answer, hint):
    fails_with(feedback(capsys, check.ex05_4, answer), hint)


def test_a_step_decay_and_a_warmup_then_cosine_both_pass(capsys):
    def warmup_cosine(opt, n):
        warmup = torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=20)
        return torch.optim.lr_scheduler.SequentialLR(
            opt, [warmup, cosine(opt, n, T_max=n - 20)], milestones=[20]
        )

    step = lambda opt, n: torch.optim.lr_scheduler.StepLR(opt, step_size=n // 4, gamma=0.3)  # noqa: E731
    for answer in (warmup_cosine, step):
        assert passes(feedback(capsys, check.ex05_4, answer))


def test_a_schedule_that_raises_the_lr_until_it_diverges_is_named(capsys):
    def rising(opt, n):
        return torch.optim.lr_scheduler.LambdaLR(opt, lambda step: 1.05**step)

    fails_with(feedback(capsys, check.ex05_4, rising), "diverged", "at or below the optimizer's lr")


# ---------------------------------------------------------------- lesson 06


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda X: best_lr(X, bias=False), "append a column of ones"),
        (lambda X: best_lr(X, factor=1.0), "a square's second derivative has a 2"),
        (lambda X: best_lr(X, factor=2.0 * len(X)), "a mean over the n samples"),
        (lambda X: best_lr(X, bound=True), "the largest lr that still converges"),
        (lambda X: best_lr(X) / 2, "exactly half"),
    ],
    ids=["no_bias", "no_factor_2", "no_1_over_n", "the_bound", "half"],
)
def test_each_slip_in_the_best_learning_rate_gets_its_hint(capsys, answer, hint):
    fails_with(feedback(capsys, check.ex06_1, answer), "the best constant lr is", hint)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda *a: fit_predict(*a, transform_new=False), "went into the model raw"),
        (lambda *a: fit_predict(*a, stats="new"), "with their own mean and std"),
        (lambda *a: fit_predict(*a, stats="all"), "compute them on X_train alone"),
    ],
    ids=["new_not_transformed", "new_own_statistics", "all_data_statistics"],
)
def test_each_standardization_mistake_gets_its_hint(capsys, answer, hint):
    fails_with(feedback(capsys, check.ex06_2, answer), "predictions for 6 new inputs", hint)


def test_the_n_minus_1_standard_deviation_of_torch_is_named(capsys):
    def ddof_1(X_train, y_train, X_new, lr, num_epochs):
        mean, std = X_train.mean(axis=0), torch.from_numpy(X_train).std(dim=0).numpy()
        h = train_numpy((X_train - mean) / std, y_train, lr, num_epochs, b0=0.0)
        return forward((X_new - mean) / std, h.w_final, h.b_final)

    fails_with(feedback(capsys, check.ex06_2, ddof_1), "divides by n - 1")


def test_a_velocity_that_does_not_carry_over_is_named(capsys):
    text = feedback(capsys, check.ex06_3, lambda *args: momentum_loop(*args, keep_velocity=False))
    fails_with(text, "plain gradient descent", "carry over")


def test_a_dampened_velocity_is_named(capsys):
    text = feedback(
        capsys, check.ex06_3, lambda X, y, lr, m, n: momentum_loop(X, y, lr, m, n, dampening=m)
    )
    fails_with(text, "without a (1 - momentum) factor")


def test_adam_without_bias_correction_is_named_on_its_first_step(capsys):
    text = feedback(capsys, check.ex06_4, lambda *a: adam_step(*a, correct=False))
    fails_with(text, "Step 1 from w", "3.16 times too large")


def test_adam_that_keeps_its_old_running_means_is_named(capsys):
    text = feedback(capsys, check.ex06_4, lambda *a: adam_step(*a, new_state=False))
    fails_with(text, "After 25 steps", "return the new m and s too")


def test_adam_returning_only_the_parameters_is_named(capsys):
    text = feedback(capsys, check.ex06_4, lambda *a: adam_step(*a)[0])
    fails_with(text, "should return three arrays, (w, m, s)")


# ---------------------------------------------------------------- lesson 08


def test_summing_the_shard_gradients_is_k_times_too_large(capsys):
    text = feedback(capsys, check.ex08_1, lambda *args: shard_mean(*args, combine=np.sum))
    fails_with(text, "3 times too large, and 3 is the number of workers", "divide by world_size")


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda g, s: combine(g, s, weigh=False), "plain mean of the shards' gradients"),
        (
            lambda g, s: combine(g, s, divide_by="nothing"),
            "divide it by the total number of samples, 17",
        ),
        (lambda g, s: combine(g, s, divide_by="shards"), "not by the number of shards (3)"),
    ],
    ids=["plain_mean", "no_division", "by_shards"],
)
def test_a_wrong_combination_of_unequal_shards_gets_its_hint(capsys, answer, hint):
    fails_with(feedback(capsys, check.ex08_2, answer), hint)


def test_summed_worker_gradients_are_named_as_k_times_larger_steps(capsys):
    text = feedback(capsys, check.ex08_3, lambda *args: data_parallel(*args, average=False))
    fails_with(text, "4 times too large", "all_reduce sums")


def test_one_worker_alone_is_named(capsys):
    text = feedback(capsys, check.ex08_3, lambda *args: data_parallel(*args, workers=1))
    fails_with(text, "worker 0 alone")
