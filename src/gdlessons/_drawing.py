"""What every picture of the package shares: colours, sizes, argument checks, decoration.

An internal module: the lessons import the pictures from ``gdlessons.plots``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from matplotlib.axes import Axes

from gdlessons._validate import as_array, check_same_length
from gdlessons.history import History

__all__ = [
    "LABEL",
    "LINESTYLES",
    "MARKERS",
    "OKABE_ITO",
    "TICK",
    "TITLE",
    "as_histories",
    "check_ax",
    "check_axes",
    "decorate",
    "num",
    "one_weight",
    "run_label",
    "span",
    "style",
    "xy_1d",
]

#: The Okabe-Ito colours, ordered for contrast on white (the pale yellow last).
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":")
TITLE, LABEL, TICK = 13, 12, 11  # font sizes in points: all readable from the back of a room


def style(i: int) -> dict[str, Any]:
    """Colour, marker and line style of run ``i``: distinct in colour *and* in shape.

    >>> style(1)
    {'color': '#D55E00', 'marker': 's', 'linestyle': '--'}
    """
    return {
        "color": OKABE_ITO[i % len(OKABE_ITO)],
        "marker": MARKERS[i % len(MARKERS)],
        "linestyle": LINESTYLES[i % len(LINESTYLES)],
    }


def check_ax(ax: Any, name: str = "ax") -> Axes:
    if not isinstance(ax, Axes):
        raise TypeError(
            f"{name} must be a matplotlib Axes, e.g. from `fig, {name} = plt.subplots()`, "
            f"got {type(ax).__name__}."
        )
    ax.figure.set_facecolor("white")  # opaque: readable on a dark theme and on a projector
    return ax


def check_axes(axes: Any, count: int, what: str) -> list[Axes]:
    flat = list(np.ravel(np.asarray(axes, dtype=object)))
    if len(flat) < count:
        raise ValueError(f"axes must hold {count} Axes ({what}), got {len(flat)}.")
    return [check_ax(a, "axes") for a in flat]


def decorate(ax: Axes, title: str, xlabel: str, ylabel: str, legend: bool = False) -> None:
    ax.set_title(title, fontsize=TITLE)
    ax.set_xlabel(xlabel, fontsize=LABEL)
    ax.set_ylabel(ylabel, fontsize=LABEL)
    ax.tick_params(labelsize=TICK)
    ax.grid(True, color="0.85", linewidth=0.8)
    ax.set_axisbelow(True)
    if legend:
        ax.legend(fontsize=TICK, framealpha=0.9)


def as_histories(histories: Any, allow_none: bool = False) -> dict[str, History]:
    """A ``History`` or a mapping of label -> ``History`` as a dict (label '' for a lone run)."""
    if histories is None and allow_none:
        return {}
    if isinstance(histories, History):
        return {"": histories}
    if isinstance(histories, Mapping) and histories:
        for label, h in histories.items():
            if not isinstance(h, History):
                raise TypeError(
                    f"histories[{label!r}] must be a History (what train_numpy & co. return), "
                    f"got {type(h).__name__}."
                )
        return {str(label): h for label, h in histories.items()}
    raise TypeError(
        "histories must be a History or a non-empty dict of label -> History, e.g. "
        f"{{'lr = 0.01': history}}; got {type(histories).__name__}."
    )


def one_weight(h: History, what: str = "history") -> History:
    if h.w.ndim != 1:
        raise ValueError(
            f"{what} has weights of shape {h.w.shape[1:]} per epoch; this picture needs a model "
            "with a single weight w (1-D X)."
        )
    return h


def xy_1d(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and y as float64 1-D arrays; X of shape (n, 1) is accepted, (n, d>1) is not."""
    X, y = as_array("X", X), as_array("y", y, ndims=(1, 2))
    if X.ndim == 2 and X.shape[1] != 1:
        raise ValueError(f"X must have one feature here (shape (n,) or (n, 1)), got {X.shape}.")
    X, y = X.reshape(len(X), -1)[:, 0], (y[:, 0] if y.ndim == 2 and y.shape[1] == 1 else y)
    check_same_length(X, y)
    return X.astype(np.float64), y.astype(np.float64)


def span(values: np.ndarray, pad: float = 0.15, min_width: float = 1.0) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    width, mid = max(hi - lo, min_width), (lo + hi) / 2
    return mid - width * (0.5 + pad), mid + width * (0.5 + pad)


def num(value: float, digits: int = 3) -> str:
    """``value`` with ``digits`` decimals and never a "-0.000" (rounding noise shows as 0)."""
    return f"{round(float(value), digits) + 0.0:.{digits}f}"


def run_label(label: str, h: History) -> str:
    return label or f"lr = {h.lr:g}"
