"""Checks of lesson 02: autograd by hand, with the lesson's scalar ``Value`` class.

A check builds hidden graphs with the student's function and ``Value`` class, runs ``backward()``
and compares ``.data`` and the leaves' ``.grad`` with torch in float64; each graph's classic slips
are the gradients they give. A graph is written once, as the text its messages quote.

>>> verdict = ex02_1(lambda a: a)
✗ Exercise 2.1: not yet. pass the lesson's Value class too: check.ex02_1(exp, Value).
>>> verdict.status
'fail'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from gdlessons.check.core import Wrong, call, close, number, read_pair
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Factor, Gives, Shows, exercise, hidden_case, mse_reference
from gdlessons.data import toy_data
from gdlessons.numpy_gd import forward

__all__ = ["ex02_1", "ex02_2", "ex02_3", "ex02_4", "predict02_a", "predict02_b", "predict02_c"]

EXACT = {"rtol": 1e-9, "mistake_rtol": 1e-9, "digits": 10}  # float64 all the way, as torch
NEAR = Shows(
    lambda got, c: close(got, c.want, rtol=1e-5),
    "almost: right to 5 digits but not to 1e-9. Keep the graph in Python floats (float64, as "
    "math.exp gives): no np.float32 anywhere.",
)
RUN_IT = "  Hint: run it yourself in the lesson's notebook to see the line that fails."


def _build(c: Case) -> tuple[list[Any], Any, list[tuple[tuple, Any]]]:
    """The graph with the student's function: its leaves, its output, that function's calls."""
    made: list[tuple[tuple, Any]] = []

    def student(*args: Any) -> Any:
        out = call(c.fn, c.name, *args)
        if not isinstance(out, c.Value):
            kind = type(out).__name__
            kind += " of another class than the Value passed to the check" * (kind == "Value")
            raise Wrong(
                f"{c.name} should return a Value, but returned a {kind}. Wrap the result: return "
                f"Value(result, (inputs...), '{c.name}'), with its backward_step set."
            )
        made.append((args, out))
        return out

    leaves = {k: call(lambda x=x: c.Value(x), f"Value({x})", hint=RUN_IT) for k, x in c.at.items()}
    out = call(
        lambda: eval(c.text, {c.op: student}, dict(leaves)), f"building {c.text}", hint=RUN_IT
    )
    if not isinstance(out, c.Value):
        raise Wrong(f"{c.text} gave a {type(out).__name__}, not a Value.")
    return list(leaves.values()), out, made


def _read(obj: Any, attr: str, what: str) -> float:
    value = call(lambda: getattr(obj, attr), f"reading {what}", hint=RUN_IT)
    if value is None:
        raise Wrong(f"{what} is None; it should be a number (a Value's .{attr} is a float).")
    return number(value, what)


def _run(fn: Callable[..., Any], c: Case) -> Any:
    """The graph's value (``c.part == "data"``), or its leaves' gradients after backward()."""
    leaves, out, _ = _build(c)
    if c.part == "data":
        return _read(out, "data", f"({c.text}).data")
    call(lambda: out.backward(), f"backward() on {c.text}", hint=RUN_IT)
    return np.array([_read(leaf, "grad", f"{k}.grad") for leaf, k in zip(leaves, c.at)])


def _torch(c: Case) -> Any:
    """The reference: the case's graph in torch, float64."""
    import torch

    leaves = {k: torch.tensor(x, dtype=torch.float64, requires_grad=True) for k, x in c.at.items()}
    out = eval(c.text, {c.op: getattr(torch, c.op)}, dict(leaves))
    if c.part == "data":
        return out.item()
    out.backward()
    return np.array([0.0 if t.grad is None else t.grad.item() for t in leaves.values()])


def _forgets_inputs(got: Any, c: Case) -> bool:
    """Whether an output of the student's function misses one of its Values in ``.inputs``."""
    for args, out in _build(c)[2]:
        try:
            inputs = tuple(getattr(out, "inputs", ()))
        except Exception:  # noqa: BLE001 (a student's .inputs that is not a sequence)
            return True
        if any(isinstance(a, c.Value) and not any(i is a for i in inputs) for a in args):
            return True
    return False


def _gradient_line(got: Any, c: Case) -> str:
    names = ", ".join(f"{k}.grad" for k in c.at)
    show = [", ".join(f"{g:.10g}" for g in grads) for grads in (got, c.want)]
    show = [f"{names} = {v}" if len(c.at) == 1 else f"({names}) = ({v})" for v in show]
    return f"For {c.where}, your gradient is {show[0]}; torch gives {show[1]}."


def graph_cases(op: str, value_hint: str, grad_hint: str, *graphs: tuple) -> list[Case]:
    """Two cases per hidden graph, its value then its gradient: (text, leaves' values, the
    gradient mistakes[, the value mistakes]), a mistake as (what it gives, hint); None for what
    it gives: the function's output does not record its inputs.
    """
    cases, line = [], "{where} is {got} with your {name}; torch gives {want}."
    for text, at, grads, *values in graphs:
        where = f"{text} at " + ", ".join(f"{k} = {v:g}" for k, v in at.items())
        graph = Case(op=op, text=text, at=at, where=where)
        gives = [Gives(lambda c, v=v: v, h) for v, h in (values[0] if values else [])]
        cases.append(graph.but(part="data", setting=line, otherwise=value_hint, mistakes=gives))
        gives = [
            Shows(_forgets_inputs, h) if v is None else Gives(lambda c, v=v: v, h) for v, h in grads
        ]
        cases.append(
            graph.but(part="grads", setting=_gradient_line, otherwise=grad_hint, mistakes=gives)
        )
    return cases


def graph_hints(slope: str, call_text: str, record: str) -> dict[str, str]:
    """Hints for the classic slips of a function whose local derivative is ``slope``."""
    return {
        "twice": "a is used twice here and each use adds its part to a.grad, but your "
        f"backward_step *assigns* (a.grad = ...), which wipes out the part from `* a`. "
        f"Accumulate: a.grad += {slope} * out.grad.",
        "out.grad": f"multiply by out.grad: a.grad += {slope} * out.grad. Inside a larger graph "
        "out.grad is dL/d(out), not 1: that is the chain rule.",
        "inputs": f"{call_text}.inputs does not hold the Values it was computed from, so "
        "backward() never visits the nodes before it and the gradient never reaches them. Record "
        f"them: {record}.",
        "never": "the gradient never arrived: set out.backward_step = backward_step before "
        "returning out, so that backward() runs it.",
    }


GRAPH = {"run": _run, "reference": _torch, "also": ("Value",), "mistakes": [NEAR], **EXACT}
e = math.exp
h = graph_hints("math.exp(a.data)", "exp(a)", "Value(math.exp(a.data), (a,), 'exp')")
LOCAL = "the local derivative of exp is exp itself: a.grad += math.exp(a.data) * out.grad (that "
LOCAL += "is out.data * out.grad), not a.data."
ex02_1 = exercise(
    "2.1",
    1,
    "exp(a) -> Value: e to the power a, with its local derivative exp(a.data)",
    cases=graph_cases(
        "exp",
        "exp(a).data should be math.exp(a.data).",
        "exp's backward_step should add math.exp(a.data) * out.grad to a.grad (+=), and exp "
        "should return Value(math.exp(a.data), (a,), 'exp').",
        ("exp(a)", {"a": 0.7}, [([0.0], h["never"]), ([0.7], LOCAL)]),
        (
            "exp(a * 2 - 1) * 3",
            {"a": 0.3},
            [(None, h["inputs"]), ([2 * e(-0.4)], h["out.grad"]), ([-2.4], LOCAL)],
        ),
        (
            "exp(a) * a",
            {"a": 0.8},
            [([0.8 * e(0.8)], h["twice"]), ([2 * e(0.8)], h["out.grad"]), ([e(0.8) + 0.64], LOCAL)],
        ),
    ),
    passed="exp's value and gradient match torch on 3 hidden graphs: alone, inside a larger "
    "graph, and with a used twice.",
    **GRAPH,
)

h = graph_hints("(a.data > 0)", "relu(a)", "Value(max(0.0, a.data), (a,), 'relu')")
FLAT = "relu is flat where a < 0, so its slope there is 0, not 1: a.grad += (a.data > 0) * "
FLAT += "out.grad."
KINK = "at the kink a = 0 relu has no single slope; take 0 there, as torch does: "
KINK += "a.grad += (a.data > 0) * out.grad, with > rather than >=."
CLAMP = "relu(a) = max(0, a): for a < 0 the value is 0.0. Use max(0.0, a.data)."
ex02_2 = exercise(
    "2.2",
    1,
    "relu(a) -> Value: max(0, a), with slope 1 for a > 0 and 0 otherwise",
    cases=graph_cases(
        "relu",
        "relu(a).data should be max(0.0, a.data).",
        "relu's backward_step should add (a.data > 0) * out.grad to a.grad (+=), and relu should "
        "return Value(max(0.0, a.data), (a,), 'relu').",
        ("relu(a)", {"a": 1.5}, [([0.0], h["never"])]),
        ("relu(a)", {"a": -0.7}, [([1.0], FLAT)], [(-0.7, CLAMP)]),
        (
            "relu(a * 2 - 1) * 3",
            {"a": 1.25},
            [(None, h["inputs"]), ([2.0], h["out.grad"]), ([0.0], h["never"])],
        ),
        ("relu(a) * a", {"a": 0.8}, [([0.8], h["twice"]), ([1.8], h["out.grad"])]),
        ("relu(a)", {"a": 0.0}, [([1.0], KINK), ([0.5], KINK)]),
    ),
    passed="relu's value and gradient match torch on 5 hidden graphs: a > 0, a < 0, the kink "
    "a = 0, inside a larger graph, and with a used twice.",
    **GRAPH,
)

h = graph_hints("b.data", "mul(a, b)", "Value(a.data * b.data, (a, b), '*')")
TWICE = "w is used twice: `+ w` had already put 1 into w.grad when mul's backward_step ran, and "
TWICE += "`{0} = ...` replaced it. Accumulate: {0} += {1}.data * out.grad."
SWAPPED = "the derivative of a * b with respect to a is b: a.grad += b.data * out.grad and "
SWAPPED += "b.grad += a.data * out.grad."
SAME = "a and b are the same Value here: with = the second line replaced the part of the "
SAME += "first; with += both parts add up to 2 a."
ex02_3 = exercise(
    "2.3",
    2,
    "mul_fixed(a, b) -> Value: the lesson's buggy mul, fixed to accumulate",
    cases=graph_cases(
        "mul",
        "mul(a, b).data should be a.data * b.data.",
        "mul's backward_step should add to both gradients: a.grad += b.data * out.grad and "
        "b.grad += a.data * out.grad.",
        ("mul(a, b)", {"a": 1.5, "b": -2.0}, [([1.5, -2.0], SWAPPED), ([0.0, 0.0], h["never"])]),
        ("mul(w, x) + w", {"w": 0.5, "x": 3.0}, [([3.0, 0.5], TWICE.format("a.grad", "b"))]),
        ("mul(x, w) + w", {"x": 3.0, "w": 0.5}, [([0.5, 3.0], TWICE.format("b.grad", "a"))]),
        ("mul(a, a)", {"a": -1.5}, [([-1.5], SAME)]),
        (
            "mul(mul(a, b), c)",
            {"a": 1.5, "b": -2.0, "c": 0.5},
            [(None, h["inputs"]), ([-2.0, 1.5, -3.0], h["out.grad"])],
        ),
    ),
    passed="mul_fixed matches torch on 5 hidden graphs, also where a Value is used twice "
    "(w * x + w, x * w + w, a * a).",
    **GRAPH,
)
del h


def _loss_case(n: int, w_true: float, b_true: float, w: float, b: float, seed: int) -> Case:
    case = hidden_case(n, w_true, b_true, seed, w=w, b=b)  # the data as Python floats
    return case.but(X=case.X.astype(np.float64).tolist(), y=case.y.astype(np.float64).tolist())


VALUES_HINTS = {
    "n": "the loss is the *mean* of the squared errors: multiply their sum by 1 / n "
    "(n = len(X)), then call backward().",
    "sign": "w.grad is dJ/dw itself: return it as it is (the minus sign belongs to the update "
    "step, w - lr * dw).",
    "double": "there is one factor 2 too many, or backward() ran twice: it adds into .grad. Build "
    "the loss once and call loss.backward() once.",
    "other": "build the loss as in the lesson: the sum over the samples of (w * x + b - y) ** 2, "
    "times 1 / n, with w = Value(w) and b = Value(b); then loss.backward() and return "
    "(w.grad, b.grad).",
}
ex02_4 = exercise(
    "2.4",
    3,
    "my_gradient_with_values(X, y, w, b) -> (dw, db): the MSE gradient of y_hat = w x + b, by "
    "building the loss from Values and calling backward()",
    also=("Value",),
    cases=[_loss_case(6, 2.0, -1.0, 0.5, 0.25, 251), _loss_case(11, -1.5, 0.5, -0.25, 1.0, 252)],
    rules=[
        (
            lambda value, c: (
                isinstance(value, (tuple, list)) and any(isinstance(v, c.Value) for v in value)
            ),
            "you returned a Value, not a number: after loss.backward() the gradient is in its "
            ".grad. Return (w.grad, b.grad).",
        )
    ],
    read=read_pair("(w.grad, b.grad)"),
    reference=mse_reference,
    mistakes=[
        Shows(
            lambda got, c: got[0] == 0.0 and got[1] == 0.0,
            "both gradients are 0: .grad is filled by loss.backward(). Build the loss from "
            "w = Value(w) and b = Value(b), call loss.backward(), then return (w.grad, b.grad).",
        ),
        Gives(
            lambda c: [c.w, c.b],
            "that is w and b themselves (their .data); the gradients are w.grad and b.grad, "
            "after loss.backward().",
        ),
        Gives(lambda c: c.want[::-1], "dw and db are swapped. Return (w.grad, b.grad)."),
        Shows(
            lambda got, c: got[1] == 0.0,
            "the bias was forgotten: build y_hat = w * x + b with b = Value(b), so that "
            "backward() reaches it too.",
        ),
        Factor("Your dw", 0, VALUES_HINTS),
        Factor("Your db", 1, VALUES_HINTS),
    ],
    passed="the gradient backward() gives through your loss of Values equals mse_gradient on two "
    "hidden data sets (n = 6 and n = 11).",
    **EXACT,
)


# ---- Prediction checkpoints of the lesson, on its toy data (the answer is the next cell's)


def _dJ_dy_hat(i: int) -> float:
    """dJ/dy_hat_i of the toy data's mean squared error at w = 0, by torch's autograd."""
    import torch

    X, y = toy_data()
    y_hat = torch.tensor(forward(X, 0.0), dtype=torch.float64, requires_grad=True)
    torch.mean((y_hat - torch.tensor(y, dtype=torch.float64)) ** 2).backward()
    return float(y_hat.grad[i])


def _a_plus_b(same: bool) -> tuple[float, float, float]:
    """(a.grad, c.data, a.data) after c = a + b and c's backward_step, with a = b = 3 (the same
    Value or two), on the lesson's engine."""
    from gdlessons.engine import Value

    a = Value(3.0)
    c = a + (a if same else Value(3.0))
    c.grad = 1.0
    c.backward_step()
    return a.grad, c.data, a.data


def _w_grad_after(calls: int) -> float:
    """w.grad after ``calls`` backward() on the lesson's loss at w = 0, on the lesson's engine."""
    from gdlessons.engine import Value

    X, y = (values.tolist() for values in toy_data())
    w = Value(0.0)
    loss = sum((w * x_i - y_i) ** 2 for x_i, y_i in zip(X, y)) / len(X)
    for _ in range(calls):
        loss.backward()
    return w.grad


predict02_a = prediction(
    "2a",
    "dJ/dy_hat_3 at w = 0: the gradient that reaches the third sample's prediction",
    lambda: _dJ_dy_hat(2),
    "The loss passes 1/4 to s_3, s_3 = r_3² multiplies by 2 r_3 = -12, r_3 = y_hat_3 - y_3 by 1: "
    "(1/4) · (-12) · 1 = -3.",
    mistakes=[
        Said(
            lambda: _dJ_dy_hat(2) * len(toy_data()[0]),
            "the 1/4 of the mean is missing: J = (s_1 + s_2 + s_3 + s_4) / 4 passes 1/4 to each "
            "s_i before anything else.",
        ),
        Said(
            lambda: _dJ_dy_hat(2) * toy_data()[0][2],
            "that is one step further: the third sample's part of dJ/dw, which multiplies by "
            "x_3 = 3 on the way from y_hat_3 to w.",
        ),
        Said(
            lambda: -_dJ_dy_hat(2),
            "the sign: r_3 = y_hat_3 - y_3 = 0 - 6 is negative, and so is 2 r_3.",
        ),
        Said(
            lambda: _dJ_dy_hat(2) / 2,
            "the 2 of the square is missing: d(r²)/dr = 2 r.",
        ),
    ],
)

predict02_b = prediction(
    "2b",
    "a.grad after c = a + a and c's backward_step",
    lambda: _a_plus_b(same=True)[0],
    "c.inputs is (a, a): the closure's two lines both add 1 into the same a.grad, 1 + 1 = 2, "
    "which is d(a + a)/da.",
    mistakes=[
        Said(
            lambda: _a_plus_b(same=False)[0],
            "that is the part of one use, as for a + b with two Values. Here both inputs are a, "
            "so both lines add into a.grad.",
        ),
        Said(
            lambda: _a_plus_b(same=True)[1],
            "that is c's value, a + a = 6; the gradient says how much c changes per unit of a.",
        ),
        Said(
            lambda: _a_plus_b(same=True)[2],
            "that is a's own value; a.grad starts at 0 and collects the gradient.",
        ),
    ],
)

predict02_c = prediction(
    "2c",
    "w.grad after two loss.backward() on the lesson's loss at w = 0",
    lambda: _w_grad_after(2),
    "backward() adds into w.grad: -30 from the first call, -30 more from the second.",
    mistakes=[
        Said(
            lambda: _w_grad_after(1),
            "that is one call's gradient. backward() does not replace w.grad, it adds to it "
            "(+=), so the second call adds -30 again.",
        ),
        Said(
            lambda: _w_grad_after(0),
            "the second call does not undo the first: it adds the same -30 again.",
        ),
        Said(
            lambda: 2 * _w_grad_after(2),
            "each call adds one gradient, -30, to w.grad; it does not double what w.grad holds.",
        ),
    ],
)
