"""Data-parallel training with torchrun: lesson 05's loop, one process per shard of the data.

Every process (a *rank*) makes the same data; each epoch a ``DistributedSampler`` deals each rank
an equal share, and ``DistributedDataParallel`` averages the ranks' gradients in ``backward()``:
with equal shards, that is the gradient over all the data. One machine, two processes::

    torchrun --standalone --nproc-per-node=2 -m gdlessons.ddp_train --num-samples 1000 \\
        --num-epochs 50 --lr 0.1

Lesson 07's MLP, ``nn.Sequential(nn.Linear(1, 3), nn.Tanh(), nn.Linear(3, 1))`` on the wave of
``make_wave_data`` (float64), trains with the same loop: add ``--model mlp``::

    torchrun --standalone --nproc-per-node=2 -m gdlessons.ddp_train --model mlp --num-samples 200 \\
        --num-epochs 300 --lr 0.3

Two machines: run this on both, HOST:PORT an open port on one of them, JOB any name::

    torchrun --nnodes=2 --nproc-per-node=2 --rdzv-backend=c10d --rdzv-id=JOB \\
        --rdzv-endpoint=HOST:PORT -m gdlessons.ddp_train --num-samples 1000 --num-epochs 50 --lr 0.1

With K processes and ``--batch-size B`` the steps are those of one process with batches of K*B.
The linear scaling rule multiplies lr by K; ``--warmup-steps N`` ramps the lr linearly from
lr/K (what one process would use) up to lr over the first N steps:

    torchrun --standalone --nproc-per-node=4 -m gdlessons.ddp_train --num-samples 1000 \\
        --num-epochs 3 --batch-size 8 --lr 0.2 --warmup-steps 10

torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT, which ``init_process_group``
reads, and LOCAL_RANK and LOCAL_WORLD_SIZE, which this script reads to pick and count its GPUs.
If a rank dies, the others stop with one line each (a collective waits at most ``--timeout`` s);
``--max-restarts=N`` restarts them all, and the run starts again from scratch (same seed: same
data, shuffles and result). Rank 0 writes ``--out`` at the end.
"""

import argparse
import json
import math
import os
import signal
import sys
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.nn.utils import parameters_to_vector
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from gdlessons import make_linear_data, make_wave_data
from gdlessons.modules import LinearRegression

__all__ = ["final_weights", "main", "mlp", "problem_and_model", "train"]


def mlp(num_hidden: int = 3) -> nn.Sequential:
    """Lesson 07's model: one hidden layer of ``num_hidden`` tanh units, in float64.

    >>> mlp()
    Sequential(
      (0): Linear(in_features=1, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=1, bias=True)
    )
    """
    return nn.Sequential(nn.Linear(1, num_hidden), nn.Tanh(), nn.Linear(num_hidden, 1)).double()


def problem_and_model(model: str, num_samples: int, seed: int) -> tuple:
    """(X, y, a fresh model): lesson 05's linear problem, or lesson 07's wave (``"mlp"``).

    The MLP's random start comes from ``torch.manual_seed(seed)``: the same on every rank (and
    DistributedDataParallel broadcasts rank 0's weights anyway).
    """
    if model == "mlp":
        X, y = make_wave_data(num_samples, noise=0.1, seed=seed)
        torch.manual_seed(seed)
        return torch.from_numpy(X).reshape(-1, 1), torch.from_numpy(y).reshape(-1, 1), mlp()
    X, y = make_linear_data(num_samples, w=[2.0, -3.4], b=4.2, noise=0.01, seed=seed)
    return torch.from_numpy(X), torch.from_numpy(y), LinearRegression(num_features=2)  # w = b = 0


def final_weights(model: nn.Module) -> tuple[dict, str]:
    """A trained model's weights: the result's fields, and the line rank 0 prints.

    >>> final_weights(LinearRegression(num_features=2))
    ({'w': [0.0, 0.0], 'b': 0.0}, 'w = [0. 0.], b = 0.0000')
    >>> fields, line = final_weights(mlp())
    >>> len(fields["parameters"]), line.split(" = ")[0]
    (10, 'W1')
    """
    if isinstance(model, LinearRegression):
        w, b = model.w.detach().cpu().numpy(), model.b.item()
        return {"w": w.tolist(), "b": b}, f"w = {w.round(4)}, b = {b:.4f}"
    first, last = model[0], model[2]  # lesson 07's MLP: W1, b1, W2, b2
    named = {"W1": first.weight, "b1": first.bias, "W2": last.weight, "b2": last.bias}
    shown = ", ".join(
        f"{k} = {v.detach().cpu().numpy().ravel().round(4)}" for k, v in named.items()
    )
    return {"parameters": parameters_to_vector(model.parameters()).tolist()}, shown


def train(args: argparse.Namespace, rank: int, world_size: int, device: torch.device) -> dict:
    """Lesson 05's loop on this rank's share of the data; rank 0 prints. Returns the result."""
    X, y, model = problem_and_model(args.model, args.num_samples, args.seed)
    X, y = X.to(device), y.to(device)  # all data, every rank
    batch_size = args.batch_size or args.num_samples // world_size  # default: the whole shard
    dataset = TensorDataset(X, y)
    sampler = DistributedSampler(dataset, shuffle=True, seed=args.seed)  # this rank's share
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler)
    model = DistributedDataParallel(model.to(device))
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    # Warmup: the lr ramps from lr / world_size (one process's lr under the linear scaling rule)
    # up to lr over --warmup-steps steps; without warmup it is lr from the first step.
    start = 1 / world_size if args.warmup_steps else 1.0
    warmup = torch.optim.lr_scheduler.LinearLR(
        optimizer, start_factor=start, total_iters=max(args.warmup_steps, 1)
    )
    report_every = args.report_every or max(1, args.num_epochs // 5)
    losses = []  # the loss on all data at the start of every epoch, and at the end

    def loss_on_all_data() -> float:
        with torch.no_grad():  # model.module is the plain model: no communication
            return loss_fn(model.module(X), y).item()

    for epoch in range(args.num_epochs):
        losses.append(loss_on_all_data())
        if rank == 0 and epoch % report_every == 0:
            print(f"epoch {epoch:3d}: loss on all data = {losses[-1]:.2e}", flush=True)
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for X_batch, y_batch in loader:
            loss = loss_fn(model(X_batch), y_batch)
            optimizer.zero_grad()
            loss.backward()  # DDP averages the gradients of all ranks here
            optimizer.step()
            warmup.step()  # once per step; after --warmup-steps steps the lr stays at --lr

    loss = loss_on_all_data()
    losses.append(loss)
    weights, line = final_weights(model.module)
    if rank == 0:
        print(f"after {args.num_epochs} epochs: loss on all data = {loss:.2e}")
        print(line, flush=True)
    run = {k: v for k, v in vars(args).items() if k != "out"}
    return {
        **run,
        **weights,
        "loss": loss,
        "losses": losses,
        "world_size": world_size,
        "batch_size": batch_size,
    }


def problem_with(args: argparse.Namespace, world_size: int, gpus_needed: int) -> str | None:
    """What is wrong with the arguments, in one line, or None (every rank finds the same)."""
    shard = args.num_samples // world_size
    if args.num_samples < 1 or args.num_samples % world_size:  # equal shards, or no full gradient
        return (
            f"--num-samples {args.num_samples} cannot be split into {world_size} equal shards: "
            "use a number of processes that divides it, or another --num-samples."
        )
    if not (math.isfinite(args.lr) and args.lr > 0):
        return f"--lr must be a positive number such as 0.1, got {args.lr}."
    if args.num_epochs < 1 or (args.report_every is not None and args.report_every < 1):
        return "--num-epochs and --report-every must be at least 1."
    if args.warmup_steps < 0:
        return f"--warmup-steps must be 0 (no warmup) or more, got {args.warmup_steps}."
    if args.batch_size is not None and not 1 <= args.batch_size <= shard:
        return f"--batch-size must be 1 to {shard} (samples per process), got {args.batch_size}."
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        return f"--timeout must be a positive number of seconds, got {args.timeout}."
    if args.backend == "nccl" and torch.cuda.device_count() < gpus_needed:
        return f"--backend nccl needs {gpus_needed} GPUs here, found fewer: use --backend gloo."
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--model", choices=["linear", "mlp"], default="linear", help="lesson 05's or lesson 07's"
    )
    p.add_argument("--num-samples", type=int, required=True)
    p.add_argument("--num-epochs", type=int, required=True)
    p.add_argument("--lr", type=float, required=True)
    p.add_argument("--batch-size", type=int, help="samples per process and step (default: all)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds a collective may wait")
    p.add_argument("--out", help="JSON file for the result, written by rank 0")
    p.add_argument("--seed", type=int, default=0, help="seed of the data and the shuffles")
    p.add_argument("--backend", choices=["auto", "gloo", "nccl"], default="auto")
    p.add_argument("--report-every", type=int, help="epochs between printed losses")
    p.add_argument(
        "--warmup-steps", type=int, default=0, help="steps to ramp the lr from lr/K up to lr"
    )
    args = p.parse_args(argv)
    if "WORLD_SIZE" not in os.environ:
        p.error("start it with torchrun, e.g. torchrun --standalone --nproc-per-node=2 -m ...")
    rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank, per_machine = int(os.environ["LOCAL_RANK"]), int(os.environ["LOCAL_WORLD_SIZE"])
    # Check before init_process_group: a rank that left early would keep the others waiting.
    if problem := problem_with(args, world_size, gpus_needed=per_machine):
        # Every rank found it and says it: the first rank to exit makes torchrun stop the others,
        # so a rank left to say it alone could be stopped before it did.
        print(f"error: {problem}", file=sys.stderr, flush=True)
        return 2
    if args.backend == "auto":
        args.backend = "nccl" if torch.cuda.device_count() >= per_machine else "gloo"
    device = torch.device("cuda", local_rank) if args.backend == "nccl" else torch.device("cpu")

    def stop(reason: str) -> None:  # one line, then out: torchrun reports the exit status
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the line is said once
        print(f"rank {rank}: stopped: {reason}", file=sys.stderr, flush=True)

    def on_sigterm(signum: int, frame: object) -> None:  # torchrun's word when a rank failed
        stop("SIGTERM from torchrun: another rank failed")
        os._exit(1)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(args.backend, timeout=timedelta(seconds=args.timeout))
        result = train(args, rank, world_size, device)
        if rank == 0 and args.out:  # a temporary file, then a rename: never a half-written --out
            with open(tmp := f"{args.out}.tmp{os.getpid()}", "w") as f:
                json.dump(result, f, indent=2)
            os.replace(tmp, args.out)
        return 0
    except Exception as exc:  # another rank died, a collective timed out, or a bug here
        stop(f"{type(exc).__name__}: {(str(exc).strip() or '-').splitlines()[0]}")
        return 1
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    code = main()
    # DistributedDataParallel keeps gloo's worker threads alive past destroy_process_group() (torch
    # 2.13), and a thread that frees its last all-reduce while Python shuts down aborts the process
    # ("terminate called without an active exception", pytorch #190489): on a busy machine, one run
    # in ten. Everything is done and written by now: flush what was printed and leave without
    # Python's shutdown.
    sys.stdout.flush(), sys.stderr.flush()
    os._exit(code)
