"""Checks of lesson 05: modules, mini-batches, the noise floor and learning-rate schedules.

>>> from gdlessons.modules import LinearRegression
>>> verdict = ex05_1(LinearRegression)
✓ Exercise 5.1: right! ...
>>> bool(verdict)
True
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from gdlessons.check.core import (
    Wrong,
    call,
    close,
    compare,
    exercise,
    final,
    fmt,
    function,
    hidden,
    number,
    tensors,
    w_b,
)
from gdlessons.history import DivergenceError
from gdlessons.numpy_gd import forward, mse_gradient, mse_loss

__all__ = ["ex05_1", "ex05_2", "ex05_3", "ex05_4"]


@exercise("5.1", points=1)
def ex05_1(MyLinearRegression: Callable[..., Any]) -> str:
    """Check a class ``MyLinearRegression(num_features)``: an nn.Module with parameters w (d,)
    and b (), y_hat = X @ w + b.

    >>> from gdlessons.modules import LinearRegression
    >>> ex05_1(LinearRegression)
    ✓ Exercise 5.1: right! ...
    """
    from torch import nn

    fn = function(MyLinearRegression, "MyLinearRegression")
    for n, d, seed in [(10, 3, 411), (6, 1, 412)]:
        try:
            model = call(fn, "MyLinearRegression", d)
        except Wrong as err:
            if "Module.__init__() call" in str(err):
                raise Wrong(
                    f"{err}\n  Hint: the first line of __init__ must be super().__init__(): it "
                    "sets up the module's bookkeeping of parameters."
                ) from None
            raise
        if not isinstance(model, nn.Module):
            raise Wrong(
                "MyLinearRegression(num_features) should create an nn.Module: write class "
                "MyLinearRegression(nn.Module)."
            )
        _check_forward(model, n, d, seed, _parameters(model, d))
    return (
        "MyLinearRegression registers w and b as parameters starting at zero, and "
        "model(X) = X @ w + b with gradients flowing back."
    )


def _parameters(model: Any, d: int) -> dict[tuple[int, ...], Any]:
    """The model's parameters by shape, after checking there are w (d,) and b (), at zero."""
    params = dict(model.named_parameters())
    if not params:
        raise Wrong(
            "model.parameters() is empty, so an optimizer would have nothing to train.\n  Hint: "
            "wrap the tensors in nn.Parameter: self.w = nn.Parameter(torch.zeros(num_features))."
        )
    shapes = {name: tuple(p.shape) for name, p in params.items()}
    by_shape = {tuple(p.shape): p for p in params.values()}
    if sorted(shapes.values()) != sorted([(d,), ()]) or len(by_shape) != 2:
        raise Wrong(
            f"with num_features = {d} the parameters should be w of shape ({d},) and b of shape "
            f"(), but they are {shapes}.\n  Hint: self.w = nn.Parameter(torch.zeros(num_features))"
            " and self.b = nn.Parameter(torch.zeros(()))."
        )
    if any(float(p.detach().abs().sum()) != 0.0 for p in params.values()):
        raise Wrong(
            "the parameters should start at zero (torch.zeros), as in lessons 01-05: then no "
            "random generator is needed."
        )
    return by_shape


def _check_forward(model: Any, n: int, d: int, seed: int, by_shape: dict) -> None:
    """model(X) on hidden data at set parameters: X @ w + b, with gradients flowing back."""
    import torch

    X_np, y_np = hidden(n, list(np.linspace(1.0, -2.0, d)), 0.5, seed)
    w_set = np.linspace(-0.5, 1.0, d).astype(np.float32)
    with torch.no_grad():
        by_shape[(d,)].copy_(torch.from_numpy(w_set))
        by_shape[()].fill_(0.25)
    X, y = tensors(X_np, y_np)
    y_hat = call(model, "forward", X)
    if not hasattr(y_hat, "detach"):
        raise Wrong(f"model(X) should return a tensor, but returned a {type(y_hat).__name__}.")
    if tuple(y_hat.shape) != (n,):
        raise Wrong(
            f"for X of shape ({n}, {d}), model(X) should have shape ({n},), like y, but has shape "
            f"{tuple(y_hat.shape)}.\n  Hint: X @ self.w with w of shape ({d},) gives ({n},); add "
            "self.b, a single number."
        )
    want = forward(X_np, w_set, 0.25)
    if not close(y_hat.detach().numpy(), want):
        raise Wrong(
            f"model(X) is not X @ w + b: on hidden data it gives {fmt(y_hat.detach().numpy()[:3])}"
            f"… instead of {fmt(want[:3])}…."
        )
    if not y_hat.requires_grad:
        raise Wrong(
            "model(X) does not track gradients, so backward() cannot reach w and b. Compute with "
            "the parameters themselves (no .data, .detach() or torch.tensor(...) around them)."
        )
    mse_loss(y_hat, y).backward()
    dw_want, db_want = mse_gradient(X_np, y_np, want)
    dw, db = by_shape[(d,)].grad.numpy(), by_shape[()].grad.item()
    if not (close(dw, dw_want, rtol=1e-3) and close(db, db_want, rtol=1e-3)):
        raise Wrong(
            "backward() through model(X) does not give the MSE gradient: use the parameters "
            "directly in forward, X @ self.w + self.b."
        )


def sgd_final(
    X: np.ndarray,
    y: np.ndarray,
    lr: float,
    num_epochs: int,
    *,
    batch_size: int | None = None,
    seed: int = 0,
    momentum: float = 0.0,
) -> np.ndarray:
    """The final ``[*w, b]`` of ``train_minibatch`` with LinearRegression and torch.optim.SGD."""
    import torch

    from gdlessons.modules import LinearRegression, train_minibatch

    model = LinearRegression(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    h = train_minibatch(model, optimizer, X, y, num_epochs, batch_size=batch_size, seed=seed)
    return final(h)


def _loader_run(
    X: np.ndarray, y: np.ndarray, lr: float, num_epochs: int, batch_size: int, shuffle: bool
) -> np.ndarray:
    """A mini-batch run with a plain DataLoader (shuffle=False reproduces that mistake)."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from gdlessons.modules import LinearRegression

    X_t, y_t = tensors(X, y)
    model = LinearRegression(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X_t, y_t), batch_size=batch_size, shuffle=shuffle)
    for _ in range(num_epochs):
        for X_batch, y_batch in loader:
            loss = torch.nn.MSELoss()(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return np.append(model.w.detach().numpy(), model.b.item())


@exercise("5.2", points=2)
def ex05_2(my_train_minibatch: Callable[..., Any]) -> str:
    """Check ``my_train_minibatch(X, y, lr, num_epochs, batch_size, seed) -> (w, b)``: the loop
    over a DataLoader's mini-batches.

    >>> import torch
    >>> from gdlessons.modules import LinearRegression, train_minibatch
    >>> def my_train_minibatch(X, y, lr, num_epochs, batch_size, seed):
    ...     model = LinearRegression(X.shape[1])
    ...     optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    ...     h = train_minibatch(
    ...         model, optimizer, X, y, num_epochs, batch_size=batch_size, seed=seed
    ...     )
    ...     return h.w_final, h.b_final
    >>> ex05_2(my_train_minibatch)
    ✓ Exercise 5.2: right! ...
    """
    name = "my_train_minibatch"
    fn = function(my_train_minibatch, name)
    for n, lr, num_epochs, batch_size, seed in [(50, 0.1, 3, 8, 421), (24, 0.05, 2, 5, 422)]:
        X, y = hidden(n, [1.5, -2.0], 0.5, seed)
        want = sgd_final(X, y, lr, num_epochs, batch_size=batch_size, seed=seed)
        got = w_b(call(fn, name, X, y, lr, num_epochs, batch_size, seed), 2, name)
        compare(
            got,
            want,
            f"On hidden data (n = {n}, batch_size = {batch_size}, {num_epochs} epochs, "
            f"seed = {seed}) you end at (w, b) = {fmt(got)}; the right run ends at {fmt(want)}.",
            [
                (
                    partial(sgd_final, X, y, lr, num_epochs),
                    (
                        "that is one full-batch step per epoch. Loop over the loader's batches "
                        "inside each epoch: one step per batch."
                    ),
                ),
                (
                    partial(_loader_run, X, y, lr, num_epochs, batch_size, shuffle=False),
                    (
                        "the batches were never shuffled: DataLoader(..., shuffle=True, "
                        "generator=torch.Generator().manual_seed(seed))."
                    ),
                ),
            ],
            "use DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True, "
            "generator=torch.Generator().manual_seed(seed)) (created once, before the epochs), "
            "LinearRegression from zero, nn.MSELoss() and SGD; zero_grad, backward, step for "
            "every batch.",
        )
    return (
        "my_train_minibatch takes the same steps, batch for batch, as train_minibatch on two "
        "hidden data sets."
    )


def _floor(lr: float, B: int, lam: float, s2: float, mistake: str = "") -> float:
    """The derivation's floor lr s^2 / (2 B (2 - lr lam)), or one classic slip in it."""
    if mistake == "small lr":
        return lr * s2 / (4 * B)
    noise = {"sqrt B": s2 / B**0.5, "no B": s2, "B squared": s2 / B**2}.get(mistake, s2 / B)
    v = lr**2 * noise / (1 - (1 - lr * lam) ** 2)  # E[e^2] where shrinking balances the noise
    return {"e squared": v, "no half": lam * v}.get(mistake, lam / 2 * v)


FLOOR_HINTS = {
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


@exercise("5.3", points=2)
def ex05_3(my_noise_floor: Callable[..., Any]) -> str:
    """Check ``my_noise_floor(lr, batch_size, curvature, grad_variance)``: the derivation's floor.

    >>> ex05_3(lambda lr, B, lam, s2: lr * s2 / (2 * B * (2 - lr * lam)))
    ✓ Exercise 5.3: right! ...
    """
    fn = function(my_noise_floor, "my_noise_floor")
    for lr, B, lam, s2 in [(0.1, 9, 3.0, 0.5), (0.05, 16, 8.0, 2.0), (0.3, 1, 2.5, 0.2)]:
        got = number(call(fn, "my_noise_floor", lr, B, lam, s2), "What my_noise_floor returns")
        want = _floor(lr, B, lam, s2)
        compare(
            got,
            want,
            f"For lr = {lr}, batch_size = {B}, curvature = {lam}, grad_variance = {s2} your floor"
            f" is {fmt(got)}; the derivation gives {fmt(want)}.",
            [(_floor(lr, B, lam, s2, mistake), hint) for mistake, hint in FLOOR_HINTS.items()],
            "follow the lesson: v = lr^2 (s^2/B) / (1 - (1 - lr lambda)^2), then (lambda/2) v.",
            rtol=1e-6,
        )
    return (
        "my_noise_floor is the lesson's lr s^2 / (2 B (2 - lr lambda)) on three settings: "
        "doubling the batch halves the floor, as halving the lr about does."
    )


def _schedule_run(X: np.ndarray, y: np.ndarray, make: Any, num_epochs: int) -> Any:
    """One-sample SGD at lr = 0.1 from zero with ``make(optimizer)`` as its schedule (or None)."""
    import torch

    from gdlessons.modules import LinearRegression, train_minibatch

    model = LinearRegression(X.shape[1])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = make(optimizer)
    return train_minibatch(
        model, optimizer, X, y, num_epochs, batch_size=1, record_every=10, scheduler=scheduler
    )


def _lrs(fn: Callable[..., Any], num_steps: int) -> np.ndarray:
    """The lr of each step under the student's schedule, read from a stand-in optimizer."""
    import torch

    probe = torch.optim.SGD([torch.zeros(1)], lr=0.1)  # no model: only its lr is read
    scheduler = call(fn, "my_scheduler", probe, num_steps)
    if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        raise Wrong(
            "my_scheduler should return a scheduler, such as torch.optim.lr_scheduler."
            f"CosineAnnealingLR(optimizer, T_max=num_steps), but returned a "
            f"{type(scheduler).__name__}."
        )
    if scheduler.optimizer is not probe:
        raise Wrong(
            "the scheduler must be made from the optimizer that my_scheduler receives (its "
            "first argument), not from a new one."
        )
    lrs = []
    for _ in range(num_steps):
        lrs.append(probe.param_groups[0]["lr"])
        probe.step()
        call(scheduler.step, "scheduler.step")
    return np.array(lrs)


@exercise("5.4", points=3)
def ex05_4(my_scheduler: Callable[..., Any]) -> str:
    """Check ``my_scheduler(optimizer, num_steps)``: a schedule that takes one-sample SGD below
    its constant-lr noise floor in ``num_steps`` steps.

    >>> import torch
    >>> ex05_4(lambda optimizer, n: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, n))
    ✓ Exercise 5.4: right! ...
    """
    fn = function(my_scheduler, "my_scheduler")
    X, y = hidden(200, [1.5, -2.0], 0.5, 451)
    num_epochs, num_steps = 2, 400  # batches of one sample: 200 steps an epoch
    lrs = _lrs(fn, num_steps)
    A = np.column_stack([X, np.ones(len(X))]).astype(np.float64)
    J_min = float(np.mean((A @ np.linalg.lstsq(A, y, rcond=None)[0] - y) ** 2))
    floor = float(np.mean(_schedule_run(X, y, lambda opt: None, num_epochs).loss[20:] - J_min))
    try:
        h = _schedule_run(X, y, lambda opt: call(fn, "my_scheduler", opt, num_steps), num_epochs)
    except DivergenceError:
        raise Wrong(
            f"with your schedule the run diverged: its lr reached {lrs.max():.3g}. Keep it at or "
            "below the optimizer's lr, 0.1 here."
        ) from None
    end = float(np.mean(h.loss[-4:] - J_min))  # the last 40 steps
    if end < floor / 4:
        return (
            f"your schedule ends {end:.1e} above the least-squares loss, {floor / end:.0f} times "
            f"below the constant lr's floor ({floor:.1e}), in the same {num_steps} steps."
        )
    rises = np.flatnonzero(np.diff(lrs) > 1e-12 * lrs.max())
    fallen = np.flatnonzero(np.diff(lrs) < 0)
    early = np.flatnonzero(lrs < 1e-3)
    setting = (
        f"With your schedule, one-sample SGD at lr = 0.1 on hidden data ends {end:.1e} above the "
        f"least-squares loss; with a constant lr it levels off at {floor:.1e}: get at least 4 "
        "times below that."
    )
    for shows, hint in [
        (
            lrs[-1] > 0.5 * lrs[0],
            f"your lr is still {lrs[-1]:.3g} at the last step. Here scheduler.step() runs once "
            f"per optimizer step, so step_size, T_max and total_iters count steps ({num_steps} "
            "in all), not epochs.",
        ),
        (
            fallen.size > 0 and rises.size > 0 and rises.max() > fallen.min(),
            "your lr falls and then rises again: T_max counts scheduler.step() calls, one per "
            f"optimizer step here ({num_steps} in all); past T_max the cosine starts over.",
        ),
        (
            early.size > 0 and early[0] < num_steps // 4,
            f"your lr is almost 0 after {early[0] if early.size else 0} of {num_steps} steps, "
            "before the run got near the minimum: decay later or more slowly.",
        ),
    ]:
        if shows:
            raise Wrong(f"{setting}\n  Hint: {hint}")
    raise Wrong(
        f"{setting}\n  Hint: let the lr fall close to 0 by the last step, e.g. "
        "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=num_steps)."
    )
