#!/usr/bin/env python3
"""kerascpp's data-parallel training over MPI against PyTorch's DistributedDataParallel, on this
machine: build, measure, tabulate.

    python3 bench/run_distributed.py [--repeats 3] [--workloads W1,W4] [--cells LABEL,...] [--no-build]
                                     [--no-allreduce-block] [--load-below 0.6] [--max-wait 1200] [--quick]
    python3 bench/run_distributed.py --from-raw bench/results/distributed-<stamp>.jsonl

1. Configures (preset `bench`) and builds mpi_bench and mpi_bench_omp (nice -n 10, one job).
2. Measures in blocks. Before every block it waits until the 1-minute load average is below
   --load-below (polling every 20 s, at most --max-wait seconds; if the machine never gets quiet it
   measures anyway and records so), and while the block runs it creates /tmp/bench-running.
   * one block of MPI_Allreduce bandwidth on 2 processes (mpi_bench --allreduce): Open MPI's
     default transports (shared memory, btl vader), and TCP over the loopback interface
     (--mca pml ob1 --mca btl tcp,self --mca btl_tcp_if_include lo);
   * --repeats blocks of training, each running every cell once, in an order that rotates from
     block to block: per workload kerascpp 1 process x 1 thread, 2 processes x 1 thread (shared
     memory, the gradients summed in a shared-memory window, which is MpiStrategy's default on
     one machine, or by MPI_Allreduce over shared memory and over TCP loopback, as between
     machines), 1 process x 2 threads (mpi_bench_omp), and PyTorch DDP on 2 processes x 1 thread
     (bench/torch_ddp_bench.py, gloo over loopback).
3. Prints a Markdown table (medians of the per-process medians, with their range), the ratios of
   issue 11's targets, the allreduce bandwidths, and a model of the time per step on N machines
   computed from the measured numbers. Raw JSON lines go to bench/results/distributed-<stamp>.jsonl,
   the tables to bench/results/distributed-<stamp>.md.

Every mpirun runs with --bind-to none (Open MPI would otherwise bind a lone process to one core,
and its two threads would share it) and, for root in containers, with
OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 in its environment.
"""
import argparse
import datetime
import itertools
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

from run import loadavg, log  # bench/run.py, beside this script

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "bench")
BUSY_FLAG = "/tmp/bench-running"
WORKLOADS = ("W1", "W4")
EPOCHS = {"W1": (20, 2), "W4": (4, 1)}  # measured epochs, warm-up (run.py's full run)
EPOCHS_QUICK = {"W1": (5, 1), "W4": (2, 1)}
ROOT_ENV = {"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"}
TRANSPORTS = {
    "shm": [],  # Open MPI's default here: pml ob1 with the vader (shared memory) btl
    "tcp-lo": ["--mca", "pml", "ob1", "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "lo"],
}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
BANDWIDTHS_GBIT = (10, 25, 100)
MACHINES = (2, 4, 8, 16, 32, 64)
PORTS = itertools.count()
ASSUMED_LATENCY_S = 25e-6  # per message on a real network: an assumption, not a measurement

# Cells: (label, implementation, processes, threads per process, transport, gradient sum). The
# gradient sum is MpiStrategy's: "shared" (its default: a shared-memory window, since both processes
# are on this machine) or "allreduce" (MPI_Allreduce through the transport, as between machines).
CELLS = (
    ("kerascpp 1x1", "kerascpp", 1, 1, "shm", "shared"),
    ("kerascpp 2x1", "kerascpp", 2, 1, "shm", "shared"),
    ("kerascpp 2x1 allreduce", "kerascpp", 2, 1, "shm", "allreduce"),
    ("kerascpp 2x1 tcp", "kerascpp", 2, 1, "tcp-lo", "allreduce"),
    ("kerascpp 1x2", "kerascpp", 1, 2, "shm", "shared"),
    ("pytorch ddp 2x1", "pytorch-ddp", 2, 1, "tcp-lo", ""),
)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--cells", default=None,
                    help="comma-separated cell labels to run (default: all), e.g. 'kerascpp 1x1,kerascpp 2x1'")
    ap.add_argument("--no-allreduce-block", action="store_true", help="skip the MPI_Allreduce bandwidth block")
    ap.add_argument("--repeats", type=int, default=None, help="training blocks (processes per cell); default 3, quick 1")
    ap.add_argument("--quick", action="store_true", help="fewer epochs, one block, shorter allreduce blocks")
    ap.add_argument("--python", default="/usr/bin/python3", help="interpreter that has torch")
    ap.add_argument("--no-build", action="store_true", help="use the programs already in build/bench")
    ap.add_argument("--load-below", type=float, default=0.6, help="1-minute load average to wait for before a block")
    ap.add_argument("--max-wait", type=float, default=1200, help="longest wait for a quiet machine per block, seconds")
    ap.add_argument("--poll", type=float, default=20, help="seconds between load-average checks")
    ap.add_argument("--timeout", type=float, default=600, help="per-process timeout, seconds")
    ap.add_argument("--out-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--from-raw", metavar="JSONL", help="measure nothing: render the tables of an earlier run")
    a = ap.parse_args()
    a.workloads = [w.strip().upper() for w in a.workloads.split(",") if w.strip()]
    bad = [w for w in a.workloads if w not in WORKLOADS]
    if bad or not a.workloads:
        ap.error(f"unknown workloads {bad}; choose from {','.join(WORKLOADS)}")
    labels = [c[0] for c in CELLS]
    a.cells = labels if a.cells is None else [c.strip() for c in a.cells.split(",") if c.strip()]
    unknown = [c for c in a.cells if c not in labels]
    if unknown or not a.cells:
        ap.error(f"unknown cells {unknown}; choose from {', '.join(labels)}")
    if a.repeats is None:
        a.repeats = 1 if a.quick else 3
    if a.repeats < 1 or a.poll <= 0 or a.max_wait < 0 or a.timeout <= 0:
        ap.error("--repeats, --poll and --timeout must be positive, --max-wait not negative")
    return a


def wait_for_quiet(limit, max_wait, poll):
    """Waits until the 1-minute load average is below `limit`, at most max_wait seconds; returns
    (load average, seconds waited, whether it got quiet)."""
    start = time.time()
    la = loadavg()
    while la >= limit and time.time() - start < max_wait:
        log(f"  load average {la:.2f} >= {limit}: waiting")
        time.sleep(poll)
        la = loadavg()
    return la, round(time.time() - start, 1), la < limit


class Block:
    """A measurement block: waits for a quiet machine, then holds /tmp/bench-running."""

    def __init__(self, args, name, raw):
        self.args, self.name, self.raw = args, name, raw

    def __enter__(self):
        log(f"block {self.name}: waiting for load average < {self.args.load_below}")
        la, waited, quiet = wait_for_quiet(self.args.load_below, self.args.max_wait, self.args.poll)
        if not quiet:
            log(f"  machine still busy after {waited:.0f} s (load average {la:.2f}): measuring anyway")
        self.meta = {"block": self.name, "block_loadavg_start": la, "block_waited_s": waited, "block_quiet": quiet}
        with open(BUSY_FLAG, "w") as f:
            f.write(f"kerascpp bench/run_distributed.py, pid {os.getpid()}, block {self.name}\n")
        self.t0 = time.time()
        return self

    def __exit__(self, *exc):
        try:
            os.remove(BUSY_FLAG)
        except FileNotFoundError:
            pass
        rec = dict(self.meta, kind="block", seconds=round(time.time() - self.t0, 1), loadavg_end=loadavg())
        self.raw.write(json.dumps(rec) + "\n")
        self.raw.flush()
        log(f"block {self.name}: {rec['seconds']} s, load average at the end {rec['loadavg_end']:.2f}")
        return False


def build():
    configure = ["nice", "-n", "10", "cmake", "--preset", "bench", "-DKERASCPP_BUILD_EXAMPLES=OFF",
                 "-DKERASCPP_BUILD_TESTS=OFF", "-DKERASCPP_USE_BLAS=OFF"]
    log("configure: " + " ".join(configure))
    subprocess.run(configure, cwd=ROOT, check=True, text=True, capture_output=True)
    cmd = ["nice", "-n", "10", "cmake", "--build", BUILD, "-j1", "--target", "mpi_bench", "mpi_bench_omp"]
    log("build: " + " ".join(cmd))
    r = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True)
    if r.returncode != 0:
        sys.exit("build failed:\n" + r.stdout[-4000:] + r.stderr[-4000:])
    for exe in ("mpi_bench", "mpi_bench_omp"):
        if not os.path.exists(os.path.join(BIN, exe)):
            sys.exit(f"{exe} was not built: CMake found no MPI (Debian: apt-get install libopenmpi-dev openmpi-bin)")


def child_env():
    env = dict(os.environ)
    for k in THREAD_VARS:
        env.pop(k, None)
    env.update(ROOT_ENV)
    return env


def mpirun(processes, transport):
    launcher = shutil.which("mpirun")
    if launcher is None:
        sys.exit("mpirun not found (Debian: apt-get install openmpi-bin)")
    return [launcher, "-np", str(processes), "--bind-to", "none"] + TRANSPORTS[transport]


def run_json(cmd, meta, raw, timeout):
    la0, t0 = loadavg(), time.time()
    try:
        p = subprocess.run(cmd, env=child_env(), text=True, capture_output=True, timeout=timeout)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        ok = p.returncode == 0 and lines
        recs = [json.loads(l) for l in lines] if ok else [{"error": p.returncode, "stderr": p.stderr[-3000:]}]
    except subprocess.TimeoutExpired:
        recs = [{"error": "timeout", "timeout_s": timeout}]
    for rec in recs:
        rec.update(meta)
        rec.update({"cmd": " ".join(cmd), "process_wall_s": round(time.time() - t0, 2), "loadavg_before": la0,
                    "loadavg_after": loadavg()})
        raw.write(json.dumps(rec) + "\n")
    raw.flush()
    return recs


def cell_command(args, cell, workload):
    label, impl, processes, threads, transport, gradient_sum = cell
    epochs, warmup = (EPOCHS_QUICK if args.quick else EPOCHS)[workload]
    if impl == "pytorch-ddp":
        port = 29500 + next(PORTS) % 500  # a fresh rendezvous port for every run
        return [args.python, os.path.join(HERE, "torch_ddp_bench.py"), "--workload", workload,
                "--processes", str(processes), "--threads", str(threads), "--epochs", str(epochs),
                "--warmup", str(warmup), "--port", str(port)]
    exe = os.path.join(BIN, "mpi_bench" if threads == 1 else "mpi_bench_omp")
    return mpirun(processes, transport) + [exe, "--workload", workload, "--threads", str(threads),
                                           "--epochs", str(epochs), "--warmup", str(warmup),
                                           "--transport", transport, "--sum", gradient_sum]


def measure(args, raw):
    if not args.no_allreduce_block:
        measure_allreduce(args, raw)
    measure_training(args, raw, [(w, c) for w in args.workloads for c in CELLS if c[0] in args.cells])


def measure_allreduce(args, raw):
    with Block(args, "allreduce", raw) as block:
        for transport in TRANSPORTS:
            log(f"allreduce, 2 processes, {transport}")
            extra = ["--min-seconds", "0.05", "--blocks", "3"] if args.quick else []
            cmd = mpirun(2, transport) + [os.path.join(BIN, "mpi_bench"), "--allreduce", "--transport", transport]
            for rec in run_json(cmd + extra, dict(block.meta, kind="allreduce"), raw, args.timeout):
                if "error" in rec:
                    log(f"  failed: {rec}")


def measure_training(args, raw, jobs):
    for r in range(args.repeats):
        with Block(args, f"training-{r + 1}", raw) as block:
            shift = (r * len(jobs)) // args.repeats
            for workload, cell in jobs[shift:] + jobs[:shift]:
                log(f"{workload} {cell[0]} (block {r + 1})")
                meta = dict(block.meta, kind="train", cell=cell[0], repeat=r)
                for rec in run_json(cell_command(args, cell, workload), meta, raw, args.timeout):
                    if "error" in rec:
                        log(f"  failed: {rec}")
                    else:
                        log(f"  {rec['median'] * 1e3:.1f} ms/epoch")


# ------------------------------------------------------------------------------------------------
# Tables.

def fmt_time(s):
    return f"{s * 1e3:.1f} ms" if s < 10 else f"{s:.2f} s"


def fmt_us(s):
    if s < 1e-5:
        return f"{s * 1e6:.2f} µs"
    return f"{s * 1e6:.0f} µs" if s < 1e-3 else f"{s * 1e3:.2f} ms"


def fmt_bytes(b):
    for unit, size in (("MB", 1e6), ("KB", 1e3)):
        if b >= size:
            return f"{b / size:.3g} {unit}"
    return f"{b:.0f} B"


def spread(values):
    lo, hi = min(values), max(values)
    return f"{fmt_time(lo)}–{fmt_time(hi)}" if len(values) > 1 else "one process"


def render(recs):
    out = []
    train = [r for r in recs if r.get("kind") == "train" and "error" not in r]
    errors = [r for r in recs if r.get("kind") in ("train", "allreduce") and "error" in r]
    blocks = [r for r in recs if r.get("kind") == "block"]
    info = next((r for r in recs if r.get("kind") == "machine"), {})
    if info:
        out.append(f"Machine: {info.get('cpu_model', '?')}, {info.get('cpus', '?')} CPUs, kernel {info.get('kernel', '?')}; "
                   f"{info.get('mpi', '?')}; torch {info.get('torch', '?')}; run of {info.get('date', '?')}.")
        out.append("")
    if blocks:
        out.append("Blocks (load average when each started, seconds waited for it, whether it was below the limit): "
                   + "; ".join(f"{b['block']} {b['block_loadavg_start']:.2f} after {b['block_waited_s']:.0f} s"
                               f"{'' if b['block_quiet'] else ' (NOT quiet)'}, {b['seconds']:.0f} s long"
                               for b in blocks) + ".")
        out.append("")

    cells = {}
    for r in train:
        cells.setdefault((r["workload"], r["cell"]), []).append(r)
    med = {k: statistics.median(r["median"] for r in v) for k, v in cells.items()}
    workloads = [w for w in WORKLOADS if any(k[0] == w for k in cells)]

    out.append("| workload | cell | epoch (median) | range over processes | processes | time per step | "
               "gradient sum per step | bytes per step | sum's share of step |")
    out.append("|---|---|---|---|---|---|---|---|---|")
    for w in workloads:
        for label, *_ in CELLS:
            rs = cells.get((w, label))
            if not rs:
                continue
            step = statistics.median(r["step_s"] for r in rs)
            if "allreduce_s_per_step" in rs[0] and rs[0]["ranks"] > 1:
                ar = statistics.median(r["allreduce_s_per_step"] for r in rs)
                ar_cells = f"{fmt_us(ar)} | {fmt_bytes(rs[0]['allreduce_bytes_per_step'])} | {100 * ar / step:.0f} %"
            else:
                ar_cells = "– | – | –"
            out.append(f"| {w} | {label} | {fmt_time(med[(w, label)])} | {spread([r['median'] for r in rs])} | "
                       f"{len(rs)} | {fmt_us(step)} | {ar_cells} |")
    out.append("")

    out.append("| ratio | target | W1 | W4 |")
    out.append("|---|---|---|---|")

    def ratio(a, b, w):
        return f"{med[(w, a)] / med[(w, b)]:.2f}" if (w, a) in med and (w, b) in med else "–"
    rows = (("kerascpp 2 processes / PyTorch DDP 2 processes", "≤ 0.7", "kerascpp 2x1", "pytorch ddp 2x1"),
            ("kerascpp 2 processes over TCP loopback / PyTorch DDP", "", "kerascpp 2x1 tcp", "pytorch ddp 2x1"),
            ("kerascpp 1 process / kerascpp 2 processes (speed-up)", "≥ 1.6 on W4", "kerascpp 1x1", "kerascpp 2x1"),
            ("the same, gradients summed by MPI_Allreduce", "", "kerascpp 1x1", "kerascpp 2x1 allreduce"),
            ("kerascpp 1 process / kerascpp 1 process x 2 threads", "", "kerascpp 1x1", "kerascpp 1x2"))
    for name, target, a, b in rows:
        out.append(f"| {name} | {target} | {ratio(a, b, 'W1')} | {ratio(a, b, 'W4')} |")
    out.append("")

    allreduce = [r for r in recs if r.get("kind") == "allreduce" and "error" not in r]
    if allreduce:
        by = {}
        for r in allreduce:
            by.setdefault(r["bytes"], {})[r["transport"]] = r
        transports = [t for t in TRANSPORTS if any(t in v for v in by.values())]
        out.append("MPI_Allreduce, 2 processes, float sum in place (time per call: median of the blocks; "
                   "bus bandwidth = 2(P−1)/P · bytes / time):")
        out.append("")
        out.append("| size | " + " | ".join(f"{t} time | {t} bus GB/s" for t in transports) + " |")
        out.append("|---|" + "---|---|" * len(transports))
        for b in sorted(by):
            name = next((r["name"] for r in by[b].values() if r["name"]), "")
            row = f"| {fmt_bytes(b)}{' (' + name + ')' if name else ''} |"
            for t in transports:
                r = by[b].get(t)
                row += f" {fmt_us(r['seconds_median'])} | {r['busbw_GBps']:.2f} |" if r else " – | – |"
            out.append(row)
        out.append("")
        out += scaling_model(cells, by)
    if errors:
        out.append(f"{len(errors)} processes failed; see the raw file.")
    return "\n".join(out) + "\n"


def scaling_model(cells, allreduce_by_size):
    """The time per step on N machines, from the measured 1-process step and gradient size."""
    out = []
    small = min(allreduce_by_size)
    tcp = allreduce_by_size[small].get("tcp-lo")
    if tcp is None:
        return out
    measured_alpha = tcp["seconds_median"]
    out.append("Model (computed from the measured numbers above, not measured): one process per machine, "
               "ring allreduce of the gradient (S bytes) at link bandwidth BW, plus the 3 small collectives "
               "per step (two agreement points, the loss and metric sums) by recursive doubling:")
    out.append("")
    out.append("    t_comm(N) = 2(N−1)/N · S/BW + 2(N−1)·α + 3·⌈log2 N⌉·α")
    out.append("    t_step(N, B) = c·B/N + t_comm(N),   efficiency E = (c·B/N) / t_step")
    out.append("    E ≥ 0.8  ⇔  B ≥ 4·N·t_comm(N) / c")
    out.append("")
    out.append(f"c = measured 1-process, 1-thread time per step / global batch; α = {fmt_us(measured_alpha)} "
               f"(the measured {fmt_bytes(small)} MPI_Allreduce over TCP loopback, a lower bound for a real network) "
               f"and, in brackets, α = {fmt_us(ASSUMED_LATENCY_S)} (assumed for Ethernet).")
    out.append("")
    for w in WORKLOADS:
        one = cells.get((w, "kerascpp 1x1"))
        two = cells.get((w, "kerascpp 2x1"))
        if not one or not two:
            continue
        step1 = statistics.median(r["step_s"] for r in one)
        batch = one[0]["global_batch"]
        c = step1 / batch
        size = two[0]["allreduce_bytes_per_step"]
        out.append(f"{w}: S = {fmt_bytes(size)}, measured step at B = {batch}: {fmt_us(step1)}, "
                   f"c = {c * 1e6:.2f} µs per row.")
        out.append("")
        out.append("| N | " + " | ".join(f"{g} Gbit/s: t_comm, E at B={batch}, B for E=80 %" for g in BANDWIDTHS_GBIT)
                   + " |")
        out.append("|---|" + "---|" * len(BANDWIDTHS_GBIT))
        for n in MACHINES:
            row = f"| {n} |"
            for g in BANDWIDTHS_GBIT:
                parts = []
                for alpha in (measured_alpha, ASSUMED_LATENCY_S):
                    bw = g * 1e9 / 8
                    t = 2 * (n - 1) / n * size / bw + 2 * (n - 1) * alpha + 3 * math.ceil(math.log2(n)) * alpha
                    e = (c * batch / n) / (c * batch / n + t)
                    b80 = 4 * n * t / c
                    parts.append((t, e, b80))
                (t, e, b), (ta, ea, ba) = parts
                row += (f" {fmt_us(t)} ({fmt_us(ta)}), {100 * e:.0f} % ({100 * ea:.0f} %), "
                        f"{b:,.0f} ({ba:,.0f}) |")
            out.append(row)
        out.append("")
    return out


def machine_info(python):
    info = {"kind": "machine", "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "kernel": platform.release()}
    try:
        lscpu = subprocess.run(["lscpu"], text=True, capture_output=True).stdout
        for line in lscpu.splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("Model name", "CPU(s)"):
                info["cpu_model" if key.strip() == "Model name" else "cpus"] = value.strip()
        info["mpi"] = subprocess.run(["mpirun", "--version"], text=True, capture_output=True).stdout.splitlines()[0]
        info["torch"] = subprocess.run([python, "-c", "import torch; print(torch.__version__)"], text=True,
                                       capture_output=True).stdout.strip()
    except (OSError, IndexError):
        pass
    return info


def main():
    args = parse_args()
    if args.from_raw:
        with open(args.from_raw) as f:
            print(render([json.loads(l) for l in f if l.strip()]), end="")
        return
    if not args.no_build:
        build()
    os.makedirs(args.out_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    raw_path = os.path.join(args.out_dir, f"distributed-{stamp}.jsonl")
    with open(raw_path, "w") as raw:
        info = machine_info(args.python)
        raw.write(json.dumps(info) + "\n")
        measure(args, raw)
    with open(raw_path) as f:
        table = render([json.loads(l) for l in f if l.strip()])
    with open(raw_path[:-len(".jsonl")] + ".md", "w") as f:
        f.write(table)
    print(table, end="")
    log(f"raw results: {raw_path}")


if __name__ == "__main__":
    main()
