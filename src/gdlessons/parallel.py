"""Data-parallel gradient descent on real worker processes, with ``torch.distributed``.

The MSE gradient over ``n`` samples is the mean of the gradients over ``world_size`` equal shards.
So ``world_size`` processes, each holding one shard, can each compute their shard's gradient,
average the gradients with one ``all_reduce``, and take exactly the step of one process that
holds all the data.

``train_shard`` is what every worker runs: lesson 03's autograd loop plus the ``all_reduce``.
``train_data_parallel`` starts the workers on this machine (``torch.multiprocessing``, which stops
them all if one fails), lets them meet over gloo on the loopback address, and collects their rows
into a ``History``. Where the platform has ``forkserver`` (not Windows), workers are forked from a
server that imported torch once, so only the first run of a session pays for starting Python;
with ``spawn`` every worker starts a new one. The script for a cluster, with ``torchrun`` and
``DistributedDataParallel``, is ``gdlessons.ddp_train``.
"""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from gdlessons._validate import require_positive, require_training_args
from gdlessons.data import require_world_size, shard
from gdlessons.history import History, Recorder
from gdlessons.numpy_gd import forward, mse_loss

__all__ = ["free_port", "shard", "train_data_parallel", "train_shard"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now, below the range the OS hands out itself.

    A port the OS picked for a bind to port 0 can be picked again for the next bind to port 0 of
    any process (a gloo worker's, say) before ours is used; the OS never picks one below 32768.

    >>> 20000 <= free_port() < 32768
    True
    """
    start = secrets.randbelow(12768)  # a random first try: two launchers rarely try the same
    for k in range(12768):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", 20000 + (start + k) % 12768))
            except OSError:  # in use: the next one
                continue
            return int(s.getsockname()[1])
    raise OSError("no free TCP port on 127.0.0.1 between 20000 and 32767")


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

    The same arguments and ``History`` as ``train_autograd``, plus ``world_size`` (it must divide
    ``n``) and ``timeout``: seconds for the run and for every collective. A worker that fails or
    hangs ends the run with an error naming it, and no worker is left behind. The recorded loss is
    the loss on *all* the data, so the History compares row by row with one process.

    >>> X = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    >>> history = train_data_parallel(X, 2 * X, lr=0.01, num_epochs=10, world_size=2)
    >>> history.w[::2].round(3).tolist(), round(history.predict(5.0), 3)
    ([0.0, 0.555, 0.956, 1.246, 1.455], 8.031)
    """
    X, y, w0, b0, lr, num_epochs = require_training_args(X, y, lr, num_epochs, w0, b0)
    world_size = require_world_size(world_size, n=len(X))
    timeout = require_positive("timeout", timeout)
    method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    if method == "forkserver":  # the server imports torch once; workers are forked from it
        mp.get_context(method).set_forkserver_preload(["gdlessons.parallel"])
    results = mp.get_context(method).SimpleQueue()
    shards = [shard(X, y, rank, world_size) for rank in range(world_size)]
    job = (f"tcp://127.0.0.1:{free_port()}", world_size, timeout, shards, w0, b0, lr, num_epochs)
    workers = mp.start_processes(
        _worker, (job, results), world_size, join=False, start_method=method
    )
    deadline = time.monotonic() + timeout
    while True:
        try:
            if workers.join(timeout=0.1, grace_period=1.0):
                break
            failed = None
        except Exception as err:  # a worker failed; past the deadline, by running out of time
            failed = err
        if time.monotonic() > deadline:
            for p in workers.processes:
                p.kill()
                p.join()
            raise TimeoutError(
                f"the {world_size} workers did not finish within timeout={timeout:g} s; they were "
                "stopped. Raise timeout on a slow machine."
            ) from failed
        if failed is not None:
            raise failed
    rows = dict(results.get() for _ in range(world_size))
    # Equal shards: the mean of the shards' losses is the loss on all the data.
    losses = np.mean([rows[rank][2] for rank in range(world_size)], axis=0)
    record = Recorder(X, lr, num_epochs, bias=b0 is not None)  # checks for divergence too
    for epoch, (w, b, loss) in enumerate(zip(rows[0][0], rows[0][1], losses)):
        record(epoch, w, b, loss)
    return record.finish(*rows[0][3:])


def _worker(rank: int, job: tuple, results: Any) -> None:
    """One worker process: join the group, train on its shard, send its rows to the caller."""
    init_method, world_size, timeout, shards, w0, b0, lr, num_epochs = job
    torch.set_num_threads(1)  # the workers share the machine's cores: one thread each
    dist.init_process_group(
        "gloo",
        init_method=init_method,
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=timeout),
    )
    try:
        X, y = (torch.from_numpy(a) for a in shards[rank])
        w = torch.tensor(w0, requires_grad=True)
        b = None if b0 is None else torch.tensor(b0, requires_grad=True)
        ws, bs, losses = [], [], []

        def record(epoch: int, w: Any, b: Any, loss: torch.Tensor) -> None:
            ws.append(w.detach().numpy().copy())
            bs.append(None if b is None else b.item())
            losses.append(loss.item())  # this shard's loss; the caller averages the shards' losses

        train_shard(X, y, w, b, lr, num_epochs, record)
        final = (w.detach().numpy().astype(np.float64), None if b is None else b.item())
        results.put((rank, (ws, bs, losses, *final)))
    finally:
        dist.destroy_process_group()
