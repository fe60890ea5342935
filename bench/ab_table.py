#!/usr/bin/env python3
"""Pools several run.py results of two builds and prints the before/after table of the engine A/B.

    python3 bench/ab_table.py --before results/*-before*.jsonl --after results/*-after*.jsonl

For each workload and thread count: the median over all processes of each side for kerascpp and
PyTorch tuned, their ratio on each side, the change of that ratio, and kerascpp's spread.
"""
import argparse
import collections
import json
import statistics


def load(paths):
    cells = collections.defaultdict(list)
    for path in paths:
        with open(path) as f:
            for line in f:
                r = json.loads(line)
                if r.get("kind") == "run":
                    cells[(r["workload"], r["threads"], r["impl"])].append(r["median"])
    return cells


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", nargs="+", required=True)
    p.add_argument("--after", nargs="+", required=True)
    a = p.parse_args()
    before, after = load(a.before), load(a.after)
    print("| workload | threads | before: kerascpp / tuned | after: kerascpp / tuned | change of the ratio | kerascpp spread before → after | processes |")
    print("|---|---|---|---|---|---|---|")
    for w in ["W1", "W2", "W3", "W4"]:
        for t in [1, 2]:
            kb, pb = before[(w, t, "kerascpp")], before[(w, t, "pytorch")]
            ka, pa = after[(w, t, "kerascpp")], after[(w, t, "pytorch")]
            if not (kb and pb and ka and pa):
                continue
            scale, unit = (1e6, "µs") if w == "W3" else (1e3, "ms")
            rb = statistics.median(kb) / statistics.median(pb)
            ra = statistics.median(ka) / statistics.median(pa)
            print(f"| {w} | {t} | {statistics.median(kb) * scale:.1f} / {statistics.median(pb) * scale:.1f} {unit} = {rb:.3f}× "
                  f"| {statistics.median(ka) * scale:.1f} / {statistics.median(pa) * scale:.1f} {unit} = {ra:.3f}× "
                  f"| {100 * (ra / rb - 1):+.1f}% | {min(kb) * scale:.1f}–{max(kb) * scale:.1f} → {min(ka) * scale:.1f}–{max(ka) * scale:.1f} "
                  f"| {len(kb)}, {len(ka)} |")


if __name__ == "__main__":
    main()
