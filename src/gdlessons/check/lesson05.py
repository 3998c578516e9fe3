"""Checks of lesson 05: modules, mini-batches, the noise floor and learning-rate schedules.

>>> from gdlessons.modules import LinearRegression
>>> verdict = ex05_1(LinearRegression)
✓ Exercise 5.1: right! ...
"""

from __future__ import annotations

from functools import cache
from itertools import product
from typing import Any

import numpy as np

from gdlessons.check.cases import WB, is_nn, sgd_run, slips, small_lr_floor
from gdlessons.check.core import Wrong, call, close, fmt, read_number, tensors
from gdlessons.check.predict import Said, prediction
from gdlessons.check.problem import Case, Gives, Shows, exercise, hidden_case
from gdlessons.data import make_linear_data
from gdlessons.history import DivergenceError
from gdlessons.numpy_gd import forward, mse_gradient, mse_loss

__all__ = ["ex05_1", "ex05_2", "ex05_3", "ex05_4", "predict05_a", "predict05_b"]


def _shapes(model: Any) -> dict[str, tuple[int, ...]]:
    return {name: tuple(p.shape) for name, p in model.named_parameters()}


def _forward(model: Any, c: Case) -> np.ndarray:
    """``[*model(X), *dw, db]`` on the case's data at set parameters, through backward()."""
    import torch

    w, b = (next(p for p in model.parameters() if p.shape == s) for s in [(c.d,), ()])
    with torch.no_grad():
        w.copy_(torch.from_numpy(c.w_set))
        b.fill_(0.25)
    X, y = tensors(c.X, c.y)
    y_hat = call(model, "forward", X)
    if not hasattr(y_hat, "detach"):
        raise Wrong(f"model(X) should return a tensor, but returned a {type(y_hat).__name__}.")
    if tuple(y_hat.shape) != (c.n,):
        raise Wrong(
            f"for X of shape ({c.n}, {c.d}), model(X) should have shape ({c.n},), like y, but has "
            f"shape {tuple(y_hat.shape)}.\n  Hint: X @ self.w with w of shape ({c.d},) gives "
            f"({c.n},); add self.b, a single number."
        )
    if not y_hat.requires_grad:
        raise Wrong(
            "model(X) does not track gradients, so backward() cannot reach w and b. Compute with "
            "the parameters themselves (no .data, .detach() or torch.tensor(...) around them)."
        )
    mse_loss(y_hat, y).backward()
    dw, db = (np.full(p.shape, np.nan) if p.grad is None else p.grad.numpy() for p in (w, b))
    return np.concatenate([y_hat.detach().numpy(), dw, [db]])  # NaN: backward() never got there


def _model_case(n: int, d: int, seed: int) -> Case:
    """Hidden data, the (w, b) set before model(X), and there ``[*(X @ w + b), *dw, db]``."""
    c = hidden_case(n, list(np.linspace(1.0, -2.0, d)), 0.5, seed, num_features=d)
    c = c.but(w_set=np.linspace(-0.5, 1.0, d).astype(np.float32))
    y_hat = forward(c.X, c.w_set, 0.25)
    return c.but(expected=np.concatenate([y_hat, np.append(*mse_gradient(c.X, c.y, y_hat))]))


ex05_1 = exercise(
    "5.1",
    1,
    "MyLinearRegression(num_features) -> model: an nn.Module with parameters w (d,) and b (), "
    "y_hat = X @ w + b",
    cases=[_model_case(10, 3, 411), _model_case(6, 1, 412)],
    errors={
        "Module.__init__() call": "the first line of __init__ must be super().__init__(): it sets "
        "up the module's bookkeeping of parameters."
    },
    rules=[
        (
            lambda model, c: not is_nn(model, "Module"),
            "MyLinearRegression(num_features) should create an nn.Module: write class "
            "MyLinearRegression(nn.Module).",
        ),
        (
            lambda model, c: not _shapes(model),
            "model.parameters() is empty, so an optimizer would have nothing to train.\n  Hint: "
            "wrap the tensors in nn.Parameter: self.w = nn.Parameter(torch.zeros(num_features)).",
        ),
        (
            lambda model, c: sorted(_shapes(model).values()) != [(), (c.d,)],
            lambda model, c: (
                f"with num_features = {c.d} the parameters should be w of shape "
                f"({c.d},) and b of shape (), but they are {_shapes(model)}.\n  Hint: self.w = "
                "nn.Parameter(torch.zeros(num_features)) and self.b = "
                "nn.Parameter(torch.zeros(()))."
            ),
        ),
        (
            lambda model, c: any(float(p.detach().abs().sum()) for p in model.parameters()),
            "the parameters should start at zero (torch.zeros), as in lessons 01-05: then no "
            "random generator is needed.",
        ),
    ],
    read=_forward,
    reference=lambda c: c.expected,
    setting=lambda got, c: (
        f"On hidden data (n = {c.n}) at w = {fmt(c.w_set)}, b = 0.25, "
        f"model(X) starts {fmt(got[:3])}…; X @ w + b starts {fmt(c.want[:3])}…."
    ),
    mistakes=[
        Shows(
            lambda got, c: not close(got[: c.n], c.want[: c.n]),
            "model(X) is not X @ w + b: compute X @ self.w + self.b in forward.",
        )
    ],
    otherwise="backward() through model(X) does not give the MSE gradient: use the parameters "
    "directly in forward, X @ self.w + self.b.",
    passed="MyLinearRegression registers w and b as parameters starting at zero, and "
    "model(X) = X @ w + b with gradients flowing back.",
)


def _in_order(c: Case) -> np.ndarray:
    """Mini-batch gradient descent from zero over the batches in their order, never shuffled."""
    wb, B = np.zeros(c.d + 1), c.batch_size
    for _, i in product(range(c.num_epochs), range(0, c.n, B)):
        X, y = c.X[i : i + B], c.y[i : i + B]
        wb = wb - c.lr * np.append(*mse_gradient(X, y, forward(X, wb[:-1], wb[-1])))
    return wb


ex05_2 = exercise(
    "5.2",
    2,
    "my_train_minibatch(X, y, lr, num_epochs, batch_size, seed) -> (w, b): the loop over a "
    "DataLoader's mini-batches",
    cases=[
        hidden_case(50, [1.5, -2.0], 0.5, 421, lr=0.1, num_epochs=3, batch_size=8),
        hidden_case(24, [1.5, -2.0], 0.5, 422, lr=0.05, num_epochs=2, batch_size=5),
    ],
    steps=True,
    read=WB,
    reference=lambda c: sgd_run(c, batch_size=c.batch_size),
    mistakes=[
        Gives(
            sgd_run,
            "that is one full-batch step per epoch. Loop over the loader's batches inside each "
            "epoch: one step per batch.",
        ),
        Gives(
            _in_order,
            "the batches were never shuffled: DataLoader(..., shuffle=True, "
            "generator=torch.Generator().manual_seed(seed)).",
        ),
        Gives(
            lambda c: sgd_run(c, c.batch_size, anew=True),
            "every epoch deals the same batches: a loader (and its generator) made inside the "
            "epoch loop starts afresh each epoch. Create it once, before the epochs.",
        ),
    ],
    otherwise="use DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, "
    "generator=torch.Generator().manual_seed(seed)) (created once, before the epochs), "
    "LinearRegression from zero, nn.MSELoss() and SGD; zero_grad, backward, step for every batch.",
    passed="my_train_minibatch is where train_minibatch is after every epoch, on two hidden data "
    "sets.",
)


def _floor(c: Case, slip: str = "") -> float:
    """The derivation's floor, lr s^2 / (2 B (2 - lr lambda)), or one classic slip in it."""
    lr, B, lam, s2 = c.lr, c.batch_size, c.curvature, c.grad_variance
    if slip == "small lr":
        return lr * s2 / (4 * B)
    noise = {"sqrt B": s2 / B**0.5, "no B": s2, "B squared": s2 / B**2}.get(slip, s2 / B)
    v = lr**2 * noise / (1 - (1 - lr * lam) ** 2)  # E[e^2] where shrinking balances the noise
    return {"e squared": v, "no half": lam * v}.get(slip, lam / 2 * v)


FLOOR_SLIPS = {
    "sqrt B": "the noise's standard deviation shrinks as 1/sqrt(B), but the floor follows its "
    "variance, s^2 / B: doubling the batch halves the floor.",
    "no B": "a mean of B samples' gradients has the variance s^2 / B: divide by the batch size.",
    "B squared": "the variance of a mean of B independent samples is s^2 / B, not s^2 / B^2.",
    "e squared": "that is v = E[e^2], the squared distance; the loss above the minimum along the "
    "direction is lambda / 2 times it.",
    "no half": "the loss along a direction of curvature lambda is (lambda / 2) e^2: a factor 1/2.",
    "small lr": "that is the small-lr approximation; keep the exact balance, "
    "1 - (1 - lr lambda)^2 = lr lambda (2 - lr lambda).",
}
ex05_3 = exercise(
    "5.3",
    2,
    "my_noise_floor(lr, batch_size, curvature, grad_variance) -> floor: where constant-lr SGD "
    "levels off, J - J_min along one direction",
    cases=[
        Case(lr=0.1, batch_size=9, curvature=3.0, grad_variance=0.5),  # B = 9: sqrt(B) = 3, not 2
        Case(lr=0.05, batch_size=16, curvature=8.0, grad_variance=2.0),
        Case(lr=0.3, batch_size=1, curvature=2.5, grad_variance=0.2),
    ],
    read=read_number("Your floor"),
    reference=_floor,
    mistakes=slips(_floor, FLOOR_SLIPS),
    otherwise="follow the lesson: v = lr^2 (s^2/B) / (1 - (1 - lr lambda)^2), then (lambda/2) v.",
    rtol=1e-6,
    passed="my_noise_floor is the lesson's lr s^2 / (2 B (2 - lr lambda)) on three settings: "
    "doubling the batch halves the floor, as halving the lr about does.",
)


@cache
def _floor_case(n: int, seed: int) -> Case:
    """Hidden data, its least-squares loss, and the floor of one-sample SGD at lr = 0.1: the mean
    of J - J_min over the second epoch (a row every 10 steps)."""
    c = hidden_case(n, [1.5, -2.0], 0.5, seed, lr=0.1, num_epochs=2, num_steps=2 * n)
    A = np.column_stack([c.X, np.ones(n)]).astype(np.float64)
    *w, b = np.linalg.lstsq(A, c.y, rcond=None)[0]  # the least-squares fit
    c = c.but(record_every=10, J_min=float(np.mean((forward(c.X, np.array(w), b) - c.y) ** 2)))
    return c.but(floor=float(np.mean(sgd_run(c, batch_size=1).loss[n // 10 :] - c.J_min)))


def _lrs(fn: Any, num_steps: int) -> np.ndarray:
    """The lr of each step under the student's schedule, read from a stand-in optimizer."""
    import torch

    probe = torch.optim.SGD([torch.zeros(1)], lr=0.1)  # no model: only its lr is read
    scheduler = call(fn, "my_scheduler", probe, num_steps)
    if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        kind = type(scheduler).__name__
        raise Wrong(f"my_scheduler should return a torch.optim.lr_scheduler, not a {kind}.")
    if scheduler.optimizer is not probe:
        raise Wrong("make the scheduler from the optimizer my_scheduler receives, not a new one.")
    lrs = []
    for _ in range(num_steps):
        lrs.append(probe.param_groups[0]["lr"])
        probe.step()
        call(scheduler.step, "scheduler.step")
    return np.array(lrs)


def _end_over_floor(fn: Any, case: Case) -> float:
    """Where one-sample SGD ends with the student's schedule, over the constant lr's floor."""
    c = _floor_case(case.n, case.seed)
    lrs = _lrs(fn, c.num_steps)  # first: a schedule it cannot step is named here
    try:
        h = sgd_run(c, 1, schedule=lambda opt: call(fn, "my_scheduler", opt, c.num_steps))
    except DivergenceError:
        raise Wrong(
            f"with your schedule the run diverged: its lr reached {lrs.max():.3g}. Keep "
            "it at or below the optimizer's lr, 0.1 here."
        ) from None
    return float(np.mean(h.loss[-4:] - c.J_min)) / c.floor  # the last 40 steps


ex05_4 = exercise(
    "5.4",
    3,
    "my_scheduler(optimizer, num_steps) -> scheduler: a learning-rate schedule that takes "
    "one-sample SGD below its constant-lr noise floor",
    cases=[Case(n=200, seed=451)],
    run=_end_over_floor,
    read=lambda ratio, c: max(ratio, 0.25),  # 4 times below the floor or more: the goal
    reference=lambda c: 0.25,
    setting=lambda ratio, c: (
        f"With your schedule, one-sample SGD at lr = 0.1 on hidden data ends {ratio:.2g} times "
        f"the floor of a constant lr ({_floor_case(c.n, c.seed).floor:.1e} above the least-squares "
        "loss): get at least 4 times below it."
    ),
    mistakes=[
        Shows(
            lambda got, c: _lrs(c.fn, 2 * c.n)[-1] > 0.05,
            "your lr is still above half its start at the last step. Here scheduler.step() runs "
            "once per optimizer step, so step_size, T_max and total_iters count steps (num_steps "
            "in all), not epochs.",
        ),
        Shows(
            lambda got, c: np.any(np.diff((lrs := _lrs(c.fn, 2 * c.n))[np.argmax(lrs) :]) > 1e-12),
            "your lr falls and then rises again: T_max counts scheduler.step() calls, one per "
            "optimizer step here (num_steps in all); past T_max the cosine starts over.",
        ),
        Shows(
            lambda got, c: np.any(_lrs(c.fn, 2 * c.n)[: c.n // 2] < 1e-3),
            "your lr is almost 0 within the first quarter of the steps, before the run got near "
            "the minimum: decay later or more slowly.",
        ),
    ],
    otherwise="let the lr fall close to 0 by the last step, e.g. "
    "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_steps).",
    rtol=1e-9,
    passed="your schedule takes one-sample SGD on hidden data at least 4 times below the floor "
    "of a constant lr, in the same number of steps.",
)


# ---- Prediction checkpoints of the lesson (on its data: the answer is the next cells')


def _lesson_data() -> tuple[np.ndarray, np.ndarray]:
    return make_linear_data(1000, w=[2.0, -3.4], b=4.2, noise=0.01, seed=0)


def _steps_per_epoch(batch_size: int, drop_last: bool = False) -> int:
    """Batches a DataLoader deals from the lesson's 1000 samples: the last one may be smaller."""
    n = len(_lesson_data()[0])
    return n // batch_size if drop_last else -(-n // batch_size)


predict05_a = prediction(
    "5a",
    "optimizer steps in one epoch of 1000 samples in batches of 32",
    lambda: _steps_per_epoch(32),
    "1000 = 31 · 32 + 8: 31 full batches and a last one of 8 samples, one step each, so 32 steps "
    "per epoch (DataLoader(..., drop_last=True) would drop the 8 and take 31).",
    mistakes=[
        Said(
            lambda: _steps_per_epoch(32, drop_last=True),
            "that counts the full batches only: the 8 samples left over make a last, smaller "
            "batch, and a step of its own.",
        ),
        Said(
            lambda: len(_lesson_data()[0]),
            "that is one step per sample; a DataLoader takes one step per batch of 32.",
        ),
    ],
    rtol=0.01,
)


def _floor_ratio(batch_size: int, power: float = 1.0) -> float:
    """The floor at ``batch_size`` over B = 1's, at lr = 0.1 on the lesson's data (sigma = 0.01);
    ``power``: the floor taken as proportional to 1 / B**power (the usual slips: 0.5, 0)."""
    c = Case(X=_lesson_data()[0], lr=0.1, sigma=0.01)
    floors = [small_lr_floor(c.but(batch_size=b), power) for b in (1, batch_size)]
    return floors[1] / floors[0]


predict05_b = prediction(
    "5b",
    "the floor J - J_min of batches of 4 at lr = 0.1, as a fraction of one sample's at lr = 0.1",
    lambda: _floor_ratio(4),
    "the mean of 4 independent sample gradients has 1/4 of one gradient's variance, and the floor "
    "is where that noise, times lr², balances the shrinking: J - J_min ≈ lr s²/(4B), a quarter.",
    mistakes=[
        Said(
            lambda: _floor_ratio(4, power=0.5),
            "1/√4 is how the noise's standard deviation shrinks; the floor is a loss, which goes "
            "with the variance, 1/B.",
        ),
        Said(
            lambda: _floor_ratio(4, power=0.0),
            "a larger batch does lower the floor: each step's gradient is less noisy.",
        ),
        Said(
            lambda: _floor_ratio(4, power=-1.0),
            "a larger batch lowers the floor, it does not raise it: less noise per step.",
        ),
    ],
)
