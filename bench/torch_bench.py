#!/usr/bin/python3
"""PyTorch side of the kerascpp benchmark: workloads W1..W4 in one process, one JSON line out.

    /usr/bin/python3 bench/torch_bench.py --workload W1 --threads 1 [--epochs 20] [--warmup 2]
                                          [--repeat-blocks 1] [--time-budget S] [--seed 1]

The training loop is written the way a performance-aware PyTorch user writes it: tensors made
once, batches gathered with randperm + index_select into reused buffers, Adam(foreach=True),
zero_grad(set_to_none=False) so gradient buffers are kept, validation under eval() and
torch.no_grad() in batches of the training batch size. Each epoch is timed with perf_counter from
the start of one epoch to the start of the next, which covers shuffling, all steps and validation.
The first --warmup epochs are dropped; the reported median is over all measured epochs. With
--repeat-blocks B they form B blocks of --epochs each and the median of the block means is
reported too. --time-budget S stops once the measured epochs have taken S seconds (after at least
three, at a block boundary). Peak RSS is VmHWM from /proc/self/status.

Thread counts must be fixed before torch is imported (OpenMP and OpenBLAS read them at load
time), so the script sets OMP_NUM_THREADS and OPENBLAS_NUM_THREADS from --threads first. Which
OpenBLAS core runs is read back from the loaded library (openblas_get_corename) and reported.
"""
import argparse
import ctypes
import json
import os
import resource
import sys
import time

WORKLOADS = {
    # name: (train rows, val rows, inputs, hidden widths, outputs, dropout+batchnorm, batch,
    #        default epochs, warmup, blocks)
    "W1": (1119, 480, 11, (512, 512, 512), 1, False, 256, 20, 2, 1),
    "W2": (1119, 480, 11, (1024, 1024, 1024), 1, True, 256, 10, 2, 1),
    "W3": (246, 105, 33, (4, 4), 1, False, 512, 1000, 200, 5),
    "W4": (60000, 0, 784, (256, 128), 10, False, 128, 5, 2, 1),
}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", required=True, choices=sorted(WORKLOADS))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=None, help="measured epochs (per block)")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--repeat-blocks", type=int, default=None)
    ap.add_argument("--time-budget", type=float, default=0.0, help="seconds of measured epochs (0 = no limit)")
    ap.add_argument("--seed", type=int, default=1)
    return ap.parse_args()


ARGS = parse_args()
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["MKL_NUM_THREADS"] = str(ARGS.threads)

import torch  # noqa: E402  (after the thread variables)
from torch import nn  # noqa: E402


def openblas_info():
    """Core name, config string and path of the OpenBLAS this process has loaded, if any."""
    paths = sorted({line.split()[-1] for line in open("/proc/self/maps") if "libopenblas" in line})
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return {"openblas_core": lib.openblas_get_corename().decode(),
                    "openblas_config": lib.openblas_get_config().decode(),
                    "openblas_threads": lib.openblas_get_num_threads(),
                    "openblas_path": path}
        except (OSError, AttributeError):
            continue
    return {"openblas_core": None, "openblas_path": None}


def peak_rss_kb():
    """VmHWM (peak RSS of this process image). ru_maxrss is the fallback only: Linux carries it over
    from the parent across fork + exec."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def median(values):
    s = sorted(values)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def build(name):
    n_train, n_val, n_in, hidden, n_out, regularized, batch, *_ = WORKLOADS[name]
    layers, prev = [], n_in
    for width in hidden:
        layers += [nn.Linear(prev, width), nn.ReLU()]
        if regularized:  # Keras order: Dense(relu), Dropout(0.3), BatchNormalization()
            layers += [nn.Dropout(0.3), nn.BatchNorm1d(width)]
        prev = width
    layers.append(nn.Linear(prev, n_out))
    if name == "W3":
        layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)

    x = torch.randn(n_train, n_in)
    xv = torch.randn(n_val, n_in) if n_val else None
    if name in ("W1", "W2"):
        y, yv = torch.randn(n_train, 1), torch.randn(n_val, 1)
        loss_fn = nn.L1Loss()
    elif name == "W3":
        y = torch.randint(0, 2, (n_train, 1)).float()
        yv = torch.randint(0, 2, (n_val, 1)).float()
        loss_fn = nn.BCELoss()
    else:  # categorical cross-entropy on logits; class indices are PyTorch's form of one-hot labels
        y, yv = torch.randint(0, n_out, (n_train,)), None
        loss_fn = nn.CrossEntropyLoss()
    return model, loss_fn, x, y, xv, yv, batch


def main():
    name = ARGS.workload
    _, _, _, _, _, _, _, d_epochs, d_warmup, d_blocks = WORKLOADS[name]
    per_block = ARGS.epochs or d_epochs
    warmup = d_warmup if ARGS.warmup is None else ARGS.warmup
    blocks = ARGS.repeat_blocks or d_blocks

    torch.set_num_threads(ARGS.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(ARGS.seed)
    model, loss_fn, x, y, xv, yv, batch = build(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=True)
    n_train = x.shape[0]

    # Reused batch buffers: index_select writes into them instead of allocating new tensors.
    full = min(batch, n_train)
    xb_full = torch.empty(full, x.shape[1])
    yb_full = torch.empty((full,) + tuple(y.shape[1:]), dtype=y.dtype)
    tail = n_train % batch
    xb_tail = torch.empty(tail, x.shape[1]) if tail else None
    yb_tail = torch.empty((tail,) + tuple(y.shape[1:]), dtype=y.dtype) if tail else None

    def epoch():
        model.train()
        perm = torch.randperm(n_train)
        total = 0.0
        for start in range(0, n_train, batch):
            idx = perm[start:start + batch]
            xb, yb = (xb_full, yb_full) if idx.numel() == full else (xb_tail, yb_tail)
            torch.index_select(x, 0, idx, out=xb)
            torch.index_select(y, 0, idx, out=yb)
            opt.zero_grad(set_to_none=False)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item()
        if xv is not None:
            model.eval()
            with torch.no_grad():
                for start in range(0, xv.shape[0], batch):
                    loss_fn(model(xv[start:start + batch]), yv[start:start + batch]).item()
        return total

    for _ in range(warmup):
        epoch()
    stamps = []
    measured = per_block * blocks
    stopped = False
    for done in range(1, measured + 1):
        stamps.append(time.perf_counter())
        last_loss = epoch()
        if (ARGS.time_budget > 0 and done >= 3 and (done < per_block or done % per_block == 0)
                and done < measured and time.perf_counter() - stamps[0] >= ARGS.time_budget):
            stopped = True
            break
    stamps.append(time.perf_counter())
    epochs = [b - a for a, b in zip(stamps, stamps[1:])]
    block_size = min(per_block, len(epochs))
    blocks_done = len(epochs) // block_size
    block_means = [sum(epochs[b * block_size:(b + 1) * block_size]) / block_size for b in range(blocks_done)]

    steps = (n_train + batch - 1) // batch
    rec = {"impl": "pytorch", "workload": name, "threads": ARGS.threads,
           "torch": torch.__version__, "python": sys.version.split()[0],
           "torch_threads": torch.get_num_threads(),
           "malloc_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_")},
           "ld_library_path": os.environ.get("LD_LIBRARY_PATH", ""),
           "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
           "openblas_l2_size_env": os.environ.get("OPENBLAS_L2_SIZE"),
           "warmup": warmup, "epochs_per_block": block_size, "blocks": blocks_done,
           "measured_epochs": len(epochs), "stopped_by_budget": stopped, "steps_per_epoch": steps,
           "unit": "s/epoch", "median": median(epochs), "median_of_block_means": median(block_means),
           "min_epoch": min(epochs),
           "block_means": block_means,
           "maxrss_kb": peak_rss_kb(),
           "final_loss": last_loss / steps}
    if blocks_done == 1:
        rec["epochs"] = epochs
    rec.update(openblas_info())
    print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main()
