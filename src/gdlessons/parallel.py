"""Data-parallel gradient descent on real worker processes, with ``torch.distributed``.

The idea in one line: the MSE gradient over ``n`` samples is the mean of the gradients over
``world_size`` equal shards. So ``world_size`` processes, each holding ``n / world_size`` samples,
can each compute the gradient of their own shard, average the gradients with one ``all_reduce``,
and take exactly the step that one process with all the data would take.

``train_shard`` is what every worker runs: lesson 03's autograd loop plus the ``all_reduce``.
``train_data_parallel`` is the launcher: it starts the workers on this machine, lets them meet
over gloo on the loopback address, collects their rows into a ``History`` and never hangs. Workers
are forked from a server process that imported torch once (``forkserver``, where the platform has
it), so only the first run of a session pays for starting Python and importing torch.

For the script that runs on a cluster with ``torchrun`` and ``DistributedDataParallel``, see
``gdlessons.ddp_train``.
"""

from __future__ import annotations

import queue
import socket
import time
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gdlessons._validate import (
    as_array,
    check_int,
    check_positive,
    check_same_length,
    check_training_args,
)
from gdlessons.history import History, Recorder
from gdlessons.numpy_gd import forward, mse_loss

__all__ = ["free_port", "shard", "train_data_parallel", "train_shard"]

HOST = "127.0.0.1"  # loopback: the workers of this lesson all run on this machine


def shard(X: Any, y: Any, rank: int, world_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Worker ``rank``'s equal share of the data: rows ``rank*m : (rank+1)*m``, ``m = n/world_size``.

    Shards must be equal: only then is the mean of the shards' mean gradients the mean gradient of
    all the data. ``n`` must therefore be a multiple of ``world_size``.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0])
    >>> shard(X, 2 * X, rank=1, world_size=2)
    (array([3., 4.]), array([6., 8.]))
    """
    X, y = as_array("X", X), as_array("y", y)
    check_same_length(X, y)
    world_size = _check_world_size(world_size, n=len(X))
    rank = check_int("rank", rank, minimum=0, maximum=world_size - 1)
    m = len(X) // world_size
    return X[rank * m : (rank + 1) * m], y[rank * m : (rank + 1) * m]


def _check_world_size(world_size: Any, n: int) -> int:
    world_size = check_int("world_size", world_size)
    if n % world_size:
        raise ValueError(
            f"the {n} samples cannot be split into {world_size} equal shards: the mean of "
            f"unequal shards' gradients is not the full gradient. Use a world_size that divides "
            f"{n}, or drop {n % world_size} sample(s)."
        )
    return world_size


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it: we bind to port 0).

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def train_shard(
    X: torch.Tensor,
    y: torch.Tensor,
    w: torch.Tensor,
    b: torch.Tensor | None,
    lr: float,
    num_epochs: int,
    record: Callable[..., None],
) -> None:
    """One worker's loop: lesson 03's autograd loop on this worker's shard, plus ``all_reduce``.

    Every worker starts from the same ``w`` (and ``b``) and applies the same averaged gradient,
    so the workers' copies stay identical without ever being sent. ``record(epoch, w, b, loss)``
    keeps a row of the History (the caller's business, outside the loop you read).
    """
    world_size = dist.get_world_size()
    params = [w] if b is None else [w, b]
    for epoch in range(num_epochs):
        loss = mse_loss(forward(X, *params), y)  # the mean over this worker's shard
        record(epoch, w, b, loss)
        loss.backward()
        with torch.no_grad():
            for p in params:
                dist.all_reduce(p.grad)  # every worker gets the sum of all workers' gradients ...
                p.grad /= world_size  # ... divided by their number: the mean, the full gradient
                p -= lr * p.grad
                p.grad.zero_()


def train_data_parallel(
    X: Any,
    y: Any,
    lr: float,
    num_epochs: int,
    w0: Any = 0.0,
    b0: float | None = None,
    *,
    world_size: int = 2,
    timeout: float = 60.0,
) -> History:
    """Full-batch gradient descent on ``world_size`` worker processes, each holding one shard.

    Same signature and same ``History`` as ``train_numpy``/``train_autograd``/``train_nn``, plus
    ``world_size`` (``n`` must be a multiple of it) and ``timeout``: seconds for the whole run and
    for every collective; a stuck or failed worker ends in an error naming it, never a hang, and
    every worker is stopped before this returns. The recorded loss is the loss on *all* the data
    (the workers average their shard losses), so the History compares row by row with one process.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    >>> history = train_data_parallel(X, 2 * X, lr=0.01, num_epochs=10, world_size=2)
    >>> history.w[::2].round(3).tolist(), round(history.predict(5.0), 3)
    ([0.0, 0.555, 0.956, 1.246, 1.455], 8.031)
    """
    X, y, w0, b0, lr, num_epochs = check_training_args(X, y, lr, num_epochs, w0, b0)
    world_size = _check_world_size(world_size, n=len(X))
    timeout = check_positive("timeout", timeout)
    job = (f"tcp://{HOST}:{free_port()}", world_size, timeout, w0, b0, lr, num_epochs)
    ctx = _context()
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(rank, *shard(X, y, rank, world_size), job, results))
        for rank in range(world_size)
    ]
    finished = False
    try:
        for p in workers:
            p.daemon = True
            p.start()
        rows = _collect(results, workers, time.monotonic() + timeout, timeout)
        finished = True
    finally:
        _stop(workers, grace=5.0 if finished else 0.0)  # a failed run's workers are stopped now
        results.close()
    w_rows, b_rows, losses, w_final, b_final = rows[0]
    for rank in range(1, world_size):  # every worker applied the same averaged step
        if not np.array_equal(rows[rank][3], w_final):
            raise RuntimeError(f"worker {rank} ended with other parameters than worker 0.")
    record = Recorder(X, lr, num_epochs, bias=b0 is not None)  # checks for divergence too
    for epoch in range(num_epochs):
        record(epoch, w_rows[epoch], None if b_rows is None else b_rows[epoch], losses[epoch])
    return record.finish(w_final, b_final)


# ------------------------------------------------- starting, watching and stopping the workers


def _context() -> Any:
    """forkserver (workers forked from one process that imported torch once), else spawn."""
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["gdlessons.parallel"])  # only used when the server starts
    return ctx


def _worker(rank: int, X: np.ndarray, y: np.ndarray, job: tuple, results: Any) -> None:
    """One worker process: join the group, train on this shard, send the rows (or the error)."""
    init_method, world_size, timeout, w0, b0, lr, num_epochs = job
    try:
        torch.set_num_threads(1)  # the workers share the machine's cores; one thread each
        dist.init_process_group(
            "gloo",
            init_method=init_method,
            rank=rank,
            world_size=world_size,
            timeout=timedelta(seconds=timeout),
        )
        try:
            w = torch.tensor(w0, requires_grad=True)
            b = None if b0 is None else torch.tensor(b0, requires_grad=True)
            rows: dict[str, list] = {"w": [], "b": [], "loss": []}

            def record(epoch: int, w: Any, b: Any, loss: torch.Tensor) -> None:
                total = loss.detach().clone()
                dist.all_reduce(total)  # the mean of equal shards' losses: the loss on all data
                rows["w"].append(w.detach().numpy().astype(np.float64))
                rows["b"].append(None if b is None else b.item())
                rows["loss"].append(float(total) / world_size)

            train_shard(torch.from_numpy(X), torch.from_numpy(y), w, b, lr, num_epochs, record)
        finally:
            dist.destroy_process_group()
        w_final = w.detach().numpy().astype(np.float64)
        b_rows = None if b is None else np.array(rows["b"])
        b_final = None if b is None else b.item()
        final = (np.array(rows["w"]), b_rows, np.array(rows["loss"]), w_final, b_final)
        results.put(("ok", rank, final))
    except BaseException:  # noqa: BLE001 - the caller re-raises it with the worker's traceback
        results.put(("error", rank, traceback.format_exc()))


def _collect(results: Any, workers: list[Any], deadline: float, timeout: float) -> dict:
    """Each worker's rows, by rank; raises at once if a worker failed or died, or at the deadline."""
    rows: dict[int, Any] = {}
    while len(rows) < len(workers):
        try:
            status, rank, payload = results.get(timeout=0.05)
        except queue.Empty:
            dead = [
                r for r, p in enumerate(workers) if p.exitcode not in (None, 0) and r not in rows
            ]
            if dead:
                code = workers[dead[0]].exitcode
                raise RuntimeError(
                    f"worker {dead[0]} stopped (exit code {code}) without sending its result."
                ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the {len(workers)} workers did not finish within timeout={timeout:g} s "
                    f"({len(rows)} reported); they were stopped. Raise timeout on a slow machine."
                ) from None
            continue
        if status == "error":
            raise RuntimeError(f"worker {rank} failed:\n{payload}")
        rows[rank] = payload
    return rows


def _stop(workers: list[Any], grace: float) -> None:
    """Join every started worker (waiting up to ``grace`` s); terminate, then kill, the rest."""
    for p in workers:
        if p.pid is None:
            continue  # never started
        p.join(timeout=grace)
        if p.is_alive():
            p.terminate()
            p.join(timeout=2.0)
        if p.is_alive():
            p.kill()
            p.join()
        p.close()
