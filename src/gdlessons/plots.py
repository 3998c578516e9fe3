"""Pictures of gradient descent: every function draws a ``History`` (or the loss behind it).

The idiom in every lesson cell is the one you will use everywhere::

    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    plot_loss_curve(history, ax=ax)
    plt.show()

Rules every helper here follows, so that they can be put side by side:

* it draws on the ``ax`` it is given (``axes`` for the two-panel ones) and returns it;
* nothing global is touched: no ``plt.rcParams`` edits, no style sheets, no backend choice. Fonts
  (11 pt and more) and colours are set per artist, and the figure gets an opaque white background,
  so it reads on a projector and in a dark JupyterLab theme;
* colours come from the Okabe-Ito palette (safe for colour-blind readers) and every run also gets
  its own marker and line style, so no line is told apart by colour alone.

>>> import matplotlib.pyplot as plt
>>> from gdlessons import toy_data, train_numpy
>>> X, y = toy_data()
>>> fig, ax = plt.subplots()
>>> ax = plot_loss_curve(train_numpy(X, y, lr=0.01, num_epochs=10), ax=ax)
>>> ax.get_yscale(), ax.get_xlabel()
('log', 'epoch k')
>>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import LogFormatter, MaxNLocator

from gdlessons._drawing import (
    OKABE_ITO,
    TICK,
    as_histories,
    check_ax,
    check_axes,
    decorate,
    num,
    one_weight,
    run_label,
    style,
    xy_1d,
)
from gdlessons.graphs import grad_fn_tree, plot_grad_fn_graph, plot_graph
from gdlessons.history import History
from gdlessons.landscapes import plot_loss_contour, plot_loss_landscape_1d, plot_lr_comparison

__all__ = [
    "OKABE_ITO",
    "grad_fn_tree",
    "plot_fit",
    "plot_grad_fn_graph",
    "plot_graph",
    "plot_loss_contour",
    "plot_loss_curve",
    "plot_loss_landscape_1d",
    "plot_lr_comparison",
    "plot_training_run",
    "plot_trajectories",
]


def plot_loss_curve(
    histories: History | Mapping[str, History], *, ax: Axes, title: str | None = None
) -> Axes:
    """The loss per epoch on a log scale, one line per run (a legend when there is more than one).

    On a log scale, a loss that shrinks by the same factor every epoch is a straight line, so the
    slope shows the speed of convergence. A loss of exactly 0 cannot be drawn on a log scale; the
    line stops there.
    """
    runs, ax = as_histories(histories), check_ax(ax)
    for i, (label, h) in enumerate(runs.items()):
        loss = np.where(h.loss > 0, h.loss, np.nan)  # log scale: an exact 0 ends the line
        ax.plot(
            np.arange(h.num_epochs),
            loss,
            label=run_label(label, h),
            linewidth=2,
            markersize=6,
            markevery=max(1, h.num_epochs // 25),
            **style(i),
        )
    ax.set_yscale("log")
    # Plain numbers (30, 20, 0.01) instead of 3 x 10^1; in-between ticks labelled on short ranges.
    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.tick_params(which="minor", labelsize=TICK)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title is None:
        only = next(iter(runs.values()))
        title = f"Loss per epoch (lr = {only.lr:g})" if len(runs) == 1 else "Loss per epoch"
    decorate(ax, title, "epoch k", "loss J (log scale)", legend=len(runs) > 1)
    return ax


def plot_fit(
    X: Any, y: Any, history: History, *, ax: Axes, x_new: float = 5.0, title: str | None = None
) -> Axes:
    """The data points, the fitted line of the trained model, and its prediction at ``x_new``."""
    X, y = xy_1d(X, y)
    h, ax = one_weight(history), check_ax(ax)
    w, b = float(h.w_final), 0.0 if h.b_final is None else float(h.b_final)
    x_line = np.linspace(min(0.0, X.min(), x_new), max(X.max(), x_new), 100)
    sign = "-" if num(b)[0] == "-" else "+"
    fitted = f"fitted line y = {num(w)} x" + ("" if h.b_final is None else f" {sign} {num(abs(b))}")
    ax.plot(
        X, y, linestyle="none", marker="o", markersize=9, color=OKABE_ITO[0], label="data (x, y)"
    )
    ax.plot(x_line, w * x_line + b, linestyle="--", linewidth=2, color=OKABE_ITO[1], label=fitted)
    ax.plot(
        [x_new],
        [w * x_new + b],
        linestyle="none",
        marker="*",
        markersize=18,
        color=OKABE_ITO[2],
        markeredgecolor="black",
        label=f"prediction f({x_new:g}) = {num(w * x_new + b)}",
    )
    title = title or f"The model after {h.num_epochs} epochs (lr = {h.lr:g})"
    decorate(ax, title, "input x", "output y", legend=True)
    return ax


def plot_training_run(
    X: Any, y: Any, history: History, *, axes: Any, x_new: float = 5.0
) -> list[Axes]:
    """One run at a glance on two ``axes``: its loss curve (left), the fit with f(x_new) (right)."""
    left, right = check_axes(axes, 2, "loss curve, fit")[:2]
    plot_loss_curve(one_weight(history), ax=left)
    plot_fit(X, y, history, ax=right, x_new=x_new)
    return [left, right]


def plot_trajectories(
    histories: History | Mapping[str, History], *, ax: Axes, title: str | None = None
) -> Axes:
    """w per epoch, one line per run; runs that coincide stay visible (sizes and markers differ)."""
    runs, ax = as_histories(histories), check_ax(ax)
    n = len(runs)
    for i, (label, h) in enumerate(runs.items()):
        one_weight(h, f"histories[{label!r}]")
        look = style(i)
        # The first run is drawn widest with hollow markers, each later one thinner and smaller
        # on top, so identical trajectories show as nested markers instead of hiding each other.
        ax.plot(
            np.arange(h.num_epochs),
            h.w,
            label=run_label(label, h),
            zorder=2 + i,
            linewidth=2 + 2.5 * (n - 1 - i),
            markersize=7 + 5 * (n - 1 - i),
            markerfacecolor="none" if i < n - 1 else look["color"],
            markeredgewidth=2,
            alpha=0.9,
            **look,
        )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    decorate(ax, title or "w at the start of each epoch", "epoch k", "weight w", legend=n > 1)
    return ax
