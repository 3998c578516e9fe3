"""Computation graphs drawn as trees: the loss at the top, the inputs at the bottom.

``plot_graph`` draws any graph from its root and a function that lists a node's inputs (lesson 02
draws its own ``Value`` objects with it); ``grad_fn_tree`` and ``plot_grad_fn_graph`` show the
graph PyTorch records behind a tensor (lesson 03). Arrows point the way ``backward()`` travels.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from matplotlib.axes import Axes

from gdlessons.plots import OKABE_ITO, TICK, TITLE, require_axes

__all__ = ["grad_fn_tree", "plot_graph", "plot_grad_fn_graph"]

# What each grad_fn node computes, and its local derivative.
MEANING = {
    "MeanBackward0": "mean(.)          local derivative 1/n for each input",
    "SumBackward0": "sum(.)           local derivative 1",
    "PowBackward0": "(.) ** 2         local derivative 2 * (.)",
    "SubBackward0": "a - b            local derivative +1 for a, -1 for b",
    "AddBackward0": "a + b            local derivative 1 for each",
    "MulBackward0": "a * b            local derivative: the other factor",
    "DivBackward0": "a / b",
    "MseLossBackward0": "mean((a - b) ** 2)",
    "AddmmBackward0": "X @ W.T + b (nn.Linear)",
}


def _rows(root: Any, children: Callable[[Any], Any]) -> list[tuple[int, Any]]:
    """(depth, node) rows of the tree below ``root``, depth first (a shared input repeats)."""
    rows: list[tuple[int, Any]] = []

    def visit(node: Any, depth: int) -> None:
        if len(rows) < 60:
            rows.append((depth, node))
            for child in children(node):
                visit(child, depth + 1)

    visit(root, 0)
    return rows


def plot_graph(
    root: Any,
    children: Callable[[Any], Any],
    label: Callable[[Any], str],
    *,
    ax: Axes,
    needs_grad: Callable[[Any], bool] = lambda node: True,
    title: str | None = None,
) -> Axes:
    """Draw the graph below ``root`` as boxes and arrows, ``root`` at the top.

    ``children(node)`` lists the nodes ``node`` was computed from and ``label(node)`` is the text
    of its box; nodes that need no gradient (``needs_grad`` false: data, constants) are pale.
    """
    ax, rows = require_axes(ax), _rows(root, children)
    parents: list[int | None] = []
    for i, (depth, _) in enumerate(rows):
        parents.append(next((j for j in range(i - 1, -1, -1) if rows[j][0] == depth - 1), None))
    # Leaves get one column each, left to right; a parent sits above the middle of its children.
    kids = [[j for j, p in enumerate(parents) if p == i] for i in range(len(rows))]
    leaves = [i for i in range(len(rows)) if not kids[i]]
    xs = {i: float(column) for column, i in enumerate(leaves)}
    for i in reversed(range(len(rows))):
        if kids[i]:
            xs[i] = (xs[kids[i][0]] + xs[kids[i][-1]]) / 2
    for i, (depth, node) in enumerate(rows):
        dark = needs_grad(node)
        box = {"boxstyle": "round,pad=0.4", "facecolor": OKABE_ITO[0] if dark else "0.9"}
        text = {"ha": "center", "va": "center", "fontsize": TICK, "zorder": 3, "bbox": box}
        ax.text(xs[i], -depth, label(node), color="white" if dark else "black", **text)
        if parents[i] is not None:
            arrow = {"arrowstyle": "-|>", "color": "0.2", "lw": 1.5}
            start = (xs[parents[i]], -depth + 0.7)
            ax.annotate("", xy=(xs[i], -depth + 0.3), xytext=start, arrowprops=arrow)
    ax.set_xlim(-0.6, len(leaves) - 0.4)
    ax.set_ylim(-max(depth for depth, _ in rows) - 0.55, 0.55)
    ax.set_axis_off()
    ax.set_title(title or "The graph, from the loss down: backward() walks it", fontsize=TITLE)
    return ax


def _grad_fn(tensor: Any) -> Any:
    if getattr(tensor, "grad_fn", None) is None:
        raise ValueError(
            "tensor has no grad_fn: it was not computed from a tensor with requires_grad=True "
            "(or it was computed under torch.no_grad()). Pass e.g. mse_loss(forward(X, w), y) "
            "with w = torch.tensor(0.0, requires_grad=True)."
        )
    return tensor.grad_fn


def _inputs(node: Any) -> list[Any]:
    return [] if node is None else [child for child, _ in node.next_functions]


def _describe(node: Any, names: Mapping[str, Any]) -> tuple[str, str]:
    """(node name, what it computes) of a grad_fn node; ``None`` is data or a constant."""
    if node is None:
        return "(no grad_fn)", "a constant or data tensor: no gradient needed"
    kind = type(node).__name__
    if kind != "AccumulateGrad":
        return kind, MEANING.get(kind, "")
    name = next((n for n, t in names.items() if t is getattr(node, "variable", None)), "a leaf")
    return kind, f"leaf {name}: the gradient is added to {name}.grad"


def grad_fn_tree(tensor: Any, names: Mapping[str, Any] | None = None) -> str:
    """The autograd graph behind ``tensor`` as an indented tree, each node with what it computes.

    ``backward()`` walks it from the top (the loss) to the leaves, multiplying local derivatives.
    ``AccumulateGrad`` is where a gradient lands (``names={"w": w}`` calls it ``w``);
    ``(no grad_fn)`` marks inputs that need no gradient (data, constants).

    >>> import torch
    >>> w = torch.tensor(0.0, requires_grad=True)
    >>> print(grad_fn_tree((w * 3.0) ** 2, names={"w": w}))
    PowBackward0           (.) ** 2         local derivative 2 * (.)
    └─ MulBackward0        a * b            local derivative: the other factor
       ├─ AccumulateGrad   leaf w: the gradient is added to w.grad
       └─ (no grad_fn)     a constant or data tensor: no gradient needed
    """
    rows = [(d, *_describe(node, names or {})) for d, node in _rows(_grad_fn(tensor), _inputs)]
    heads = []
    for i, (depth, node, _) in enumerate(rows):
        prefix = ""
        for level in range(1, depth + 1):
            # Is there a later sibling at this level (a row at `level` before a shallower one)?
            later = next((d for d, _, _ in rows[i + 1 :] if d <= level), None) == level
            prefix += ("├─ " if later else "└─ ") if level == depth else ("│  " if later else "   ")
        heads.append(prefix + node)
    width = max(len(head) for head in heads) + 2
    return "\n".join(f"{h:<{width}}{meaning}".rstrip() for h, (_, _, meaning) in zip(heads, rows))


def plot_grad_fn_graph(tensor: Any, names: Mapping[str, Any] | None = None, *, ax: Axes) -> Axes:
    """The graph of ``grad_fn_tree`` as boxes and arrows; data and constants are pale."""

    def label(node: Any) -> str:
        if node is None:
            return "(no grad_fn)\ndata / constant"
        kind, meaning = _describe(node, names or {})
        if kind == "AccumulateGrad":
            return f"AccumulateGrad\ninto {meaning.split(':')[0].removeprefix('leaf ')}.grad"
        return f"{kind}\n{meaning.split('  ')[0]}".rstrip()

    title = "The grad_fn graph: backward() walks it from the top down"
    return plot_graph(_grad_fn(tensor), _inputs, label, ax=ax, needs_grad=bool, title=title)
