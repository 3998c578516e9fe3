"""Pictures of gradient descent: every function draws a ``History`` or the loss behind it.

The idiom in every lesson cell is the one you will use everywhere::

    fig, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
    plot_loss_curve(history, ax=ax)
    plt.show()

Each helper draws on the ``ax`` it is given (``axes`` for the multi-panel ones) and returns it.
Nothing global is touched (no rcParams, no style sheet, no backend); fonts of 11 pt and more and the
colours are set per artist, and the figure gets an opaque white background, so it reads on a
projector and in a dark JupyterLab theme. Colours are Okabe-Ito (safe for colour-blind readers) and
every run also gets its own marker and line style, so no line is told apart by colour alone.

>>> import matplotlib.pyplot as plt
>>> from gdlessons import toy_data, train_numpy
>>> X, y = toy_data()
>>> fig, ax = plt.subplots()
>>> plot_loss_curve(train_numpy(X, y, lr=0.01, num_epochs=10), ax=ax).get_yscale()
'log'
>>> plt.close(fig)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import LogFormatter, MaxNLocator

from gdlessons._validate import as_array, require_same_length
from gdlessons.history import History

__all__ = [
    "OKABE_ITO",
    "plot_curves",
    "plot_fit",
    "plot_loss_contour",
    "plot_loss_curve",
    "plot_loss_landscape_1d",
    "plot_lr_comparison",
    "plot_trajectories",
    "plot_training_run",
    "loss_surface",
    "span",
    "style",
    "styles",
]

#: The Okabe-Ito colours, ordered for contrast on white (the pale yellow last).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS, LINESTYLES = "os^DvPX*", ("-", "--", "-.", ":")
TITLE, LABEL, TICK = 13, 12, 11  # font sizes in points: readable from the back of a room
STAR = {"linestyle": "none", "marker": "*", "markersize": 18, "markeredgecolor": "black"}
Runs = History | Mapping[str, History]
Looks = Mapping[str, Mapping[str, Any]]


def style(i: int) -> dict[str, Any]:
    """Colour, marker and line style of run ``i``: distinct in colour *and* in shape.

    >>> style(1)
    {'color': '#D55E00', 'marker': 's', 'linestyle': '--'}
    """
    return {"color": OKABE_ITO[i % 8], "marker": MARKERS[i % 8], "linestyle": LINESTYLES[i % 4]}


def styles(labels: Any) -> dict[str, dict[str, Any]]:
    """``style(i)`` for each label in order: pass it as ``looks`` to give a run one look everywhere.

    >>> styles(["SGD", "Adam"])["Adam"]
    {'color': '#D55E00', 'marker': 's', 'linestyle': '--'}
    """
    return {str(label): style(i) for i, label in enumerate(labels)}


def require_axes(ax: Any, name: str = "ax") -> Axes:
    """``ax`` if it is an Axes (and its figure made opaque white), else a clear TypeError."""
    if not isinstance(ax, Axes):
        raise TypeError(
            f"{name} must be a matplotlib Axes, e.g. from `fig, {name} = plt.subplots()`, "
            f"got {type(ax).__name__}."
        )
    ax.figure.set_facecolor("white")
    return ax


def _axes(axes: Any, count: int, what: str) -> list[Axes]:
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(flat) < count:
        raise ValueError(f"axes must hold {count} Axes ({what}), got {len(flat)}.")
    return [require_axes(a, "axes") for a in flat]


def _decorate(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool = False) -> Axes:
    ax.set_title(title, fontsize=TITLE)
    ax.set_xlabel(xlabel, fontsize=LABEL)
    ax.set_ylabel(ylabel, fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    ax.grid(True, color="0.85", linewidth=0.8)
    ax.set_axisbelow(True)
    if legend:
        ax.legend(fontsize=TICK, framealpha=0.9)
    return ax


def _runs(histories: Any, allow_none: bool = False, one_weight: bool = True) -> dict[str, History]:
    """A ``History`` or a dict of label -> ``History`` as a dict (label "" for a lone run)."""
    if histories is None and allow_none:
        return {}
    runs = {"": histories} if isinstance(histories, History) else histories
    if not isinstance(runs, Mapping) or not runs:
        raise TypeError(
            "histories must be a History or a non-empty dict of label -> History, e.g. "
            f"{{'lr = 0.01': history}}; got {type(histories).__name__}."
        )
    for label, h in runs.items():
        if not isinstance(h, History):
            raise TypeError(f"histories[{label!r}] must be a History, got {type(h).__name__}.")
        if one_weight and h.w.ndim != 1:
            raise ValueError(
                f"histories[{label!r}] has {h.w.shape[1]} weights per epoch; this picture needs "
                "a model with a single weight w (1-D X)."
            )
    return {str(label): h for label, h in runs.items()}


def _xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and y as float64 1-D arrays; X of shape (n, 1) is accepted, (n, d > 1) is not."""
    X, y = as_array("X", X), as_array("y", y, ndims=(1, 2))
    if X.ndim == 2 and X.shape[1] != 1:
        raise ValueError(f"X must have one feature here (shape (n,) or (n, 1)), got {X.shape}.")
    X, y = X.reshape(len(X), -1)[:, 0], (y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y)
    require_same_length(X, y)
    return X.astype(np.float64), y.astype(np.float64)


def span(values: Any, pad: float = 0.15, min_width: float = 1.0) -> tuple[float, float]:
    """An axis range around ``values``, padded, at least ``min_width`` wide."""
    lo, hi = float(np.min(values)), float(np.max(values))
    width, mid = max(hi - lo, min_width), (lo + hi) / 2
    return mid - width * (0.5 + pad), mid + width * (0.5 + pad)


def _num(value: float) -> str:
    """Three decimals, never "-0.000" (rounding noise shows as 0)."""
    return f"{round(float(value), 3) + 0.0:.3f}"


# ------------------------------------------------------------------------- runs over the epochs


def plot_loss_curve(
    histories: Runs, *, ax: Axes, title: str | None = None, looks: Looks | None = None
) -> Axes:
    """The loss per epoch on a log scale, one line per run (a legend when there are several).

    A loss that shrinks by the same factor every epoch is a straight line on a log scale, so the
    slope is the speed of convergence. An exact 0 cannot be drawn there: the line stops. ``looks``
    (from ``styles``): each run's colour, marker and line style by its label.
    """
    runs, ax = _runs(histories, one_weight=False), require_axes(ax)
    for i, (label, h) in enumerate(runs.items()):
        loss = np.where(h.loss > 0, h.loss, np.nan)
        look = {**_look(looks, label, i), "markevery": max(1, h.num_epochs // 25), "linewidth": 2}
        ax.plot(np.arange(h.num_epochs), loss, label=label or f"lr = {h.lr:g}", **look)
    ax.set_yscale("log")
    # Plain numbers (30, 20, 0.01) instead of 3 x 10^1; in-between ticks on short ranges.
    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.tick_params(which="minor", labelsize=TICK)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    first = next(iter(runs.values()))
    title = title or (f"Loss per epoch (lr = {first.lr:g})" if len(runs) == 1 else "Loss per epoch")
    return _decorate(ax, title, "epoch k", "loss J (log scale)", legend=len(runs) > 1)


def plot_fit(X: Any, y: Any, history: History, *, ax: Axes, x_new: float = 5.0) -> Axes:
    """The data points, the trained model's fitted line, and its prediction at ``x_new``."""
    (X, y), h, ax = _xy(X, y), _runs(history)[""], require_axes(ax)
    w, b = float(h.w_final), float(h.b_final or 0.0)
    x_line = np.linspace(min(0.0, X.min(), x_new), max(X.max(), x_new), 100)
    bias = "" if h.b_final is None else f" {'-' if _num(b)[0] == '-' else '+'} {_num(abs(b))}"
    ax.plot(X, y, "o", markersize=9, color=OKABE_ITO[0], label="data (x, y)")
    fitted, y_new = f"fitted line y = {_num(w)} x{bias}", w * x_new + b
    ax.plot(x_line, w * x_line + b, "--", linewidth=2, color=OKABE_ITO[1], label=fitted)
    ax.plot(
        x_new,
        y_new,
        color=OKABE_ITO[2],
        label=f"prediction at x = {x_new:g}: {_num(y_new)}",
        **STAR,
    )
    title = f"The model after {h.num_epochs} epochs (lr = {h.lr:g})"
    return _decorate(ax, title, "input x", "output y", legend=True)


def plot_training_run(X: Any, y: Any, history: History, *, axes: Any) -> list[Axes]:
    """One run at a glance on two ``axes``: its loss curve and the fit with its prediction at x = 5."""
    left, right = _axes(axes, 2, "loss curve, fit")[:2]
    return [plot_loss_curve(history, ax=left), plot_fit(X, y, history, ax=right)]


def plot_trajectories(histories: Runs, *, ax: Axes, title: str | None = None) -> Axes:
    """w per epoch, one line per run; runs that coincide stay visible (nested sizes)."""
    runs, ax = _runs(histories), require_axes(ax)
    n = len(runs)
    for i, (label, h) in enumerate(runs.items()):
        # The first run is drawn widest with hollow markers, each later one thinner on top, so
        # identical trajectories show as nested markers instead of hiding one another.
        look = {**style(i), "linewidth": 2 + 2.5 * (n - 1 - i), "markersize": 7 + 5 * (n - 1 - i)}
        look |= {"markerfacecolor": "none" if i < n - 1 else look["color"], "markeredgewidth": 2}
        ax.plot(h.w, label=label or f"lr = {h.lr:g}", zorder=2 + i, alpha=0.9, **look)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return _decorate(ax, title or "w at the start of each epoch", "epoch k", "weight w", n > 1)


# ------------------------------------------------------------------------- the loss landscape


def _parabola(X: np.ndarray, y: np.ndarray, w: Any) -> Any:
    """J(w) = mean((w x - y)^2) for many w at once, from the data's moments (exact, cheap)."""
    return np.mean(X * X) * w**2 - 2 * np.mean(X * y) * w + np.mean(y * y)


def plot_loss_landscape_1d(
    X: Any, y: Any, history: History | None = None, *, ax: Axes, title: str | None = None
) -> Axes:
    """The parabola J(w) of the model y_hat = w x, and a run walking down it.

    Each dot is a row of ``history`` (w at the start of an epoch, and its loss); arrows join them
    in order, the last one to the final w (a square); the minimum w* is a star.
    """
    (X, y), ax = _xy(X, y), require_axes(ax)
    h = None if history is None else _runs(history)[""]
    if h is not None and h.b is not None:
        raise ValueError(
            "history is a run with a bias b, but this picture is J(w) for y_hat = w x. "
            "Use plot_loss_contour(X, y, history, ax=ax) for a model with bias."
        )
    w_star = float(np.sum(X * y) / np.sum(X * X))
    path = [w_star] if h is None else [*h.w, h.w_final, w_star]
    w_grid = np.linspace(*span(path, min_width=2.0), 400)
    ax.plot(w_grid, _parabola(X, y, w_grid), color="0.35", linewidth=2, label="J(w)")
    if h is not None:
        dots = {**style(0), "linestyle": "none", "markersize": 8}
        ax.plot(h.w, h.loss, zorder=3, label=f"gradient descent, lr = {h.lr:g}", **dots)
        points = [*zip(h.w, h.loss), (h.w_final, _parabola(X, y, h.w_final))]
        arrow = {"arrowstyle": "->", "color": OKABE_ITO[0], "lw": 1.5, "shrinkA": 4, "shrinkB": 4}
        for start, end in zip(points[:-1], points[1:]):
            ax.annotate("", xy=end, xytext=start, arrowprops=arrow)
        final = f"final w = {_num(h.w_final)}"
        ax.plot(*points[-1], "s", markersize=9, zorder=3, color=OKABE_ITO[1], label=final)
    minimum = f"minimum w* = {_num(w_star)}"
    ax.plot(w_star, _parabola(X, y, w_star), color=OKABE_ITO[2], zorder=4, label=minimum, **STAR)
    walk = "" if h is None else "; gradient descent walks down it"
    return _decorate(
        ax, title or f"The loss J(w) is a parabola{walk}", "weight w", "loss J(w)", True
    )


def plot_lr_comparison(
    X: Any, y: Any, histories: Mapping[str, History], *, axes: Any, title: str | None = None
) -> list[Axes]:
    """One panel per run: the parabola J(w) with that run's path; one key below all panels.

    ``axes`` holds at least one Axes per run (spares are hidden); ``title`` goes above all.
    """
    runs = _runs(histories)
    axes = _axes(axes, len(runs), "one per run")
    for ax, (label, h) in zip(axes, runs.items()):
        plot_loss_landscape_1d(
            X, y, h, ax=ax, title=label or f"lr = {h.lr:g}"
        ).get_legend().remove()
    for spare in axes[len(runs) :]:
        spare.set_visible(False)
    parabola, points, final, minimum = axes[0].lines
    names = ["w at the start of an epoch", "final w", "minimum w*", "loss J(w)"]
    fig = axes[0].figure
    key = {"loc": "outside lower center", "ncols": 4, "fontsize": TICK}
    fig.legend([points, final, minimum, parabola], names, **key)
    if title is not None:
        fig.suptitle(title, fontsize=TITLE + 1)
    return axes[: len(runs)]


def loss_surface(X: np.ndarray, y: np.ndarray, w: Any, b: Any) -> Any:
    """J(w, b) = mean((w x + b - y)^2) for many (w, b) at once, from the data's moments.

    >>> float(loss_surface(np.array([1.0, 2.0]), np.array([2.0, 4.0]), 2.0, 0.0))
    0.0
    """
    mx, mxx, my, mxy, myy = X.mean(), (X * X).mean(), y.mean(), (X * y).mean(), (y * y).mean()
    return mxx * w**2 + 2 * mx * w * b + b**2 - 2 * mxy * w - 2 * my * b + myy


def plot_loss_contour(
    X: Any,
    y: Any,
    histories: Runs | None = None,
    *,
    ax: Axes,
    title: str | None = None,
    looks: Looks | None = None,
) -> Axes:
    """Contours of J(w, b) = mean((w x + b - y)^2), with each run's path (w[k], b[k]).

    For 1-D ``X`` and runs of a model **with** bias. Levels are log-spaced above the minimum,
    so both the steep walls and the flat floor of the valley show; least squares is a star.
    ``looks`` (from ``styles``): each run's look by its label, e.g. the same as in a loss curve.
    """
    (X, y), runs, ax = _xy(X, y), _runs(histories, allow_none=True), require_axes(ax)
    for label, h in runs.items():
        if h.b is None:
            raise ValueError(
                f"histories[{label!r}] is a run without bias (its b is None), but this picture is "
                "J(w, b). Train with a bias (b0=0.0), or use plot_loss_landscape_1d."
            )
    (w_star, b_star), *_ = np.linalg.lstsq(np.column_stack([X, np.ones_like(X)]), y, rcond=None)
    ws = np.concatenate([[w_star], *(h.w for h in runs.values())])
    bs = np.concatenate([[b_star], *(h.b for h in runs.values())])
    W, B = np.meshgrid(np.linspace(*span(ws), 300), np.linspace(*span(bs), 300))
    J, J_star = loss_surface(X, y, W, B), max(float(loss_surface(X, y, w_star, b_star)), 0.0)
    levels = J_star + np.geomspace((J.max() - J_star) * 1e-4, J.max() - J_star, 13)
    shades = [matplotlib.colormaps["cividis"](t) for t in np.linspace(0.0, 0.8, len(levels))]
    contours = ax.contour(W, B, J, levels=levels, colors=shades, linewidths=1.2)
    ax.clabel(contours, contours.levels[6::3], fontsize=TICK, fmt="%.3g")  # room to read there
    starts = set()
    for i, (label, h) in enumerate(runs.items()):
        marks = sorted(
            {*range(min(h.num_epochs, 15)), *np.linspace(0, h.num_epochs - 1, 25).astype(int)}
        )
        look = {**_look(looks, label, i + 1), "linewidth": 1.8, "markersize": 6}
        look |= {"markevery": marks, "zorder": 3}
        ax.plot(h.w, h.b, label=label or f"gradient descent, lr = {h.lr:g}", **look)
        if (h.w[0], h.b[0]) not in starts:  # runs from one start share one label
            starts.add((h.w[0], h.b[0]))
            offset = {"xytext": (-8, 8), "textcoords": "offset points", "ha": "right"}
            ax.annotate("start", xy=(h.w[0], h.b[0]), fontsize=TICK, **offset)
    best = f"least squares (w*, b*) = ({_num(w_star)}, {_num(b_star)})"
    ax.plot(w_star, b_star, color=OKABE_ITO[2], zorder=5, label=best, **{**STAR, "markersize": 20})
    title = title or "Loss J(w, b): contour lines of equal loss"
    return _decorate(ax, title, "weight w", "bias b", legend=True)


def _look(looks: Looks | None, label: str, i: int) -> dict[str, Any]:
    if looks is None:
        return style(i)
    if label not in looks:
        raise KeyError(f"looks has no entry for the run {label!r}: make it with styles(runs).")
    return dict(looks[label])


def plot_curves(
    curves: Mapping[str, tuple[Any, Any]],
    *,
    ax: Axes,
    title: str,
    xlabel: str,
    ylabel: str = "loss (log scale)",
    logx: bool = False,
    reference: Mapping[str, float] | None = None,
) -> Axes:
    """Several curves, label -> (x, values), on a log scale, each in its ``style``; ``reference``:
    horizontal lines, label -> level (a noise variance, a floor).

    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_curves({"a": ([0, 1, 2], [1.0, 0.1, 0.01])}, ax=ax, title="t", xlabel="step")
    >>> ax.get_yscale(), ax.get_xscale()
    ('log', 'linear')
    >>> plt.close(fig)
    """
    ax = require_axes(ax)
    for i, (label, (x, values)) in enumerate(curves.items()):
        x, values = np.asarray(x, dtype=np.float64), np.asarray(values, dtype=np.float64)
        if x.shape != values.shape:
            raise ValueError(f"curves[{label!r}]: {x.shape[0]} x values for {values.shape[0]}.")
        look = {**style(i), "markevery": max(1, len(x) // 12), "linewidth": 2.2, "markersize": 7}
        ax.plot(x, np.where(values > 0, values, np.nan), label=label, **look)
    for label, level in (reference or {}).items():
        ax.axhline(level, color="0.4", linewidth=1, label=label)
    ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    return _decorate(ax, title, xlabel, ylabel, legend=len(curves) + len(reference or {}) > 1)
