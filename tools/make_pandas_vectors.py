#!/usr/bin/env python3
"""Write the pandas reference vectors that kerascpp::data must reproduce.

kerascpp's ``DataFrame::sample(frac, random_state)`` promises to choose exactly
the rows that pandas chooses for ``DataFrame.sample(frac=frac,
random_state=random_state)``. pandas computes the sample size as
``round(frac * len(df))`` (Python's round: halves go to the even neighbour) and
draws the positions with
``numpy.random.RandomState(random_state).choice(len(df), size=n, replace=False)``,
which legacy numpy implements as ``permutation(len(df))[:n]``: a Fisher-Yates
shuffle of ``arange(len(df))`` driven by MT19937 (seeded with init_genrand for
an integer seed, init_by_array for an array seed) and ``random_interval``
(masked rejection sampling).

Before writing anything the script re-implements that algorithm in plain
Python and stops with an error unless it agrees with the installed numpy and
pandas on every case, so the file only ever holds vectors whose algorithm is
understood.

The output, ``tests/data/pandas_vectors.txt``, is plain text; the header names
the Python, pandas and numpy versions. Lines:

    raw <seed> : <k>=<u32> ...          MT19937 outputs number k after seeding
    raw [a,b,c] : <k>=<u32> ...         the same for an array seed
    sample <rows> <frac> <seed> <n> : <labels...>
                                        df.sample(frac, random_state=seed).index
                                        of a frame with the default index
    sample [a,b,c] ...                  the same with an array seed
    sequential <rows> <frac> <seed> <draws> : <labels...> | <labels...>
                                        repeated samples sharing one RandomState
    course <name> <key> : <values...>   results of the Kaggle "Intro to Deep
                                        Learning" preprocessing (see below)

Run it with Debian's python3 and python3-pandas (name /usr/bin/python3 when another python3 comes
first on PATH):

    python3 tools/make_pandas_vectors.py
"""

import os
import platform
import sys

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUTPUT = os.path.join(ROOT, "tests", "data", "pandas_vectors.txt")
MASK32 = 0xFFFFFFFF


class ReferenceMT19937:
    """MT19937 with numpy's legacy seeding and legacy shuffle, in plain Python."""

    def __init__(self, seed):
        self.state = [0] * 624
        if isinstance(seed, list):
            self._init_by_array(seed)
        else:
            self._init_genrand(seed)

    def _init_genrand(self, seed):
        mt = self.state
        mt[0] = seed & MASK32
        for i in range(1, 624):
            mt[i] = (1812433253 * (mt[i - 1] ^ (mt[i - 1] >> 30)) + i) & MASK32
        self.pos = 624

    def _init_by_array(self, key):
        self._init_genrand(19650218)
        mt = self.state
        i, j = 1, 0
        for _ in range(max(624, len(key))):
            mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1664525)) + key[j] + j) & MASK32
            i, j = i + 1, j + 1
            if i >= 624:
                mt[0], i = mt[623], 1
            if j >= len(key):
                j = 0
        for _ in range(623):
            mt[i] = ((mt[i] ^ ((mt[i - 1] ^ (mt[i - 1] >> 30)) * 1566083941)) - i) & MASK32
            i += 1
            if i >= 624:
                mt[0], i = mt[623], 1
        mt[0] = 0x80000000
        self.pos = 624

    def next_uint32(self):
        mt = self.state
        if self.pos >= 624:
            for k in range(624):
                y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7FFFFFFF)
                mt[k] = mt[(k + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.pos = 0
        y = mt[self.pos]
        self.pos += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y

    def random_interval(self, maximum):
        if maximum == 0:
            return 0
        mask = maximum
        for shift in (1, 2, 4, 8, 16, 32):
            mask |= mask >> shift
        while True:
            if maximum <= MASK32:
                value = self.next_uint32() & mask
            else:
                value = ((self.next_uint32() << 32) | self.next_uint32()) & mask
            if value <= maximum:
                return value

    def permutation(self, n):
        values = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.random_interval(i)
            values[i], values[j] = values[j], values[i]
        return values


def seed_text(seed):
    return "[" + ",".join(str(k) for k in seed) + "]" if isinstance(seed, list) else str(seed)


def numpy_seed(seed):
    return np.array(seed, dtype=np.int64) if isinstance(seed, list) else seed


def check(condition, what):
    if not condition:
        sys.exit(f"make_pandas_vectors.py: the reference implementation disagrees with numpy/pandas: {what}")


RAW_SEEDS = [0, 5489, 4294967295, [1, 2, 3], [4294967295, 0]]
RAW_POSITIONS = [0, 1, 2, 3, 4, 622, 623, 624, 625, 1247, 1248, 1249]

SAMPLE_CASES = [
    (1599, 0.7, 0),
    (351, 0.7, 0),
    (77, 0.7, 0),
    (10, 0.5, 42),
    (1000, 0.3, 12345),
    (5, 0.5, 7),  # 2.5 rounds to 2
    (7, 0.5, 1),  # 3.5 rounds to 4
    (20, 0.125, 3),  # 2.5 rounds to 2
    (28, 0.125, 3),  # 3.5 rounds to 4
    (10, 0.35, 0),  # 0.35 * 10 is exactly 3.5 in binary, rounds to 4
    (100, 0.285, 0),  # 0.285 * 100 is 28.499999999999996 in binary, rounds to 28
    (10, 0.45, 0),  # 4.5 rounds to 4
    (10, 1.0, 0),
    (10, 0.0, 0),
    (1, 1.0, 3),
    (100, 0.25, 4294967295),
    (100, 0.5, [1, 2, 3]),
]

SEQUENTIAL_CASES = [(20, 0.5, 0, 3)]


def raw_lines():
    lines = []
    for seed in RAW_SEEDS:
        numpy_raw = [int(v) for v in np.random.RandomState(numpy_seed(seed))._bit_generator.random_raw(1250)]
        reference = ReferenceMT19937(seed)
        check(numpy_raw == [reference.next_uint32() for _ in range(1250)], f"raw outputs for seed {seed}")
        values = " ".join(f"{k}={numpy_raw[k]}" for k in RAW_POSITIONS)
        lines.append(f"raw {seed_text(seed)} : {values}")
    return lines


def sample_lines():
    lines = []
    for rows, frac, seed in SAMPLE_CASES:
        frame = pd.DataFrame({"a": np.arange(rows)})
        labels = [int(v) for v in frame.sample(frac=frac, random_state=numpy_seed(seed)).index]
        n = round(frac * rows)
        check(len(labels) == n, f"size of sample({rows}, {frac}) is {len(labels)}, round gives {n}")
        check(labels == ReferenceMT19937(seed).permutation(rows)[:n], f"sample({rows}, {frac}, {seed})")
        lines.append(f"sample {rows} {frac!r} {seed_text(seed)} {n} : " + " ".join(map(str, labels)))
    for rows, frac, seed, draws in SEQUENTIAL_CASES:
        frame = pd.DataFrame({"a": np.arange(rows)})
        state = np.random.RandomState(seed)
        reference = ReferenceMT19937(seed)
        groups = []
        for _ in range(draws):
            labels = [int(v) for v in frame.sample(frac=frac, random_state=state).index]
            check(labels == reference.permutation(rows)[: len(labels)], f"sequential sample {len(groups)}")
            groups.append(" ".join(map(str, labels)))
        lines.append(f"sequential {rows} {frac!r} {seed} {draws} : " + " | ".join(groups))
    return lines


def number(value):
    return repr(float(value))


def course_lines():
    """The Kaggle course's preprocessing of red-wine.csv and ion.csv, exactly as the course writes it."""
    lines = []

    red_wine = pd.read_csv(os.path.join(ROOT, "data", "red-wine.csv"))
    df_train = red_wine.sample(frac=0.7, random_state=0)
    df_valid = red_wine.drop(df_train.index)
    max_ = df_train.max(axis=0)
    min_ = df_train.min(axis=0)
    df_train = (df_train - min_) / (max_ - min_)
    df_valid = (df_valid - min_) / (max_ - min_)
    x_train = df_train.drop("quality", axis=1)
    x_valid = df_valid.drop("quality", axis=1)
    y_train = df_train["quality"]
    lines.append(f"course wine shape : {len(x_train)} {x_train.shape[1]} {len(x_valid)}")
    lines.append("course wine valid_head : " + " ".join(str(v) for v in df_valid.index[:10]))
    lines.append("course wine min : " + " ".join(number(v) for v in min_))
    lines.append("course wine max : " + " ".join(number(v) for v in max_))
    lines.append("course wine x_train_row0 : " + " ".join(number(v) for v in x_train.iloc[0]))
    lines.append("course wine x_valid_row0 : " + " ".join(number(v) for v in x_valid.iloc[0]))
    lines.append(f"course wine sums : {number(x_train.values.sum())} {number(x_valid.values.sum())} "
                 f"{number(y_train.values.sum())}")

    ion = pd.read_csv(os.path.join(ROOT, "data", "ion.csv"), index_col=0)
    df = ion.copy()
    df["Class"] = df["Class"].map({"good": 0, "bad": 1})
    df_train = df.sample(frac=0.7, random_state=0)
    df_valid = df.drop(df_train.index)
    max_ = df_train.max(axis=0)
    min_ = df_train.min(axis=0)
    df_train = (df_train - min_) / (max_ - min_)
    df_valid = (df_valid - min_) / (max_ - min_)
    df_train.dropna(axis=1, inplace=True)
    df_valid.dropna(axis=1, inplace=True)
    x_train = df_train.drop("Class", axis=1)
    x_valid = df_valid.drop("Class", axis=1)
    y_train = df_train["Class"]
    lines.append(f"course ion shape : {len(x_train)} {x_train.shape[1]} {len(x_valid)}")
    lines.append("course ion columns : " + " ".join(x_train.columns))
    lines.append("course ion train_head : " + " ".join(str(v) for v in df_train.index[:10]))
    lines.append(f"course ion sums : {number(x_train.values.sum())} {number(x_valid.values.sum())} "
                 f"{number(y_train.values.sum())}")
    return lines


def main():
    body = raw_lines() + sample_lines() + course_lines()
    header = [
        "# pandas reference vectors for kerascpp::data (tests/test_data.cpp).",
        "# Written by tools/make_pandas_vectors.py; do not edit by hand, re-run the script.",
        f"# Python {platform.python_version()}, pandas {pd.__version__}, numpy {np.__version__}",
    ]
    with open(OUTPUT, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(header + body) + "\n")
    print(f"wrote {os.path.relpath(OUTPUT, ROOT)} ({len(body)} vectors)")


if __name__ == "__main__":
    main()
