"""Checks of lesson 02: autograd by hand, with the lesson's scalar ``Value`` class.

The student passes their function and the lesson's ``Value`` class. A check builds hidden graphs
with that class (leaves ``Value(x)``, its ``+ - *``, the student's function), calls ``backward()``
and compares ``.data`` and the leaves' ``.grad`` with torch in float64, to 1e-9. Each graph shows
classic slips by the gradient they give: a ``backward_step`` that assigns (a node used twice), forgets
``out.grad``, has a wrong local derivative; inputs not recorded. The checks hold no engine.

>>> verdict = ex02_1(lambda a: a)
✗ Exercise 2.1: not yet. pass the lesson's Value class too: check.ex02_1(exp, Value).
>>> verdict.status
'fail'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from gdlessons.check.core import (
    NotAnswered,
    Wrong,
    call,
    close,
    compare,
    diagnose,
    exercise,
    fmt,
    function,
    hidden,
    number,
    pair,
)
from gdlessons.numpy_gd import forward, mse_gradient

__all__ = ["ex02_1", "ex02_2", "ex02_3", "ex02_4"]

RTOL = 1e-9  # float64 all the way: the student's graph and torch agree to rounding
EXACT = {"rtol": RTOL, "mistake_rtol": RTOL}
NO_INPUTS = object()  # a known mistake: the function's output does not record its inputs

_NEAR = (
    "almost: right to 5 digits but not to 1e-9. Keep the graph in Python floats (float64, as "
    "math.exp gives): no np.float32 anywhere."
)


class Graph(NamedTuple):
    """A hidden expression: ``build(op, *leaves)``, the leaves' values, and known mistakes."""

    text: str
    build: Callable[..., Any]
    at: dict[str, float]
    mistakes: list[tuple[Any, str]]  # (the leaves' gradients it gives, or NO_INPUTS; the hint)
    value_mistakes: tuple[tuple[Any, str], ...] = ()


def _value_class(Value: Any, check: str, name: str) -> type:
    if not isinstance(Value, type):
        raise Wrong(f"pass the lesson's Value class too: check.{check}({name}, Value).")
    return Value


def _attempt(action: Callable[[], Any], what: str) -> Any:
    """Run a step of building or back-propagating a graph; its errors become kind messages."""
    try:
        with np.errstate(all="ignore"):
            return action()
    except (Wrong, NotAnswered):
        raise
    except NotImplementedError:
        raise NotAnswered(
            f"{what} still raises NotImplementedError: put your code in place of the lines under "
            "# YOUR CODE HERE, run that cell, then this one."
        ) from None
    except Exception as err:  # noqa: BLE001 (the student's engine: named kindly)
        raise Wrong(
            f"{what} raised {type(err).__name__}: {err}\n  Hint: run it yourself in the lesson's "
            "notebook to see the line that fails."
        ) from None


def _read(obj: Any, attr: str, what: str) -> float:
    value = _attempt(lambda: getattr(obj, attr), f"reading {what}")
    if value is None:
        raise Wrong(f"{what} is None; it should be a number (a Value's .{attr} is a float).")
    return number(value, what)


def _records_inputs(made: list[tuple[tuple, Any]], Value: type) -> bool:
    """Whether each output of the student's function holds its Value arguments in .inputs."""
    for args, out in made:
        try:
            inputs = tuple(getattr(out, "inputs", ()))
        except Exception:  # noqa: BLE001 (a student's .inputs that is not a sequence)
            return False
        if any(isinstance(a, Value) and not any(i is a for i in inputs) for a in args):
            return False
    return True


def _run_graph(op: Callable[..., Any], name: str, Value: type, graph: Graph) -> tuple:
    """Build ``graph`` with the student's ``op``, call backward(); (data, grads, records)."""
    made: list[tuple[tuple, Any]] = []

    def student(*args: Any) -> Any:
        out = call(op, name, *args)
        if not isinstance(out, Value):
            kind = type(out).__name__
            kind += " of another class than the Value passed to the check" * (kind == "Value")
            raise Wrong(
                f"{name} should return a Value, but returned a {kind}. Wrap the result: return "
                f"Value(result, (inputs...), '{name}'), with its backward_step set."
            )
        made.append((args, out))
        return out

    leaves = [_attempt(lambda x=x: Value(x), f"Value({x})") for x in graph.at.values()]
    out = _attempt(lambda: graph.build(student, *leaves), f"building {graph.text}")
    if not isinstance(out, Value):
        raise Wrong(f"{graph.text} gave a {type(out).__name__}, not a Value.")
    _attempt(lambda: out.backward(), f"backward() on {graph.text}")
    grads = [_read(leaf, "grad", f"{leaf_name}.grad") for leaf, leaf_name in zip(leaves, graph.at)]
    return _read(out, "data", f"({graph.text}).data"), grads, _records_inputs(made, Value)


def _torch_graph(torch_op: Callable[..., Any], graph: Graph) -> tuple[float, list[float]]:
    import torch

    leaves = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in graph.at.values()]
    out = graph.build(torch_op, *leaves)
    out.backward()
    return out.item(), [0.0 if t.grad is None else t.grad.item() for t in leaves]


def _check_graphs(
    op: Callable[..., Any],
    name: str,
    Value: type,
    torch_op: Callable[..., Any],
    graphs: list[Graph],
    value_hint: str,
    grad_hint: str,
) -> None:
    """Compare the student's value and gradients with torch's on every graph, then diagnose."""
    for graph in graphs:
        data, grads, records = _run_graph(op, name, Value, graph)
        want_data, want_grads = _torch_graph(torch_op, graph)
        where = f"{graph.text} at " + ", ".join(f"{k} = {v:g}" for k, v in graph.at.items())
        compare(
            data,
            want_data,
            f"{where} is {data:.10g} with your {name}; torch gives {want_data:.10g}.",
            [*graph.value_mistakes, (close(data, want_data, rtol=1e-5), _NEAR)],
            value_hint,
            **EXACT,
        )
        mistakes = [(not records if m is NO_INPUTS else m, h) for m, h in graph.mistakes]
        compare(
            grads,
            want_grads,
            f"For {where}, your gradient is {_grads(graph, grads)}; torch gives "
            f"{_grads(graph, want_grads)}.",
            [*mistakes, (close(grads, want_grads, rtol=1e-5), _NEAR)],
            grad_hint,
            **EXACT,
        )


def _grads(graph: Graph, grads: list[float]) -> str:
    names = [f"{k}.grad" for k in graph.at]
    if len(names) == 1:
        return f"{names[0]} = {grads[0]:.10g}"
    return f"({', '.join(names)}) = ({', '.join(f'{g:.10g}' for g in grads)})"


def _hints(slope: str, call_text: str, record: str) -> dict[str, str]:
    """Hints for the classic slips of a function whose local derivative is ``slope``."""
    return {
        "twice": "a is used twice here and each use adds its part to a.grad, but your backward_step "
        f"*assigns* (a.grad = ...), which wipes out the part from `* a`. Accumulate: a.grad += "
        f"{slope} * out.grad.",
        "out.grad": f"multiply by out.grad: a.grad += {slope} * out.grad. Inside a larger graph "
        "out.grad is dL/d(out), not 1: that is the chain rule.",
        "inputs": f"{call_text}.inputs does not hold the Values it was computed from, so "
        "backward() never visits the nodes before it and the gradient never reaches them. Record "
        f"them: {record}.",
        "never": "the gradient never arrived: set out.backward_step = backward_step before returning "
        "out, so that backward() runs it.",
    }


@exercise("2.1", points=1)
def ex02_1(exp: Callable[..., Any], Value: Any = None) -> str:
    """Check ``exp(a) -> Value``: e to the power a, with its local derivative exp(a.data)."""
    import torch

    fn, Value = function(exp, "exp"), _value_class(Value, "ex02_1", "exp")
    h = _hints("math.exp(a.data)", "exp(a)", "Value(math.exp(a.data), (a,), 'exp')")
    local = (
        "the local derivative of exp is exp itself: a.grad += math.exp(a.data) * out.grad (that "
        "is out.data * out.grad), not a.data."
    )
    e = math.exp
    graphs = [
        Graph("exp(a)", lambda f, a: f(a), {"a": 0.7}, [([0.0], h["never"]), ([0.7], local)]),
        Graph(
            "exp(a * 2 - 1) * 3",
            lambda f, a: f(a * 2.0 - 1.0) * 3.0,
            {"a": 0.3},
            [(NO_INPUTS, h["inputs"]), ([2 * e(-0.4)], h["out.grad"]), ([-2.4], local)],
        ),
        Graph(
            "exp(a) * a",
            lambda f, a: f(a) * a,
            {"a": 0.8},
            [([0.8 * e(0.8)], h["twice"]), ([2 * e(0.8)], h["out.grad"]), ([e(0.8) + 0.64], local)],
        ),
    ]
    _check_graphs(
        fn,
        "exp",
        Value,
        torch.exp,
        graphs,
        "exp(a).data should be math.exp(a.data).",
        "exp's backward_step should add math.exp(a.data) * out.grad to a.grad (+=), and exp should "
        "return Value(math.exp(a.data), (a,), 'exp').",
    )
    return (
        "exp's value and gradient match torch on 3 hidden graphs: alone, inside a larger graph, "
        "and with a used twice."
    )


@exercise("2.2", points=1)
def ex02_2(relu: Callable[..., Any], Value: Any = None) -> str:
    """Check ``relu(a) -> Value``: max(0, a), with slope 1 for a > 0 and 0 otherwise."""
    import torch

    fn, Value = function(relu, "relu"), _value_class(Value, "ex02_2", "relu")
    h = _hints("(a.data > 0)", "relu(a)", "Value(max(0.0, a.data), (a,), 'relu')")
    flat = "relu is flat where a < 0, so its slope there is 0, not 1: a.grad += (a.data > 0) * "
    flat += "out.grad."
    kink = (
        "at the kink a = 0 relu has no single slope; take 0 there, as torch does: "
        "a.grad += (a.data > 0) * out.grad, with > rather than >=."
    )
    clamp = "relu(a) = max(0, a): for a < 0 the value is 0.0. Use max(0.0, a.data)."
    graphs = [
        Graph("relu(a)", lambda f, a: f(a), {"a": 1.5}, [([0.0], h["never"])]),
        Graph("relu(a)", lambda f, a: f(a), {"a": -0.7}, [([1.0], flat)], ((-0.7, clamp),)),
        Graph(
            "relu(a * 2 - 1) * 3",
            lambda f, a: f(a * 2.0 - 1.0) * 3.0,
            {"a": 1.25},
            [(NO_INPUTS, h["inputs"]), ([2.0], h["out.grad"]), ([0.0], h["never"])],
        ),
        Graph(
            "relu(a) * a",
            lambda f, a: f(a) * a,
            {"a": 0.8},
            [([0.8], h["twice"]), ([1.8], h["out.grad"])],
        ),
        Graph("relu(a)", lambda f, a: f(a), {"a": 0.0}, [([1.0], kink), ([0.5], kink)]),
    ]
    _check_graphs(
        fn,
        "relu",
        Value,
        torch.relu,
        graphs,
        "relu(a).data should be max(0.0, a.data).",
        "relu's backward_step should add (a.data > 0) * out.grad to a.grad (+=), and relu should "
        "return Value(max(0.0, a.data), (a,), 'relu').",
    )
    return (
        "relu's value and gradient match torch on 5 hidden graphs: a > 0, a < 0, the kink a = 0, "
        "inside a larger graph, and with a used twice."
    )


@exercise("2.3", points=2)
def ex02_3(mul_fixed: Callable[..., Any], Value: Any = None) -> str:
    """Check ``mul_fixed(a, b) -> Value``: the lesson's buggy ``mul``, fixed to accumulate."""
    import torch

    fn, Value = function(mul_fixed, "mul_fixed"), _value_class(Value, "ex02_3", "mul_fixed")
    h = _hints("b.data", "mul(a, b)", "Value(a.data * b.data, (a, b), '*')")
    twice = (
        "w is used twice: `+ w` had already put 1 into w.grad when mul's backward_step ran, and "
        "`{0} = ...` replaced it. Accumulate: {0} += {1}.data * out.grad."
    )
    swapped = "the derivative of a * b with respect to a is b: a.grad += b.data * out.grad and "
    swapped += "b.grad += a.data * out.grad."
    same = "a and b are the same Value here: with = the second line replaced the part of the "
    same += "first; with += both parts add up to 2 a."
    graphs = [
        Graph(
            "mul(a, b)",
            lambda f, a, b: f(a, b),
            {"a": 1.5, "b": -2.0},
            [([1.5, -2.0], swapped), ([0.0, 0.0], h["never"])],
        ),
        Graph(
            "mul(w, x) + w",
            lambda f, w, x: f(w, x) + w,
            {"w": 0.5, "x": 3.0},
            [([3.0, 0.5], twice.format("a.grad", "b"))],
        ),
        Graph(
            "mul(x, w) + w",
            lambda f, x, w: f(x, w) + w,
            {"x": 3.0, "w": 0.5},
            [([0.5, 3.0], twice.format("b.grad", "a"))],
        ),
        Graph("mul(a, a)", lambda f, a: f(a, a), {"a": -1.5}, [([-1.5], same)]),
        Graph(
            "mul(mul(a, b), c)",
            lambda f, a, b, c: f(f(a, b), c),
            {"a": 1.5, "b": -2.0, "c": 0.5},
            [(NO_INPUTS, h["inputs"]), ([-2.0, 1.5, -3.0], h["out.grad"])],
        ),
    ]
    _check_graphs(
        fn,
        "mul_fixed",
        Value,
        torch.mul,
        graphs,
        "mul(a, b).data should be a.data * b.data.",
        "mul's backward_step should add to both gradients: a.grad += b.data * out.grad and "
        "b.grad += a.data * out.grad.",
    )
    return (
        "mul_fixed matches torch on 5 hidden graphs, also where a Value is used twice "
        "(w * x + w, x * w + w, a * a)."
    )


@exercise("2.4", points=3)
def ex02_4(my_gradient_with_values: Callable[..., Any], Value: Any = None) -> str:
    """Check ``my_gradient_with_values(X, y, w, b) -> (dw, db)``: the MSE gradient of
    ``y_hat = w x + b``, by building the loss from Values and calling backward().
    """
    name = "my_gradient_with_values"
    fn = function(my_gradient_with_values, name)
    Value = _value_class(Value, "ex02_4", name)
    hints = {
        "n": "the loss is the *mean* of the squared errors: multiply their sum by 1 / n "
        "(n = len(X)), then call backward().",
        "sign": "w.grad is dJ/dw itself: return it as it is (the minus sign belongs to the "
        "update step, w - lr * dw).",
        "double": "there is one factor 2 too many, or backward() ran twice: it adds into .grad. "
        "Build the loss once and call loss.backward() once.",
        "other": "build the loss as in the lesson: the sum over the samples of "
        "(w * x + b - y) ** 2, times 1 / n, with w = Value(w) and b = Value(b); then "
        "loss.backward() and return (w.grad, b.grad).",
    }
    cases = [(6, (2.0, -1.0), (0.5, 0.25), 251), (11, (-1.5, 0.5), (-0.25, 1.0), 252)]
    for n, (w_true, b_true), (w, b), seed in cases:
        X32, y32 = hidden(n, w_true, b_true, seed)
        X, y = X32.astype(np.float64), y32.astype(np.float64)
        dw_want, db_want = mse_gradient(X, y, forward(X, w, b))
        result = call(fn, name, X.tolist(), y.tolist(), w, b)
        dw, db = pair(result, f"What {name} returns", "(w.grad, b.grad)")
        if isinstance(dw, Value) or isinstance(db, Value):
            raise Wrong(
                "you returned a Value, not a number: after loss.backward() the gradient is in "
                "its .grad. Return (w.grad, b.grad)."
            )
        dw, db = number(dw, "Your dw"), number(db, "Your db")
        if dw == 0.0 and db == 0.0:
            raise Wrong(
                "both gradients are 0: .grad is filled by loss.backward(). Build the loss from "
                "w = Value(w) and b = Value(b), call loss.backward(), then return "
                "(w.grad, b.grad)."
            )
        if close(dw, w, rtol=RTOL) and close(db, b, rtol=RTOL):
            raise Wrong(
                "that is w and b themselves (their .data); the gradients are w.grad and b.grad, "
                "after loss.backward()."
            )
        if close(dw, db_want, rtol=RTOL) and close(db, dw_want, rtol=RTOL):
            raise Wrong("dw and db are swapped. Return (w.grad, b.grad).")
        if db == 0.0:
            raise Wrong(
                f"Your db is 0, but on this hidden data (n = {n}) it is {fmt(db_want)}: the bias "
                "was forgotten.\n  Hint: build y_hat = w * x + b with b = Value(b), so that "
                "backward() reaches it too."
            )
        diagnose(dw, dw_want, n, "Your dw", hints, rtol=RTOL)
        diagnose(db, db_want, n, "Your db", hints, rtol=RTOL)
    return (
        "the gradient backward() gives through your loss of Values equals mse_gradient on two "
        "hidden data sets (n = 6 and n = 11)."
    )
