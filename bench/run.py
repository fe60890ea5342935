#!/usr/bin/env python3
"""kerascpp vs PyTorch on the CPU: build, measure, tabulate.

    python3 bench/run.py [--quick] [--workloads W1,W3] [--threads 1,2] [--repeats 3]
                         [--impls kerascpp,kerascpp-blas,pytorch-tuned,pytorch-plain]

1. Configures and builds the C++ programs with CMake (preset `bench`, Release, -march=native).
2. Measures this machine's Eigen sgemm rate (`gemm_rate`, 1 and 2 threads).
3. Times the compile of one translation unit that uses the library (full runs only).
4. For every workload x thread count runs kerascpp, kerascpp-blas, PyTorch "tuned" and PyTorch
   "plain" (or the --impls chosen), interleaved (the order rotates each repetition), each in its own
   process, --repeats times.
5. Prints a Markdown table and writes it, with the raw JSON lines, to bench/results/.

"kerascpp" is kerascpp_bench with Eigen's own products. "kerascpp-blas" is the same program built
with EIGEN_USE_BLAS against OpenBLAS (kerascpp_bench_blas; skipped with a message when CMake finds
no OpenBLAS), run with Debian's pthread build of OpenBLAS (libopenblas0-pthread, through
LD_LIBRARY_PATH) and OpenBLAS's own threads set by the program: 1 wherever kerascpp shares a batch
between its threads, the thread count for models with BatchNormalization (whole-batch products).

PyTorch runs under /usr/bin/python3 (Debian's python3-torch); override with --python.
"plain" is the default environment (glibc malloc defaults, the system libblas.so.3, i.e. pthread
OpenBLAS). "tuned" adds MALLOC_MMAP_THRESHOLD_=MALLOC_TRIM_THRESHOLD_=1000000000 and the OpenMP
build of OpenBLAS through LD_LIBRARY_PATH (Debian libopenblas0-openmp). For the PyTorch child
processes and the kerascpp-blas processes only, OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed
so that OpenBLAS picks its kernels for this CPU; each of these runs reports the core it used. The
environment of this script and of the kerascpp processes is left as it is.
"""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "bench")
OPENBLAS_OPENMP_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
OPENBLAS_PTHREAD_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"
MALLOC_ENV = {"MALLOC_MMAP_THRESHOLD_": "1000000000", "MALLOC_TRIM_THRESHOLD_": "1000000000"}
THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
ALL_WORKLOADS = ("W1", "W2", "W3", "W4")
IMPLS = ("kerascpp", "kerascpp-blas", "pytorch-tuned", "pytorch-plain")
KERASCPP_IMPLS = ("kerascpp", "kerascpp-blas")  # the ones built from kerascpp_bench.cpp

# (measured epochs per block, warm-up epochs, blocks) for both implementations.
EPOCHS_FULL = {"W1": (20, 2, 1), "W2": (10, 2, 1), "W3": (1000, 200, 5), "W4": (4, 1, 1)}
EPOCHS_QUICK = {"W1": (5, 1, 1), "W2": (3, 1, 1), "W3": (300, 50, 3), "W4": (2, 1, 1)}

DESCRIPTION = {
    "W1": "wine: 1119x11, Dense 512/512/512 relu -> 1, Adam, MAE, batch 256, val 480",
    "W2": "wine-regularized: W1 with 1024 units + Dropout(0.3) + BatchNorm per hidden layer",
    "W3": "ionosphere: 246x33, Dense 4/4 relu -> 1 sigmoid, Adam, BCE, batch 512, val 105",
    "W4": "MNIST-sized: 60000x784, Dense 256/128 relu -> 10 softmax, Adam, categorical CE, batch 128",
}

COMPILE_PROBE = """\
#include <kerascpp/kerascpp.hpp>

int main() {
  namespace L = kerascpp::layers;
  kerascpp::Sequential<float> model(L::Dense<float>(512, "relu", kerascpp::input_shape{11}),
                                    L::Dense<float>(512, "relu"), L::Dense<float>(1));
  model.compile(kerascpp::optimizers::Adam<float>(1e-3), "mae");
  const kerascpp::Matrix<float> x = kerascpp::Matrix<float>::Random(64, 11);
  const kerascpp::Matrix<float> y = kerascpp::Matrix<float>::Random(64, 1);
  const auto history = model.fit(x, y, {.batch_size = 32, .epochs = 2, .verbose = 0});
  return history.epochs() == 2 ? 0 : 1;
}
"""


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer epochs, one repetition, no compile-time probe")
    ap.add_argument("--workloads", default=",".join(ALL_WORKLOADS))
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--impls", default=",".join(IMPLS), help=f"comma list of implementations to run ({','.join(IMPLS)})")
    ap.add_argument("--repeats", type=int, default=None, help="processes per configuration (default 3, quick 1)")
    ap.add_argument("--python", default="/usr/bin/python3", help="interpreter that has torch")
    ap.add_argument("--no-build", action="store_true", help="use the programs already in build/bench")
    ap.add_argument("--no-compile-time", action="store_true", help="skip timing the compile of one TU")
    ap.add_argument("--out-dir", default=os.path.join(HERE, "results"))
    ap.add_argument("--from-raw", metavar="JSONL", help="measure nothing: render the table of an earlier run's raw file")
    ap.add_argument("--quiet-below", type=float, default=1.0,
                    help="before each run wait (up to --max-wait) until other processes keep less than this "
                         "fraction of all CPUs busy, e.g. 0.3; the default 1 never waits but still records it")
    ap.add_argument("--max-wait", type=float, default=20, help="longest wait for a quiet machine per run, seconds")
    ap.add_argument("--timeout", type=float, default=900, help="per-process timeout, seconds")
    ap.add_argument("--time-budget", type=float, default=None,
                    help="each process stops measuring after this many seconds of epochs, once it has three "
                         "(default 30, quick 8); bounds the run on a machine busy with other work")

    a = ap.parse_args()
    a.workloads = [w.strip().upper() for w in a.workloads.split(",") if w.strip()]
    a.threads = [int(t) for t in a.threads.split(",") if t.strip()]
    bad = [w for w in a.workloads if w not in ALL_WORKLOADS]
    if bad or not a.workloads:
        ap.error(f"unknown workloads {bad}; choose from {','.join(ALL_WORKLOADS)}")
    a.impls = [i.strip().lower() for i in a.impls.split(",") if i.strip()]
    bad = [i for i in a.impls if i not in IMPLS]
    if bad or not a.impls:
        ap.error(f"unknown implementations {bad}; choose from {','.join(IMPLS)}")
    a.impls = [i for i in IMPLS if i in a.impls]
    if not a.threads or min(a.threads) < 1:
        ap.error("--threads needs positive integers")
    if a.repeats is None:
        a.repeats = 1 if a.quick else 3
    if a.time_budget is None:
        a.time_budget = 8.0 if a.quick else 30.0
    return a


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_busy(seconds=0.3):
    """Fraction of all CPUs busy over a short interval (while none of our programs runs, this is
    what the rest of the machine uses)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 0.0 if t1 == t0 else 1.0 - (i1 - i0) / (t1 - t0)


def wait_for_quiet(limit, max_wait):
    """Waits (at most max_wait seconds) until other processes keep less than `limit` of the CPUs busy;
    returns the last busy fraction seen."""
    busy, waited = cpu_busy(), 0.0
    while limit is not None and busy > limit and waited < max_wait:
        time.sleep(2.0)
        waited += 2.3
        busy = cpu_busy()
    return busy


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def openblas_configured():
    """The OpenBLAS library CMake found for kerascpp_bench_blas ("" when none; bench/CMakeLists.txt
    records it in the cache)."""
    try:
        with open(os.path.join(BUILD, "CMakeCache.txt")) as f:
            m = re.search(r"^KERASCPP_BENCH_OPENBLAS:INTERNAL=(.*)$", f.read(), re.M)
    except OSError:
        return ""
    return m.group(1).strip() if m else ""


def skip_blas(args, why):
    if "kerascpp-blas" in args.impls:
        log(f"skipping kerascpp-blas: {why}")
        args.impls.remove("kerascpp-blas")


def build(args):
    # KERASCPP_USE_BLAS=OFF: "kerascpp" always measures Eigen's own products; the BLAS build is the
    # separate kerascpp_bench_blas.
    configure = ["cmake", "--preset", "bench", "-DKERASCPP_BUILD_EXAMPLES=OFF", "-DKERASCPP_BUILD_TESTS=OFF",
                 "-DKERASCPP_USE_BLAS=OFF", "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"]
    fallback = ["cmake", "-S", ROOT, "-B", BUILD, "-DCMAKE_BUILD_TYPE=Release", "-DKERASCPP_BUILD_BENCH=ON",
                "-DKERASCPP_BUILD_TESTS=OFF", "-DKERASCPP_BUILD_EXAMPLES=OFF", "-DKERASCPP_USE_BLAS=OFF",
                "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON"]
    log("configure: " + " ".join(configure))
    r = subprocess.run(configure, cwd=ROOT, text=True, capture_output=True)
    if r.returncode != 0:
        log("preset failed, configuring directly: " + " ".join(fallback))
        subprocess.run(fallback, cwd=ROOT, check=True, text=True, capture_output=True)
    many = any(t > 1 for t in args.threads)
    targets = ["gemm_rate"] + (["gemm_rate_omp"] if many else [])
    if "kerascpp" in args.impls:
        targets += ["kerascpp_bench"] + (["kerascpp_bench_omp"] if many else [])
    if "kerascpp-blas" in args.impls:
        if openblas_configured():
            log(f"kerascpp-blas: EIGEN_USE_BLAS with {openblas_configured()}")
            targets += ["kerascpp_bench_blas"] + (["kerascpp_bench_blas_omp"] if many else [])
        else:
            skip_blas(args, "CMake found no OpenBLAS (Debian: apt-get install libopenblas-dev), so "
                            "kerascpp_bench_blas is not built")
    cmd = ["cmake", "--build", BUILD, "-j2", "--target"] + targets
    log("build: " + " ".join(cmd))
    r = subprocess.run(cmd, cwd=ROOT, text=True, capture_output=True)
    if r.returncode != 0:
        sys.exit("build failed:\n" + r.stdout[-4000:] + r.stderr[-4000:])


def machine_info(python):
    info = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "kernel": platform.release()}
    try:
        lscpu = sh(["lscpu"])
        for key, name in (("Model name", "cpu_model"), ("CPU(s)", "cpus"), ("CPU family", "cpu_family"),
                          ("Model", "cpu_model_number"), ("Hypervisor vendor", "hypervisor")):
            m = re.search(rf"^{re.escape(key)}:\s*(.+)$", lscpu, re.M)
            if m:
                info[name] = m.group(1).strip()
        info["avx512"] = " avx512f" in lscpu
    except (OSError, subprocess.CalledProcessError):
        pass
    try:
        info["compiler"] = sh(["c++", "--version"]).splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        pass
    with open("/proc/meminfo") as f:
        info["mem_gib"] = round(int(f.readline().split()[1]) / 2**20, 1)
    info["python_for_torch"] = python
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT"):
        info[f"env_{var}"] = os.environ.get(var)
    return info


def base_env(for_torch):
    env = dict(os.environ)
    for k in THREAD_VARS + tuple(MALLOC_ENV):
        env.pop(k, None)
    if for_torch:
        env.pop("OPENBLAS_CORETYPE", None)
        env.pop("OPENBLAS_L2_SIZE", None)
    return env


def run_json(cmd, env, meta, raw, timeout=1800, quiet=None):
    busy = wait_for_quiet(*quiet) if quiet else None
    la0, t0 = loadavg(), time.time()
    try:
        p = subprocess.run(cmd, env=env, text=True, capture_output=True, timeout=timeout)
        lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
        ok = p.returncode == 0 and lines
        recs = [json.loads(l) for l in lines] if ok else [{"error": p.returncode, "stderr": p.stderr[-3000:]}]
    except subprocess.TimeoutExpired:
        recs = [{"error": "timeout", "timeout_s": timeout}]
    wall, la1 = time.time() - t0, loadavg()
    for rec in recs:
        rec.update(meta)
        rec.update({"cmd": " ".join(cmd), "process_wall_s": round(wall, 2), "loadavg_before": la0,
                    "loadavg_after": la1, "others_cpu_busy_before": None if busy is None else round(busy, 3)})
        raw.write(json.dumps(rec) + "\n")
    raw.flush()
    return recs


def gemm_probe(args, raw):
    rates = {}
    extra = ["--min-seconds", "0.02", "--reps", "3", "--big", "1024"] if args.quick else []
    for t in sorted(set(args.threads)):
        exe = os.path.join(BIN, "gemm_rate" if t == 1 else "gemm_rate_omp")
        log(f"gemm_rate: {t} thread(s)")
        quiet = (args.quiet_below, args.max_wait)
        for rec in run_json([exe, "--threads", str(t)] + extra, base_env(False), {"kind": "gemm"}, raw, quiet=quiet):
            if "error" in rec:
                log(f"  gemm_rate failed: {rec}")
            elif rec.get("probe") == "eigen_sgemm" and rec.get("role") == "big":
                rates[("big", t)] = rec
                log(f"  {rec['M']}^3: {rec['median_gflops']:.1f} GFLOP/s")
            elif rec.get("probe") == "eigen_sgemm_step":
                rates[(rec["workload"], t)] = rec
                log(f"  {rec['workload']} step GEMMs: {rec['step_gflops']:.1f} GFLOP/s")
            elif rec.get("probe") == "eigen_sgemm_step_split":
                rates[(rec["workload"], t, "split")] = rec
                log(f"  {rec['workload']} step GEMMs, batch split between threads: {rec['step_gflops']:.1f} GFLOP/s")
    return rates


def compile_time(raw):
    """Times the compile of examples/03_sgd_red_wine.cpp, or of a generated TU that fits a model,
    with the exact flags CMake uses for kerascpp_bench.cpp."""
    db_path = os.path.join(BUILD, "compile_commands.json")
    with open(db_path) as f:
        db = json.load(f)
    entry = next(e for e in db if e["file"].endswith("bench/kerascpp_bench.cpp")
                 and "/kerascpp_bench.dir/" in e["command"])
    example = os.path.join(ROOT, "examples", "03_sgd_red_wine.cpp")
    if os.path.exists(example):
        source, label = example, "examples/03_sgd_red_wine.cpp"
    else:
        source = os.path.join(BUILD, "compile_probe.cpp")
        with open(source, "w") as f:
            f.write(COMPILE_PROBE)
        label = "generated TU (kerascpp.hpp + Sequential<float> fit), build/bench/compile_probe.cpp"
    out = tempfile.NamedTemporaryFile(suffix=".o", delete=False).name
    command = entry["command"]
    command = re.sub(r"-o \S+", f"-o {out}", command)
    command = command.replace(entry["file"], source)
    command += f' -DKERASCPP_DATA_DIR=\\"{os.path.join(ROOT, "data")}\\"'
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    la0, t0 = loadavg(), time.time()
    p = subprocess.run(command, shell=True, cwd=entry["directory"], text=True, capture_output=True)
    wall = time.time() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    os.unlink(out)
    rec = {"kind": "compile_time", "source": label, "command": command, "returncode": p.returncode,
           "wall_s": round(wall, 2), "cpu_s": round((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), 2),
           "loadavg_before": la0, "loadavg_after": loadavg(), "stderr": p.stderr[-2000:]}
    raw.write(json.dumps(rec) + "\n")
    raw.flush()
    log(f"compile of {label}: {rec['wall_s']} s wall, {rec['cpu_s']} s CPU (rc={p.returncode})")
    return rec


def kerascpp_exe(impl, t):
    return ("kerascpp_bench" + ("_blas" if impl == "kerascpp-blas" else "")
            + ("_omp" if t > 1 else ""))


def impl_command(impl, w, t, epochs, args, first_rep):
    per_block, warmup, blocks = epochs
    common = ["--workload", w, "--threads", str(t), "--epochs", str(per_block), "--warmup", str(warmup),
              "--repeat-blocks", str(blocks), "--time-budget", str(args.time_budget)]
    if impl in KERASCPP_IMPLS:
        exe = os.path.join(BIN, kerascpp_exe(impl, t))
        cmd = [exe] + common + (["--gemm-replay", "--alloc-detail"] if first_rep else [])
        if impl == "kerascpp":
            return cmd, base_env(False)
        # OpenBLAS's own thread count is set by the program (openblas_threads_for in kerascpp_bench.cpp).
        env = base_env(True)
        if os.path.isdir(OPENBLAS_PTHREAD_DIR):
            env["LD_LIBRARY_PATH"] = OPENBLAS_PTHREAD_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        return cmd, env
    env = base_env(True)
    if impl == "pytorch-tuned":
        env.update(MALLOC_ENV)
        if os.path.isdir(OPENBLAS_OPENMP_DIR):
            env["LD_LIBRARY_PATH"] = OPENBLAS_OPENMP_DIR + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
    return [args.python, os.path.join(HERE, "torch_bench.py")] + common, env


def fmt_time(seconds, w):
    if seconds is None:
        return "n/a"
    return f"{seconds * 1e6:.1f} µs" if w == "W3" else f"{seconds * 1e3:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def fmt_mb(kb):
    return "n/a" if kb is None else f"{kb / 1024:.0f} MB"


def summarize(results, rates, workloads, threads):
    """Per (workload, threads, impl): median over processes of the per-process medians."""
    summary = {}
    for w in workloads:
        for t in threads:
            for impl in IMPLS:
                recs = [r for r in results if r.get("workload") == w and r.get("threads") == t
                        and r.get("config") == impl and "median" in r]
                if not recs:
                    continue
                meds = [r["median"] for r in recs]
                # Runs that also replayed the GEMMs measured RSS before the replay only from 2026-11-27 on;
                # prefer the runs without a replay when there are any.
                plain = [r for r in recs if "gemm_replay_s" not in r] or recs
                s = {"median": statistics.median(meds), "min": min(meds), "max": max(meds), "n": len(meds),
                     "maxrss_kb": max(r["maxrss_kb"] for r in plain)}
                s["measured_epochs"] = min(r.get("measured_epochs", 0) for r in recs)
                s["stopped_by_budget"] = sum(1 for r in recs if r.get("stopped_by_budget"))
                busy = [r["others_cpu_busy_before"] for r in recs if r.get("others_cpu_busy_before") is not None]
                if busy:
                    s["others_busy"] = max(busy)
                if impl in KERASCPP_IMPLS:
                    flops = recs[0]["gemm_gflop_per_epoch"] * 1e9
                    s["gflops"] = flops / s["median"] / 1e9
                    replay = [r["gemm_replay_s"] for r in recs if "gemm_replay_s" in r]
                    if replay:
                        s["pct_replay"] = 100 * statistics.median(replay) / s["median"]
                    # gemm_rate measures Eigen's own products, the yardstick of the Eigen build only.
                    ref = step_rate(rates, w, t) if impl == "kerascpp" else None
                    if ref:
                        s["pct_step_rate"] = 100 * s["gflops"] / ref
                    big = rates.get(("big", t)) if impl == "kerascpp" else None
                    if big:
                        s["pct_big"] = 100 * s["gflops"] / big["median_gflops"]
                    s["allocs_per_epoch"] = statistics.median(r["allocs_per_epoch_median"] for r in recs)
                    s["allocs_first_epoch"] = recs[0]["allocs_first_epoch"]
                    s["steps"] = recs[0]["steps_per_epoch"]
                    inside = [r["allocs_per_batch_inside_step"] for r in recs if "allocs_per_batch_inside_step" in r]
                    if inside:
                        s["allocs_per_batch_inside_step"] = inside[0]
                    if impl == "kerascpp-blas":
                        s["openblas_core"] = sorted({str(r.get("openblas_core")) for r in recs})
                        s["openblas_config"] = recs[0].get("openblas_config")
                        s["openblas_threads"] = sorted({r.get("openblas_threads") for r in recs})
                else:
                    s["openblas_core"] = sorted({str(r.get("openblas_core")) for r in recs})
                    s["openblas_config"] = recs[0].get("openblas_config")
                    s["torch"] = recs[0].get("torch")
                summary[(w, t, impl)] = s
    return summary


def step_rate(rates, w, t):
    """The best GEMM rate gemm_rate measured for one training step of w on t threads: Eigen's own
    multi-threaded products, or the batch split between threads (single-threaded products)."""
    cands = [rates[k]["step_gflops"] for k in ((w, t), (w, t, "split")) if k in rates]
    return max(cands) if cands else None


def pct(v):
    return "n/a" if v is None else f"{v:.0f}%"


LABEL = {"kerascpp": "kerascpp", "kerascpp-blas": "kerascpp-blas", "pytorch-tuned": "PyTorch tuned",
         "pytorch-plain": "PyTorch plain"}
SHORT = {"kerascpp": "kerascpp", "kerascpp-blas": "blas", "pytorch-tuned": "tuned", "pytorch-plain": "plain"}


def table_columns(present):
    """(header, cell function) of every column of the main table for the implementations present."""
    mine = [i for i in KERASCPP_IMPLS if i in present]
    torch = [i for i in ("pytorch-tuned", "pytorch-plain") if i in present]

    def ratio(a, b):
        return f"{a['median'] / b['median']:.2f}×" if a and b else "n/a"

    cols = [(LABEL[i], lambda c, w, i=i: fmt_time(c[i] and c[i]["median"], w)) for i in present]
    cols += [(f"{i} / {SHORT[ref]}", lambda c, w, i=i, ref=ref: ratio(c[i], c[ref])) for ref in torch for i in mine]
    if len(mine) == 2:
        cols.append(("kerascpp-blas / kerascpp", lambda c, w: ratio(c["kerascpp-blas"], c["kerascpp"])))
    cols += [(f"RSS {SHORT[i]}", lambda c, w, i=i: fmt_mb(c[i] and c[i]["maxrss_kb"])) for i in present]
    cols += [(f"{i} GFLOP/s", lambda c, w, i=i: f"{c[i]['gflops']:.1f}" if c[i] else "n/a") for i in mine]
    cols += [(f"{i} % of GEMM-only replay", lambda c, w, i=i: pct(c[i] and c[i].get("pct_replay"))) for i in mine]
    if "kerascpp" in mine:
        cols.append(("kerascpp % of gemm_rate at these shapes",
                     lambda c, w: pct(c["kerascpp"] and c["kerascpp"].get("pct_step_rate"))))
    return cols


def render(summary, rates, info, compile_rec, args, workloads, threads, raw_name, results):
    out = []
    out.append(f"Measured {info['date']} on {info.get('cpu_model', '?')} (family {info.get('cpu_family', '?')} "
               f"model {info.get('cpu_model_number', '?')}), {info.get('cpus', '?')} CPUs, {info.get('mem_gib')} GiB, "
               f"kernel {info['kernel']}; {info.get('compiler', '?')}.")
    k = next((r for r in summary.values() if "gflops" in r), None)
    torch_rec = next((r for r in summary.values() if "torch" in r), None)
    kc_rec = next((r for r in results if r.get("config", "kerascpp") == "kerascpp" and r.get("impl") == "kerascpp"
                   and "eigen" in r), None)
    if kc_rec:
        out.append(f"kerascpp built by {kc_rec['compiler']} with Eigen {kc_rec['eigen']}, {kc_rec['simd']} "
                   f"(-O3 -march=native), EIGEN_USE_BLAS {'on' if kc_rec.get('eigen_use_blas') else 'off'}.")
    blas_rec = next((r for r in results if r.get("config") == "kerascpp-blas" and "openblas_config" in r), None)
    if blas_rec:
        threads_used = sorted({(r["threads"], r["workload"], r.get("openblas_threads")) for r in results
                               if r.get("config") == "kerascpp-blas" and "openblas_threads" in r})
        out.append(f"kerascpp-blas: the same program with EIGEN_USE_BLAS, linked to {blas_rec['openblas_config']} "
                   f"(core {blas_rec['openblas_core']}); OpenBLAS's own threads: "
                   + ", ".join(f"{w} {t}T {n}" for t, w, n in threads_used) + ".")
    if torch_rec:
        out.append(f"PyTorch {torch_rec['torch']}; OpenBLAS: {torch_rec.get('openblas_config')}.")
    out.append(f"Mode: {'quick' if args.quick else 'full'}, {args.repeats} process(es) per cell, interleaved; "
               f"raw data `{raw_name}`.")
    out.append("")
    columns = table_columns([i for i in IMPLS if any(key[2] == i for key in summary)])
    out.append("| workload | threads | " + " | ".join(h for h, _ in columns) + " |")
    out.append("|---|---|" + "---|" * len(columns))
    for w in workloads:
        for t in threads:
            cells = {i: summary.get((w, t, i)) for i in IMPLS}
            if any(cells.values()):
                out.append(f"| {w} | {t} | " + " | ".join(f(cells, w) for _, f in columns) + " |")
    out.append("")
    out.append("Spread (min..max of the per-process medians):")
    out.append("")
    for (w, t, impl), s in sorted(summary.items()):
        out.append(f"* {w} {t}T {impl}: {fmt_time(s['min'], w)} .. {fmt_time(s['max'], w)} (n={s['n']})"
                   + (f", OpenBLAS core {'/'.join(s['openblas_core'])}" if "openblas_core" in s else "")
                   + (f" on {'/'.join(map(str, s['openblas_threads']))} OpenBLAS thread(s)" if "openblas_threads" in s else "")
                   + (f"; {s['stopped_by_budget']} process(es) stopped by the time budget after "
                      f"{s['measured_epochs']} epochs" if s.get("stopped_by_budget") else "")
                   + (f"; other processes kept up to {100 * s['others_busy']:.0f}% of the CPUs busy just before"
                      if "others_busy" in s else ""))
    out.append("")
    out.append("Eigen sgemm rate measured by `gemm_rate` (GFLOP/s, median; a step = all products of one "
               "training step at the full batch; with 2 threads: Eigen's multi-threaded products / the batch "
               "split between threads):")
    out.append("")
    out.append("| threads | big square | " + " | ".join(f"{w} step" for w in ALL_WORKLOADS) + " |")
    out.append("|---|---|" + "---|" * len(ALL_WORKLOADS))
    for t in threads:
        big = rates.get(("big", t))
        cells = []
        for w in ALL_WORKLOADS:
            parts = [f"{rates[k]['step_gflops']:.1f}" for k in ((w, t), (w, t, "split")) if k in rates]
            cells.append(" / ".join(parts) or "n/a")
        out.append(f"| {t} | " + (f"{big['median_gflops']:.1f} ({big['M']}³)" if big else "n/a") + " | "
                   + " | ".join(cells) + " |")
    out.append("")
    out.append("kerascpp heap allocations (counted by the benchmark's malloc wrapper):")
    out.append("")
    for (w, t, impl), s in sorted(summary.items()):
        if impl in KERASCPP_IMPLS:
            inside = s.get("allocs_per_batch_inside_step")
            out.append(f"* {w} {t}T {impl}: first epoch {s['allocs_first_epoch']:.0f}, then {s['allocs_per_epoch']:.0f} per "
                       f"epoch ({s['steps']} batches)"
                       + (f"; {inside:.2f} per batch inside the training step" if inside is not None else ""))
    out.append("")
    out.append("Targets:")
    out.append("")
    out.extend(targets(summary, compile_rec, workloads, threads))
    return "\n".join(out) + "\n"


def targets(summary, compile_rec, workloads, threads):
    """The project's targets, for kerascpp and, where it ran, kerascpp-blas."""
    lines = []

    def verdict(ok):
        return "**met**" if ok else "**not met**"

    for impl in KERASCPP_IMPLS:
        if not any(key[2] == impl for key in summary):
            continue
        lines.append(f"{impl}:")
        lines.append("")
        for w in ("W1", "W2"):
            for t in threads:
                kc, tu = summary.get((w, t, impl)), summary.get((w, t, "pytorch-tuned"))
                if kc and tu:
                    r = kc["median"] / tu["median"]
                    lines.append(f"* {w} {t}T ≤ 0.75× PyTorch tuned: {r:.2f}× — {verdict(r <= 0.75)}")
        for t in threads:
            kc = summary.get(("W3", t, impl))
            torch_meds = [summary[("W3", t, c)]["median"] for c in ("pytorch-tuned", "pytorch-plain")
                          if ("W3", t, c) in summary]
            if kc and torch_meds:
                r = min(torch_meds) / kc["median"]
                lines.append(f"* W3 {t}T ≥ 30× faster than PyTorch (its faster config): {r:.1f}× — {verdict(r >= 30)}")
        for t in threads:
            kc, tu = summary.get(("W4", t, impl)), summary.get(("W4", t, "pytorch-tuned"))
            if kc and tu:
                r = kc["median"] / tu["median"]
                lines.append(f"* W4 {t}T ≤ 0.7× PyTorch tuned: {r:.2f}× — {verdict(r <= 0.7)}")
            if kc and kc.get("pct_replay") is not None:
                p = kc["pct_replay"]
                others = [f"{kc['pct_step_rate']:.0f}% of gemm_rate's W4 step rate" if "pct_step_rate" in kc else None,
                          f"{kc['pct_big']:.0f}% of its big-square rate" if "pct_big" in kc else None]
                others = [o for o in others if o]
                lines.append(f"* W4 {t}T ≥ 70% of the measured GEMM rate (the same epoch's GEMMs replayed alone, "
                             f"same process, {t}T): {p:.0f}% — {verdict(p >= 70)}"
                             + (f" ({'; '.join(others)}, measured at the start of the run)" if others else ""))
        for w in workloads:
            for t in threads:
                kc = summary.get((w, t, impl))
                torch_rss = [summary[(w, t, c)]["maxrss_kb"] for c in ("pytorch-tuned", "pytorch-plain")
                             if (w, t, c) in summary]
                if kc and torch_rss:
                    r = kc["maxrss_kb"] / min(torch_rss)
                    lines.append(f"* {w} {t}T peak RSS ≤ half of PyTorch's: {r:.2f}× — {verdict(r <= 0.5)}")
        k1, k2 = summary.get(("W4", 1, impl)), summary.get(("W4", 2, impl))
        if k1 and k2:
            r = k1["median"] / k2["median"]
            lines.append(f"* W4 2 threads ≥ 1.6× faster than 1 thread: {r:.2f}× — {verdict(r >= 1.6)}")
        lines.append("")
    if compile_rec and compile_rec.get("returncode") == 0:
        lines.append(f"* one translation unit compiles in < 20 s: {compile_rec['wall_s']} s wall, "
                     f"{compile_rec['cpu_s']} s CPU ({compile_rec['source']}) — {verdict(compile_rec['wall_s'] < 20)}")
    elif compile_rec:
        lines.append(f"* compile-time probe failed (rc={compile_rec.get('returncode')})")
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def rerender(args):
    """Rebuilds the Markdown of an earlier run from its raw JSON lines."""
    with open(args.from_raw) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    info = next((r for r in recs if r.get("kind") == "machine"), {"date": "?", "kernel": "?"})
    rates = {}
    for r in recs:
        if r.get("probe") == "eigen_sgemm" and r.get("role") == "big":
            rates[("big", r["threads"])] = r
        elif r.get("probe") == "eigen_sgemm_step":
            rates[(r["workload"], r["threads"])] = r
        elif r.get("probe") == "eigen_sgemm_step_split":
            rates[(r["workload"], r["threads"], "split")] = r
    compile_rec = next((r for r in recs if r.get("kind") == "compile_time"), None)
    results = [r for r in recs if r.get("kind") == "run"]
    workloads = [w for w in ALL_WORKLOADS if any(r.get("workload") == w for r in results)]
    threads = sorted({r["threads"] for r in results})
    args.repeats = max(r.get("rep", 0) for r in results) + 1 if results else 0
    args.quick = args.from_raw.endswith("-quick.jsonl")
    summary = summarize(results, rates, workloads, threads)
    text = render(summary, rates, info, compile_rec, args, workloads, threads, os.path.relpath(args.from_raw, ROOT),
                  results)
    end = next((r for r in recs if r.get("kind") == "run_end"), None)
    return text + (f"\nTotal wall time of this run: {end['wall_s']:.0f} s.\n" if end else "")


def main():
    args = parse_args()
    if args.from_raw:
        text = rerender(args)
        md_path = os.path.splitext(args.from_raw)[0] + ".md"
        with open(md_path, "w") as f:
            f.write(text)
        print(text)
        log(f"wrote {os.path.relpath(md_path, ROOT)}")
        return
    if not shutil.which("cmake"):
        sys.exit("cmake not found")
    os.makedirs(args.out_dir, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    raw_path = os.path.join(args.out_dir, f"run-{stamp}.jsonl")
    md_path = os.path.join(args.out_dir, f"run-{stamp}.md")
    started = time.time()
    if not args.no_build:
        build(args)
    elif "kerascpp-blas" in args.impls:
        missing = [kerascpp_exe("kerascpp-blas", t) for t in args.threads
                   if not os.path.exists(os.path.join(BIN, kerascpp_exe("kerascpp-blas", t)))]
        if missing:
            skip_blas(args, f"--no-build and {', '.join(missing)} not in {os.path.relpath(BIN, ROOT)}")
    if not args.impls:
        sys.exit("nothing to run")
    if not os.path.isdir(OPENBLAS_OPENMP_DIR):
        log(f"warning: {OPENBLAS_OPENMP_DIR} missing (apt-get install libopenblas0-openmp); "
            "'tuned' then uses the default OpenBLAS")
    info = machine_info(args.python)
    epochs = EPOCHS_QUICK if args.quick else EPOCHS_FULL
    results = []
    with open(raw_path, "w") as raw:
        raw.write(json.dumps(dict(info, kind="machine")) + "\n")
        rates = gemm_probe(args, raw)
        compile_rec = None
        if not args.quick and not args.no_compile_time:
            compile_rec = compile_time(raw)
        for rep in range(args.repeats):
            for w in args.workloads:
                for t in args.threads:
                    impls = args.impls
                    order = impls[rep % len(impls):] + impls[:rep % len(impls)]
                    for impl in order:
                        cmd, env = impl_command(impl, w, t, epochs[w], args, rep == 0)
                        meta = {"kind": "run", "config": impl, "rep": rep}
                        quiet = (args.quiet_below, args.max_wait)
                        for rec in run_json(cmd, env, meta, raw, timeout=args.timeout, quiet=quiet):
                            rec.setdefault("workload", w)
                            rec.setdefault("threads", t)
                            results.append(rec)
                            if "error" in rec:
                                log(f"[{rep + 1}/{args.repeats}] {w} {t}T {impl}: FAILED {rec}")
                            else:
                                extra = (f", {rec.get('gflops', 0):.1f} GFLOP/s" if impl in KERASCPP_IMPLS else "")
                                if "openblas_core" in rec:
                                    extra += f", core {rec['openblas_core']}"
                                if "openblas_threads" in rec:
                                    extra += f", {rec['openblas_threads']} OpenBLAS thread(s)"
                                busy = rec.get("others_cpu_busy_before")
                                log(f"[{rep + 1}/{args.repeats}] {w} {t}T {impl}: {fmt_time(rec['median'], w)}, "
                                    f"RSS {fmt_mb(rec['maxrss_kb'])}{extra}, load {rec['loadavg_before']:.1f}"
                                    + ("" if busy is None else f", others busy {100 * busy:.0f}%"))
        raw.write(json.dumps({"kind": "run_end", "wall_s": round(time.time() - started, 1)}) + "\n")
    summary = summarize(results, rates, args.workloads, args.threads)
    text = render(summary, rates, info, compile_rec, args, args.workloads, args.threads,
                  os.path.relpath(raw_path, ROOT), results)
    text += f"\nTotal wall time of this run: {time.time() - started:.0f} s.\n"
    with open(md_path, "w") as f:
        f.write(text)
    print(text)
    log(f"wrote {os.path.relpath(md_path, ROOT)} and {os.path.relpath(raw_path, ROOT)}")


if __name__ == "__main__":
    main()
