"""The plots draw what the History holds, label everything, and leave matplotlib's global state alone."""

import io

import matplotlib

matplotlib.use("Agg")  # tests only: the package itself never picks a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.text import Annotation  # noqa: E402

from gdlessons import History, toy_data, train_autograd, train_nn, train_numpy  # noqa: E402
from gdlessons.graphs import grad_fn_tree, plot_grad_fn_graph, plot_graph  # noqa: E402
from gdlessons.plots import (  # noqa: E402
    plot_fit,
    plot_loss_contour,
    plot_loss_curve,
    plot_loss_landscape_1d,
    plot_lr_comparison,
    plot_training_run,
    plot_trajectories,
)

X, Y = toy_data()


def run(lr=0.01, num_epochs=10, b0=None, train=train_numpy):
    return train(X, Y, lr=lr, num_epochs=num_epochs, b0=b0)


def new_ax():
    """An Axes of a figure that pyplot does not know (nothing to close)."""
    return Figure(figsize=(7, 4.5), layout="constrained").add_subplot()


def new_axes(n):
    return Figure(figsize=(3.5 * n, 4), layout="constrained").subplots(1, n)


def png(ax):
    buf = io.BytesIO()
    ax.get_figure(root=True).savefig(buf, format="png", dpi=50)
    return buf.getvalue()


def legend_texts(ax):
    legend = ax.get_legend()
    return [] if legend is None else [t.get_text() for t in legend.get_texts()]


def assert_readable(ax):
    """Title and axis labels set, every text on the figure at least 11 pt, an opaque background."""
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    sizes = [ax.title.get_fontsize(), ax.xaxis.label.get_fontsize(), ax.yaxis.label.get_fontsize()]
    sizes += [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels()]
    if ax.get_legend() is not None:
        sizes += [t.get_fontsize() for t in ax.get_legend().get_texts()]
    assert min(sizes) >= 11, sizes
    assert ax.get_figure(root=True).get_facecolor() == (1.0, 1.0, 1.0, 1.0)


# ----------------------------------------------------------------------------------- loss curve


def test_loss_curve_draws_one_log_scale_line_holding_the_history_losses():
    h = run()
    ax = plot_loss_curve(h, ax=new_ax())
    [line] = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), np.arange(10))
    np.testing.assert_array_equal(line.get_ydata(), h.loss)
    assert ax.get_yscale() == "log"
    assert ax.get_legend() is None  # one run: nothing to tell apart
    assert ax.get_xlabel() == "epoch k" and "loss" in ax.get_ylabel()
    assert "lr = 0.01" in ax.get_title()
    assert_readable(ax)


def test_loss_curve_gives_each_run_its_own_line_marker_and_style_and_a_legend():
    runs = {f"lr = {lr}": run(lr=lr) for lr in (0.001, 0.01, 0.05)}
    ax = plot_loss_curve(runs, ax=new_ax())
    assert len(ax.lines) == 3
    assert legend_texts(ax) == list(runs)
    assert len({line.get_marker() for line in ax.lines}) == 3
    assert len({line.get_linestyle() for line in ax.lines}) == 3
    assert len({line.get_color() for line in ax.lines}) == 3
    assert_readable(ax)


def test_loss_curve_stops_at_an_exact_zero_loss_instead_of_failing_on_the_log_scale():
    h = run(lr=1 / 15, num_epochs=4)  # lr = 1/L jumps to w = 2 in one step: loss 0 afterwards
    ax = plot_loss_curve(h, ax=new_ax())
    ydata = ax.lines[0].get_ydata()
    assert ydata[0] == pytest.approx(30.0) and np.isnan(ydata[1:]).all()
    png(ax)  # renders without a warning (pytest turns warnings into errors)


def test_a_passed_ax_is_drawn_on_and_returned():
    fig, axes = plt.subplots(1, 2)
    try:
        assert plot_loss_curve(run(), ax=axes[1]) is axes[1]
        assert plot_loss_contour(X, Y, run(lr=0.1, num_epochs=20, b0=0.0), ax=axes[0]) is axes[0]
        assert len(axes[1].lines) == 1 and len(axes[0].lines) == 2
    finally:
        plt.close(fig)


@pytest.mark.parametrize("bad", [None, [1, 2], {}, {"run": "not a history"}])
def test_loss_curve_refuses_what_is_not_a_history(bad):
    with pytest.raises(TypeError, match="histories"):
        plot_loss_curve(bad, ax=new_ax())


def test_an_ax_that_is_not_an_axes_is_refused():
    with pytest.raises(TypeError, match=r"ax must be a matplotlib Axes, e.g. from `fig, ax = plt"):
        plot_loss_curve(run(), ax="left")
    with pytest.raises(TypeError, match="ax"):
        plot_loss_curve(run())  # ax is required: the cell makes the figure


# -------------------------------------------------------------------------------- loss contour


def test_loss_contour_draws_each_path_through_the_history_values_and_marks_the_optimum():
    runs = {
        "lr = 0.1": run(lr=0.1, num_epochs=30, b0=0.0),
        "lr = 0.05": run(lr=0.05, num_epochs=30, b0=0.5),
    }
    ax = plot_loss_contour(X, Y, runs, ax=new_ax())
    paths, optimum = ax.lines[:2], ax.lines[2]
    for line, h in zip(paths, runs.values()):
        np.testing.assert_array_equal(line.get_xdata(), h.w)
        np.testing.assert_array_equal(line.get_ydata(), h.b)
        assert line.get_marker() not in (None, "None", "")
    np.testing.assert_allclose(
        [optimum.get_xdata()[0], optimum.get_ydata()[0]], [2.0, 0.0], atol=1e-9
    )
    assert legend_texts(ax)[:2] == list(runs)
    assert ax.get_xlabel() == "weight w" and ax.get_ylabel() == "bias b"
    assert_readable(ax)


def test_loss_contour_levels_are_log_spaced_above_the_minimum():
    ax = plot_loss_contour(X, Y, ax=new_ax())
    [contours] = [c for c in ax.collections if hasattr(c, "levels")]
    ratios = np.diff(
        np.log(contours.levels)
    )  # J* = 0 for the toy data: levels are a geometric series
    np.testing.assert_allclose(ratios, ratios[0])


def test_loss_contour_refuses_a_history_without_bias():
    with pytest.raises(ValueError, match=r"without bias .*b0=0\.0"):
        plot_loss_contour(X, Y, {"no bias": run()}, ax=new_ax())


@pytest.mark.parametrize(
    ("X_bad", "y_bad", "message"),
    [
        (np.ones((4, 2)), Y, "one feature"),
        (X, Y[:3], "4 samples but y has 3"),
        (X.reshape(2, 2, 1), Y, "1-D or 2-D"),
    ],
)
def test_loss_contour_refuses_data_of_the_wrong_shape(X_bad, y_bad, message):
    with pytest.raises(ValueError, match=message):
        plot_loss_contour(X_bad, y_bad, ax=new_ax())


def test_loss_contour_accepts_a_column_of_samples():
    h = run(lr=0.1, num_epochs=5, b0=0.0)
    ax = plot_loss_contour(X.reshape(-1, 1), Y.reshape(-1, 1), h, ax=new_ax())
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), h.w)


# ------------------------------------------------------------------------------ other pictures


def test_fit_shows_the_data_the_fitted_line_and_the_prediction_at_5():
    h = run()
    ax = plot_fit(X, Y, h, ax=new_ax())
    data, fitted, prediction = ax.lines
    np.testing.assert_array_equal(data.get_xdata(), X)
    np.testing.assert_array_equal(data.get_ydata(), Y)
    np.testing.assert_allclose(fitted.get_ydata(), h.w_final * fitted.get_xdata())
    assert prediction.get_xdata()[0] == 5.0 and prediction.get_ydata()[0] == pytest.approx(
        8.031, abs=5e-4
    )
    assert "prediction at x = 5: 8.031" in legend_texts(ax)[2]
    assert_readable(ax)


def test_fit_with_a_bias_writes_the_bias_in_the_line_label():
    h = History(w=np.zeros(1), b=np.zeros(1), loss=np.ones(1), w_final=2.0, b_final=1.0, lr=0.1)
    ax = plot_fit(X, Y + 1, h, ax=new_ax())
    assert legend_texts(ax)[1] == "fitted line y = 2.000 x + 1.000"


def test_landscape_puts_each_epoch_on_the_parabola_with_an_arrow_to_the_next():
    h = run()
    ax = plot_loss_landscape_1d(X, Y, h, ax=new_ax())
    parabola, points, final, minimum = ax.lines
    np.testing.assert_array_equal(points.get_xdata(), h.w)
    np.testing.assert_array_equal(points.get_ydata(), h.loss)
    w = parabola.get_xdata()
    exact = [np.mean((wi * X.astype(np.float64) - Y) ** 2) for wi in w]  # float64 on numpy 1.x too
    np.testing.assert_allclose(parabola.get_ydata(), exact, rtol=1e-6)
    arrows = [t for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is not None]
    assert len(arrows) == h.num_epochs  # 9 between the rows, 1 to the final w
    assert final.get_xdata()[0] == h.w_final and minimum.get_xdata()[0] == pytest.approx(2.0)
    assert_readable(ax)


def test_landscape_without_a_history_draws_only_the_parabola_and_the_minimum():
    ax = plot_loss_landscape_1d(X, Y, ax=new_ax())
    assert [line.get_label() for line in ax.lines] == ["J(w)", "minimum w* = 2.000"]


def test_landscape_refuses_a_run_with_bias():
    with pytest.raises(ValueError, match="plot_loss_contour"):
        plot_loss_landscape_1d(X, Y, run(b0=0.0), ax=new_ax())


def test_lr_comparison_draws_one_titled_panel_per_run():
    runs = {"too small": run(lr=0.001), "diverging": run(lr=0.14)}
    axes = plot_lr_comparison(X, Y, runs, axes=new_axes(3))
    assert not axes[0].get_figure().axes[2].get_visible()  # a spare panel is hidden
    assert [ax.get_title() for ax in axes] == ["too small", "diverging"]
    for ax, h in zip(axes, runs.values()):
        np.testing.assert_array_equal(ax.lines[1].get_xdata(), h.w)
    fig, given = plt.subplots(1, 2)
    try:
        assert list(plot_lr_comparison(X, Y, runs, axes=given)) == list(given)
        with pytest.raises(ValueError, match="axes must hold 2 Axes"):
            plot_lr_comparison(X, Y, runs, axes=given[:1])
    finally:
        plt.close(fig)


def test_training_run_shows_the_loss_curve_and_the_fit_side_by_side():
    h = run()
    loss_ax, fit_ax = plot_training_run(X, Y, h, axes=new_axes(2))
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), h.loss)
    assert loss_ax.get_yscale() == "log" and "x = 5: 8.031" in legend_texts(fit_ax)[2]
    assert loss_ax.get_figure() is fit_ax.get_figure()
    with pytest.raises(ValueError, match="axes must hold 2 Axes"):
        plot_training_run(X, Y, h, axes=[loss_ax])


def test_three_identical_trajectories_stay_distinguishable():
    runs = {
        name: run(train=t)
        for name, t in [("NumPy", train_numpy), ("autograd", train_autograd), ("nn", train_nn)]
    }
    ax = plot_trajectories(runs, ax=new_ax())
    assert len(ax.lines) == 3 and legend_texts(ax) == list(runs)
    for line, h in zip(ax.lines, runs.values()):
        np.testing.assert_array_equal(line.get_ydata(), h.w)
    assert len({line.get_marker() for line in ax.lines}) == 3
    assert len({line.get_linestyle() for line in ax.lines}) == 3
    widths = [line.get_linewidth() for line in ax.lines]
    sizes = [line.get_markersize() for line in ax.lines]
    assert widths == sorted(widths, reverse=True) and sizes == sorted(
        sizes, reverse=True
    )  # nested, not hidden
    assert_readable(ax)


def test_trajectories_refuse_runs_with_several_weights():
    X2 = np.column_stack([X, X])
    h = train_numpy(X2, Y, lr=0.01, num_epochs=3, w0=[0.0, 0.0])
    with pytest.raises(ValueError, match="single weight"):
        plot_trajectories({"2 features": h}, ax=new_ax())


# ------------------------------------------------------------------------------ autograd graph


def test_grad_fn_tree_of_the_lesson_loss_reads_from_the_loss_down_to_w():
    torch = pytest.importorskip("torch")
    from gdlessons import forward, mse_loss

    w = torch.tensor(0.0, requires_grad=True)
    tree = grad_fn_tree(
        mse_loss(forward(torch.from_numpy(X), w), torch.from_numpy(Y)), names={"w": w}
    )
    first = [line.lstrip("│├└─ ").split()[0] for line in tree.splitlines()]
    # y_hat = w x: no bias, so no AddBackward0 for a constant b = 0
    assert first[:4] == ["MeanBackward0", "PowBackward0", "SubBackward0", "MulBackward0"]
    assert "AddBackward0" not in first and "AccumulateGrad" in first
    assert "leaf w: the gradient is added to w.grad" in tree
    assert tree.count("(no grad_fn)") == 2  # X and y need no gradient


def test_grad_fn_graph_draws_one_box_per_node():
    torch = pytest.importorskip("torch")
    from gdlessons import forward, mse_loss

    w = torch.tensor(0.0, requires_grad=True)
    loss = mse_loss(forward(torch.from_numpy(X), w), torch.from_numpy(Y))
    ax = plot_grad_fn_graph(loss, names={"w": w}, ax=new_ax())
    boxes = [t for t in ax.texts if t.get_text()]
    assert len(boxes) == len(grad_fn_tree(loss).splitlines())
    assert any("w.grad" in t.get_text() for t in boxes)
    assert ax.get_title()


def test_grad_fn_helpers_explain_a_tensor_without_a_graph():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError, match="requires_grad=True"):
        grad_fn_tree(torch.tensor(1.0))


# ----------------------------------------------------------------------------- global state


def draw_everything():
    torch = pytest.importorskip("torch")
    w = torch.tensor(0.0, requires_grad=True)
    axes = [
        plot_loss_curve({"a": run(), "b": run(lr=0.05)}, ax=new_ax()),
        plot_loss_contour(X, Y, run(lr=0.1, num_epochs=20, b0=0.0), ax=new_ax()),
        plot_fit(X, Y, run(), ax=new_ax()),
        plot_loss_landscape_1d(X, Y, run(), ax=new_ax()),
        plot_trajectories({"a": run(), "b": run()}, ax=new_ax()),
        plot_training_run(X, Y, run(), axes=new_axes(2))[0],
        plot_grad_fn_graph((w * 2.0) ** 2, names={"w": w}, ax=new_ax()),
    ]
    return [png(ax) for ax in axes] + [
        png(plot_lr_comparison(X, Y, {"a": run(), "b": run(lr=0.1)}, axes=new_axes(2))[0])
    ]


def test_drawing_changes_no_global_matplotlib_state():
    before = dict(matplotlib.rcParams)
    figures_before = plt.get_fignums()
    draw_everything()
    assert dict(matplotlib.rcParams) == before
    assert plt.get_fignums() == figures_before  # new figures are not registered with pyplot


def test_figures_are_deterministic():
    def draw():
        h = run(lr=0.1, num_epochs=20, b0=0.0)
        return [
            png(plot_loss_contour(X, Y, h, ax=new_ax())),
            png(plot_loss_landscape_1d(X, Y, run(lr=0.12), ax=new_ax())),
        ]

    assert draw() == draw()


def test_graph_of_any_object_draws_one_box_per_node_and_pales_what_needs_no_gradient():
    graph = {"loss": ["square"], "square": ["w", "x"], "w": [], "x": []}
    ax = plot_graph(
        "loss", lambda n: graph[n], str.upper, ax=new_ax(), needs_grad=lambda n: n != "x"
    )
    boxes = {t.get_text(): t.get_bbox_patch().get_facecolor() for t in ax.texts if t.get_text()}
    assert set(boxes) == {"LOSS", "SQUARE", "W", "X"}
    assert boxes["X"] != boxes["W"]
    arrows = [t for t in ax.texts if isinstance(t, Annotation) and t.arrow_patch is not None]
    assert len(arrows) == 3
