"""Explorers: sliders over runs of the package's own trainers, drawn by Vega-Lite (Altair).

Every run is computed here for each value on the sliders' grid and stored in the chart as CSV; the
browser only picks the rows the sliders select, so a drawn chart needs no kernel and no gradient
descent is re-written in JavaScript. A notebook shows the Vega-Lite 5 spec (JupyterLab renders it
itself) and the chart's description as text, whatever Altair renderer is enabled.

>>> from gdlessons import toy_data
>>> spec = lr_explorer(*toy_data()).to_dict()
>>> [(p["name"], p["bind"]["min"], p["bind"]["max"]) for p in spec["params"]]
[('lr_step', 0, 40), ('epochs', 1, 50)]
"""

from __future__ import annotations

import contextlib
import csv
import io
from functools import partial
from typing import Any

import altair as alt
import numpy as np

from gdlessons.data import standardize
from gdlessons.history import DivergenceError
from gdlessons.numpy_gd import forward, lipschitz_constant, mse_loss
from gdlessons.plots import loss_surface, span
from gdlessons.train import train_numpy

__all__ = [
    "DIGITS",
    "Explorer",
    "lr_explorer",
    "lr_grid",
    "optimizer_explorer",
    "regime",
]

COLORS = ["#D55E00", "#009E73", "#CC79A7"]  # Okabe-Ito, as the static figures' runs
LOOK = {"axis": {"labelFontSize": 13, "titleFontSize": 14}, "legend": {"labelFontSize": 14}}
LOOK |= {"title": {"fontSize": 15}, "text": {"fontSize": 15, "align": "left"}}
EMBED = {"embedOptions": {"renderer": "svg", "actions": False}}  # no links off the machine
# Significant digits of every number a chart stores: a 600-pixel chart needs 3 to 4. The runs are
# float64 (a float32 Adam run differs in its 6th digit between CPUs); `make test-portable` checks
# that the stored charts hold on an older CPU, with torch's default kernels and other thread counts.
DIGITS = 4
# How the lr explorer writes w, in Vega's expression language (d3-format), and the same in Python.
W_FORMAT = "abs(datum.w) < 10 ? '.3f' : abs(datum.w) < 1e4 ? '.4~g' : '.3e'"


def _format_w(w: float) -> str:
    """``w`` as the lr explorer shows it (``W_FORMAT``), d3's minus sign written as "-".

    >>> [_format_w(w) for w in (1.6058, -12.34, 1234.0, 123456.0)]
    ['1.606', '-12.34', '1234', '1.235e+5']
    """
    if abs(w) < 10:
        return f"{w:.3f}"
    text = f"{w:.4g}" if abs(w) < 1e4 else f"{w:.3e}"
    return text.replace("e+0", "e+").replace("e-0", "e-")


# The spec names Vega-Lite 5, not Altair's exact 5.x: a renderer with an older 5.x (JupyterLab's)
# draws it the same and does not warn "the input spec uses Vega-Lite v5.20.1, but ... v5.x".
SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"


class Explorer(alt.VConcatChart):
    """An Altair chart shown as its Vega-Lite spec, with its description as the text fallback."""

    def to_dict(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**super().to_dict(*args, **kwargs), "$schema": SCHEMA}

    def _repr_mimebundle_(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"application/vnd.vegalite.v5+json": self.to_dict(), "text/plain": self.description}


def _denoise(v: float) -> float:
    """``v`` to 12 significant digits: a value that differs between CPUs only in its last bits
    (1.33749999999 here, 1.33750000001 there) is then rounded the same way to ``DIGITS``.

    >>> f"{_denoise(1.3375 - 2e-16):.4g}" == f"{_denoise(1.3375 + 2e-16):.4g}"
    True
    """
    return float(f"{v:.12g}")


def _data(header: str, rows: list, pick: str = "true") -> alt.Chart:
    """A chart of ``rows`` as CSV (``DIGITS`` significant digits), filtered by ``pick``."""
    out, names = io.StringIO(), header.split(",")
    fmt = [
        [f"{_denoise(v):.{DIGITS}g}" if isinstance(v, float) else v for v in row] for row in rows
    ]
    csv.writer(out, lineterminator="\n").writerows([names, *fmt])
    parse = {name: "number" for name in names if name != "text"}
    data = alt.InlineData(values=out.getvalue(), format={"type": "csv", "parse": parse})
    return alt.Chart(data).transform_filter(pick)


def lr_grid(X: Any) -> np.ndarray:
    """The lr explorer's learning rates: 18 a decade from 0.001 to past 2/L; the one nearest 1/L
    is exactly 1/L.

    >>> from gdlessons import toy_data
    >>> lrs = lr_grid(toy_data()[0])  # L = 15
    >>> print(len(lrs), lrs[0], lrs[33] == 1 / 15, lrs[-1] > 2 / 15)
    41 0.001 True True
    """
    L = lipschitz_constant(X)
    lrs = 10.0 ** (np.arange(round(18 * np.log10(2500 / L)) + 1) / 18 - 3)
    lrs[np.argmin(abs(np.log(lrs * L)))] = 1 / L
    return lrs


def regime(factor: float) -> str:
    """Lesson 01's word for what a step does to w - w*, from the factor 1 - lr L.

    >>> [regime(f) for f in (0.85, 0.0, -0.5, -1.2)]
    ['slow, one side', 'one step', 'oscillating', 'diverging']
    """
    if abs(factor) < 1e-9:
        return "one step"
    if 0 < factor < 1:
        return "slow, one side"
    return "oscillating" if -1 < factor < 0 else "diverging"


def _rounded(*values: float) -> list[float]:
    """``values`` to ``DIGITS`` significant digits, as the data they frame (an axis's ends)."""
    return [float(f"{v:.{DIGITS}g}") for v in values]


def _slider(name: str, value: float, top: float, label: str, low: float = 0, step: float = 1):
    bind = alt.binding_range(min=low, max=top, step=step, name=label)
    return alt.param(name=name, value=value, bind=bind)


def _explorer(charts: list, description: str, *sliders: Any) -> Explorer:
    chart = Explorer(vconcat=charts, config=LOOK, usermeta=EMBED, description=description)
    return chart.add_params(*sliders)


def _off_chart(values: np.ndarray, low: float, high: float) -> int | None:
    """The first step whose value leaves [low, high] (None if every one stays in).

    >>> _off_chart(np.array([0.0, 2.0, -7.0, 40.0]), -1, 5)
    2
    """
    out = np.flatnonzero(~((values >= low) & (values <= high)))  # NaN and inf are out too
    return int(out[0]) if out.size else None


def lr_explorer(X: Any, y: Any, *, lr: float = 0.01, epochs: int = 10, max_epochs: int = 50):
    """``train_numpy`` on ``y_hat = w x`` from w = 0, with sliders for lr and the number of epochs.

    lr takes 18 log-spaced values a decade, from 0.001 to past 2/L (the one nearest 1/L is 1/L);
    the slider's label shows the lr it selects where the page can say it (``usermeta``).
    Shown: w after the epochs (row N of the run), the factor 1 - lr L and its regime, the path on
    J(w) on fixed axes that hold the parabola and the start (a path that leaves them stops at the
    edge, labelled "off the chart at step k: w = ..."), the loss per epoch, and 1 - lr L against lr
    with 1/L and 2/L marked.
    """
    L, w_star = lipschitz_constant(X), float(np.dot(X, y) / np.dot(X, X))
    lrs, n = lr_grid(X), max_epochs + 1
    one = int(np.argmin(abs(lrs - 1 / L)))
    runs = [train_numpy(X, y, lr=a, num_epochs=n) for a in lrs]
    ws = np.linspace(w_star - 3, w_star + 3, 121)  # the first jumps of an oscillating run fit
    w_lo, w_hi = _rounded(ws[0], ws[-1])
    parabola_J = [float(mse_loss(forward(X, w), y)) for w in ws]
    J_top = _rounded(max(parabola_J))[0]
    # A path is drawn up to the first point off the chart (the line runs to the edge, clipped).
    off = [_off_chart(np.asarray(h.w[:n], float), w_lo, w_hi) for h in runs]
    rows = [
        (i, k, h.w[k], h.loss[k])
        for i, h in enumerate(runs)
        for k in range(n if off[i] is None else off[i] + 1)
    ]
    run = _data("i,k,w,J", rows).transform_filter("datum.i == lr_step")
    loss_rows = [(i, k, h.loss[k]) for i, h in enumerate(runs) for k in range(n)]
    losses = _data("i,k,J", loss_rows).transform_filter("datum.i == lr_step")
    word = [regime(f) for f in 1 - lrs * L]
    info = [
        (i, a, 1 - a * L, f"lr = {a:.3g}: 1 - lr·L = {1 - a * L + 0:+.2f}, {word[i]}")
        for i, a in enumerate(lrs)
    ]
    now = _data("i,lr,f,text", info, "datum.i == lr_step")
    leaves = [(i, k, runs[i].w[k]) for i, k in enumerate(off) if k is not None]
    leaving = _data("i,step,w", leaves, "datum.i == lr_step && datum.step <= epochs")
    J, look = alt.Y("J:Q", title="loss J(w)"), {"color": COLORS[0], "size": 50}
    w_axis = alt.X("w:Q", title="weight w", scale={"domain": [w_lo, w_hi]})
    J_axis = J.scale(domain=[0, J_top])
    off_text = f"'off the chart at step ' + datum.step + ': w = ' + format(datum.w, {W_FORMAT})"
    parabola = alt.layer(
        _data("w,J", list(zip(ws.tolist(), parabola_J))).mark_line(color="gray"),
        run.transform_filter("datum.k <= epochs").mark_line(color=COLORS[0], clip=True),
        # a dot for each step in view; the line alone runs on to the edge where the path leaves
        run.transform_filter(
            f"datum.k <= epochs && datum.w >= {w_lo} && datum.w <= {w_hi}"
        ).mark_point(filled=True, opacity=1, **look),
        leaving.transform_calculate(text=off_text)
        .mark_text(color=COLORS[0], fontWeight="bold", align="left", baseline="top")
        .encode(x=alt.value(4), y=alt.value(4), text="text:N"),
    ).encode(w_axis, J_axis, order="k:Q")
    loss = losses.transform_filter("datum.k < epochs && datum.J > 0").mark_line(point=True)
    # 100, 1e+10, 1e+18: a label stays short however far the loss grows, never 1,000,000,...
    big = "abs(datum.value) >= 1e5 ? format(datum.value, '.0e') : format(datum.value, '~g')"
    loss_axis = alt.Axis(labelExpr=big, labelOverlap=True, labelFlush=True)
    loss = loss.encode(
        alt.X("k:Q", title="epoch k"),
        alt.Y("J:Q", title="loss (log scale)", axis=loss_axis).scale(type="log"),
    )
    scale = {"type": "log", "domain": _rounded(lrs[0], lrs[-1]), "nice": False}
    marks = alt.Chart(alt.Data(values=[{"lr": 1 / L, "t": "1/L"}, {"lr": 2 / L, "t": "2/L"}]))
    factor = alt.layer(
        _data("i,lr,f,text", info).mark_line(color="gray"),
        now.mark_point(size=250, filled=True, color=COLORS[0]),
        marks.mark_rule(color=COLORS[1], strokeWidth=2).encode(y=alt.value(0), y2=alt.value(80)),
        marks.mark_text(color=COLORS[1], dx=4).encode(y=alt.value(8), text="t:N"),
    ).encode(alt.X("lr:Q", title="learning rate lr", scale=scale), alt.Y("f:Q", title="1 - lr·L"))
    w_text = "'after ' + epochs + (epochs == 1 ? ' epoch' : ' epochs') + ': w = ' + "
    w_text += f"format(datum.w, {W_FORMAT})"
    ends = _data("i,k,w", [(i, k, h.w[k]) for i, h in enumerate(runs) for k in range(n)])
    text = alt.layer(
        now.mark_text(),
        ends.transform_filter("datum.i == lr_step && datum.k == epochs")
        .transform_calculate(text=w_text)
        .mark_text(dy=24),
    ).encode(x=alt.value(0), y=alt.value(8), text="text:N")
    charts = [
        text.properties(width=600, height=44, view={"stroke": None}, name="lr_text"),
        alt.hconcat(
            parabola.properties(width=290, height=190, title="The path on J(w)", name="lr_path"),
            loss.properties(width=250, height=190, title="Loss per epoch (log)", name="lr_loss"),
        ),
        factor.properties(width=600, height=80, title="Each step multiplies w - w* by 1 - lr·L"),
    ]
    about = f"lr from {lrs[0]:.3g} to {lrs[-1]:.3g} (1/L = {1 / L:.3g}, 2/L = {2 / L:.3g} marked)"
    steps = f"0: {lrs[0]:.3g}, {one}: 1/L, {len(lrs) - 1}: {lrs[-1]:.3g}"
    chart = _explorer(
        charts,
        f"Learning-rate explorer: gradient descent on J(w) from w = 0, {about}.",
        _slider(
            "lr_step", int(np.argmin(abs(lrs - lr))), len(lrs) - 1, f"lr, log steps ({steps}) "
        ),
        _slider("epochs", epochs, max_epochs, "number of epochs ", low=1),
    )
    # What a page shows beside the slider instead of its step (tools/site_templates).
    chart.usermeta = {**EMBED, "sliderLabels": {"lr_step": [f"lr = {a:.3g}" for a in lrs]}}
    return chart


def _path(X: Any, y: Any, start: tuple, num_epochs: int, make: Any) -> list[tuple]:
    """Rows (k, w, b) of ``train_minibatch`` from ``start``, up to the first |w| or |b| past 100."""
    from gdlessons.modules import LinearRegression, train_minibatch

    def run(epochs_per_call: int) -> list[tuple]:
        model, rows = LinearRegression(num_features=1).double(), []  # float64: see DIGITS
        model.w.data.fill_(start[0]), model.b.data.fill_(start[1])
        optimizer = make(model.parameters())  # keeps its state from one call to the next
        with (
            contextlib.suppress(DivergenceError)
            if epochs_per_call == 1
            else contextlib.nullcontext()
        ):
            while len(rows) <= num_epochs and not (rows and max(map(abs, rows[-1][1:])) > 100):
                h = train_minibatch(model, optimizer, X, y, num_epochs=epochs_per_call)
                rows += [
                    (len(rows) + k, _denoise(float(w)), _denoise(float(b)))
                    for k, (w, b) in enumerate(zip(h.w, h.b))
                ]
        far = [k for k, row in enumerate(rows) if max(map(abs, row[1:])) > 100]
        return rows[: min(far, default=num_epochs) + 1]

    try:  # one call for all epochs: the same steps as a call per epoch, without its overhead
        return run(num_epochs + 1)
    except DivergenceError:  # inf or NaN on the way: a call per epoch keeps the rows before it
        return run(1)


def _lr_options(lrs: tuple[float, float, float], steps: int) -> list[list[float]]:
    """Each optimizer's learning rates: ``steps`` values x2 apart around lesson 06's ``lrs``;
    momentum's also holds SGD's, so that beta = 0 reproduces every SGD run.

    >>> _lr_options((0.1, 0.02, 0.3), 3)
    [[0.05, 0.1, 0.2], [0.01, 0.02, 0.04, 0.05, 0.1, 0.2], [0.15, 0.3, 0.6]]
    """
    grid = 2.0 ** (np.arange(steps) - steps // 2)
    own = [[float(a * g) for g in grid] for a in lrs]
    return [own[0], sorted(set(own[1]) | set(own[0])), own[2]]


def optimizer_explorer(
    X: Any,
    y: Any,
    *,
    start: tuple[float, float] = (0.0, 3.0),
    num_epochs: int = 100,
    lrs: tuple[float, float, float] = (0.1, 0.02, 0.3),
    steps: int = 5,
    betas: tuple[float, ...] = (0.0, 0.3, 0.6, 0.9),
) -> Explorer:
    """SGD, SGD + momentum and Adam on J(w, b) (``train_minibatch``, full batch) from ``start``.

    Each optimizer's lr buttons show its learning rates (``_lr_options``: ``steps`` values x2 apart
    around lesson 06's ``lrs``, momentum's with SGD's too), momentum's beta buttons the ``betas``.
    A "standardize x" switch shows the same runs on the standardized inputs
    (``gdlessons.data.standardize``), whose valley J(w, b) is a round bowl. The contours are those
    of ``plot_loss_contour``; a run that leaves the chart stops at its edge, and the text says at
    which step and where it went.
    """
    import contourpy
    import torch

    names, options = ["SGD", "SGD + momentum", "Adam"], _lr_options(lrs, steps)
    inputs = [np.asarray(X, dtype=np.float64), standardize(X)]  # z = 0: raw x, z = 1: standardized
    y = np.asarray(y, dtype=np.float64)
    gap = (betas[-1] - betas[0]) / max(len(betas) - 1, 1) or 1.0
    paths, stars = {}, []
    for z, X_z in enumerate(inputs):
        for o in range(3):
            for i, a in enumerate(options[o]):
                for j, beta in enumerate(betas if o == 1 else betas[:1]):  # beta: momentum's only
                    m = beta * (o == 1)
                    make = (
                        partial(torch.optim.SGD, lr=a, momentum=m)
                        if o < 2
                        else partial(torch.optim.Adam, lr=a)
                    )
                    paths[z, o, i, j] = _path(X_z, y, start, num_epochs, make)
        A = np.column_stack([X_z, np.ones_like(X_z)])
        stars.append(np.linalg.lstsq(A, y, rcond=None)[0].round(6) + 0.0)  # no -0.000
    lesson = [options[o].index(lrs[o] * 1.0) for o in range(3)]
    middle = [
        row[1:]
        for (z, o, i, j), path in paths.items()
        if i == lesson[o] and j in (0, len(betas) - 1)
        for row in path
    ]
    shown = np.array([*middle, *stars])
    (w0, w1), (b0, b1) = span(shown[:, 0]), span(shown[:, 1])
    (w0, w1), (b0, b1) = _rounded(w0, w1), _rounded(b0, b1)
    rows, info = [], []
    for (z, o, i, j), path in paths.items():
        a, m = options[o][i], betas[j] * (o == 1)
        inside = np.array([w0 <= w <= w1 and b0 <= b <= b1 for _, w, b in path])
        left = int(np.flatnonzero(~inside)[0]) if not inside.all() else None
        # drawn up to the first point off the chart: the line runs to the edge (clipped)
        rows += [(z, o, i, j, *row) for row in path[: None if left is None else left + 1]]
        k, w, b = path[-1]
        end = f"w = {w:.3f}, b = {b:.3f} after {k} epochs" if k == num_epochs else "diverges"
        if left is not None:
            _, w_out, b_out = path[left]
            end += f"; off the chart at step {left}: w = {w_out:.4g}, b = {b_out:.4g}"
        info.append((z, o, i, j, f"{names[o]}{f' {m:g}' * (o == 1)}, lr = {a:.3g}: {end}"))
    for z in range(2):
        info.append((z, 3, 0, 0, f"◆ least squares: w = {stars[z][0]:.3f}, b = {stars[z][1]:.3f}"))
    W, B = np.meshgrid(np.linspace(w0, w1, 120), np.linspace(b0, b1, 120))
    lines = []
    for z, X_z in enumerate(inputs):
        J = loss_surface(X_z, y, W, B)
        J_star = max(float(loss_surface(X_z, y, *stars[z])), 0.0)
        levels = J_star + np.geomspace((J.max() - J_star) * 1e-4, J.max() - J_star, 13)
        contours = contourpy.contour_generator(W, B, J, line_type="Separate").multi_lines(levels)
        segments = [(c, points.tolist()) for c, level in enumerate(contours) for points in level]
        lines += [(z, c, s, n, *p) for s, (c, ps) in enumerate(segments) for n, p in enumerate(ps)]
    now = "datum.z == (standardize ? 1 : 0)"
    pick = f"round((beta - {betas[0]}) / {gap}) == datum.j || datum.o != 1"
    pick = (
        f"{now} && (datum.o == 3 || datum.i == [sgd_lr, momentum_lr, adam_lr][datum.o]) && ({pick})"
    )
    key = {"field": "optimizer", "type": "nominal", "legend": {"orient": "bottom", "title": None}}
    key |= {"scale": {"domain": names}}  # one legend for colour and dashes, in this order
    valley = alt.layer(
        _data("z,c,s,n,w,b", lines, now)
        .mark_line(strokeWidth=1.2, clip=True)
        .encode(
            detail="s:N",
            order="n:Q",
            color=alt.Color("c:Q", scale={"scheme": "cividis", "domain": [0, 16]}, legend=None),
        ),
        _data("z,o,i,j,k,w,b", rows, pick)
        .transform_calculate(optimizer=f"{names}[datum.o]")
        .mark_line(strokeWidth=2.5, clip=True)
        .encode(
            color=key | {"scale": {"domain": names, "range": COLORS}},
            strokeDash=key | {"legend": None},
            order="k:Q",
        ),
        _data("z,w,b", [(z, w, b) for z, (w, b) in enumerate(stars)], now).mark_point(
            shape="diamond", size=300, color="black"
        ),
    ).encode(
        alt.X("w:Q", title="weight w", scale={"domain": [w0, w1]}),
        alt.Y("b:Q", title="bias b", scale={"domain": [b0, b1]}),
    )
    color = alt.Color(
        "o:N", scale={"domain": [0, 1, 2, 3], "range": [*COLORS, "black"]}, legend=None
    )
    text = (
        _data("z,o,i,j,text", info, pick)
        .mark_text(limit=600)
        .encode(x=alt.value(0), y=alt.Y("o:O", axis=None), text="text:N", color=color)
    )

    def buttons(key: str, name: str, o: int) -> Any:
        labels = [f"{a:.3g}" for a in options[o]]
        bind = alt.binding_radio(options=list(range(len(labels))), labels=labels, name=name)
        return alt.param(name=key, value=lesson[o], bind=bind)

    sliders = [
        buttons(f"{key}_lr", f"{name} lr ", o)
        for o, (key, name) in enumerate(zip(["sgd", "momentum", "adam"], names))
    ]
    beta = alt.binding_radio(
        options=list(betas), labels=[f"{b:g}" for b in betas], name="momentum β "
    )
    switch = alt.param(
        name="standardize", value=False, bind=alt.binding_checkbox(name="standardize x ")
    )
    title = f"Loss J(w, b) from (w, b) = {start}, raw or standardized x"
    charts = [
        text.properties(width=600, height=80, view={"stroke": None}, name="opt_text"),
        valley.properties(width=600, height=245, name="opt_paths", title=title),
    ]
    return _explorer(
        charts,
        f"Optimizer explorer: SGD, SGD + momentum and Adam on the valley J(w, b) from (w, b) = "
        f"{start}, {num_epochs} epochs; buttons for each lr and for momentum's beta, and a "
        "switch that standardizes x.",
        *sliders[:2],
        alt.param(name="beta", value=betas[-1], bind=beta),
        sliders[2],
        switch,
    )
