#!/usr/bin/env python3
"""Write the scikit-learn reference values that tests/test_classification_metrics.cpp compares with.

Run it with Debian's python3, python3-numpy and python3-sklearn (scikit-learn 1.2; name
/usr/bin/python3 when another python3 comes first on PATH):

    /usr/bin/python3 tools/make_metrics_reference.py

Everything goes to tests/data/classification_metrics/:

    reference.txt     one line per list, "key|item|item|...":
                      binary_y, binary_p, binary_w       a binary problem: 0/1 labels, sigmoid-like
                                                         outputs, sample weights
                      multi_y, multi_p0..multi_p2, multi_w  a 3-class problem: class indices,
                                                         softmax outputs by column, sample weights
                      then scikit-learn's values on them (roc_auc_score, average_precision_score,
                      precision_score, recall_score, f1_score, fbeta_score, confusion_matrix), and
                      Keras's AUC formulas evaluated here in numpy (keras_*), for 200 thresholds
    report_multi.txt  classification_report(multi_y, argmax, target_names=[...]) (digits=2)
    report_multi_4.txt  the same with digits=4, default names
    report_binary.txt classification_report(binary_y, binary_p > 0.5)

Outputs are float32 values (written by repr of the double they convert to), so that the float
and double C++ code read the same numbers. Weights are multiples of 0.25, so weighted counts are
exact in either precision.
"""

import os
import platform

import numpy as np
import sklearn
from sklearn.metrics import (average_precision_score, classification_report, confusion_matrix, f1_score,
                             fbeta_score, precision_score, recall_score, roc_auc_score)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "classification_metrics")
EPSILON = 1e-7  # Keras's backend epsilon

lines = []


def add(key, items):
    lines.append("|".join([key] + [repr(float(v)) if not isinstance(v, str) else v for v in items]))


def keras_buckets(p, num_thresholds):
    """Keras's bucket of each prediction for evenly spaced thresholds, computed in float32 as Keras
    does (ceil(clip(p, 0, 1) * (n - 1)) - 1, at least 0); checked against float64."""
    p32 = np.clip(p.astype(np.float32), np.float32(0), np.float32(1))
    b32 = np.maximum(np.ceil(p32 * np.float32(num_thresholds - 1)) - 1, 0).astype(int)
    b64 = np.maximum(np.ceil(p32.astype(np.float64) * (num_thresholds - 1)) - 1, 0).astype(int)
    assert (b32 == b64).all(), "a prediction sits on a bucket boundary; pick another seed"
    return b32


def keras_counts(y, p, w, num_thresholds):
    """TP, FP, TN, FN at each of Keras's thresholds (labels y != 0 are positive)."""
    b = keras_buckets(p, num_thresholds)
    positive = y != 0
    pos = np.bincount(b[positive], weights=w[positive], minlength=num_thresholds)
    neg = np.bincount(b[~positive], weights=w[~positive], minlength=num_thresholds)
    tp = np.cumsum(pos[::-1])[::-1]
    fp = np.cumsum(neg[::-1])[::-1]
    return tp, fp, w[~positive].sum() - fp, w[positive].sum() - tp


def divide_no_nan(a, b):
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1.0, b))


def keras_auc(y, p, w, num_thresholds, curve, summation):
    """Keras's AUC.result() (keras/src/metrics/confusion_metrics.py), in float64."""
    tp, fp, tn, fn = keras_counts(y, p, w, num_thresholds)
    if curve == "PR" and summation == "interpolation":
        dtp = tp[:-1] - tp[1:]
        pp = tp + fp
        dp = pp[:-1] - pp[1:]
        slope = divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * pp[1:]
        both = (pp[:-1] > 0) & (pp[1:] > 0)
        ratio = np.where(both, divide_no_nan(pp[:-1], np.maximum(pp[1:], 0)), 1.0)
        return float(np.sum(divide_no_nan(slope * (dtp + intercept * np.log(ratio)), np.maximum(tp[1:] + fn[1:], 0))))
    recall = divide_no_nan(tp, tp + fn)
    if curve == "ROC":
        x, h = divide_no_nan(fp, fp + tn), recall
    else:
        x, h = recall, divide_no_nan(tp, tp + fp)
    if summation == "interpolation":
        heights = (h[:-1] + h[1:]) / 2
    elif summation == "minoring":
        heights = np.minimum(h[:-1], h[1:])
    else:
        heights = np.maximum(h[:-1], h[1:])
    return float(np.sum((x[:-1] - x[1:]) * heights))


def binary():
    rng = np.random.RandomState(20261203)
    n = 400
    y = (rng.uniform(size=n) < 0.4).astype(int)
    score = rng.normal(size=n) + 1.3 * y
    p = (1 / (1 + np.exp(-score))).astype(np.float32).astype(np.float64)
    w = rng.randint(1, 9, size=n) * 0.25
    add("binary_y", y)
    add("binary_p", p)
    add("binary_w", w)
    predicted = (p > 0.5).astype(int)
    for weighted in (False, True):
        sw = w if weighted else None
        suffix = "_weighted" if weighted else ""
        add("roc_auc" + suffix, [roc_auc_score(y, p, sample_weight=sw)])
        add("average_precision" + suffix, [average_precision_score(y, p, sample_weight=sw)])
        # The same on the scores Keras sees: each prediction replaced by its bucket.
        buckets = keras_buckets(p, 200)
        add("roc_auc_bucketed" + suffix, [roc_auc_score(y, buckets, sample_weight=sw)])
        add("precision" + suffix, [precision_score(y, predicted, sample_weight=sw)])
        add("recall" + suffix, [recall_score(y, predicted, sample_weight=sw)])
        add("f1_binary" + suffix, [f1_score(y, predicted, sample_weight=sw)])
        ww = w if weighted else np.ones(n)
        for curve in ("ROC", "PR"):
            for summation in ("interpolation", "minoring", "majoring"):
                add(f"keras_{curve}_{summation}{suffix}", [keras_auc(y, p, ww, 200, curve, summation)])
    add("confusion_binary", confusion_matrix(y, predicted).ravel())
    with open(os.path.join(OUT, "report_binary.txt"), "w", newline="\n") as f:
        f.write(classification_report(y, predicted, target_names=["bad", "good"]))


def multi():
    rng = np.random.RandomState(7)
    n = 300
    y = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    logits = rng.normal(size=(n, 3))
    logits[np.arange(n), y] += 1.2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = (e / e.sum(axis=1, keepdims=True)).astype(np.float32).astype(np.float64)
    w = rng.randint(1, 9, size=n) * 0.25
    add("multi_y", y)
    for c in range(3):
        add(f"multi_p{c}", p[:, c])
    add("multi_w", w)
    predicted = p.argmax(axis=1)
    for weighted in (False, True):
        sw = w if weighted else None
        suffix = "_weighted" if weighted else ""
        add("f1_none" + suffix, f1_score(y, predicted, average=None, sample_weight=sw))
        for average in ("micro", "macro", "weighted"):
            add(f"f1_{average}{suffix}", [f1_score(y, predicted, average=average, sample_weight=sw)])
            add(f"f2_{average}{suffix}", [fbeta_score(y, predicted, beta=2.0, average=average, sample_weight=sw)])
        # Precision and recall of class 2 alone at threshold 0.5, as Precision(class_id=2) sees it.
        onehot_true = (y == 2).astype(int)
        above = (p[:, 2] > 0.5).astype(int)
        add("precision_class2" + suffix, [precision_score(onehot_true, above, sample_weight=sw)])
        add("recall_class2" + suffix, [recall_score(onehot_true, above, sample_weight=sw)])
    add("confusion_multi", confusion_matrix(y, predicted).ravel())
    with open(os.path.join(OUT, "report_multi.txt"), "w", newline="\n") as f:
        f.write(classification_report(y, predicted, target_names=["setosa", "versicolor", "virginica"]))
    with open(os.path.join(OUT, "report_multi_4.txt"), "w", newline="\n") as f:
        f.write(classification_report(y, predicted, digits=4))


def main():
    os.makedirs(OUT, exist_ok=True)
    lines.append(f"# written by tools/make_metrics_reference.py with Python {platform.python_version()}, "
                 f"numpy {np.__version__}, scikit-learn {sklearn.__version__}")
    binary()
    multi()
    with open(os.path.join(OUT, "reference.txt"), "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
