"""gdlessons.explorers: what the charts hold is the trainers' runs, the sliders span what they should.

The browser side (sliders moved, marks drawn) is tests/browser/test_explorers_browser.py (`make
check-explorers`); here only the spec.
"""

import ast
import csv
import io
import json
import re
from functools import partial
from pathlib import Path

import altair as alt
import nbformat
import numpy as np
import pytest
import torch

from gdlessons import lipschitz_constant, toy_data, train_numpy
from gdlessons.data import standardize
from gdlessons.explorers import (
    DIGITS,
    _lr_options,
    _path,
    lr_explorer,
    lr_grid,
    optimizer_explorer,
    regime,
)
from gdlessons.modules import LinearRegression, train_minibatch

ROOT = Path(__file__).resolve().parents[1]
MIME = "application/vnd.vegalite.v5+json"
X, y = toy_data()
L = lipschitz_constant(X)
LRS = lr_grid(X)
RTOL = 0.5 * 10.0 ** (1 - DIGITS)  # a number rounded to DIGITS significant digits is this close
SMALL = {"num_epochs": 20, "steps": 3, "betas": (0.0, 0.9)}  # a small grid: fast


@pytest.fixture(scope="module")
def lr_spec():
    return lr_explorer(X, y).to_dict()


@pytest.fixture(scope="module")
def opt_spec():
    return optimizer_explorer(X, y, **SMALL).to_dict()


def table(spec, header):
    """The rows of the chart's CSV dataset whose header is `header`, numbers as floats."""
    (text,) = [v for v in spec["datasets"].values() if v.startswith(header + "\n")]
    rows = list(csv.DictReader(io.StringIO(text)))
    return [
        {k: (v if k == "text" else float(v) if v else None) for k, v in r.items()} for r in rows
    ]


def params(spec):
    return {p["name"]: p for p in spec["params"]}


def test_lr_sliders_span_a_log_grid_from_0_001_past_2_over_L(lr_spec):
    p = params(lr_spec)
    assert (
        p["lr_step"]["bind"]["min"],
        p["lr_step"]["bind"]["max"],
        p["lr_step"]["bind"]["step"],
    ) == (0, len(LRS) - 1, 1)
    assert (p["epochs"]["bind"]["min"], p["epochs"]["bind"]["max"], p["epochs"]["value"]) == (
        1,
        50,
        10,
    )
    lrs = np.array([r["lr"] for r in table(lr_spec, "i,lr,f,text")])
    assert np.allclose(lrs, LRS, rtol=RTOL) and lrs[p["lr_step"]["value"]] == 0.01
    one = int(np.argmin(abs(LRS - 1 / L)))
    assert lrs[0] == 0.001 and lrs[-1] > 2 / L and f"{one}: 1/L" in p["lr_step"]["bind"]["name"]
    # 18 a decade: every step but the two beside 1/L multiplies lr by 10 ** (1/18)
    ratios = np.delete(LRS[1:] / LRS[:-1], [one - 1, one])
    assert LRS[one] == 1 / L and np.allclose(ratios, 10 ** (1 / 18))


def test_one_over_L_and_two_over_L_are_marked(lr_spec):
    marks = re.findall(r'"lr": ([0-9.e-]+), "t": "(\d/L)"', json.dumps(lr_spec))
    assert {(float(v), t) for v, t in marks} == {(1 / L, "1/L"), (2 / L, "2/L")}


@pytest.mark.parametrize("step", [0, 18, 33, 36, 39, 40])
def test_lr_data_is_train_numpys_run_and_the_regime_lesson_01s(lr_spec, step):
    info = table(lr_spec, "i,lr,f,text")[step]
    h = train_numpy(X, y, lr=LRS[step], num_epochs=51)
    losses = [r for r in table(lr_spec, "i,k,J") if r["i"] == step]
    assert [r["k"] for r in losses] == list(range(51))
    assert np.allclose([r["J"] for r in losses], h.loss, rtol=RTOL, atol=1e-12)
    ends = [r for r in table(lr_spec, "i,k,w") if r["i"] == step]
    assert np.allclose([r["w"] for r in ends], h.w, rtol=RTOL, atol=1e-12)
    # the path on J(w): the run up to its first point off the chart (w* - 3 to w* + 3), included
    run = [r for r in table(lr_spec, "i,k,w,J") if r["i"] == step]
    outside = [k for k, w in enumerate(h.w) if not -1 <= w <= 5]
    drawn = 51 if not outside else outside[0] + 1
    assert [r["k"] for r in run] == list(range(drawn))
    assert np.allclose([r["w"] for r in run], h.w[:drawn], rtol=RTOL, atol=1e-12)
    assert np.allclose([r["J"] for r in run], h.loss[:drawn], rtol=RTOL, atol=1e-12)
    factor = 1 - LRS[step] * L
    word = {0: "slow, one side", 18: "slow, one side", 33: "one step", 36: "oscillating"}.get(
        step, "diverging"
    )
    assert info["text"].endswith(word) and np.isclose(info["f"], factor, rtol=RTOL)
    assert (step >= 39) == bool(outside)  # only a diverging run leaves the chart


def test_a_diverging_path_is_labelled_where_it_leaves_the_chart(lr_spec):
    leaves = {int(r["i"]): r for r in table(lr_spec, "i,step,w")}
    assert sorted(leaves) == [39, 40]  # the two rates past 2/L
    for i, row in leaves.items():
        h = train_numpy(X, y, lr=LRS[i], num_epochs=51)
        k = next(k for k, w in enumerate(h.w) if not -1 <= w <= 5)
        assert row["step"] == k and np.isclose(row["w"], h.w[k], rtol=RTOL)
    assert "'off the chart at step ' + datum.step" in json.dumps(lr_spec)


def test_the_path_on_J_keeps_the_parabola_and_the_start_in_view(lr_spec):
    (path,) = [c for c in lr_spec["vconcat"][1]["hconcat"] if c.get("name") == "lr_path"]
    x, y_ = path["encoding"]["x"]["scale"]["domain"], path["encoding"]["y"]["scale"]["domain"]
    assert x[0] <= 0 <= x[1] and x == [-1.0, 5.0]  # w = 0, the start, and w* = 2 in the middle
    parabola = table(lr_spec, "w,J")
    assert y_[0] == 0 and np.isclose(y_[1], max(r["J"] for r in parabola), rtol=RTOL)


def test_the_lr_slider_says_the_learning_rate_it_selects(lr_spec):
    labels = lr_spec["usermeta"]["sliderLabels"]["lr_step"]
    assert labels == [f"lr = {a:.3g}" for a in LRS] and labels[18] == "lr = 0.01"


def test_the_lesson_run_at_lr_0_01_and_10_epochs_ends_at_w_1_606(lr_spec):
    (row,) = [r for r in table(lr_spec, "i,k,w,J") if r["i"] == 18 and r["k"] == 10]
    assert (
        f"{row['w']:.3f}" == "1.606" == f"{train_numpy(X, y, lr=0.01, num_epochs=10).w_final:.3f}"
    )


def run_of(o, lr, beta, epochs, standardized=False):
    """Lesson 06's run: LinearRegression from (w, b) = (0, 3), full batch, `epochs` rows (o: 0 SGD,
    1 momentum beta, 2 Adam). The oracle of this file and of the explorers' browser test."""
    model = LinearRegression(num_features=1).double()  # the explorer's runs are float64
    with torch.no_grad():
        model.b.fill_(3.0)
    make = torch.optim.Adam if o == 2 else torch.optim.SGD
    optimizer = make(model.parameters(), lr=lr, **({"momentum": beta} if o == 1 else {}))
    return train_minibatch(model, optimizer, standardize(X) if standardized else X, y, epochs)


def raw(rows):
    """The rows of the runs on raw x (the switch "standardize x" off)."""
    return [r for r in rows if r["z"] == 0]


def lr_of(o, i):
    return _lr_options((0.1, 0.02, 0.3), SMALL["steps"])[o][i]


def test_optimizer_data_is_train_minibatchs_runs_and_diverging_runs_are_cut(opt_spec):
    rows, info = raw(table(opt_spec, "z,o,i,j,k,w,b")), raw(table(opt_spec, "z,o,i,j,text"))
    # SGD and Adam: an lr each (3); momentum: an lr (its 3 and SGD's 3) and a beta each; the
    # least-squares line
    assert len(info) == 3 + 6 * 2 + 3 + 1
    for o, i, j in [(0, 1, 0), (0, 2, 0), (1, 0, 1), (1, 1, 0), (2, 2, 0)]:
        lr, beta = lr_of(o, i), (0.0, 0.9)[j]
        path = sorted(
            (r for r in rows if (r["o"], r["i"], r["j"] or 0) == (o, i, j)), key=lambda r: r["k"]
        )
        h = run_of(o, lr, beta, len(path))
        assert np.allclose([r["w"] for r in path], h.w, rtol=RTOL, atol=1e-9)
        assert np.allclose([r["b"] for r in path], h.b, rtol=RTOL, atol=1e-9)
        (text,) = [t["text"] for t in info if (t["o"], t["i"], t["j"] or 0) == (o, i, j)]
        if len(path) == 21:
            assert f"w = {h.w[-1]:.3f}, b = {h.b[-1]:.3f} after 20 epochs" in text
        else:  # SGD at lr = 0.2 > 2/L: drawn up to its first point off the chart
            assert (o, i) == (0, 2) and "diverges; off the chart at step" in text
            assert f"step {len(path) - 1}: w = {h.w[-1]:.4g}" in text


def test_momentum_offers_sgds_rates_so_that_beta_0_is_sgd(opt_spec):
    sgd, momentum, _ = _lr_options((0.1, 0.02, 0.3), 5)
    assert set(sgd) <= set(momentum) and {0.005, 0.01, 0.02, 0.04, 0.08} <= set(momentum)
    rows = raw(table(opt_spec, "z,o,i,j,k,w,b"))
    for i, lr in enumerate(_lr_options((0.1, 0.02, 0.3), SMALL["steps"])[0]):
        m = _lr_options((0.1, 0.02, 0.3), SMALL["steps"])[1].index(lr)
        a = [(r["k"], r["w"], r["b"]) for r in rows if (r["o"], r["i"]) == (0, i)]
        b = [(r["k"], r["w"], r["b"]) for r in rows if (r["o"], r["i"], r["j"]) == (1, m, 0)]
        assert a == b  # the same drawn path, point for point


def test_a_run_that_overflows_keeps_its_rows_up_to_the_first_one_past_100():
    # SGD at lr = 0.3 > 2/L: |w| passes 100 at epoch 4 and overflows to inf before epoch 100
    rows = _path(
        X.astype(np.float64),
        y.astype(np.float64),
        (0.0, 3.0),
        100,
        partial(torch.optim.SGD, lr=0.3),
    )
    h = run_of(0, 0.3, 0.0, len(rows) - 1)
    assert [k for k, _, _ in rows] == list(range(len(rows))) and 2 < len(rows) < 10
    assert np.allclose([w for _, w, _ in rows], [*h.w, h.w_final], rtol=1e-12)
    assert max(map(abs, rows[-1][1:])) > 100 >= max(map(abs, rows[-2][1:]))
    spec = optimizer_explorer(X, y, lrs=(0.3, 0.02, 0.3), steps=1, betas=(0.0,)).to_dict()
    assert "diverges" in [t["text"] for t in raw(table(spec, "z,o,i,j,text")) if t["o"] == 0][0]


def test_optimizer_buttons_show_the_rates_and_default_to_lesson_06s_values(opt_spec):
    p = params(opt_spec)
    chosen = [
        float(p[k]["bind"]["labels"][p[k]["value"]]) for k in ("sgd_lr", "momentum_lr", "adam_lr")
    ]
    assert chosen == [0.1, 0.02, 0.3]
    assert p["sgd_lr"]["bind"]["labels"] == ["0.05", "0.1", "0.2"]
    assert p["beta"]["bind"]["options"] == [0.0, 0.9] and p["beta"]["value"] == 0.9
    assert p["beta"]["bind"]["labels"] == ["0", "0.9"]


def test_the_standardize_switch_shows_the_same_optimizers_on_standardized_x(opt_spec):
    p = params(opt_spec)
    assert p["standardize"]["value"] is False and p["standardize"]["bind"]["input"] == "checkbox"
    rows = [r for r in table(opt_spec, "z,o,i,j,k,w,b") if r["z"] == 1]
    for o, i, j in [(0, 2, 0), (1, 1, 1), (2, 0, 0)]:
        lr, beta = lr_of(o, i), (0.0, 0.9)[j]
        path = sorted(
            (r for r in rows if (r["o"], r["i"], r["j"] or 0) == (o, i, j)), key=lambda r: r["k"]
        )
        h = run_of(o, lr, beta, len(path), standardized=True)
        assert len(path) == 21  # standardized, even SGD at lr = 0.2 converges (2/L = 1)
        assert np.allclose([r["w"] for r in path], h.w, rtol=RTOL, atol=1e-9)
        assert np.allclose([r["b"] for r in path], h.b, rtol=RTOL, atol=1e-9)


def test_the_least_squares_point_follows_the_switch(opt_spec):
    lines = [t["text"] for t in table(opt_spec, "z,o,i,j,text") if t["o"] == 3]
    # raw x: y = 2x; standardized x = (x - 2.5) / 1.118: the same line is w = 2.236, b = 5
    assert lines == [
        "◆ least squares: w = 2.000, b = 0.000",
        "◆ least squares: w = 2.236, b = 5.000",
    ]
    diamonds = table(opt_spec, "z,w,b")
    assert [(d["w"], d["b"]) for d in diamonds] == [(2.0, 0.0), (2.236, 5.0)]


def test_output_is_the_vegalite_spec_with_a_text_description_whatever_the_renderer():
    chart = lr_explorer(X, y, max_epochs=5)
    with alt.renderers.enable("html"):  # Altair's default: HTML from a CDN, with random ids
        bundle = chart._repr_mimebundle_()
    assert set(bundle) == {MIME, "text/plain"}
    assert bundle["text/plain"].startswith("Learning-rate explorer: gradient descent on J(w)")
    assert bundle[MIME]["$schema"].startswith("https://vega.github.io/schema/vega-lite/v5.")


def test_the_spec_is_the_same_on_every_call_with_no_counters_or_addresses():
    first, second = (json.dumps(optimizer_explorer(X, y, **SMALL).to_dict()) for _ in range(2))
    assert first == second
    assert not re.search(r"view_\d|param_\d|0x[0-9a-f]{6,}|selector\d", first)
    assert len(json.dumps(lr_explorer(X, y).to_dict())) < 120_000  # a few hundred KB at most


def test_the_explorers_regime_words_are_lesson_01s():
    """Lesson 01 writes `regime` in a cell (the learner reads it there); the explorer must agree."""
    lesson = nbformat.read(ROOT / "notebooks" / "01_numpy_gradient_descent.ipynb", as_version=4)
    (source,) = [c.source for c in lesson.cells if "def regime(" in c.source]
    (node,) = [n for n in ast.parse(source).body if getattr(n, "name", "") == "regime"]
    namespace: dict = {}
    exec(compile(ast.Module([node], []), "lesson 01", "exec"), namespace)
    factors = [1.0, 0.85, 1e-12, 0.0, -1e-12, -0.5, -1.0, -1.2, 1.5]
    assert [regime(f) for f in factors] == [namespace["regime"](f) for f in factors]
