#!/usr/bin/python3
"""PyTorch's own data parallelism on a benchmark workload: DistributedDataParallel over
torch.distributed's gloo backend on the loopback interface, one JSON line out (from process 0).

    /usr/bin/python3 bench/torch_ddp_bench.py --workload W1|W4 [--processes 2] [--threads 1]
                                              [--epochs E] [--warmup K] [--seed 1] [--port 29561]

The processes are started with torch.multiprocessing.spawn (no torchrun). Each builds the model
of bench/torch_bench.py's workload (same layers, loss, Adam(lr=1e-3, foreach=True), global batch
size and epochs) from the same seed, makes the same synthetic data and wraps the model in
DistributedDataParallel, which starts every process from process 0's weights and averages the
gradients in its buckets during backward. Every epoch every process draws the same permutation and
takes its contiguous share of each global batch (rows [B·r/P, B·(r+1)/P), as kerascpp does), so
the global batch is the workload's; validation (W1) is sharded the same way and its loss summed
with one all_reduce per epoch. The training loop is torch_bench.py's (reused batch buffers,
index_select, zero_grad(set_to_none=False), loss.item() every step). The per-epoch training loss
is summed over the processes once per epoch (kerascpp sums its loss every step).

Threads: OMP_NUM_THREADS, OPENBLAS_NUM_THREADS and MKL_NUM_THREADS are set to --threads before
torch is imported, torch.set_num_threads(--threads) and one inter-op thread in every process.
Epochs are timed on process 0 with perf_counter from the start of one epoch to the start of the
next; the first --warmup epochs are dropped.
"""
import argparse
import datetime
import json
import os
import sys
import time

# name: (train rows, val rows, inputs, hidden widths, outputs, batch, measured epochs, warm-up);
# bench/torch_bench.py's W1 and W4, with run.py's full-run epochs.
WORKLOADS = {
    "W1": (1119, 480, 11, (512, 512, 512), 1, 256, 20, 2),
    "W4": (60000, 0, 784, (256, 128), 10, 128, 4, 1),
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1, help="threads per process")
    ap.add_argument("--epochs", type=int, default=None, help="measured epochs")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--port", type=int, default=29561, help="TCP port of the rendezvous on 127.0.0.1")
    a = ap.parse_args()
    if a.processes < 1 or a.threads < 1:
        ap.error("--processes and --threads must be positive")
    if (a.epochs is not None and a.epochs < 1) or (a.warmup is not None and a.warmup < 0):
        ap.error("--epochs must be positive and --warmup not negative")
    if not 1024 <= a.port <= 65535:
        ap.error("--port must be in 1024..65535")
    return a


ARGS = parse_args()
for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(ARGS.threads)

import torch  # noqa: E402  (after the thread variables)
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.parallel import DistributedDataParallel  # noqa: E402


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def build(name, seed):
    n_train, n_val, n_in, hidden, n_out, batch, *_ = WORKLOADS[name]
    torch.manual_seed(seed)
    layers, prev = [], n_in
    for width in hidden:
        layers += [nn.Linear(prev, width), nn.ReLU()]
        prev = width
    layers.append(nn.Linear(prev, n_out))
    model = nn.Sequential(*layers)
    x = torch.randn(n_train, n_in)
    if name == "W1":
        y, xv, yv = torch.randn(n_train, 1), torch.randn(n_val, n_in), torch.randn(n_val, 1)
        loss_fn = nn.L1Loss(reduction="sum")
    else:  # categorical cross-entropy on logits with class indices, as torch_bench.py
        y, xv, yv = torch.randint(0, n_out, (n_train,)), None, None
        loss_fn = nn.CrossEntropyLoss(reduction="sum")
    return model, loss_fn, x, y, xv, yv, batch


def share(rows, rank, ranks):
    """This process's contiguous share [first, end) of a global batch of `rows` rows."""
    return rows * rank // ranks, rows * (rank + 1) // ranks


def worker(rank, args):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(args.port)
    os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
    # gloo applies the timeout to the rendezvous and to every collective: a process left waiting
    # for a partner that is gone fails after two minutes instead of hanging.
    dist.init_process_group("gloo", rank=rank, world_size=args.processes, timeout=datetime.timedelta(seconds=120))
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    name = args.workload
    _, _, _, _, _, _, d_epochs, d_warmup = WORKLOADS[name]
    measured = args.epochs or d_epochs
    warmup = d_warmup if args.warmup is None else args.warmup
    model, loss_fn, x, y, xv, yv, batch = build(name, args.seed)
    ddp = DistributedDataParallel(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=1e-3, foreach=True)
    n_train, ranks = x.shape[0], args.processes
    shuffle = torch.Generator().manual_seed(args.seed + 1)  # the same stream on every process

    # Reused buffers for this process's share of a full batch and of the last one.
    buffers = {}
    for start in range(0, n_train, batch):
        first, end = share(min(batch, n_train - start), rank, ranks)
        if end - first not in buffers:
            buffers[end - first] = (torch.empty(end - first, x.shape[1]),
                                    torch.empty((end - first,) + tuple(y.shape[1:]), dtype=y.dtype))

    def epoch():
        ddp.train()
        perm = torch.randperm(n_train, generator=shuffle)
        total = torch.zeros(1, dtype=torch.float64)
        for start in range(0, n_train, batch):
            rows = min(batch, n_train - start)
            first, end = share(rows, rank, ranks)
            idx = perm[start + first:start + end]
            xb, yb = buffers[end - first]
            torch.index_select(x, 0, idx, out=xb)
            torch.index_select(y, 0, idx, out=yb)
            opt.zero_grad(set_to_none=False)
            # Sum over the share / rows of the global batch, times the processes (DDP divides the
            # summed gradient by their number): the gradient of the global batch's mean loss.
            loss = loss_fn(ddp(xb), yb) * (ranks / rows)
            loss.backward()
            opt.step()
            total += loss.item() / ranks
        dist.all_reduce(total)
        if xv is not None:
            ddp.eval()
            val = torch.zeros(1, dtype=torch.float64)
            with torch.no_grad():
                for start in range(0, xv.shape[0], batch):
                    first, end = share(min(batch, xv.shape[0] - start), rank, ranks)
                    val += loss_fn(model(xv[start + first:start + end]), yv[start + first:start + end]).item()
            dist.all_reduce(val)
        return total.item()

    for _ in range(warmup):
        epoch()
    stamps = []
    for _ in range(measured):
        stamps.append(time.perf_counter())
        last_loss = epoch()
    stamps.append(time.perf_counter())
    epochs = [b - a for a, b in zip(stamps, stamps[1:])]
    if rank == 0:
        steps = (n_train + batch - 1) // batch
        rec = {"impl": "pytorch-ddp", "workload": name, "ranks": ranks, "threads": args.threads,
               "backend": "gloo", "transport": "tcp-loopback", "torch": torch.__version__,
               "python": sys.version.split()[0], "torch_threads": torch.get_num_threads(),
               "warmup": warmup, "measured_epochs": len(epochs), "steps_per_epoch": steps, "global_batch": batch,
               "unit": "s/epoch", "median": median(epochs), "min_epoch": min(epochs), "epochs": epochs,
               "step_s": median(epochs) / steps, "final_loss": last_loss / steps}
        print(json.dumps(rec), flush=True)
    dist.destroy_process_group()


def main():
    mp.spawn(worker, args=(ARGS,), nprocs=ARGS.processes, join=True)


if __name__ == "__main__":
    main()
