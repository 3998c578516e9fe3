"""The loss as a landscape: the parabola J(w) of the model y_hat = w x, and the bowl J(w, b).

Each picture draws runs (``History`` rows) on the surface they walk down. Import them from
``gdlessons.plots``, like every picture.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes

from gdlessons._drawing import (
    LINESTYLES,
    OKABE_ITO,
    TICK,
    TITLE,
    as_histories,
    check_ax,
    check_axes,
    decorate,
    num,
    one_weight,
    run_label,
    span,
    style,
    xy_1d,
)
from gdlessons.history import History

__all__ = ["plot_loss_contour", "plot_loss_landscape_1d", "plot_lr_comparison"]


def _parabola(X: np.ndarray, y: np.ndarray, w: Any) -> Any:
    """J(w) = mean((w x - y)^2) for many w at once, from the data's moments (exact, cheap)."""
    return np.mean(X * X) * w**2 - 2 * np.mean(X * y) * w + np.mean(y * y)


def plot_loss_landscape_1d(
    X: Any, y: Any, history: History | None = None, *, ax: Axes, title: str | None = None
) -> Axes:
    """The loss J(w) = mean((w x - y)^2) of the model y_hat = w x as a parabola, and a run on it.

    Each point of the path is row k of ``history`` (w at the start of epoch k and its loss);
    arrows join them in order, a last arrow leads to the final w, and the minimum w* is a star.
    """
    X, y = xy_1d(X, y)
    ax = check_ax(ax)
    if history is not None and one_weight(history).b is not None:
        raise ValueError(
            "history is a run with a bias b, but this picture is J(w) for y_hat = w x. "
            "Use plot_loss_contour(X, y, history, ax=ax) for a model with bias."
        )
    w_star = float(np.sum(X * y) / np.sum(X * X))
    h = history
    path = np.array([w_star]) if h is None else np.concatenate([h.w, [h.w_final, w_star]])
    w_grid = np.linspace(*span(path, min_width=2.0), 400)
    ax.plot(w_grid, _parabola(X, y, w_grid), color="0.35", linewidth=2, label="J(w)")
    if h is not None:
        ax.plot(
            h.w,
            h.loss,
            markersize=8,
            zorder=3,
            label=f"gradient descent, lr = {h.lr:g}",
            **{**style(0), "linestyle": "none"},
        )
        points = list(zip(h.w, h.loss)) + [(h.w_final, _parabola(X, y, h.w_final))]
        for start, end in zip(points[:-1], points[1:]):
            ax.annotate(
                "",
                xy=end,
                xytext=start,
                arrowprops={
                    "arrowstyle": "->",
                    "color": OKABE_ITO[0],
                    "lw": 1.5,
                    "shrinkA": 4,
                    "shrinkB": 4,
                },
            )
        ax.plot(
            *points[-1],
            linestyle="none",
            marker="s",
            markersize=9,
            zorder=3,
            color=OKABE_ITO[1],
            label=f"final w = {num(h.w_final)}",
        )
    ax.plot(
        w_star,
        _parabola(X, y, w_star),
        linestyle="none",
        marker="*",
        markersize=18,
        color=OKABE_ITO[2],
        markeredgecolor="black",
        zorder=4,
        label=f"minimum w* = {num(w_star)}",
    )
    if title is None:
        title = "The loss J(w) is a parabola" + ("; gradient descent walks down it" if h else "")
    decorate(ax, title, "weight w", "loss J(w)", legend=True)
    return ax


def plot_lr_comparison(
    X: Any, y: Any, histories: Mapping[str, History], *, axes: Any, title: str | None = None
) -> list[Axes]:
    """One panel per run: the parabola J(w) with that run's path on it, and one key below.

    ``histories`` maps a panel title (e.g. ``"lr = 0.001: too small"``) to a run of y_hat = w x;
    ``axes`` holds at least one Axes per run (spare ones are hidden). ``title`` goes above all.
    """
    runs = as_histories(histories)
    axes = check_axes(axes, len(runs), "one per run")
    for ax, (label, h) in zip(axes, runs.items()):
        plot_loss_landscape_1d(X, y, h, ax=ax, title=run_label(label, h))
        ax.get_legend().remove()  # the panel's title says the lr; one key for all, below
    for spare in axes[len(runs) :]:
        spare.set_visible(False)
    fig = axes[0].figure
    parabola, points, final, minimum = axes[0].lines
    fig.legend(
        [points, final, minimum, parabola],
        ["w at the start of an epoch", "final w", "minimum w*", "loss J(w)"],
        loc="outside lower center",
        ncols=4,
        fontsize=TICK,
    )
    if title is not None:
        fig.suptitle(title, fontsize=TITLE + 1)
    return axes[: len(runs)]


def _bowl(X: np.ndarray, y: np.ndarray, w: Any, b: Any) -> Any:
    """J(w, b) = mean((w x + b - y)^2) for many (w, b) at once, from the data's moments."""
    mx, mxx, my, mxy, myy = X.mean(), (X * X).mean(), y.mean(), (X * y).mean(), (y * y).mean()
    return mxx * w**2 + 2 * mx * w * b + b**2 - 2 * mxy * w - 2 * my * b + myy


def plot_loss_contour(
    X: Any,
    y: Any,
    histories: History | Mapping[str, History] | None = None,
    *,
    ax: Axes,
    title: str | None = None,
) -> Axes:
    """Contours of J(w, b) = mean((w x + b - y)^2) on the (w, b) plane, with each run's path.

    For 1-D ``X`` and runs of a model **with** bias. Levels are log-spaced above the minimum, so
    both the steep walls and the flat floor of the valley show. A path is the rows
    ``(history.w[k], history.b[k])``, markers joined by a line; least squares is a star.
    """
    X, y = xy_1d(X, y)
    runs, ax = as_histories(histories, allow_none=True), check_ax(ax)
    for label, h in runs.items():
        one_weight(h, f"histories[{label!r}]")
        if h.b is None:
            raise ValueError(
                f"histories[{label!r}] is a run without bias (its b is None), but this picture "
                "is J(w, b). Train with a bias (b0=0.0), or draw the model without bias with "
                "plot_loss_landscape_1d."
            )
    A = np.column_stack([X, np.ones_like(X)])
    (w_star, b_star), *_ = np.linalg.lstsq(A, y, rcond=None)
    ws = np.concatenate([[w_star]] + [h.w for h in runs.values()])
    bs = np.concatenate([[b_star]] + [h.b for h in runs.values()])
    W, B = np.meshgrid(np.linspace(*span(ws), 300), np.linspace(*span(bs), 300))
    J = _bowl(X, y, W, B)
    J_star = max(float(_bowl(X, y, w_star, b_star)), 0.0)
    levels = J_star + np.geomspace((J.max() - J_star) * 1e-4, J.max() - J_star, 13)
    shades = [matplotlib.colormaps["cividis"](t) for t in np.linspace(0.0, 0.8, len(levels))]
    contours = ax.contour(W, B, J, levels=levels, colors=shades, linewidths=1.2)
    ax.clabel(contours, contours.levels[6::3], fontsize=TICK, fmt="%.3g")  # room to read there
    starts = set()
    for i, (label, h) in enumerate(runs.items()):
        marks = sorted(
            {
                *range(min(h.num_epochs, 15)),
                *np.linspace(0, h.num_epochs - 1, 25).astype(int).tolist(),
            }
        )
        ax.plot(
            h.w,
            h.b,
            linewidth=1.8,
            markersize=6,
            markevery=marks,
            zorder=3,
            label=label or f"gradient descent, lr = {h.lr:g}",
            **{**style(i + 1), "linestyle": LINESTYLES[i % len(LINESTYLES)]},
        )
        if (h.w[0], h.b[0]) not in starts:  # runs from one start share one label
            starts.add((h.w[0], h.b[0]))
            ax.annotate(
                "start",
                xy=(h.w[0], h.b[0]),
                xytext=(-8, 8),
                textcoords="offset points",
                ha="right",
                fontsize=TICK,
            )
    ax.plot(
        w_star,
        b_star,
        linestyle="none",
        marker="*",
        markersize=20,
        color=OKABE_ITO[2],
        markeredgecolor="black",
        zorder=5,
        label=f"least squares (w*, b*) = ({num(w_star)}, {num(b_star)})",
    )
    decorate(
        ax, title or "Loss J(w, b): contour lines of equal loss", "weight w", "bias b", legend=True
    )
    return ax
