"""Pictures of gradient descent: every function draws a ``History`` (or the loss behind it).

Rules every helper here follows, so that a lesson can put them side by side:

* each takes an optional ``ax`` (a matplotlib ``Axes``), draws on it and returns it; without one it
  makes a new figure of a size that reads on a projector (7 x 4.5 inches, fonts of 11 pt and more);
* nothing global is touched: no ``plt.rcParams`` edits, no style sheets, no backend choice; fonts and
  colours are set per artist. A new figure is a plain ``matplotlib.figure.Figure``, not registered with
  pyplot, so nothing piles up or pops up by itself;
* colours come from the Okabe-Ito palette (safe for colour-blind readers) and every run also gets its
  own marker and line style, so the figures read in greyscale too;
* ``show(fig)`` displays only the PNG of a figure in Jupyter (no ``<Figure size ...>`` text) and
  closes it.

>>> from gdlessons import toy_data, train_numpy
>>> X, y = toy_data()
>>> ax = plot_loss_curve(train_numpy(X, y, lr=0.01, num_epochs=10))
>>> ax.get_yscale(), ax.get_xlabel()
('log', 'epoch k')
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatter, MaxNLocator

from gdlessons._validate import as_array, check_same_length
from gdlessons.train import History

__all__ = [
    "OKABE_ITO",
    "grad_fn_tree",
    "plot_fit",
    "plot_grad_fn_graph",
    "plot_loss_contour",
    "plot_loss_curve",
    "plot_loss_landscape_1d",
    "plot_lr_comparison",
    "plot_trajectories",
    "plot_training_run",
    "show",
]

#: The Okabe-Ito colours, ordered for contrast on white (the pale yellow last).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
_LINESTYLES = ("-", "--", "-.", ":")
_FIGSIZE = (7.0, 4.5)
_TITLE, _LABEL, _TICK, _LEGEND = 13, 12, 11, 11
_DPI = 100


# --------------------------------------------------------------------------------------- display


def show(fig: Any) -> None:
    """Display ``fig`` as a PNG in Jupyter, then close it; outside a Jupyter kernel only close it.

    ``fig`` may be a ``Figure``, an ``Axes`` or an array of axes (as the ``plot_*`` helpers return):
    ``show(plot_loss_curve(history))`` works. Only ``image/png`` is published: a notebook stores
    no ``<Figure size ...>`` text and the inline backend does not show the figure a second time.

    >>> from matplotlib.figure import Figure
    >>> show(Figure())  # outside Jupyter: nothing is displayed, nothing is returned
    """
    fig = _figure_of(fig, "fig")
    shell = _jupyter_shell()
    if shell is not None:
        from IPython.display import display

        png = _png_bytes(fig)
        display({"image/png": base64.b64encode(png).decode("ascii")}, raw=True)
    _close(fig)


def _figure_of(obj: Any, name: str) -> Figure:
    if isinstance(obj, (np.ndarray, list, tuple)) and len(obj) and isinstance(np.ravel(obj)[0], Axes):
        obj = np.ravel(obj)[0]
    if isinstance(obj, Axes):
        obj = obj.figure
        while not isinstance(obj, Figure) and hasattr(obj, "figure"):  # an Axes in a SubFigure
            obj = obj.figure
    if isinstance(obj, Figure):
        return obj
    raise TypeError(
        f"{name} must be a matplotlib Figure or Axes (what the plot_* helpers return), "
        f"got {type(obj).__name__}."
    )


def _jupyter_shell() -> Any:
    """The running Jupyter kernel's shell, or None (plain Python, terminal IPython, tests)."""
    try:
        from IPython import get_ipython
    except ImportError:  # IPython is not installed: certainly not in Jupyter
        return None
    shell = get_ipython()
    return shell if getattr(shell, "kernel", None) is not None else None


def _png_bytes(fig: Figure) -> bytes:
    buf = io.BytesIO()
    # A figure with a layout engine (ours are constrained) already fits its labels; "tight"
    # cropping, which costs a second full draw, is only for figures made without one.
    tight = "tight" if fig.get_layout_engine() is None else None
    fig.savefig(buf, format="png", dpi=_DPI, bbox_inches=tight, facecolor="white")
    return buf.getvalue()


def _close(fig: Figure) -> None:
    import matplotlib.pyplot as plt  # only to unregister a figure made with plt.subplots

    plt.close(fig)


# --------------------------------------------------------------------------------------- helpers


def _axes(ax: Axes | None, figsize: tuple[float, float] = _FIGSIZE) -> Axes:
    """``ax`` itself, or the axes of a new (pyplot-free) figure."""
    if ax is None:
        return Figure(figsize=figsize, layout="constrained").add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()) or None, got {type(ax).__name__}.")
    return ax


def _style(i: int) -> dict[str, Any]:
    """Colour, marker and line style of run ``i``: distinct in colour *and* in shape."""
    return {
        "color": OKABE_ITO[i % len(OKABE_ITO)],
        "marker": _MARKERS[i % len(_MARKERS)],
        "linestyle": _LINESTYLES[i % len(_LINESTYLES)],
    }


def _decorate(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool = False) -> None:
    ax.set_title(title, fontsize=_TITLE)
    ax.set_xlabel(xlabel, fontsize=_LABEL)
    ax.set_ylabel(ylabel, fontsize=_LABEL)
    ax.tick_params(labelsize=_TICK)
    ax.grid(True, color="0.85", linewidth=0.8)
    ax.set_axisbelow(True)
    if legend:
        ax.legend(fontsize=_LEGEND, framealpha=0.9)


def _histories(histories: Any, name: str = "histories", allow_none: bool = False) -> dict[str, History]:
    """A ``History`` or a mapping of label -> ``History`` as a dict (label '' for a lone run)."""
    if histories is None and allow_none:
        return {}
    if isinstance(histories, History):
        return {"": histories}
    if isinstance(histories, Mapping) and histories:
        out = {}
        for label, h in histories.items():
            if not isinstance(h, History):
                raise TypeError(
                    f"{name}[{label!r}] must be a History (what train_numpy & co. return), got {type(h).__name__}."
                )
            out[str(label)] = h
        return out
    raise TypeError(
        f"{name} must be a History or a non-empty dict of label -> History, e.g. "
        f"{{'lr = 0.01': history}}; got {type(histories).__name__}"
        + (" (empty)" if isinstance(histories, Mapping) else "")
        + "."
    )


def _one_weight(h: History, label: str, name: str) -> None:
    if h.w.ndim != 1:
        raise ValueError(
            f"{name}{'[' + repr(label) + ']' if label else ''} has weights of shape {h.w.shape[1:]} per "
            "epoch; this picture needs a model with a single weight w (1-D X)."
        )


def _one_history(history: Any) -> History:
    if not isinstance(history, History):
        raise TypeError(
            f"history must be one History (what train_numpy, train_autograd or train_nn return), "
            f"got {type(history).__name__}."
        )
    _one_weight(history, "", "history")
    return history


def _xy_1d(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and y as float64 1-D arrays; X of shape (n, 1) is accepted, (n, d>1) is not."""
    X, y = as_array("X", X), as_array("y", y, ndims=(1, 2))
    if X.ndim == 2:
        if X.shape[1] != 1:
            raise ValueError(
                f"X must have one feature for this picture (shape (n,) or (n, 1)), got shape {X.shape}."
            )
        X = X[:, 0]
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    check_same_length(X, y)
    return X.astype(np.float64), y.astype(np.float64)


def _span(values: np.ndarray, pad: float = 0.15, min_width: float = 1.0) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    width = max(hi - lo, min_width)
    mid = (lo + hi) / 2
    return mid - width * (0.5 + pad), mid + width * (0.5 + pad)


def _num(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals and never a "-0.000" (rounding noise shows as 0)."""
    return f"{round(float(value), digits) + 0.0:.{digits}f}"


def _mark_every(num_epochs: int) -> list[int]:
    """Which epochs get a marker: all of the first 15 (where a path turns), then about 25 more."""
    return sorted(set(range(min(num_epochs, 15))) | set(np.linspace(0, num_epochs - 1, 25).astype(int).tolist()))


def _label(label: str, h: History) -> str:
    return label or f"lr = {h.lr:g}"


# --------------------------------------------------------------------------------------- pictures


def plot_loss_curve(histories: History | Mapping[str, History], ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """The loss per epoch on a log scale, one line per run (a legend when there is more than one).

    On a log scale, a loss that shrinks by the same factor every epoch is a straight line, so the
    slope shows the speed of convergence. A loss of exactly 0 cannot be drawn on a log scale; the
    line stops there.

    >>> from gdlessons import toy_data, train_numpy
    >>> X, y = toy_data()
    >>> runs = {f"lr = {lr}": train_numpy(X, y, lr=lr, num_epochs=10) for lr in (0.01, 0.05)}
    >>> ax = plot_loss_curve(runs)
    >>> len(ax.lines), [t.get_text() for t in ax.get_legend().get_texts()]
    (2, ['lr = 0.01', 'lr = 0.05'])
    """
    runs = _histories(histories)
    ax = _axes(ax)
    for i, (label, h) in enumerate(runs.items()):
        epochs = np.arange(h.num_epochs)
        loss = np.where(h.loss > 0, h.loss, np.nan)  # log scale: an exact 0 ends the line
        ax.plot(epochs, loss, label=_label(label, h), linewidth=2, markersize=6,
                markevery=max(1, h.num_epochs // 25), **_style(i))
    ax.set_yscale("log")
    # Plain numbers (30, 20, 0.01) instead of 3 x 10^1; in-between ticks labelled when the range is short.
    ax.yaxis.set_major_formatter(LogFormatter(labelOnlyBase=False))
    ax.yaxis.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))
    ax.tick_params(which="minor", labelsize=_TICK)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title is None:
        only = next(iter(runs.values()))
        title = f"Loss per epoch (lr = {only.lr:g})" if len(runs) == 1 else "Loss per epoch"
    _decorate(ax, title, "epoch k", "loss J (log scale)", legend=len(runs) > 1)
    return ax


def plot_fit(X: Any, y: Any, history: History, ax: Axes | None = None, x_new: float = 5.0, *, title: str | None = None) -> Axes:
    """The data points, the fitted line of the trained model, and its prediction at ``x_new``.

    >>> from gdlessons import toy_data, train_numpy
    >>> X, y = toy_data()
    >>> ax = plot_fit(X, y, train_numpy(X, y, lr=0.01, num_epochs=10))
    >>> [line.get_label() for line in ax.lines]
    ['data (x, y)', 'fitted line y = 1.606 x', 'prediction f(5) = 8.031']
    """
    X, y = _xy_1d(X, y)
    h = _one_history(history)
    ax = _axes(ax)
    w, b = float(h.w_final), 0.0 if h.b_final is None else float(h.b_final)
    x_line = np.linspace(min(0.0, X.min(), x_new), max(X.max(), x_new), 100)
    fitted = f"fitted line y = {_num(w)} x" + ("" if h.b_final is None else f" {'-' if _num(b)[0] == '-' else '+'} {_num(abs(b))}")
    ax.plot(X, y, linestyle="none", marker="o", markersize=9, color=OKABE_ITO[0], label="data (x, y)")
    ax.plot(x_line, w * x_line + b, linestyle="--", linewidth=2, color=OKABE_ITO[1], label=fitted)
    y_new = w * x_new + b
    ax.plot([x_new], [y_new], linestyle="none", marker="*", markersize=18, color=OKABE_ITO[2],
            markeredgecolor="black", label=f"prediction f({x_new:g}) = {_num(y_new)}")
    if title is None:
        title = f"The model after {h.num_epochs} epochs (lr = {h.lr:g})"
    _decorate(ax, title, "input x", "output y", legend=True)
    return ax


def plot_training_run(X: Any, y: Any, history: History, axes: Any = None, x_new: float = 5.0) -> np.ndarray:
    """One run at a glance: its loss curve (left) and the fitted line with f(x_new) (right).

    ``axes`` is None (a new 11 x 4.2 inch figure) or two ``Axes``. Returns the two axes.

    >>> from gdlessons import toy_data, train_numpy
    >>> X, y = toy_data()
    >>> [ax.get_ylabel() for ax in plot_training_run(X, y, train_numpy(X, y, lr=0.01, num_epochs=10))]
    ['loss J (log scale)', 'output y']
    """
    h = _one_history(history)
    if axes is None:
        axes = Figure(figsize=(11.0, 4.2), layout="constrained").subplots(1, 2)
    axes = np.ravel(np.asarray(axes, dtype=object))
    if len(axes) != 2 or not all(isinstance(a, Axes) for a in axes):
        raise ValueError(f"axes must be two Axes (loss curve, fit) or None, got {len(axes)}.")
    plot_loss_curve(h, ax=axes[0])
    plot_fit(X, y, h, ax=axes[1], x_new=x_new)
    return axes


def _parabola(X: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """J(w) = mean((w x - y)^2) for many w at once, from the data's moments (exact, cheap)."""
    return np.mean(X * X) * w**2 - 2 * np.mean(X * y) * w + np.mean(y * y)


def plot_loss_landscape_1d(X: Any, y: Any, history: History | None = None, ax: Axes | None = None, *,
                           title: str | None = None) -> Axes:
    """The loss J(w) = mean((w x - y)^2) of the model y_hat = w x as a parabola, and the run on it.

    Each point of the path is row k of ``history`` (w at the start of epoch k and its loss); arrows
    join them in order, and a last arrow leads to the final w. The minimum w* is marked.

    >>> from gdlessons import toy_data, train_numpy
    >>> X, y = toy_data()
    >>> ax = plot_loss_landscape_1d(X, y, train_numpy(X, y, lr=0.01, num_epochs=10))
    >>> [line.get_label() for line in ax.lines]
    ['J(w)', 'gradient descent, lr = 0.01', 'final w = 1.606', 'minimum w* = 2.000']
    """
    X, y = _xy_1d(X, y)
    if history is not None:
        h = _one_history(history)
        if h.b is not None:
            raise ValueError(
                "history is a run with a bias b, but this picture is J(w) for y_hat = w x. "
                "Use plot_loss_contour(X, y, history) for a model with bias."
            )
    w_star = float(np.sum(X * y) / np.sum(X * X))
    ax = _axes(ax)
    path = np.array([w_star]) if history is None else np.concatenate([h.w, [h.w_final, w_star]])
    w_grid = np.linspace(*_span(path, min_width=2.0), 400)
    ax.plot(w_grid, _parabola(X, y, w_grid), color="0.35", linewidth=2, label="J(w)")
    if history is not None:
        style = {**_style(0), "linestyle": "none"}
        ax.plot(h.w, h.loss, markersize=8, zorder=3, label=f"gradient descent, lr = {h.lr:g}", **style)
        points = list(zip(h.w, h.loss)) + [(h.w_final, float(_parabola(X, y, np.float64(h.w_final))))]
        for (w0, j0), (w1, j1) in zip(points[:-1], points[1:]):
            ax.annotate("", xy=(w1, j1), xytext=(w0, j0),
                        arrowprops={"arrowstyle": "->", "color": OKABE_ITO[0], "lw": 1.5, "shrinkA": 4, "shrinkB": 4})
        ax.plot([points[-1][0]], [points[-1][1]], linestyle="none", marker="s", markersize=9, zorder=3,
                color=OKABE_ITO[1], label=f"final w = {_num(h.w_final)}")
    ax.plot([w_star], [float(_parabola(X, y, np.float64(w_star)))], linestyle="none", marker="*", markersize=18,
            color=OKABE_ITO[2], markeredgecolor="black", zorder=4, label=f"minimum w* = {_num(w_star)}")
    if title is None:
        title = "The loss J(w) is a parabola" + ("" if history is None else "; gradient descent walks down it")
    _decorate(ax, title, "weight w", "loss J(w)", legend=True)
    return ax


def plot_lr_comparison(X: Any, y: Any, histories: Mapping[str, History], axes: Any = None, *, ncols: int = 3,
                       title: str | None = None) -> np.ndarray:
    """Side by side, one panel per run: the parabola J(w) with that run's path on it.

    ``histories`` maps a panel title (e.g. ``"lr = 0.001: too small"``) to a run of the model
    y_hat = w x; ``axes`` is None (a new figure, ``ncols`` panels a row) or one ``Axes`` per run.
    ``title`` goes above all panels. Returns the axes as an array, the way ``show`` accepts them.

    >>> from gdlessons import toy_data, train_numpy
    >>> X, y = toy_data()
    >>> runs = {f"lr = {lr}": train_numpy(X, y, lr=lr, num_epochs=5) for lr in (0.01, 0.1)}
    >>> [ax.get_title() for ax in plot_lr_comparison(X, y, runs)]
    ['lr = 0.01', 'lr = 0.1']
    """
    runs = _histories(histories)
    new_figure = axes is None
    if new_figure:
        nrows = -(-len(runs) // ncols)
        fig = Figure(figsize=(3.5 * min(ncols, len(runs)), 0.6 + 3.1 * nrows), layout="constrained")
        grid = fig.subplots(nrows, min(ncols, len(runs)), squeeze=False).ravel()
        for extra in grid[len(runs):]:
            extra.set_visible(False)
        axes = grid[: len(runs)]
    else:
        axes = np.ravel(np.asarray(axes, dtype=object))
        if len(axes) != len(runs) or not all(isinstance(a, Axes) for a in axes):
            raise ValueError(f"axes must hold one Axes per run: {len(runs)} runs, got {len(axes)} axes.")
    for ax, (label, h) in zip(axes, runs.items()):
        plot_loss_landscape_1d(X, y, h, ax=ax, title=_label(label, h))
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()  # one legend for all panels would repeat; the panel's title says the lr
        ax.set_xlabel("weight w", fontsize=_LABEL)
    fig = axes[0].get_figure()
    if new_figure:  # one key for all panels, below them
        parabola, points, final, minimum = axes[0].lines
        fig.legend([points, final, minimum, parabola], ["w at the start of an epoch", "final w", "minimum w*", "loss J(w)"],
                   loc="outside lower center", ncols=4, fontsize=_LEGEND)
    if title is not None:
        fig.suptitle(title, fontsize=_TITLE + 1)
    return np.asarray(axes, dtype=object)


def plot_trajectories(histories: History | Mapping[str, History], ax: Axes | None = None, *,
                      title: str | None = None) -> Axes:
    """w per epoch, one line per run; runs that coincide stay visible (sizes, markers and dashes differ).

    >>> from gdlessons import toy_data, train_autograd, train_numpy
    >>> X, y = toy_data()
    >>> runs = {"NumPy": train_numpy(X, y, 0.01, 10), "autograd": train_autograd(X, y, 0.01, 10)}
    >>> [line.get_label() for line in plot_trajectories(runs).lines]
    ['NumPy', 'autograd']
    """
    runs = _histories(histories)
    ax = _axes(ax)
    n = len(runs)
    for i, (label, h) in enumerate(runs.items()):
        _one_weight(h, label, "histories")
        style = _style(i)
        # The first run is drawn widest with hollow markers, each later one thinner and smaller on
        # top, so identical trajectories show as nested markers instead of hiding one another.
        ax.plot(np.arange(h.num_epochs), h.w, label=_label(label, h), zorder=2 + i,
                linewidth=2 + 2.5 * (n - 1 - i), markersize=7 + 5 * (n - 1 - i),
                markerfacecolor="none" if i < n - 1 else style["color"], markeredgewidth=2,
                alpha=0.9, **style)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if title is None:
        title = "w at the start of each epoch"
    _decorate(ax, title, "epoch k", "weight w", legend=n > 1)
    return ax


def _least_squares(X: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    A = np.column_stack([X, np.ones_like(X)])
    (w, b), *_ = np.linalg.lstsq(A, y, rcond=None)
    return float(w), float(b)


def plot_loss_contour(X: Any, y: Any, histories: History | Mapping[str, History] | None = None,
                      ax: Axes | None = None, *, title: str | None = None) -> Axes:
    """Contours of J(w, b) = mean((w x + b - y)^2) on the (w, b) plane, with each run's path on it.

    For 1-D ``X`` and a model **with** bias (train with ``b0=...``). Levels are log-spaced above
    the minimum, so both the steep walls and the flat floor of the valley show. Each run's path is
    its rows ``(history.w[k], history.b[k])``, drawn as markers joined by a line; the
    least-squares optimum is a star.

    >>> from gdlessons import toy_data, train_numpy
    >>> X, y = toy_data()
    >>> h = train_numpy(X, y, lr=0.1, num_epochs=50, b0=0.0)
    >>> ax = plot_loss_contour(X, y, h)
    >>> [line.get_label() for line in ax.lines]
    ['gradient descent, lr = 0.1', 'least squares (w*, b*) = (2.000, 0.000)']
    """
    X, y = _xy_1d(X, y)
    runs = _histories(histories, allow_none=True)
    for label, h in runs.items():
        where = f"histories[{label!r}]" if label else "histories"
        _one_weight(h, label, "histories")
        if h.b is None:
            raise ValueError(
                f"{where} is a run without bias (its b is None), but this picture is J(w, b). "
                "Train with a bias, e.g. train_numpy(X, y, lr, num_epochs, b0=0.0), or draw the "
                "model without bias with plot_loss_landscape_1d."
            )
    w_star, b_star = _least_squares(X, y)
    ax = _axes(ax)
    ws = np.concatenate([[w_star]] + [h.w for h in runs.values()])
    bs = np.concatenate([[b_star]] + [h.b for h in runs.values()])
    W, B = np.meshgrid(np.linspace(*_span(ws), 300), np.linspace(*_span(bs), 300))
    # J from the data's moments: exact, and cheap however many samples X has.
    mx, mxx, my, mxy, myy = X.mean(), (X * X).mean(), y.mean(), (X * y).mean(), (y * y).mean()
    J = mxx * W**2 + 2 * mx * W * B + B**2 - 2 * mxy * W - 2 * my * B + myy
    J_star = mxx * w_star**2 + 2 * mx * w_star * b_star + b_star**2 - 2 * mxy * w_star - 2 * my * b_star + myy
    J_star = max(float(J_star), 0.0)
    excess = float(J.max()) - J_star
    levels = J_star + np.geomspace(excess * 1e-4, excess, 13)
    shades = [matplotlib.colormaps["cividis"](t) for t in np.linspace(0.0, 0.8, len(levels))]
    contours = ax.contour(W, B, J, levels=levels, colors=shades, linewidths=1.2)
    ax.clabel(contours, contours.levels[6::3], fontsize=_TICK, fmt="%.3g")  # the outer ones: room to read
    starts = set()
    for i, (label, h) in enumerate(runs.items()):
        style = {**_style(i + 1), "linestyle": _LINESTYLES[i % len(_LINESTYLES)]}
        ax.plot(h.w, h.b, linewidth=1.8, markersize=6, markevery=_mark_every(h.num_epochs), zorder=3,
                label=_label(label, h) if label else f"gradient descent, lr = {h.lr:g}", **style)
        if (h.w[0], h.b[0]) not in starts:  # runs from one start share one label
            starts.add((h.w[0], h.b[0]))
            ax.annotate("start", xy=(h.w[0], h.b[0]), xytext=(-8, 8), textcoords="offset points", ha="right",
                        fontsize=_LEGEND, color="black")
    ax.plot([w_star], [b_star], linestyle="none", marker="*", markersize=20, color=OKABE_ITO[2],
            markeredgecolor="black", zorder=5, label=f"least squares (w*, b*) = ({_num(w_star)}, {_num(b_star)})")
    if title is None:
        title = "Loss J(w, b): contour lines of equal loss"
    _decorate(ax, title, "weight w", "bias b", legend=True)
    return ax


# --------------------------------------------------------------------------------------- autograd graph

_NODE_MEANING = {
    "MeanBackward0": "mean(.)          local derivative 1/n for each input",
    "SumBackward0": "sum(.)           local derivative 1",
    "PowBackward0": "(.) ** 2         local derivative 2 * (.)",
    "SubBackward0": "a - b            local derivative +1 for a, -1 for b",
    "AddBackward0": "a + b            local derivative 1 for each",
    "MulBackward0": "a * b            local derivative: the other factor",
    "DivBackward0": "a / b",
    "MseLossBackward0": "mean((a - b) ** 2)",
    "AddmmBackward0": "X @ W.T + b (nn.Linear)",
    "MmBackward0": "a @ b",
    "TBackward0": "transpose",
    "ViewBackward0": "reshape",
    "ExpandBackward0": "broadcast",
}


def _leaf_name(node: Any, names: Mapping[str, Any]) -> str:
    var = getattr(node, "variable", None)
    for name, tensor in names.items():
        if tensor is var:
            return name
    return "a parameter" if var is None else f"a tensor of shape {tuple(var.shape)}"


def _graph(root: Any, names: Mapping[str, Any], max_nodes: int = 60) -> list[tuple[int, str, str]]:
    """(depth, node, meaning) rows of the grad_fn graph below ``root``, depth first."""
    rows: list[tuple[int, str, str]] = []

    def visit(node: Any, depth: int) -> None:
        if len(rows) >= max_nodes:
            return
        if node is None:
            rows.append((depth, "(no grad_fn)", "a constant or data tensor: no gradient needed"))
            return
        kind = type(node).__name__
        if kind == "AccumulateGrad":
            name = _leaf_name(node, names)
            rows.append((depth, kind, f"leaf {name}: the gradient is added to {name}.grad"))
            return
        rows.append((depth, kind, _NODE_MEANING.get(kind, "")))
        for child, _ in node.next_functions:
            visit(child, depth + 1)

    visit(root, 0)
    return rows


def _root(tensor: Any) -> Any:
    node = getattr(tensor, "grad_fn", None)
    if node is None:
        raise ValueError(
            "tensor has no grad_fn: it was not computed from a tensor with requires_grad=True "
            "(or it was computed under torch.no_grad()). Pass e.g. mse_loss(forward(X, w), y) "
            "with w = torch.tensor(0.0, requires_grad=True)."
        )
    return node


def grad_fn_tree(tensor: Any, names: Mapping[str, Any] | None = None) -> str:
    """The autograd graph behind ``tensor`` as an indented tree, each node with what it computes.

    ``backward()`` walks this tree from the top (the loss) down to the leaves, multiplying local
    derivatives (the chain rule). A leaf ``AccumulateGrad`` is where a gradient lands; pass
    ``names={"w": w}`` to have it called ``w``. ``(no grad_fn)`` marks inputs that need no
    gradient (the data, constants).

    >>> import torch
    >>> w = torch.tensor(0.0, requires_grad=True)
    >>> print(grad_fn_tree((w * 3.0) ** 2, names={"w": w}))
    PowBackward0           (.) ** 2         local derivative 2 * (.)
    └─ MulBackward0        a * b            local derivative: the other factor
       ├─ AccumulateGrad   leaf w: the gradient is added to w.grad
       └─ (no grad_fn)     a constant or data tensor: no gradient needed
    """
    rows = _graph(_root(tensor), names or {})
    heads = []
    for i, (depth, node, meaning) in enumerate(rows):
        prefix = ""
        for level in range(1, depth + 1):
            # Is there a later sibling at this level (a row at `level` before the next shallower one)?
            later = next((d for d, _, _ in rows[i + 1:] if d <= level), None) == level
            if level == depth:
                prefix += "├─ " if later else "└─ "
            else:
                prefix += "│  " if later else "   "
        heads.append(prefix + node)
    width = max(len(head) for head in heads) + 2
    return "\n".join(f"{head:<{width}}{meaning}".rstrip() for head, (_, _, meaning) in zip(heads, rows))


def plot_grad_fn_graph(tensor: Any, names: Mapping[str, Any] | None = None, ax: Axes | None = None, *,
                       title: str | None = None) -> Axes:
    """The autograd graph behind ``tensor`` drawn as boxes and arrows, loss at the top.

    Arrows point the way ``backward()`` goes: from the loss down to the leaves. Nodes that need a
    gradient are dark boxes; inputs that need none (data, constants) are pale.

    >>> import torch
    >>> w = torch.tensor(0.0, requires_grad=True)
    >>> ax = plot_grad_fn_graph((w * 3.0) ** 2, names={"w": w})
    >>> [t.get_text().split()[0] for t in ax.texts if t.get_text()]
    ['PowBackward0', 'MulBackward0', 'AccumulateGrad', '(no']
    """
    rows = _graph(_root(tensor), names or {})
    # Lay the tree out: each leaf gets its own column, a parent sits above its first child.
    xs: list[float] = [0.0] * len(rows)
    parents: list[int | None] = [None] * len(rows)
    stack: list[int] = []
    column = 0
    for i, (depth, _, _) in enumerate(rows):
        while len(stack) > depth:
            stack.pop()
        parents[i] = stack[-1] if stack else None
        stack.append(i)
    children = {i: [j for j, p in enumerate(parents) if p == i] for i in range(len(rows))}
    for i in reversed(range(len(rows))):
        if not children[i]:
            xs[i] = 0.0
    for i in range(len(rows)):
        if not children[i]:
            xs[i] = float(column)
            column += 1
    for i in reversed(range(len(rows))):
        if children[i]:
            xs[i] = xs[children[i][0]]
    depth_max = max(d for d, _, _ in rows)
    ax = _axes(ax, figsize=(max(7.0, 2.3 * column), 0.8 + 1.0 * (depth_max + 1)))
    for i, (depth, node, meaning) in enumerate(rows):
        needs_grad = node != "(no grad_fn)"
        operation = meaning.split("  ")[0]  # "a * b" of "a * b    local derivative ..."
        label = f"{node}\n{operation}" if operation else node
        if node == "AccumulateGrad":
            label = f"AccumulateGrad\ninto {meaning.split(':')[0].removeprefix('leaf ')}.grad"
        if not needs_grad:
            label = "(no grad_fn)\ndata / constant"
        ax.text(xs[i], -depth, label, ha="center", va="center", fontsize=_TICK, zorder=3,
                color="white" if needs_grad else "black",
                bbox={"boxstyle": "round,pad=0.4", "facecolor": OKABE_ITO[0] if needs_grad else "0.9",
                      "edgecolor": "black" if needs_grad else "0.6"})
        if parents[i] is not None:
            p = parents[i]
            ax.annotate("", xy=(xs[i], -depth + 0.3), xytext=(xs[p], -rows[p][0] - 0.3),
                        arrowprops={"arrowstyle": "-|>", "color": "0.2", "lw": 1.5})
    ax.set_xlim(-0.6, column - 0.4)
    ax.set_ylim(-depth_max - 0.55, 0.55)
    ax.set_axis_off()
    ax.set_title(title or "The grad_fn graph: backward() walks it from the top down", fontsize=_TITLE)
    return ax
