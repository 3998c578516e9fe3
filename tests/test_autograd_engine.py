"""Lesson 02's autograd engine, loaded from the lesson itself, against torch in float64.

The engine is written once, in the lesson's cells tagged ``engine``; these tests execute exactly
those cells into a namespace (no copy of the engine lives anywhere else). Random expression graphs
(hypothesis) with reused nodes, numbers on either side, division, negation and powers are
evaluated by the engine and by torch in float64: values and every input's gradient agree to 1e-9.
The same check applied to the engine with ``+=`` turned into ``=`` must fail.
"""

import math
import re
from pathlib import Path

import nbformat
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]


def engine_lesson():
    """The lesson whose cells carry the ``engine`` tag (found by tag, not by number)."""
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = [c.source for c in nb.cells if "engine" in c.metadata.get("tags", [])]
        if cells:
            return path, "\n\n".join(cells)
    raise AssertionError("no lesson has cells tagged 'engine'")


LESSON, SOURCE = engine_lesson()


def load(source=SOURCE):
    namespace = {}
    exec(compile(source, str(LESSON), "exec"), namespace)
    return namespace


ENGINE = load()
Value = ENGINE["Value"]

# An expression is a list of steps over a pool that starts with 3 inputs; each step appends one
# result, so later steps reuse inputs and earlier results (shared nodes are the hard part).
UNARY = ["neg", "square", "cube", "inverse", "half_power"]
BINARY = ["add", "sub", "mul", "div", "radd", "rsub", "rmul", "rdiv"]
step = st.one_of(
    st.tuples(st.sampled_from(UNARY), st.integers(0, 50)),
    st.tuples(st.sampled_from(BINARY), st.integers(0, 50), st.integers(0, 50)),
)
number = st.floats(0.5, 2.0).map(lambda v: round(v, 3))


def evaluate(steps, inputs, const):
    """Run the steps on ``inputs`` (Values or tensors), with the number ``const``."""
    pool = list(inputs)
    for op, *args in steps:
        a, b = (pool[i % len(pool)] for i in (args + args)[:2])
        if op == "neg":
            out = -a
        elif op == "square":
            out = a**2
        elif op == "cube":
            out = a**3 * const
        elif op == "inverse":
            out = (a * a + 1.0) ** -1  # never divides by 0
        elif op == "half_power":
            out = (a * a + 0.5) ** 0.5
        elif op == "add":
            out = a + b
        elif op == "sub":
            out = a - b
        elif op == "mul":
            out = a * b
        elif op == "div":
            out = a / (b * b + 1.0)
        elif op == "radd":
            out = const + a
        elif op == "rsub":
            out = const - a
        elif op == "rmul":
            out = const * a
        else:  # rdiv
            out = const / (a * a + 1.0)
        pool.append(out)
    return pool[-1] + pool[0] * pool[-1]  # the first input is used at least twice


def compare(engine, steps, data, const):
    Val = engine["Value"]
    leaves = [Val(v) for v in data]
    result = evaluate(steps, leaves, const)
    result.backward()
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in data]
    expected = evaluate(steps, tensors, const)
    expected.backward()
    scale = max(1.0, abs(expected.item()))
    assert math.isclose(result.data, expected.item(), rel_tol=1e-9, abs_tol=1e-9 * scale)
    for leaf, tensor in zip(leaves, tensors):
        want = 0.0 if tensor.grad is None else tensor.grad.item()  # an unused input: no grad
        assert math.isclose(leaf.grad, want, rel_tol=1e-9, abs_tol=1e-9 * max(1.0, abs(want)))


@given(st.lists(step, min_size=1, max_size=12), st.lists(number, min_size=3, max_size=3), number)
def test_values_and_gradients_match_torch_in_float64(steps, data, const):
    compare(ENGINE, steps, data, const)


def test_with_assignment_instead_of_accumulation_the_check_fails():
    broken_source = re.sub(r"\.grad \+= ", ".grad = ", SOURCE)
    assert broken_source != SOURCE
    broken = load(broken_source)
    with pytest.raises(AssertionError):
        compare(broken, [("mul", 0, 1)], [2.0, 3.0, 1.0], 1.0)  # w * x + w * (w * x)


def test_the_lesson_numbers_one_sample_and_the_whole_loss():
    w = Value(0.0)
    J = (w * 1.0 - 2.0) ** 2
    J.backward()
    assert (J.data, w.grad) == (4.0, -4.0)
    X, y = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]
    w = Value(0.0)
    loss = sum((w * x_i - y_i) ** 2 for x_i, y_i in zip(X, y)) / len(X)
    loss.backward()
    assert (loss.data, w.grad) == (30.0, -30.0)


def test_numbers_on_either_side_and_every_operator():
    w = Value(3.0)
    assert [(2 * w).data, (w + 1).data, (1 - w).data, (w - 1).data] == [6.0, 4.0, -2.0, 2.0]
    assert [(6 / w).data, (w / 2).data, (-w).data, (w**2).data] == [2.0, 1.5, -3.0, 9.0]


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Value(None), "real number"),
        (lambda: Value([1.0, 2.0]), "real number"),
        (lambda: Value(2.0) + None, "real number"),
        (lambda: Value(2.0) ** Value(2.0), "'float' and 'Value'"),
    ],
)
def test_bad_input_gets_a_sentence_that_says_what_is_wrong(make, words):
    with pytest.raises(TypeError, match=words):
        make()


def test_a_second_backward_adds_to_the_inputs_grad_like_torch_with_retain_graph():
    X, y = [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 6.0, 8.0]
    w = Value(0.0)
    loss = sum((w * x_i - y_i) ** 2 for x_i, y_i in zip(X, y)) / len(X)
    w_t = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    loss_t = sum((w_t * x_i - y_i) ** 2 for x_i, y_i in zip(X, y)) / len(X)
    for _ in range(3):  # intermediate nodes restart from 0 each time; only w.grad adds up
        loss.backward()
        loss_t.backward(retain_graph=True)
        assert w.grad == w_t.grad.item()
    assert w.grad == -90.0


def test_reverse_topological_order_where_a_naive_recursion_counts_a_reused_node_again():
    w = Value(0.0)
    r = w * 1.0 - 2.0
    loss = r * r  # r is used twice: its step must run once, after both uses have passed on
    loss.backward()
    assert (loss.data, w.grad) == (4.0, -4.0)


def test_the_engine_is_small():
    lines = SOURCE.splitlines()
    # About micrograd's size (its engine.py is 94 lines, with relu); ours has every operator a
    # learner writes, - and / included, and the operators' functions apart from the class.
    assert len(lines) <= 110, f"{len(lines)} lines; micrograd's engine.py is 94"
