"""Data-parallel gradient descent: the shard identity, real 2-process runs, and no hangs.

The end-to-end tests start 2 worker processes (forked from a forkserver, gloo on 127.0.0.1) and pass
an explicit ``timeout``: a stuck run fails within that many seconds instead of hanging the suite.
"""

import multiprocessing
import socket
import time

import numpy as np
import pytest

from gdlessons import make_linear_data, mse_gradient, toy_data, train_autograd
from gdlessons.parallel import _worker, free_port, shard, train_data_parallel

TIMEOUT = 90.0  # seconds; generous for a loaded 2-core machine, still far from a hang


@pytest.mark.parametrize("world_size", [1, 2, 4, 5])
def test_mean_of_equal_shard_gradients_is_the_full_gradient(world_size):
    X, y = make_linear_data(20, w=[2.0, -3.4], b=4.2, noise=0.1, seed=1)
    X, y = X.astype(np.float64), y.astype(np.float64)
    w, b = np.array([0.5, 0.5]), 1.0
    full = mse_gradient(X, y, X @ w + b)
    shards = [shard(X, y, r, world_size) for r in range(world_size)]
    parts = [mse_gradient(Xs, ys, Xs @ w + b) for Xs, ys in shards]
    np.testing.assert_allclose(np.mean([dw for dw, _ in parts], axis=0), full[0], rtol=1e-12)
    assert np.mean([db for _, db in parts]) == pytest.approx(full[1], rel=1e-12)


def test_shards_are_consecutive_equal_blocks_that_cover_the_data():
    X, y = toy_data()
    blocks = [shard(X, y, rank, 2) for rank in range(2)]
    assert [b[0].tolist() for b in blocks] == [[1.0, 2.0], [3.0, 4.0]]
    np.testing.assert_array_equal(np.concatenate([b[1] for b in blocks]), y)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, y: shard(X, y, 0, 3), r"4 samples cannot be split into 3 equal.*drop 1 sample"),
        (lambda X, y: shard(X, y, 2, 2), r"rank must be at least 0 and at most 1, got 2"),
        (lambda X, y: shard(X, y, 0, 0), r"world_size must be at least 1, got 0"),
        (lambda X, y: train_data_parallel(X, y, 0.01, 5, world_size=3), r"into 3 equal shards"),
        (lambda X, y: train_data_parallel(X, y, 0.01, 5, timeout=0), r"timeout must be positive"),
        (lambda X, y: train_data_parallel(X, y, -1.0, 5), r"lr must be positive"),
    ],
)
def test_bad_arguments_are_refused_before_any_worker_starts(call, match):
    X, y = toy_data()
    with pytest.raises(ValueError, match=match):
        call(X, y)


def test_free_port_can_be_bound():
    port = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))


def test_two_workers_with_all_reduce_reproduce_the_classic_run_line_for_line(capfd):
    X, y = toy_data()
    h = train_data_parallel(X, y, lr=0.01, num_epochs=10, world_size=2, timeout=TIMEOUT)
    single = train_autograd(X, y, lr=0.01, num_epochs=10)
    assert h.lines() == single.lines()
    assert round(h.predict(5.0), 3) == 8.031 and h.b is None and h.lr == 0.01
    assert capfd.readouterr().err == ""  # the workers print no warnings


def test_two_workers_match_one_process_with_two_features_and_a_bias(capfd):
    X, y = make_linear_data(40, w=[2.0, -3.4], b=4.2, noise=0.01, seed=0)
    h = train_data_parallel(X, y, lr=0.1, num_epochs=30, b0=0.0, world_size=2, timeout=TIMEOUT)
    single = train_autograd(X, y, lr=0.1, num_epochs=30, b0=0.0)
    np.testing.assert_allclose(h.w, single.w, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.b, single.b, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h.loss, single.loss, rtol=1e-5, atol=1e-6)
    final, single_final = [np.append(r.w_final, r.b_final) for r in (h, single)]
    np.testing.assert_allclose(final, single_final, atol=1e-5)
    assert capfd.readouterr().err == ""


def test_the_worker_loop_a_lesson_prints_is_the_autograd_loop_plus_all_reduce():
    import inspect

    from gdlessons.parallel import train_shard

    source = inspect.getsource(train_shard)
    assert "dist.all_reduce(p.grad)" in source and "loss.backward()" in source
    assert "record(epoch, w, b, loss)" in source  # one line of recording, nothing else


def test_a_run_past_its_timeout_ends_in_a_timeout_error_and_leaves_no_worker():
    X, y = toy_data()
    start = time.monotonic()
    with pytest.raises(TimeoutError, match=r"2 workers did not finish within timeout=0\.01 s"):
        # 100,000 all_reduce rounds: a run that cannot end within 0.01 s, however warm the
        # forkserver (10 epochs could, on a fast machine, and then nothing times out)
        train_data_parallel(X, y, lr=0.01, num_epochs=100_000, world_size=2, timeout=0.01)
    assert time.monotonic() - start < 30
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("Forkserver")]


def test_a_failing_worker_ends_the_run_with_its_traceback():
    X, y = toy_data()
    with pytest.raises(Exception, match=r"(?s)Traceback.*init_method|bogus"):
        _worker(0, ("bogus://nowhere", 1, 5.0, [shard(X, y, 0, 1)], 0.0, None, 0.01, 2), None)
