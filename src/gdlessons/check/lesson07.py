"""Checks of lesson 07: a one-hidden-layer tanh MLP, its start, its tanh, its local curvature.

The references are in float64: the forward pass in NumPy, the gradients and the Hessian by
autograd (the lesson's ``nn.Sequential`` loaded with the case's weights). The hidden data are
``make_wave_data`` waves from fixed seeds, never the lesson's own 20 points.

>>> verdict = ex07_1(lambda X, W1, b1, W2, b2: np.tanh(np.outer(X, W1) + b1) @ W2)
✗ Exercise 7.1: not yet. ...
  Hint: the output layer has a bias too: ... + b2.
>>> predict07_a(1 - 1.0**2)
✗ Prediction 7a: you said 0; the answer is 0.42. That is 1 - a², ...
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gdlessons.check.cases import slips
from gdlessons.check.core import Wrong, call, close, number, read_number, vector
from gdlessons.check.lesson02 import GRAPH, graph_cases, graph_hints
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Shows, exercise
from gdlessons.data import make_wave_data

__all__ = ["ex07_1", "ex07_2", "ex07_3", "ex07_4", "predict07_a", "predict07_b"]


def _forward(c: Case, slip: str = "") -> np.ndarray:
    """y_hat of the case's MLP at its inputs, tanh(X W1 + b1) W2 + b2, or one classic slip."""
    act = {"relu": lambda z: np.maximum(z, 0.0), "linear": lambda z: z}.get(slip, np.tanh)
    pre = np.outer(c.X, c.W1) + (0.0 if slip == "no b1" else c.b1)
    out = act(pre) @ c.W2 + (0.0 if slip == "no b2" else c.b2)
    return np.tanh(out) if slip == "tanh out" else out


def _mlp_case(n: int, num_hidden: int, seed: int) -> Case:
    rng = np.random.default_rng(seed)
    W1, b1, W2 = rng.normal(size=(3, num_hidden))
    return Case(n=n, X=rng.uniform(-3, 3, n), W1=W1, b1=b1, W2=W2, b2=float(rng.normal()))


FORWARD_SLIPS = {
    "no b1": "each hidden unit has its own bias: tanh(W1[j] * x + b1[j]).",
    "no b2": "the output layer has a bias too: ... + b2.",
    "tanh out": "tanh belongs to the hidden layer only: the output is a plain weighted sum, "
    "W2 · h + b2, so that y_hat can go beyond [-1, 1].",
    "linear": "the hidden units need their tanh: without it the sum of lines is a line again.",
    "relu": "this MLP's hidden units are tanh, not relu: np.tanh(...).",
}
ex07_1 = exercise(
    "7.1",
    1,
    "my_forward(X, W1, b1, W2, b2) -> y_hat: the MLP's predictions, in NumPy",
    cases=[_mlp_case(7, 3, 711), _mlp_case(5, 4, 712)],
    read=lambda value, c: vector(value, c.n, "Your y_hat"),
    reference=_forward,
    setting="On hidden inputs (n = {n}, {W1.size} hidden units) your y_hat is {got}; "
    "the right one is {want}.",
    mistakes=slips(_forward, FORWARD_SLIPS),
    otherwise="hidden = np.tanh(np.outer(X, W1) + b1), shape (n, H); then y_hat = hidden @ W2 + b2.",
    rtol=1e-9,
    passed="my_forward gives nn.Sequential(nn.Linear, nn.Tanh, nn.Linear)'s predictions, to 1e-9, "
    "with 3 and 4 hidden units.",
)


def _hidden_rows(X: Any, y: Any, theta: np.ndarray) -> np.ndarray:
    """One row per hidden unit, (dJ/dW1_j, dJ/db1_j, dJ/dW2_j) of the MSE at the weights ``theta =
    [*W1, *b1, *W2, b2]``, by autograd through the lesson's MLP (``ddp_train.mlp``, float64)."""
    import torch

    from gdlessons.ddp_train import mlp

    with torch.random.fork_rng(devices=[]):  # mlp's random start is replaced: keep the seed
        model = mlp(len(theta) // 3)
    torch.nn.utils.vector_to_parameters(torch.from_numpy(theta), model.parameters())
    X_t, y_t = (torch.from_numpy(np.asarray(a, dtype=np.float64)).reshape(-1, 1) for a in (X, y))
    torch.nn.functional.mse_loss(model(X_t), y_t).backward()
    return torch.stack([p.grad.reshape(-1) for p in list(model.parameters())[:3]], dim=1).numpy()


def _distinct(rows: np.ndarray) -> int:
    """How many different rows (to 12 significant digits)."""
    return len({tuple(float(f"{v:.12g}") for v in row) for row in rows})


def _start(fn: Any, c: Case) -> float:
    """The student's start, called twice with the seed and once with another: its number of
    different hidden units (distinct gradient rows) on the case's wave."""

    def draw(seed: int) -> np.ndarray:
        got = call(fn, "my_init", c.num_hidden, seed)
        if not isinstance(got, (tuple, list)) or len(got) != 4:
            raise Wrong("my_init should return four things, (W1, b1, W2, b2).")
        W1, b1, W2 = (vector(v, c.num_hidden, f"Your {k}") for k, v in zip(("W1", "b1", "W2"), got))
        return np.hstack([W1, b1, W2, number(got[3], "Your b2")])

    first, again, other = draw(c.seed), draw(c.seed), draw(c.seed + 1)
    if not np.array_equal(first, again):
        raise Wrong(
            f"two calls with seed = {c.seed} gave different starts.\n  Hint: draw every random "
            "number from rng = np.random.default_rng(seed), created inside my_init."
        )
    if np.array_equal(first, other) and _distinct(first[:-1].reshape(3, -1).T) > 1:
        raise Wrong(
            f"seed = {c.seed} and seed = {c.seed + 1} gave the same start.\n  Hint: use the seed: "
            "rng = np.random.default_rng(seed)."
        )
    return float(_distinct(_hidden_rows(c.X, c.y, first)))


def _wave(n: int, seed: int, **settings: Any) -> Case:
    X, y = make_wave_data(n, noise=0.1, seed=seed)
    return Case(n=n, X=X, y=y, seed=seed, **settings)


ex07_2 = exercise(
    "7.2",
    2,
    "my_init(num_hidden, seed) -> (W1, b1, W2, b2): a seeded start that breaks the symmetry",
    cases=[_wave(12, 721, num_hidden=3), _wave(9, 722, num_hidden=5)],
    run=_start,
    read=read_number("Your number of different hidden units"),
    reference=lambda c: float(c.num_hidden),
    setting="On a hidden wave (n = {n}) your start gives {got:.0f} different gradient row(s) for "
    "{num_hidden} hidden units; every unit needs its own.",
    mistakes=[
        Shows(
            lambda got, c: got == 1,
            "every hidden unit gets the same gradient row, so they stay copies of each other: "
            "all zeros or one constant never breaks the symmetry. Draw W1 and b1 at random: "
            "rng.normal(size=num_hidden).",
        ),
    ],
    otherwise="draw W1, b1 and W2 from rng = np.random.default_rng(seed), e.g. "
    "rng.normal(size=num_hidden) each, and b2 = 0.0.",
    passed="my_init is reproducible (the same seed gives the same start), uses its seed, and gives "
    "every hidden unit its own gradient on two hidden waves.",
)


t = math.tanh
h = graph_hints("(1 - t**2)", "tanh(a)", "Value(math.tanh(a.data), (a,), 'tanh')")
X2 = "the slope of tanh is 1 - tanh(a)**2, computed from the output t = math.tanh(a.data), not "
X2 += "1 - a**2 (that is the slope of a parabola, negative for |a| > 1): a.grad += (1 - t**2) * "
X2 += "out.grad."
VALUE = "tanh(a).data should be math.tanh(a.data)."
ex07_3 = exercise(
    "7.3",
    2,
    "tanh(a) -> Value: tanh of a, with its local derivative 1 - tanh(a)**2",
    cases=graph_cases(
        "tanh",
        VALUE,
        "tanh's backward_step should add (1 - t**2) * out.grad to a.grad (+=), with "
        "t = math.tanh(a.data), and tanh should return Value(t, (a,), 'tanh').",
        ("tanh(a)", {"a": 0.5}, [([0.0], h["never"]), ([0.75], X2)], [(0.5, VALUE)]),
        ("tanh(a)", {"a": 2.0}, [([-3.0], X2), ([t(2.0)], X2)]),
        (
            "tanh(a * 2 - 1) * 3",
            {"a": 0.8},
            [
                (None, h["inputs"]),
                ([2 * (1 - t(0.6) ** 2)], h["out.grad"]),
                ([6 * (1 - 0.36)], X2),
            ],
        ),
        (
            "tanh(a) * a",
            {"a": 0.6},
            [
                ([(1 - t(0.6) ** 2) * 0.6], h["twice"]),
                ([t(0.6) + 1 - t(0.6) ** 2], h["out.grad"]),
                ([t(0.6) + 0.64 * 0.6], X2),
            ],
        ),
    ),
    passed="tanh's value and gradient match torch on 4 hidden graphs: alone (a = 0.5 and a = 2), "
    "inside a larger graph, and with a used twice.",
    **GRAPH,
)
del h, t


def _max_lr(c: Case, slip: str = "") -> float:
    """2 / lambda_max of the MSE's Hessian at the case's weights (torch, float64), or a slip."""
    import torch

    X_t, y_t = (torch.from_numpy(np.asarray(a, dtype=np.float64)) for a in (c.X, c.y))

    def J(theta: Any) -> Any:
        W1, b1, W2, b2 = theta.split([len(c.W1)] * 3 + [1])
        y_hat = torch.tanh(X_t[:, None] * W1 + b1) @ W2 + b2
        return torch.sum((y_hat - y_t) ** 2) / (1 if slip == "sum" else len(c.X))

    theta = torch.from_numpy(np.concatenate([c.W1, c.b1, c.W2, [c.b2]]))
    lam = torch.linalg.eigvalsh(torch.autograd.functional.hessian(J, theta)).numpy()
    return {"1/lmax": 1 / lam[-1], "largest size": 2 / np.max(np.abs(lam))}.get(slip, 2 / lam[-1])


def _curvature_case(n: int, num_hidden: int, seed: int, scale: float) -> Case:
    W1, b1, W2 = np.random.default_rng(seed).normal(scale=scale, size=(3, num_hidden))
    return _wave(n, seed, W1=W1, b1=b1, W2=W2, b2=0.0)


LR_SLIPS = {
    "1/lmax": "1/lambda_max is a safe lr, not the largest stable one: lr < 2/lambda_max, as in "
    "lesson 01 (there, 2/L).",
    "sum": "the loss is the *mean* of the squared errors: with the sum, every curvature is n times "
    "larger.",
    "largest size": "that eigenvalue is the largest in size, but negative: a direction of negative "
    "curvature does not limit the lr. Use the largest eigenvalue itself, eigvalsh(H)[-1] (power "
    "iteration finds the largest in size, so check its sign).",
}
ex07_4 = exercise(
    "7.4",
    3,
    "my_max_lr(X, y, W1, b1, W2, b2) -> lr: 2 / lambda_max of the loss's Hessian at these weights",
    cases=[_curvature_case(15, 3, 741, 1.0), _curvature_case(10, 2, 744, 1.5)],
    read=read_number("Your lr"),
    reference=_max_lr,
    mistakes=[
        *slips(_max_lr, LR_SLIPS),
        Shows(
            lambda got, c: close(got, c.want, rtol=0.05),
            "close, but not to 1e-3: run more power iterations (100 or more), or compare with "
            "torch.linalg.eigvalsh of the full Hessian.",
        ),
    ],
    otherwise="write the loss J(theta) of the 3 H + 1 weights as in the lesson, then its Hessian "
    "(torch.autograd.functional.hessian, or power iteration on Hessian-vector products), its "
    "largest eigenvalue, and return 2 / lambda_max.",
    passed="my_max_lr finds 2 / lambda_max of the MLP's Hessian on two hidden waves, one of them "
    "at weights where the Hessian has a large negative eigenvalue.",
    rtol=1e-3,
)


# ---- Prediction checkpoints of the lesson (the answer is the next cell's, computed here)


predict07_a = prediction(
    "7a",
    "the slope of tanh at a = 1",
    lambda: 1 - math.tanh(1.0) ** 2,
    "d tanh(a)/da = 1 - tanh(a)², and tanh(1) = 0.762: 1 - 0.58 = 0.42.",
    mistakes=[
        Said(
            lambda: 1 - 1.0**2, "that is 1 - a², the slope of a parabola: tanh's is 1 - tanh(a)²."
        ),
        Said(lambda: math.tanh(1.0), "that is tanh(1) itself, the value, not the slope."),
        Said(lambda: 1.0, "that is the slope at a = 0, where tanh(0) = 0; at a = 1 it is flatter."),
    ],
)


def _zero_start_rows() -> int:
    """Different gradient rows of the lesson's 3-unit MLP on its wave, all weights 0."""
    X, y = make_wave_data(20, noise=0.1, seed=0)
    return _distinct(_hidden_rows(X, y, np.zeros(3 * 3 + 1)))


predict07_b = prediction(
    "7b",
    "how many different gradient rows the 3 hidden units get at the all-zero start",
    lambda: _zero_start_rows(),
    "every unit computes tanh(0 x + 0) = 0 and has W2 = 0, so every row is (0, 0, 0): one row, "
    "three times.",
    mistakes=[
        Said(
            lambda: 3,
            "three different rows is what a random start gives. At 0 every unit computes the same "
            "h = tanh(0) = 0 and has the same W2 = 0, so the gradients cannot differ.",
        ),
    ],
)
