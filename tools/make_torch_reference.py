#!/usr/bin/env python3
"""Write PyTorch reference training traces that kerascpp must reproduce.

The script trains one small float64 network twice with PyTorch, once with SGD
(momentum 0.9) and once with Adam (epsilon 1e-12), starting both runs from the
same initial weights and using the same 20 fixed mini-batches. For each run it
writes a plain-text file under tests/data/ holding the dataset, the initial
weights, the loss of every step, the final weights and a few inference-mode
predictions. Weights are written in Keras order and layout, so a C++ test can
pass them straight to kerascpp's ``set_weights`` and compare the results.

Network, in Keras terms:

    Dense(16, relu) -> BatchNormalization(momentum=0.99, epsilon=1e-3)
        -> Dense(8, relu) -> Dense(1), loss "mse"

Keras and PyTorch differ in a few places; the script bridges them as follows.

* Dense kernels: Keras stores (in, out), torch.nn.Linear stores (out, in), so
  kernels are written transposed.
* BatchNorm momentum: torch's ``momentum`` is the weight of the new batch
  statistic, Keras's is the weight of the old moving value, so torch uses
  momentum=0.01 for Keras momentum=0.99.
* BatchNorm moving variance: torch updates ``running_var`` with the unbiased
  batch variance, Keras with the biased one. A forward hook records every
  training batch's mean and biased variance and the Keras update rule is
  applied to them here; those values are written as the moving statistics and
  used for the inference-mode predictions. Torch's own ``running_var`` is
  written separately for information. Normalisation during training uses the
  biased variance in both libraries, so losses and gradients are unaffected.
* SGD momentum: torch uses v = mu*v + g; w -= lr*v, Keras v = mu*v - lr*g;
  w += v. With a constant learning rate the Keras velocity is exactly -lr times
  the torch one, so the trajectories are identical.
* Adam epsilon: torch adds epsilon to sqrt(v_hat) (after bias correction),
  Keras to sqrt(v) (before). With epsilon=1e-12 the difference is negligible.

Before writing anything the script re-runs the trainings with an independent
NumPy implementation (hand-written forward and backward pass, Keras
BatchNormalization moving averages) and stops with an error unless

* Keras-form SGD reproduces torch's SGD run to rounding (1e-10 relative),
* torch-form Adam reproduces torch's Adam run to rounding, and
* Keras-form Adam stays within 1e-6 relative of torch's Adam run (the only
  difference left is where epsilon enters).

It also reads every written file back and checks that the values round-trip
exactly.

Usage, from anywhere (no arguments):

    /usr/bin/python3 tools/make_torch_reference.py
"""

import pathlib
import platform
import sys

import numpy as np
import torch

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "tests" / "data"

DATA_SEED = 2024
TORCH_SEED = 0
N_SAMPLES = 64
N_FEATURES = 6
BATCH_SIZE = 16
N_BATCHES = N_SAMPLES // BATCH_SIZE
N_STEPS = 20
N_PREDICT = 8

KERAS_BN_MOMENTUM = 0.99
TORCH_BN_MOMENTUM = 0.01
BN_EPSILON = 1e-3

SGD_LR = 0.01
SGD_MOMENTUM = 0.9
ADAM_LR = 0.001
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-12

# Indices into the Keras weight list that BatchNormalization does not train.
MOVING_MEAN_INDEX = 4
MOVING_VARIANCE_INDEX = 5
NON_TRAINABLE = (MOVING_MEAN_INDEX, MOVING_VARIANCE_INDEX)

# Largest relative disagreement tolerated between torch and the NumPy re-run
# when both use the same update formulas (only rounding differs).
SAME_FORM_TOLERANCE = 1e-10
# Largest relative disagreement tolerated between torch Adam and Keras-form
# Adam, whose only difference is where epsilon enters. The C++ test compares
# at 1e-5, so this must stay well below that.
ADAM_KERAS_FORM_TOLERANCE = 1e-6

KERAS_WEIGHT_NAMES = (
    "Dense(16) kernel (6, 16)",
    "Dense(16) bias (1, 16)",
    "BatchNormalization gamma (1, 16)",
    "BatchNormalization beta (1, 16)",
    "BatchNormalization moving_mean (1, 16)",
    "BatchNormalization moving_variance (1, 16)",
    "Dense(8) kernel (16, 8)",
    "Dense(8) bias (1, 8)",
    "Dense(1) kernel (8, 1)",
    "Dense(1) bias (1, 1)",
)


def make_dataset():
    """Return (x, y): x is 64x6 standard normal, y = sin(x @ w_true) + 0.1*noise."""
    rng = np.random.RandomState(DATA_SEED)
    x = rng.standard_normal((N_SAMPLES, N_FEATURES))
    w_true = rng.standard_normal((N_FEATURES, 1))
    noise = rng.standard_normal((N_SAMPLES, 1))
    y = np.sin(x @ w_true) + 0.1 * noise
    return x, y


def batch_rows(step):
    """Row slice of the batch used at a 0-based training step (no shuffling)."""
    start = (step % N_BATCHES) * BATCH_SIZE
    return slice(start, start + BATCH_SIZE)


def build_torch_model():
    """Build the network with torch's default initialisation under seed 0."""
    torch.manual_seed(TORCH_SEED)
    return torch.nn.Sequential(
        torch.nn.Linear(N_FEATURES, 16),
        torch.nn.ReLU(),
        torch.nn.BatchNorm1d(16, eps=BN_EPSILON, momentum=TORCH_BN_MOMENTUM),
        torch.nn.Linear(16, 8),
        torch.nn.ReLU(),
        torch.nn.Linear(8, 1),
    )


def keras_weights(model, moving_mean, moving_variance):
    """Return the model's weights as float64 arrays in Keras order and shapes.

    Dense kernels are transposed to (in, out); vectors become (1, n) rows. The
    BatchNormalization moving statistics are passed in explicitly because the
    Keras values differ from torch's running_var.
    """
    dense_16, batch_norm, dense_8, dense_1 = model[0], model[2], model[3], model[5]

    def row(values):
        return np.array(values, dtype=np.float64).reshape(1, -1)

    def kernel(linear):
        return linear.weight.detach().numpy().T.copy()

    return [
        kernel(dense_16),
        row(dense_16.bias.detach().numpy()),
        row(batch_norm.weight.detach().numpy()),
        row(batch_norm.bias.detach().numpy()),
        row(moving_mean),
        row(moving_variance),
        kernel(dense_8),
        row(dense_8.bias.detach().numpy()),
        kernel(dense_1),
        row(dense_1.bias.detach().numpy()),
    ]


def make_torch_optimizer(name, parameters):
    """Create the torch optimizer for run ``name`` ("sgd" or "adam")."""
    if name == "sgd":
        return torch.optim.SGD(
            parameters, lr=SGD_LR, momentum=SGD_MOMENTUM, nesterov=False)
    if name == "adam":
        return torch.optim.Adam(
            parameters, lr=ADAM_LR, betas=(ADAM_BETA_1, ADAM_BETA_2),
            eps=ADAM_EPSILON)
    raise ValueError(f"unknown optimizer {name!r}")


def train_torch(name, x, y):
    """Train with torch and return a dict of everything the data file holds."""
    model = build_torch_model()
    batch_norm = model[2]
    init = keras_weights(
        model, batch_norm.running_mean.numpy(), batch_norm.running_var.numpy())
    optimizer = make_torch_optimizer(name, model.parameters())

    batch_stats = []

    def record_batch_stats(module, inputs, output):
        if module.training:
            h = inputs[0].detach()
            batch_stats.append((h.mean(dim=0).numpy().copy(),
                                h.var(dim=0, unbiased=False).numpy().copy()))

    hook = batch_norm.register_forward_hook(record_batch_stats)
    moving_mean = np.zeros(16)
    moving_variance = np.ones(16)
    losses = []
    model.train()
    for step in range(N_STEPS):
        rows = batch_rows(step)
        optimizer.zero_grad()
        prediction = model(torch.from_numpy(x[rows]))
        loss = torch.nn.functional.mse_loss(prediction, torch.from_numpy(y[rows]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

        if len(batch_stats) != step + 1:
            raise RuntimeError("expected exactly one BatchNorm call per step")
        batch_mean, batch_variance = batch_stats[-1]
        moving_mean = (KERAS_BN_MOMENTUM * moving_mean
                       + (1.0 - KERAS_BN_MOMENTUM) * batch_mean)
        moving_variance = (KERAS_BN_MOMENTUM * moving_variance
                           + (1.0 - KERAS_BN_MOMENTUM) * batch_variance)
    hook.remove()

    if not np.allclose(batch_norm.running_mean.numpy(), moving_mean,
                       rtol=1e-12, atol=1e-15):
        raise RuntimeError("torch running_mean disagrees with the Keras rule")
    torch_running_var = batch_norm.running_var.numpy().copy()
    final = keras_weights(model, moving_mean, moving_variance)

    with torch.no_grad():
        batch_norm.running_mean.copy_(torch.from_numpy(moving_mean))
        batch_norm.running_var.copy_(torch.from_numpy(moving_variance))
        model.eval()
        predict_first8 = model(torch.from_numpy(x[:N_PREDICT])).numpy().copy()

    return {
        "init": init,
        "loss": np.array(losses).reshape(1, -1),
        "final": final,
        "torch_running_var": torch_running_var.reshape(1, -1),
        "predict_first8": predict_first8,
    }


def keras_forward(weights, x, training):
    """NumPy forward pass in Keras form; returns the output and a cache."""
    k1, b1, gamma, beta, moving_mean, moving_variance, k2, b2, k3, b3 = weights
    z1 = x @ k1 + b1
    h1 = np.maximum(z1, 0.0)
    if training:
        mean = h1.mean(axis=0, keepdims=True)
        variance = ((h1 - mean) ** 2).mean(axis=0, keepdims=True)
    else:
        mean, variance = moving_mean, moving_variance
    inv_std = 1.0 / np.sqrt(variance + BN_EPSILON)
    x_hat = (h1 - mean) * inv_std
    bn = gamma * x_hat + beta
    z2 = bn @ k2 + b2
    h2 = np.maximum(z2, 0.0)
    out = h2 @ k3 + b3
    cache = (x, z1, h1, mean, variance, inv_std, x_hat, bn, z2, h2)
    return out, cache


def keras_gradients(weights, cache, out, y):
    """Hand-written backward pass of the mean squared error loss."""
    k1, b1, gamma, beta, _, _, k2, b2, k3, b3 = weights
    x, z1, h1, mean, variance, inv_std, x_hat, bn, z2, h2 = cache
    n = x.shape[0]
    d_out = 2.0 * (out - y) / n
    d_k3 = h2.T @ d_out
    d_b3 = d_out.sum(axis=0, keepdims=True)
    d_z2 = (d_out @ k3.T) * (z2 > 0)
    d_k2 = bn.T @ d_z2
    d_b2 = d_z2.sum(axis=0, keepdims=True)
    d_bn = d_z2 @ k2.T
    d_gamma = (d_bn * x_hat).sum(axis=0, keepdims=True)
    d_beta = d_bn.sum(axis=0, keepdims=True)
    d_x_hat = d_bn * gamma
    d_h1 = inv_std / n * (n * d_x_hat
                          - d_x_hat.sum(axis=0, keepdims=True)
                          - x_hat * (d_x_hat * x_hat).sum(axis=0, keepdims=True))
    d_z1 = d_h1 * (z1 > 0)
    d_k1 = x.T @ d_z1
    d_b1 = d_z1.sum(axis=0, keepdims=True)
    return [d_k1, d_b1, d_gamma, d_beta, None, None, d_k2, d_b2, d_k3, d_b3]


class KerasSGD:
    """Keras SGD with momentum: v = mu*v - lr*g; w += v."""

    def __init__(self, weights):
        self.velocity = [np.zeros_like(w) for w in weights]

    def begin_step(self):
        """SGD keeps no step counter."""

    def update(self, index, weight, gradient):
        self.velocity[index] = SGD_MOMENTUM * self.velocity[index] - SGD_LR * gradient
        return weight + self.velocity[index]


class KerasAdam:
    """Keras Adam: w -= alpha_t*m / (sqrt(v) + eps), epsilon before bias correction."""

    def __init__(self, weights):
        self.m = [np.zeros_like(w) for w in weights]
        self.v = [np.zeros_like(w) for w in weights]
        self.iterations = 0

    def begin_step(self):
        """Advance the step counter t used by the bias corrections."""
        self.iterations += 1

    def update(self, index, weight, gradient):
        t = self.iterations
        alpha = ADAM_LR * np.sqrt(1.0 - ADAM_BETA_2 ** t) / (1.0 - ADAM_BETA_1 ** t)
        self.m[index] += (gradient - self.m[index]) * (1.0 - ADAM_BETA_1)
        self.v[index] += (gradient * gradient - self.v[index]) * (1.0 - ADAM_BETA_2)
        return weight - self.m[index] * alpha / (np.sqrt(self.v[index]) + ADAM_EPSILON)


class TorchFormAdam(KerasAdam):
    """Adam as torch computes it: epsilon is added after bias correction."""

    def update(self, index, weight, gradient):
        t = self.iterations
        self.m[index] += (gradient - self.m[index]) * (1.0 - ADAM_BETA_1)
        self.v[index] += (gradient * gradient - self.v[index]) * (1.0 - ADAM_BETA_2)
        denominator = (np.sqrt(self.v[index]) / np.sqrt(1.0 - ADAM_BETA_2 ** t)
                       + ADAM_EPSILON)
        step_size = ADAM_LR / (1.0 - ADAM_BETA_1 ** t)
        return weight - step_size * self.m[index] / denominator


def train_numpy(optimizer_class, init, x, y):
    """Independent NumPy re-run of a training (Keras-form model), for checking."""
    weights = [w.copy() for w in init]
    optimizer = optimizer_class(weights)
    losses = []
    for step in range(N_STEPS):
        rows = batch_rows(step)
        out, cache = keras_forward(weights, x[rows], training=True)
        losses.append(np.mean((out - y[rows]) ** 2))
        gradients = keras_gradients(weights, cache, out, y[rows])
        optimizer.begin_step()
        for index, gradient in enumerate(gradients):
            if gradient is not None:
                weights[index] = optimizer.update(index, weights[index], gradient)
        batch_mean, batch_variance = cache[3], cache[4]
        for index, batch_value in ((MOVING_MEAN_INDEX, batch_mean),
                                   (MOVING_VARIANCE_INDEX, batch_variance)):
            weights[index] = (KERAS_BN_MOMENTUM * weights[index]
                              + (1.0 - KERAS_BN_MOMENTUM) * batch_value)
    predict_first8, _ = keras_forward(weights, x[:N_PREDICT], training=False)
    return {
        "loss": np.array(losses).reshape(1, -1),
        "final": weights,
        "predict_first8": predict_first8,
    }


def max_relative_difference(a, b):
    """Largest |a-b| / max(|a|, |b|, 1e-300) over all elements."""
    a, b = np.asarray(a), np.asarray(b)
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), 1e-300)
    return float(np.max(np.abs(a - b) / scale))


def check_against_numpy(label, result, reference, tolerance):
    """Compare a torch run with a NumPy re-run; fail above ``tolerance``."""
    report = {
        "loss": max_relative_difference(result["loss"], reference["loss"]),
        "predict_first8": max_relative_difference(
            result["predict_first8"], reference["predict_first8"]),
    }
    for index, (ours, theirs) in enumerate(zip(result["final"], reference["final"])):
        report[f"final_{index}"] = max_relative_difference(ours, theirs)
    worst_key = max(report, key=report.get)
    worst = report[worst_key]
    print(f"{label}: worst relative difference {worst:.3g} ({worst_key}), "
          f"tolerance {tolerance:g}")
    if worst > tolerance:
        raise RuntimeError(f"{label}: self-check failed")
    return worst


def self_check(results, x, y):
    """Re-run both trainings in NumPy and compare with the torch results.

    SGD is re-run in Keras form, which must agree to rounding. Adam is re-run
    twice: in torch form, which must agree to rounding (this validates the
    NumPy forward/backward pass), and in Keras form, whose distance from torch
    is the residual effect of the epsilon placement.
    """
    sgd, adam = results["sgd"], results["adam"]
    check_against_numpy("sgd: torch vs NumPy Keras-form SGD", sgd,
                        train_numpy(KerasSGD, sgd["init"], x, y),
                        SAME_FORM_TOLERANCE)
    check_against_numpy("adam: torch vs NumPy torch-form Adam", adam,
                        train_numpy(TorchFormAdam, adam["init"], x, y),
                        SAME_FORM_TOLERANCE)
    check_against_numpy("adam: torch vs NumPy Keras-form Adam", adam,
                        train_numpy(KerasAdam, adam["init"], x, y),
                        ADAM_KERAS_FORM_TOLERANCE)


def records_of(x, y, result):
    """Return the (name, 2-D array) records of one data file, in file order."""
    records = [("x", x), ("y", y)]
    records += [(f"init_{i}", w) for i, w in enumerate(result["init"])]
    records.append(("loss", result["loss"]))
    records += [(f"final_{i}", w) for i, w in enumerate(result["final"])]
    records.append(("torch_running_var", result["torch_running_var"]))
    records.append(("predict_first8", result["predict_first8"]))
    return records


def header_lines(name):
    """Comment lines describing one data file."""
    if name == "sgd":
        optimizer = (f"SGD(learning_rate={SGD_LR}, momentum={SGD_MOMENTUM}, "
                     f"nesterov=False)")
    else:
        optimizer = (f"Adam(learning_rate={ADAM_LR}, beta_1={ADAM_BETA_1}, "
                     f"beta_2={ADAM_BETA_2}, epsilon={ADAM_EPSILON:g})")
    lines = [
        "kerascpp reference training trace, generated by "
        "tools/make_torch_reference.py (see tests/data/torch_reference_README.md)",
        f"python {platform.python_version()}, torch {torch.__version__}, "
        f"numpy {np.__version__}, float64 throughout",
        f"optimizer: {optimizer}",
        "model: Dense(16, relu) -> BatchNormalization(momentum=0.99, "
        "epsilon=1e-3) -> Dense(8, relu) -> Dense(1); loss mse",
        f"data: numpy RandomState({DATA_SEED}); x = standard_normal(64, 6), "
        "w_true = standard_normal(6, 1), noise = standard_normal(64, 1), "
        "y = sin(x @ w_true) + 0.1 * noise",
        f"training: {N_STEPS} steps, batch b = step % {N_BATCHES} is rows "
        f"[{BATCH_SIZE}*b, {BATCH_SIZE}*b + {BATCH_SIZE}), no shuffling",
        "loss: training-mode batch loss of each step, before that step's update",
        "init_i / final_i: Keras get_weights() order and shapes:",
    ]
    lines += [f"  {i}: {weight}" for i, weight in enumerate(KERAS_WEIGHT_NAMES)]
    lines += [
        "moving_mean/moving_variance use the Keras rule with the BIASED batch "
        "variance; torch_running_var is torch's own (unbiased) value, for "
        "information only",
        "predict_first8: inference-mode output for x rows 0..7 using the Keras "
        "moving statistics",
        "record format: a line '<name> <rows> <cols>', then one line of "
        "rows*cols values, row-major, %.17g",
    ]
    return lines


def write_reference(path, header, records):
    """Write comment lines then '<name> <rows> <cols>' + one line of values."""
    with open(path, "w", encoding="ascii") as f:
        for line in header:
            f.write(f"# {line}\n")
        for name, array in records:
            array = np.asarray(array, dtype=np.float64)
            rows, cols = array.shape
            f.write(f"{name} {rows} {cols}\n")
            f.write(" ".join("%.17g" % value for value in array.ravel()) + "\n")


def read_reference(path):
    """Parse a file written by write_reference into {name: 2-D array}."""
    tokens = []
    with open(path, encoding="ascii") as f:
        for line in f:
            if not line.startswith("#"):
                tokens += line.split()
    records = {}
    position = 0
    while position < len(tokens):
        name, rows, cols = tokens[position], int(tokens[position + 1]), int(tokens[position + 2])
        position += 3
        values = [float(token) for token in tokens[position:position + rows * cols]]
        position += rows * cols
        records[name] = np.array(values).reshape(rows, cols)
    return records


def check_round_trip(path, records):
    """Fail unless every record reads back from the file bit for bit."""
    parsed = read_reference(path)
    if list(parsed) != [name for name, _ in records]:
        raise RuntimeError(f"{path}: record names do not round-trip")
    for name, array in records:
        if not np.array_equal(parsed[name], np.asarray(array, dtype=np.float64)):
            raise RuntimeError(f"{path}: record {name} does not round-trip")


def main():
    torch.set_default_dtype(torch.float64)
    x, y = make_dataset()
    results = {name: train_torch(name, x, y) for name in ("sgd", "adam")}

    for ours, theirs in zip(results["sgd"]["init"], results["adam"]["init"]):
        if not np.array_equal(ours, theirs):
            raise RuntimeError("the two runs did not start from the same weights")

    self_check(results, x, y)

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, result in results.items():
        path = DATA_DIR / f"torch_reference_{name}.txt"
        records = records_of(x, y, result)
        write_reference(path, header_lines(name), records)
        check_round_trip(path, records)
        losses = result["loss"].ravel()
        print(f"[{name}] wrote {path.relative_to(REPO_ROOT)}; loss first 3 "
              f"{losses[:3].tolist()}, last {losses[-1]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
