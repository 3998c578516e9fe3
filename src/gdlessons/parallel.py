"""Data-parallel gradient descent on real worker processes, with ``torch.distributed``.

The idea in one line: the MSE gradient over ``n`` samples is the mean of the gradients over
``world_size`` equal shards. So ``world_size`` processes, each holding ``n / world_size`` samples,
can each compute the gradient of their own shard, average the gradients with one ``all_reduce``,
and take exactly the step that one process with all the data would take.

The workers are started with ``torch.multiprocessing`` (spawn), meet over the gloo backend on the
loopback address 127.0.0.1, and send their results back to the caller on a queue. Everything that
runs inside a worker lives here, in an importable module, because spawn starts a fresh Python that
finds the worker function by its module and name (a notebook cannot hand over its own functions).

This module imports ``torch.distributed``, so ``import gdlessons`` does not import it; use
``from gdlessons import parallel`` or ``from gdlessons.parallel import train_data_parallel``.
"""

from __future__ import annotations

import errno
import numbers
import queue as queue_module
import socket
import time
import traceback
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from gdlessons._validate import as_array, as_scalar, check_same_length
from gdlessons.numpy_gd import _forward, _mse_loss
from gdlessons.train import History, _prepare, _Recorder

__all__ = ["METHODS", "free_port", "shard", "train_data_parallel"]

HOST = "127.0.0.1"  # loopback: the workers of this lesson all run on this machine
METHODS = ("all_reduce", "ddp")


def shard(X: Any, y: Any, rank: int, world_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Worker ``rank``'s equal share of the data: rows ``rank*m : (rank+1)*m`` with ``m = n / world_size``.

    Shards must be equal: only then is the mean of the shards' mean gradients the mean gradient of
    all the data. ``n`` must therefore be a multiple of ``world_size``.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0])
    >>> shard(X, 2 * X, rank=1, world_size=2)
    (array([3., 4.]), array([6., 8.]))
    """
    X, y = as_array("X", X), as_array("y", y)
    check_same_length(X, y)
    world_size = _check_world_size(world_size, n=X.shape[0])
    if isinstance(rank, bool) or not isinstance(rank, numbers.Integral) or not 0 <= rank < world_size:
        raise ValueError(f"rank must be an int from 0 to world_size - 1 = {world_size - 1}, got {rank!r}.")
    m = X.shape[0] // world_size
    return X[rank * m : (rank + 1) * m], y[rank * m : (rank + 1) * m]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now (the OS picks it: we bind to port 0).

    >>> 0 < free_port() < 65536
    True
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _check_port(port: Any) -> int:
    """``port`` as an int, after checking that nothing on 127.0.0.1 listens on it."""
    if isinstance(port, bool) or not isinstance(port, numbers.Integral) or not 0 < port < 65536:
        raise ValueError(f"port must be an int from 1 to 65535 (or None to pick a free one), got {port!r}.")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT is reusable
        try:
            s.bind((HOST, int(port)))
        except OSError as err:
            reason = "is already in use" if err.errno == errno.EADDRINUSE else f"cannot be used ({err.strerror})"
            raise OSError(
                f"port {port} on {HOST} {reason}; pass another port, or port=None to pick a free one."
            ) from None
    return int(port)


def _check_world_size(world_size: Any, n: int) -> int:
    if isinstance(world_size, bool) or not isinstance(world_size, numbers.Integral) or world_size < 1:
        raise ValueError(f"world_size must be an int >= 1 (the number of workers), got {world_size!r}.")
    if n % world_size:
        raise ValueError(
            f"the {n} samples cannot be split into {world_size} equal shards (world_size={world_size}): "
            f"the mean of unequal shards' gradients is not the full gradient. Use a world_size that "
            f"divides {n}, or drop {n % world_size} sample(s)."
        )
    return int(world_size)


def train_data_parallel(
    X: Any,
    y: Any,
    lr: float,
    num_epochs: int,
    w0: Any = 0.0,
    b0: float | None = None,
    *,
    world_size: int = 2,
    method: str = "all_reduce",
    port: int | None = None,
    timeout: float = 60.0,
) -> History:
    """Full-batch gradient descent on ``world_size`` worker processes, each holding one shard.

    Same signature and same ``History`` as ``train_numpy``/``train_autograd``/``train_nn``, plus:

    - ``world_size``: how many worker processes; ``n`` must be a multiple of it (equal shards).
    - ``method="all_reduce"``: each worker computes its shard's gradient with autograd, then sums
      the gradients of all workers with ``dist.all_reduce`` and divides by ``world_size``, by hand.
      ``method="ddp"``: an ``nn.Linear`` wrapped in ``DistributedDataParallel``, which averages the
      gradients during ``backward()``; ``torch.optim.SGD`` takes the step.
    - ``port``: the TCP port on 127.0.0.1 where the workers meet; ``None`` picks a free one. A port
      in use raises ``OSError`` naming it.
    - ``timeout``: seconds for the whole run (and for every collective); a stuck worker ends in
      ``TimeoutError`` instead of a hang. Every worker is joined or terminated before returning.

    The recorded loss is the loss on *all* the data (the workers average their shard losses too),
    so the History can be compared row by row with a single-process run.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    >>> h = train_data_parallel(X, 2 * X, lr=0.01, num_epochs=10, world_size=2)
    >>> h.w[1::2].round(3).tolist(), round(h.predict(5.0), 3)
    ([0.3, 0.772, 1.113, 1.359, 1.537], 8.031)
    """
    X, y, w0, b0, lr, num_epochs = _prepare(X, y, lr, num_epochs, w0, b0)
    world_size = _check_world_size(world_size, n=X.shape[0])
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}.")
    timeout = as_scalar("timeout", timeout)
    if timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout}.")
    port = free_port() if port is None else _check_port(port)

    config = {
        "init_method": f"tcp://{HOST}:{port}",
        "world_size": world_size,
        "timeout": timeout,
        "method": method,
        "w0": w0,
        "b0": b0,
        "lr": lr,
        "num_epochs": num_epochs,
    }
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    workers = [
        ctx.Process(target=_worker, args=(rank, *shard(X, y, rank, world_size), config, results), daemon=True)
        for rank in range(world_size)
    ]
    deadline, finished = time.monotonic() + timeout, False
    try:
        for p in workers:
            p.start()
        rows = _collect(results, workers, deadline, timeout)
        finished = True
    finally:
        _stop(workers, grace=5.0 if finished else 0.0)  # a failed run's workers are stopped at once
        results.close()
    w_rows, b_rows, losses, w_final, b_final = rows[0]
    for rank in range(1, world_size):  # every worker applied the same averaged step
        if not np.array_equal(np.asarray(rows[rank][3]), np.asarray(w_final)):
            raise RuntimeError(f"worker {rank} ended with other parameters than worker 0; the gradients were not averaged.")
    record = _Recorder(X, lr, num_epochs, bias=b0 is not None)  # all the data: L for the divergence message
    for epoch in range(num_epochs):
        record.add(epoch, w_rows[epoch], None if b_rows is None else b_rows[epoch], losses[epoch])
    return record.finish(w_final, b_final)


def _collect(results: Any, workers: list[Any], deadline: float, timeout: float) -> dict[int, Any]:
    """Each worker's rows, by rank; raises at once if a worker failed or died, or at the deadline."""
    rows: dict[int, Any] = {}
    while len(rows) < len(workers):
        try:
            status, rank, payload = results.get(timeout=0.05)
        except queue_module.Empty:
            dead = [r for r, p in enumerate(workers) if p.exitcode not in (None, 0) and r not in rows]
            if dead:
                raise RuntimeError(
                    f"worker {dead[0]} stopped (exit code {workers[dead[0]].exitcode}) without sending its result."
                ) from None
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the {len(workers)} workers did not finish within timeout={timeout:g} s "
                    f"({len(rows)} reported); they were terminated. Raise timeout on a slow machine."
                ) from None
            continue
        if status == "error":
            raise RuntimeError(f"worker {rank} failed:\n{payload}")
        rows[rank] = payload
    return rows


def _stop(workers: list[Any], grace: float) -> None:
    """Join every started worker (waiting up to ``grace`` s); terminate, then kill, any still alive."""
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


# ---------------------------------------------------------------- what runs inside each worker


def _worker(rank: int, X: np.ndarray, y: np.ndarray, config: dict[str, Any], results: Any) -> None:
    """One worker process: join the group, train on this shard, send the rows (or the traceback)."""
    try:
        torch.set_num_threads(1)  # the workers share the machine's cores; one thread each
        dist.init_process_group(
            "gloo",
            init_method=config["init_method"],
            rank=rank,
            world_size=config["world_size"],
            timeout=timedelta(seconds=config["timeout"]),
        )
        try:
            loop = _loop_all_reduce if config["method"] == "all_reduce" else _loop_ddp
            rows = loop(torch.from_numpy(X), torch.from_numpy(y), config)
        finally:
            dist.destroy_process_group()
        results.put(("ok", rank, rows))
    except BaseException:  # noqa: BLE001 - the caller re-raises it with the worker's traceback
        results.put(("error", rank, traceback.format_exc()))


def _global_mean(value: torch.Tensor, world_size: int) -> float:
    """The mean of ``value`` over all workers (for equal shards: the loss on all the data)."""
    total = value.detach().clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)
    return float(total) / world_size


def _loop_all_reduce(X: torch.Tensor, y: torch.Tensor, config: dict[str, Any]) -> tuple[Any, ...]:
    """Autograd on this shard, then average the gradients over the workers with all_reduce, by hand."""
    world_size, lr = config["world_size"], config["lr"]
    w = torch.tensor(config["w0"], dtype=X.dtype, requires_grad=True)
    b = None if config["b0"] is None else torch.tensor(config["b0"], dtype=X.dtype, requires_grad=True)
    params = [p for p in (w, b) if p is not None]
    rows = _Rows(config["num_epochs"], bias=b is not None)
    for epoch in range(config["num_epochs"]):
        loss = _mse_loss(_forward(X, w, 0.0 if b is None else b), y)  # the mean over this shard
        rows.add(epoch, w, b, _global_mean(loss, world_size))
        loss.backward()
        with torch.no_grad():
            for p in params:
                dist.all_reduce(p.grad, op=dist.ReduceOp.SUM)  # every worker gets the sum ...
                p.grad /= world_size  # ... and divides: the mean gradient over all the data
                p -= lr * p.grad
                p.grad.zero_()
    return rows.finish(w, b)


def _loop_ddp(X: torch.Tensor, y: torch.Tensor, config: dict[str, Any]) -> tuple[Any, ...]:
    """``nn.Linear`` in ``DistributedDataParallel``: backward() itself averages the gradients."""
    bias, one_feature = config["b0"] is not None, X.ndim == 1
    n, d = X.shape[0], (1 if one_feature else X.shape[1])
    X, y = X.reshape(n, d), y.reshape(n, 1)
    model = nn.utils.skip_init(nn.Linear, d, 1, bias=bias, dtype=X.dtype)
    with torch.no_grad():
        model.weight.copy_(torch.as_tensor(config["w0"], dtype=X.dtype).reshape(1, d).expand(1, d))
        if bias:
            model.bias.fill_(float(config["b0"]))
    ddp_model = DistributedDataParallel(model)  # copies rank 0's parameters to every worker
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(ddp_model.parameters(), lr=config["lr"])
    rows = _Rows(config["num_epochs"], bias=bias)

    def params() -> tuple[Any, Any]:
        w = model.weight[0, 0] if one_feature else model.weight[0]
        return w, (model.bias[0] if bias else None)

    for epoch in range(config["num_epochs"]):
        loss = loss_fn(ddp_model(X), y)
        rows.add(epoch, *params(), _global_mean(loss, config["world_size"]))
        optimizer.zero_grad()
        loss.backward()  # DDP all-reduces the gradients here and divides by world_size
        optimizer.step()
    return rows.finish(*params())


class _Rows:
    """Plain NumPy rows that travel back to the caller on the queue (no tensors cross processes)."""

    def __init__(self, num_epochs: int, bias: bool) -> None:
        self.w: list[Any] = []
        self.b: list[float] | None = [] if bias else None
        self.loss = np.empty(num_epochs)

    def add(self, epoch: int, w: torch.Tensor, b: torch.Tensor | None, loss: float) -> None:
        self.w.append(w.detach().numpy().astype(np.float64))
        if self.b is not None and b is not None:
            self.b.append(float(b.detach()))
        self.loss[epoch] = loss  # inf or NaN is reported by the caller's _Recorder (DivergenceError)

    def finish(self, w: torch.Tensor, b: torch.Tensor | None) -> tuple[Any, ...]:
        w_final = w.detach().numpy().astype(np.float64)
        w_final = float(w_final) if w_final.ndim == 0 else w_final
        b_rows = None if self.b is None else np.array(self.b)
        return np.array(self.w), b_rows, self.loss, w_final, (None if b is None else float(b.detach()))
