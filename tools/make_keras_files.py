#!/usr/bin/env python3
"""Write the Keras model files that tests/test_keras_files.cpp reads, without Keras.

Run it with Debian's Python (``/usr/bin/python3``, packages python3-h5py, python3-numpy and, for the
PyTorch file, python3-torch) from the repository's root:

    /usr/bin/python3 tools/make_keras_files.py [--out tests/data/keras]

TensorFlow and Keras are not needed: the files are written with h5py and zipfile in the layouts
Keras's own code writes and reads (keras/src/saving/saving_lib.py for ``.keras`` and
``.weights.h5``, keras/src/legacy/saving/legacy_h5_format.py and tf.keras's hdf5_format.py for the
legacy ``.h5``). Every model file comes with a golden file ``<name>.golden.json`` holding inputs
and the outputs of a NumPy forward pass (float64) of the float32 weights the file holds.

One model is written in every layout:

    InputLayer(5) -> Dense(8, relu) -> BatchNormalization(momentum=0.9) -> Dropout(0.25)
        -> Dense(4, tanh) -> Dense(3) -> Activation(softmax)
    compiled with Adam(learning_rate=0.002, beta_1=0.85, beta_2=0.995), categorical_crossentropy,
    metrics categorical_accuracy; optimizer state after 7 iterations

and the files that must be refused (``err_*``) are derived from it. The legacy ``.h5`` layouts of
the optimizer's variables (tf.keras 2.10, tf.keras 2.11+, Keras 3) hold the same Adam state; a
smaller model (``legacy_step_*``) holds Adam's and SGD's state with the weights after one more
step, computed here. ``metric_objects.keras`` and ``metric_objects_legacy.h5`` hold a small binary
classifier compiled with metric objects (AUC, Precision) serialized as Keras 3 and tf.keras 2 write
them in the compile and training configs. ``torch.keras`` holds a small
network trained with PyTorch (kernel = Linear.weight.T) with PyTorch's own outputs as its golden.
The script also copies nothing from Keras: the Keras-written file of the test data
(``pre_pr22362_nested_container.keras``) gets its golden from its own weights here.
"""

import argparse
import io
import json
import os
import struct
import zipfile

import h5py
import numpy as np

LAYERS = ["dense", "batch_normalization", "dropout", "dense_1", "dense_2", "activation"]
CLASSES = ["Dense", "BatchNormalization", "Dropout", "Dense", "Dense", "Activation"]
NAMES = ["dense", "batch_normalization", "dropout", "dense_1", "dense_2", "activation"]


def make_weights(rng):
    """Weights per layer path, in Keras order (trainable first), float32."""
    f = np.float32
    w = {
        "dense": [rng.normal(0, 0.5, (5, 8)).astype(f), rng.normal(0, 0.1, (8,)).astype(f)],
        "batch_normalization": [
            rng.uniform(0.5, 1.5, (8,)).astype(f),
            rng.normal(0, 0.2, (8,)).astype(f),
            rng.normal(0.3, 0.2, (8,)).astype(f),
            rng.uniform(0.2, 2.0, (8,)).astype(f),
        ],
        "dropout": [],
        "dense_1": [rng.normal(0, 0.5, (8, 4)).astype(f), rng.normal(0, 0.1, (4,)).astype(f)],
        "dense_2": [rng.normal(0, 0.5, (4, 3)).astype(f), rng.normal(0, 0.1, (3,)).astype(f)],
        "activation": [],
    }
    return w


def forward(w, x):
    """NumPy forward pass in inference mode (float64)."""
    d = lambda a: a.astype(np.float64)
    h = np.maximum(x @ d(w["dense"][0]) + d(w["dense"][1]), 0)
    g, b, mm, mv = (d(a) for a in w["batch_normalization"])
    h = (h - mm) / np.sqrt(mv + 1e-3) * g + b
    h = np.tanh(h @ d(w["dense_1"][0]) + d(w["dense_1"][1]))
    z = h @ d(w["dense_2"][0]) + d(w["dense_2"][1])
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def optimizer_state(w, rng):
    """Adam's variables as Keras 3 keeps them: iterations, learning rate, then m, v per weight."""
    out = [np.int64(7), np.float32(0.002)]
    for path in LAYERS:
        trainable = w[path][:2]
        for var in trainable:
            out.append(rng.normal(0, 0.01, var.shape).astype(np.float32))
            out.append(np.abs(rng.normal(0, 0.001, var.shape)).astype(np.float32))
    return out


def serialized(module, class_name, config):
    return {"module": module, "class_name": class_name, "config": config, "registered_name": None}


def dtype_policy():
    return serialized("keras", "DTypePolicy", {"name": "float32"})


def initializer(class_name, config=None):
    return serialized("keras.initializers", class_name, config if config is not None else {"seed": None})


def dense_config(name, units, activation):
    return {
        "name": name, "trainable": True, "dtype": dtype_policy(), "units": units, "activation": activation,
        "use_bias": True, "kernel_initializer": initializer("GlorotUniform"),
        "bias_initializer": initializer("Zeros", {}), "kernel_regularizer": None, "bias_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None, "quantization_config": None,
    }


def keras3_config(center=True, extra_layer=None, amsgrad=False):
    """config.json of the model as Keras 3 serializes a compiled Sequential."""
    layer = lambda cls, cfg, width: dict(serialized("keras.layers", cls, cfg), build_config={"input_shape": [None, width]})
    layers = [
        serialized("keras.layers", "InputLayer",
                   {"batch_shape": [None, 5], "dtype": "float32", "sparse": False, "ragged": False, "name": "input_layer"}),
        layer("Dense", dense_config("dense", 8, "relu"), 5),
        layer("BatchNormalization", {
            "name": "batch_normalization", "trainable": True, "dtype": dtype_policy(), "axis": -1, "momentum": 0.9,
            "epsilon": 0.001, "center": center, "scale": True, "beta_initializer": initializer("Zeros", {}),
            "gamma_initializer": initializer("Ones", {}), "moving_mean_initializer": initializer("Zeros", {}),
            "moving_variance_initializer": initializer("Ones", {}), "beta_regularizer": None,
            "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None, "synchronized": False}, 8),
        layer("Dropout", {"name": "dropout", "trainable": True, "dtype": dtype_policy(), "rate": 0.25, "seed": None,
                          "noise_shape": None}, 8),
        layer("Dense", dense_config("dense_1", 4, "tanh"), 8),
        layer("Dense", dense_config("dense_2", 3, "linear"), 4),
        layer("Activation", {"name": "activation", "trainable": True, "dtype": dtype_policy(), "activation": "softmax"}, 3),
    ]
    if extra_layer is not None:
        layers.insert(2, extra_layer)
    optimizer = serialized("keras.optimizers", "Adam", {
        "name": "adam", "learning_rate": 0.002, "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
        "loss_scale_factor": None, "gradient_accumulation_steps": None, "beta_1": 0.85, "beta_2": 0.995,
        "epsilon": 1e-07, "amsgrad": amsgrad})
    return {
        "module": "keras", "class_name": "Sequential",
        "config": {"name": "sequential", "trainable": True, "dtype": dtype_policy(), "layers": layers},
        "registered_name": None, "build_config": {"input_shape": [None, 5]},
        "compile_config": {"optimizer": optimizer, "loss": "categorical_crossentropy", "loss_weights": None,
                           "metrics": ["categorical_accuracy"], "weighted_metrics": None, "run_eagerly": False,
                           "steps_per_execution": 1, "jit_compile": False},
    }


def put_string_attr(obj, key, value):
    obj.attrs[key] = value  # a Python str: a variable-length UTF-8 string, as Keras writes it


def write_keras3_h5(target, w, opt=None, names=True, empty_groups=True, prefix="layers", extra=False):
    """model.weights.h5 / .weights.h5 in the Keras 3 layout."""
    with h5py.File(target, "w") as f:
        if empty_groups:
            g = f.create_group("vars")
            if names:
                put_string_attr(g, "name", "sequential")
        for path, name in zip(LAYERS, NAMES):
            if not w[path] and not empty_groups:
                continue
            g = f.create_group(f"{prefix}/{path}").create_group("vars")
            if names:
                put_string_attr(g, "name", name)
            for k, value in enumerate(w[path]):
                g[str(k)] = value
        if opt is not None:
            g = f.create_group("optimizer").create_group("vars")
            if names:
                put_string_attr(g, "name", "adam")
            for k, value in enumerate(opt):
                g[str(k)] = value
        if extra:
            f.create_group("metrics/mean/vars")["0"] = np.float32(3.5)


def dense_weights_h5(w):
    """model.weights.h5 of a Keras 3 Sequential of Dense layers; w maps each layer to [kernel, bias]."""
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h:
        put_string_attr(h.create_group("vars"), "name", "sequential")
        for path, values in w.items():
            g = h.create_group(f"layers/{path}").create_group("vars")
            put_string_attr(g, "name", path)
            for k, value in enumerate(values):
                g[str(k)] = value
    return buffer.getvalue()


def h5_bytes(**kwargs):
    buffer = io.BytesIO()
    write_keras3_h5(buffer, **kwargs)
    return buffer.getvalue()


def write_zip(path, entries, method=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = method
            z.writestr(info, data)


def keras_archive(path, config, weights_h5, method=zipfile.ZIP_STORED):
    metadata = json.dumps({"keras_version": "3.15.0", "date_saved": "2026-12-03@14:00:00"})
    write_zip(path, [("metadata.json", metadata), ("config.json", json.dumps(config)), ("model.weights.h5", weights_h5)],
              method)


def tf_init(class_name):
    """An initializer as tf.keras 2 serializes it in a model_config."""
    return {"class_name": class_name, "config": {"seed": None} if class_name.startswith("Glorot") else {}}


def tf_input_layer(input_dim):
    return {"class_name": "InputLayer", "config": {"batch_input_shape": [None, input_dim], "dtype": "float32",
                                                  "sparse": False, "ragged": False, "name": "dense_input"}}


def tf_dense(name, units, activation, input_dim=None):
    """A Dense layer as tf.keras 2 serializes it; the first layer also carries batch_input_shape."""
    c = {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
         "use_bias": True, "kernel_initializer": tf_init("GlorotUniform"), "bias_initializer": tf_init("Zeros"),
         "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
         "kernel_constraint": None, "bias_constraint": None}
    if input_dim is not None:
        c = dict({"batch_input_shape": [None, input_dim]}, **c)
    return {"class_name": "Dense", "config": c}


def tf_dense_sequential(input_dim, dense_layers, keras_version):
    """model_config of a tf.keras 2 Sequential of Dense layers given as (name, units, activation)."""
    layers = [tf_input_layer(input_dim)]
    for i, (name, units, activation) in enumerate(dense_layers):
        layers.append(tf_dense(name, units, activation, input_dim if i == 0 else None))
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
            "keras_version": keras_version, "backend": "tensorflow"}


def legacy_model_config():
    """model_config as tf.keras 2 writes it for a Sequential."""
    layers = [
        tf_input_layer(5),
        tf_dense("dense", 8, "relu", 5),
        {"class_name": "BatchNormalization", "config": {
            "name": "batch_normalization", "trainable": True, "dtype": "float32", "axis": [1], "momentum": 0.9,
            "epsilon": 0.001, "center": True, "scale": True, "beta_initializer": tf_init("Zeros"),
            "gamma_initializer": tf_init("Ones"), "moving_mean_initializer": tf_init("Zeros"),
            "moving_variance_initializer": tf_init("Ones"), "beta_regularizer": None, "gamma_regularizer": None,
            "beta_constraint": None, "gamma_constraint": None}},
        {"class_name": "Dropout", "config": {"name": "dropout", "trainable": True, "dtype": "float32", "rate": 0.25,
                                             "noise_shape": None, "seed": None}},
        tf_dense("dense_1", 4, "tanh"),
        tf_dense("dense_2", 3, "linear"),
        {"class_name": "Activation", "config": {"name": "activation", "trainable": True, "dtype": "float32",
                                                "activation": "softmax"}},
    ]
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers}, "keras_version": "2.13.1",
            "backend": "tensorflow"}


def legacy_training_config():
    return {"loss": "categorical_crossentropy", "metrics": [["categorical_accuracy"]], "weighted_metrics": None,
            "loss_weights": None, "optimizer_config": {"class_name": "Custom>Adam", "config": {
                "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True,
                "is_legacy_optimizer": False, "learning_rate": 0.002, "beta_1": 0.85, "beta_2": 0.995,
                "epsilon": 1e-07, "amsgrad": False}}}


def write_legacy_h5(path, w, colon=True, split=False, weights_only=False, layers=None, model_config=None,
                    training_config=None, version="2.13.1", keras3=False, optimizer_weights=None):
    """A tf.keras 2 `.h5`: model_config/training_config and /model_weights, or (weights_only) the
    layers at the root as `save_weights('x.h5')` writes them. `layers` maps each layer's name to its
    weight names (the six layers of the model by default); `keras3` names the weights by their Keras 3
    path (`sequential/dense/kernel`) and adds the empty group `top_level_model_weights`, as Keras 3's
    legacy_h5_format does; `optimizer_weights` is a list of (name, value) written as
    `optimizer_weights` (see write_optimizer_weights)."""
    suffix = ":0" if colon and not keras3 else ""
    weight_names = layers if layers is not None else {
        "dense": ["kernel", "bias"], "batch_normalization": ["gamma", "beta", "moving_mean", "moving_variance"],
        "dropout": [], "dense_1": ["kernel", "bias"], "dense_2": ["kernel", "bias"], "activation": []}
    with h5py.File(path, "w") as f:
        if weights_only:
            root = f
        else:
            config = model_config if model_config is not None else legacy_model_config()
            training = training_config if training_config is not None else legacy_training_config()
            f.attrs["model_config"] = json.dumps(config).encode("utf8")
            f.attrs["training_config"] = json.dumps(training).encode("utf8")
            f.attrs["keras_version"] = version.encode("utf8")
            f.attrs["backend"] = b"tensorflow"
            root = f.create_group("model_weights")
        names = [n.encode("utf8") for n in weight_names]
        if split:
            root.attrs["layer_names0"] = np.array(names[:3], dtype="S")
            root.attrs["layer_names1"] = np.array(names[3:], dtype="S")
        else:
            root.attrs["layer_names"] = np.array(names, dtype="S")
        root.attrs["backend"] = b"tensorflow"
        root.attrs["keras_version"] = version.encode("utf8")
        prefix = "sequential/" if keras3 else ""
        for path_name in weight_names:
            g = root.create_group(path_name)
            full = [f"{prefix}{path_name}/{n}{suffix}".encode("utf8") for n in weight_names[path_name]]
            g.attrs["weight_names"] = np.array(full, dtype="S") if full else np.array([], dtype="S1")
            for name, value in zip(full, w[path_name]):
                g[name.decode("utf8")] = value
        if keras3:
            root.create_group("top_level_model_weights").attrs["weight_names"] = np.array([], dtype="S1")
        if optimizer_weights is not None:
            write_optimizer_weights(f, optimizer_weights)


def write_optimizer_weights(f, weights):
    """The group `optimizer_weights` of a legacy `.h5` (hdf5_format.save_optimizer_weights_to_hdf5_group
    of tf.keras, legacy_h5_format of Keras 3): the attribute `weight_names` lists the optimizer's
    variables in its order, and each is a dataset at its name, the name's `/` making nested groups."""
    g = f.create_group("optimizer_weights")
    g.attrs["weight_names"] = np.array([name.encode("utf8") for name, _ in weights], dtype="S")
    for name, value in weights:
        g[name] = value


def trainable_paths(layers):
    """(layer, variable) of each trainable weight, in Keras's order of model.trainable_variables."""
    trainable = {"kernel", "bias", "gamma", "beta"}
    return [(layer, var) for layer, names in layers.items() for var in names if var in trainable]


def legacy_optimizer_weights(layout, optimizer, iterations, learning_rate, slots, kinds, paths):
    """The optimizer's variables as each legacy writer names and orders them. `slots[k][i]` is slot
    kind k (Keras 3's name `kinds[k]`) of trainable weight i at `paths[i]`.

    - "tf210": tf.keras ≤ 2.10 (OptimizerV2, `optimizer.weights`): `Adam/iter:0`, then one block per
      slot kind (all m, then all v), each `Adam/dense/kernel/m:0`; no learning rate.
    - "tf213": tf.keras 2.11–2.15 (`optimizer.variables`): `iteration:0`, then the slots as Keras 3
      orders them, each `m/dense/kernel:0`; no learning rate.
    - "keras3": Keras 3 legacy_h5_format (`optimizer.variables`, by path): `adam/iteration`,
      `adam/learning_rate`, then the slots in Keras 3's order, each `adam/sequential_dense_kernel_momentum`.
    Keras 3 (and tf.keras 2.11+) interleave Adam's slots per weight (m0, v0, m1, v1, ...) and keep
    SGD's one slot per weight; tf.keras 2.10 names Adam's slots m and v, SGD's momentum.
    """
    short = {"momentum": "m" if optimizer == "Adam" else "momentum", "velocity": "v"}
    per_weight = [[(k, i) for k in range(len(kinds))] for i in range(len(paths))]
    interleaved = [pair for group in per_weight for pair in group]
    by_kind = [(k, i) for k in range(len(kinds)) for i in range(len(paths))]
    if layout == "tf210":
        out = [(f"{optimizer}/iter:0", np.int64(iterations))]
        for k, i in by_kind:
            out.append((f"{optimizer}/{paths[i][0]}/{paths[i][1]}/{short[kinds[k]]}:0", slots[k][i]))
    elif layout == "tf213":
        out = [("iteration:0", np.int64(iterations))]
        for k, i in interleaved:
            out.append((f"{'m' if kinds[k] == 'momentum' else 'v'}/{paths[i][0]}/{paths[i][1]}:0", slots[k][i]))
    else:
        lower = optimizer.lower()
        out = [(f"{lower}/iteration", np.int64(iterations)), (f"{lower}/learning_rate", np.float32(learning_rate))]
        for k, i in interleaved:
            out.append((f"{lower}/sequential_{paths[i][0]}_{paths[i][1]}_{kinds[k]}", slots[k][i]))
    return out


def tf210_training_config(optimizer):
    """training_config of tf.keras ≤ 2.10 (OptimizerV2: `decay`, no `is_legacy_optimizer`)."""
    return {"loss": "categorical_crossentropy", "metrics": [["categorical_accuracy"]], "weighted_metrics": None,
            "loss_weights": None, "optimizer_config": optimizer}


def keras3_legacy_training_config():
    """training_config of Keras 3's legacy_h5_format: the compile config with `optimizer_config`."""
    return {"loss": "categorical_crossentropy", "loss_weights": None, "metrics": ["categorical_accuracy"],
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
            "optimizer_config": {"class_name": "Adam", "config": {
                "name": "adam", "learning_rate": 0.002, "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
                "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
                "loss_scale_factor": None, "gradient_accumulation_steps": None, "beta_1": 0.85, "beta_2": 0.995,
                "epsilon": 1e-07, "amsgrad": False}}}


TF210_ADAM = {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": 0.002, "decay": 0.0, "beta_1": 0.85,
                                               "beta_2": 0.995, "epsilon": 1e-07, "amsgrad": False}}


def legacy_optimizer_files(out, w, opt):
    """The model with Adam's state of model.optimizer.json in the three legacy layouts."""
    layers = {"dense": ["kernel", "bias"], "batch_normalization": ["gamma", "beta", "moving_mean", "moving_variance"],
              "dropout": [], "dense_1": ["kernel", "bias"], "dense_2": ["kernel", "bias"], "activation": []}
    paths = trainable_paths(layers)
    slots = [opt[2::2], opt[3::2]]  # Keras 3 keeps m0, v0, m1, v1, ...
    state = lambda layout: legacy_optimizer_weights(layout, "Adam", int(opt[0]), float(opt[1]), slots,
                                                    ["momentum", "velocity"], paths)
    p = lambda name: os.path.join(out, name)
    write_legacy_h5(p("legacy_tf210_optimizer.h5"), w, training_config=tf210_training_config(TF210_ADAM),
                    version="2.10.0", optimizer_weights=state("tf210"))
    write_legacy_h5(p("legacy_tf213_optimizer.h5"), w, optimizer_weights=state("tf213"))
    write_legacy_h5(p("legacy_keras3_optimizer.h5"), w, training_config=keras3_legacy_training_config(),
                    version="3.15.0", keras3=True, optimizer_weights=state("keras3"))


def legacy_step_files(out):
    """Dense(3, tanh) -> Dense(2) on 4 inputs, mean squared error, saved with an optimizer's state
    after some steps: Adam in the tf.keras 2.10 layout, SGD with momentum in the tf.keras 2.13 one.
    legacy_step.json holds the training batch, the state written and, computed here in float64 with
    Keras's update rules, the weights and slots after one more step on that batch."""
    rng = np.random.default_rng(20261204)
    f = np.float32
    weights = [rng.normal(0, 0.5, (4, 3)).astype(f), rng.normal(0, 0.1, (3,)).astype(f),
               rng.normal(0, 0.5, (3, 2)).astype(f), rng.normal(0, 0.1, (2,)).astype(f)]
    x = rng.normal(0, 1, (6, 4)).astype(f)
    y = rng.normal(0, 1, (6, 2)).astype(f)
    d = lambda a: np.asarray(a, dtype=np.float64)
    w1, b1, w2, b2 = (d(a) for a in weights)
    h = np.tanh(d(x) @ w1 + b1)                 # (6, 3)
    z = h @ w2 + b2                             # (6, 2)
    dz = 2 * (z - d(y)) / z.size                # d mean((z − y)²) / dz, (6, 2)
    dh = dz @ w2.T * (1 - h * h)                # (6, 3)
    grads = [d(x).T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]
    layers = {"dense": ["kernel", "bias"], "dense_1": ["kernel", "bias"]}
    paths = trainable_paths(layers)
    w = {"dense": weights[:2], "dense_1": weights[2:]}
    model_config = tf_dense_sequential(4, [("dense", 3, "tanh"), ("dense_1", 2, "linear")], "2.10.0")
    flat = lambda arrays: [d(a).ravel().tolist() for a in arrays]
    expected = {"x": d(x).tolist(), "y": d(y).tolist()}

    # Adam(0.01, beta_1 0.8, beta_2 0.99) after 4 steps.
    lr, beta_1, beta_2, eps, t = 0.01, 0.8, 0.99, 1e-7, 4
    m = [rng.normal(0, 0.05, a.shape).astype(f) for a in weights]
    v = [np.abs(rng.normal(0, 0.01, a.shape)).astype(f) for a in weights]
    m_new = [beta_1 * d(mi) + (1 - beta_1) * g for mi, g in zip(m, grads)]              # m = β₁m + (1−β₁)g
    v_new = [beta_2 * d(vi) + (1 - beta_2) * g * g for vi, g in zip(v, grads)]          # v = β₂v + (1−β₂)g²
    alpha = lr * np.sqrt(1 - beta_2 ** (t + 1)) / (1 - beta_1 ** (t + 1))               # α = lr·sqrt(1−β₂ᵗ)/(1−β₁ᵗ)
    after = [d(a) - alpha * mi / (np.sqrt(vi) + eps) for a, mi, vi in zip(weights, m_new, v_new)]
    adam = {"class_name": "Adam", "config": {"name": "Adam", "learning_rate": lr, "decay": 0.0, "beta_1": beta_1,
                                             "beta_2": beta_2, "epsilon": eps, "amsgrad": False}}
    training = {"loss": "mse", "metrics": None, "weighted_metrics": None, "loss_weights": None, "optimizer_config": adam}
    adam_state = lambda slots: legacy_optimizer_weights("tf210", "Adam", t, lr, slots, ["momentum", "velocity"], paths)
    write = lambda name, state: write_legacy_h5(os.path.join(out, name), w, layers=layers, model_config=model_config,
                                                training_config=training, version="2.10.0", optimizer_weights=state)
    write("legacy_step_adam.h5", adam_state([m, v]))
    # Files kerascpp must refuse: m of the first kernel transposed to (3, 4), and v of the last bias missing.
    write("err_optimizer_shape.h5", adam_state([[m[0].T.copy()] + m[1:], v]))
    write("err_optimizer_count.h5", adam_state([m, v])[:-1])
    expected["adam"] = {"iterations": t, "slots": [flat(m), flat(v)], "weights_after": flat(after),
                        "slots_after": [flat(m_new), flat(v_new)]}

    # SGD(0.05, momentum 0.9) after 3 steps.
    lr, mu, t = 0.05, 0.9, 3
    velocity = [rng.normal(0, 0.05, a.shape).astype(f) for a in weights]
    velocity_new = [mu * d(vi) - lr * g for vi, g in zip(velocity, grads)]             # v = μv − lr·g
    after = [d(a) + vi for a, vi in zip(weights, velocity_new)]                          # w += v
    sgd = {"class_name": "Custom>SGD", "config": {
        "name": "SGD", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True,
        "is_legacy_optimizer": False, "learning_rate": lr, "momentum": mu, "nesterov": False}}
    training = dict(training, optimizer_config=sgd)
    write_legacy_h5(os.path.join(out, "legacy_step_sgd.h5"), w, layers=layers,
                    model_config=dict(model_config, keras_version="2.13.1"), training_config=training,
                    optimizer_weights=legacy_optimizer_weights("tf213", "SGD", t, lr, [velocity], ["momentum"], paths))
    expected["sgd"] = {"iterations": t, "slots": [flat(velocity)], "weights_after": flat(after),
                       "slots_after": [flat(velocity_new)]}
    with open(os.path.join(out, "legacy_step.json"), "w") as out_file:
        json.dump(expected, out_file)
        out_file.write("\n")


def auc_config(from_logits=False):
    """AUC(num_thresholds=50, curve="PR") as Keras's get_config writes it (Keras 3 and tf.keras 2.13
    write the same keys)."""
    return {"name": "auc", "dtype": "float32", "num_thresholds": 50, "curve": "PR",
            "summation_method": "interpolation", "multi_label": False, "num_labels": None, "label_weights": None,
            "from_logits": from_logits}


def precision_config():
    """Precision(thresholds=0.7) as Keras's get_config writes it."""
    return {"name": "precision", "dtype": "float32", "thresholds": 0.7, "top_k": None, "class_id": None}


def metric_object_files(out):
    """Dense(4, tanh) -> Dense(1, sigmoid) on 3 inputs, binary cross-entropy, SGD(0.05), compiled with
    the metrics "accuracy", AUC(num_thresholds=50, curve="PR") and Precision(thresholds=0.7) as
    objects: a Keras 3 archive (serialized with module and registered_name), a tf.keras 2 `.h5`
    (training_config.metrics, one list per output, {"class_name", "config"}), and an archive whose
    AUC has from_logits=True, which kerascpp must refuse."""
    rng = np.random.default_rng(20261205)
    f = np.float32
    w = {"dense": [rng.normal(0, 0.8, (3, 4)).astype(f), rng.normal(0, 0.1, (4,)).astype(f)],
         "dense_1": [rng.normal(0, 0.8, (4, 1)).astype(f), rng.normal(0, 0.1, (1,)).astype(f)]}
    weights = dense_weights_h5(w)
    layer = lambda name, units, act, width: dict(serialized("keras.layers", "Dense", dense_config(name, units, act)),
                                                 build_config={"input_shape": [None, width]})
    def config(from_logits=False):
        optimizer = serialized("keras.optimizers", "SGD", {
            "name": "sgd", "learning_rate": 0.05, "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
            "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
            "loss_scale_factor": None, "gradient_accumulation_steps": None, "momentum": 0.0, "nesterov": False})
        metrics = ["accuracy", serialized("keras.metrics", "AUC", auc_config(from_logits)),
                   serialized("keras.metrics", "Precision", precision_config())]
        return {"module": "keras", "class_name": "Sequential", "registered_name": None,
                "config": {"name": "sequential", "trainable": True, "dtype": dtype_policy(), "layers": [
                    serialized("keras.layers", "InputLayer", {"batch_shape": [None, 3], "dtype": "float32",
                                                              "sparse": False, "name": "input_layer"}),
                    layer("dense", 4, "tanh", 3), layer("dense_1", 1, "sigmoid", 4)]},
                "build_config": {"input_shape": [None, 3]},
                "compile_config": {"optimizer": optimizer, "loss": "binary_crossentropy", "loss_weights": None,
                                   "metrics": metrics, "weighted_metrics": None, "run_eagerly": False,
                                   "steps_per_execution": 1, "jit_compile": False}}
    keras_archive(os.path.join(out, "metric_objects.keras"), config(), weights)
    keras_archive(os.path.join(out, "err_metric_from_logits.keras"), config(from_logits=True), weights)

    model_config = tf_dense_sequential(3, [("dense", 4, "tanh"), ("dense_1", 1, "sigmoid")], "2.13.1")
    training = {"loss": "binary_crossentropy", "weighted_metrics": None, "loss_weights": None,
                "metrics": [["accuracy", {"class_name": "AUC", "config": auc_config()},
                             {"class_name": "Precision", "config": precision_config()}]],
                "optimizer_config": {"class_name": "Custom>SGD", "config": {
                    "name": "SGD", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
                    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True,
                    "is_legacy_optimizer": False, "learning_rate": 0.05, "momentum": 0.0, "nesterov": False}}}
    write_legacy_h5(os.path.join(out, "metric_objects_legacy.h5"), w, layers={"dense": ["kernel", "bias"],
                    "dense_1": ["kernel", "bias"]}, model_config=model_config, training_config=training)


def golden(path, x, y):
    with open(path, "w") as f:
        json.dump({"x": x.tolist(), "y": y.tolist()}, f)
        f.write("\n")


def patch_dims(data, old, new):
    """Replaces the dataspace dims `old` (a uint64 pair: dims, and maxdims after them) with `new`."""
    pattern = struct.pack("<QQ", *old)
    assert data.count(pattern) == 2 and data.count(pattern * 2) == 1, data.count(pattern)
    return data.replace(pattern, struct.pack("<QQ", *new))


def torch_file(out, rng):
    import torch
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    x = torch.tensor(rng.normal(0, 1, (64, 3)), dtype=torch.float32)
    y = torch.stack([x[:, 0] * x[:, 1], torch.sin(x[:, 2])], dim=1)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for _ in range(50):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(net(x), y)
        loss.backward()
        opt.step()
    x_test = torch.tensor(rng.normal(0, 1, (7, 3)), dtype=torch.float32)
    with torch.no_grad():
        y_test = net(x_test)
    w = {
        "dense": [net[0].weight.detach().numpy().T.copy(), net[0].bias.detach().numpy().copy()],
        "dense_1": [net[2].weight.detach().numpy().T.copy(), net[2].bias.detach().numpy().copy()],
    }
    layer = lambda name, units, act, width: dict(serialized("keras.layers", "Dense", dense_config(name, units, act)),
                                                 build_config={"input_shape": [None, width]})
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": "sequential", "trainable": True, "dtype": dtype_policy(), "layers": [
                  serialized("keras.layers", "InputLayer", {"batch_shape": [None, 3], "dtype": "float32",
                                                            "sparse": False, "name": "input_layer"}),
                  layer("dense", 6, "tanh", 3), layer("dense_1", 2, "linear", 6)]},
              "build_config": {"input_shape": [None, 3]}}
    keras_archive(os.path.join(out, "torch.keras"), config, dense_weights_h5(w))
    golden(os.path.join(out, "torch.golden.json"), x_test.numpy().astype(np.float64), y_test.numpy().astype(np.float64))


def red_wine_model(path):
    """data/red-wine.keras for examples/08_keras_model.cpp: Dense(16, relu) -> Dense(1) trained with
    PyTorch (Adam, learning rate 0.01, mean absolute error, 150 full-batch steps) on every row of
    data/red-wine.csv min-max scaled (the quality too, as the course scales it), saved with its
    compile settings (adam, mae) and Adam's state (iterations, m and v) in the Keras layout."""
    import torch
    table = np.loadtxt(os.path.join(os.path.dirname(path), "red-wine.csv"), delimiter=",", skiprows=1)
    table = (table - table.min(axis=0)) / (table.max(axis=0) - table.min(axis=0))
    x = torch.tensor(table[:, :11], dtype=torch.float32)
    y = torch.tensor(table[:, 11:], dtype=torch.float32)
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(11, 16), torch.nn.ReLU(), torch.nn.Linear(16, 1))
    opt = torch.optim.Adam(net.parameters(), lr=0.01, eps=1e-7)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.l1_loss(net(x), y).backward()
        opt.step()
    as_keras = lambda t, kernel: (t.detach().numpy().T if kernel else t.detach().numpy()).astype(np.float32).copy()
    params = [(net[0].weight, True), (net[0].bias, False), (net[2].weight, True), (net[2].bias, False)]
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        put_string_attr(f.create_group("vars"), "name", "sequential")
        for k, path_name in enumerate(["dense", "dense_1"]):
            g = f.create_group(f"layers/{path_name}").create_group("vars")
            put_string_attr(g, "name", path_name)
            g["0"] = as_keras(*params[2 * k])
            g["1"] = as_keras(*params[2 * k + 1])
        g = f.create_group("optimizer").create_group("vars")
        put_string_attr(g, "name", "adam")
        g["0"] = np.int64(opt.state[net[0].weight]["step"])
        g["1"] = np.float32(0.01)
        for k, (p, kernel) in enumerate(params):
            g[str(2 + 2 * k)] = as_keras(opt.state[p]["exp_avg"], kernel)
            g[str(3 + 2 * k)] = as_keras(opt.state[p]["exp_avg_sq"], kernel)
    layer = lambda name, units, act, width: dict(serialized("keras.layers", "Dense", dense_config(name, units, act)),
                                                 build_config={"input_shape": [None, width]})
    optimizer = serialized("keras.optimizers", "Adam", {
        "name": "adam", "learning_rate": 0.01, "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
        "clipvalue": None, "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
        "loss_scale_factor": None, "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999,
        "epsilon": 1e-07, "amsgrad": False})
    config = {"module": "keras", "class_name": "Sequential", "registered_name": None,
              "config": {"name": "sequential", "trainable": True, "dtype": dtype_policy(), "layers": [
                  serialized("keras.layers", "InputLayer", {"batch_shape": [None, 11], "dtype": "float32",
                                                            "sparse": False, "name": "input_layer"}),
                  layer("dense", 16, "relu", 11), layer("dense_1", 1, "linear", 16)]},
              "build_config": {"input_shape": [None, 11]},
              "compile_config": {"optimizer": optimizer, "loss": "mae", "loss_weights": None, "metrics": None,
                                 "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
                                 "jit_compile": False}}
    keras_archive(path, config, buffer.getvalue())


def nested_container_golden(out, rng):
    """Golden outputs of the Keras-written file: three Dense(4, no bias) and a Dense(2), linear."""
    with zipfile.ZipFile(os.path.join(out, "pre_pr22362_nested_container.keras")) as z:
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
        x = rng.normal(0, 1, (5, 4))
        h = x
        for path in ["dense", "dense_1", "dense_2"]:
            h = h @ f[f"layers/{path}/vars/0"][()].astype(np.float64)
        y = h @ f["layers/dense_3/vars/0"][()].astype(np.float64) + f["layers/dense_3/vars/1"][()].astype(np.float64)
    golden(os.path.join(out, "pre_pr22362_nested_container.golden.json"), x, y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "keras"))
    args = parser.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(20261203)
    w = make_weights(rng)
    opt = optimizer_state(w, rng)
    x = rng.normal(0, 1, (6, 5))
    y = forward(w, x)
    golden(os.path.join(out, "model.golden.json"), x, y)
    with open(os.path.join(out, "model.optimizer.json"), "w") as f:
        json.dump({"iterations": int(opt[0]), "learning_rate": float(opt[1]),
                   "variables": [v.astype(np.float64).ravel().tolist() for v in opt[2:]]}, f)
        f.write("\n")

    p = lambda name: os.path.join(out, name)
    weights = h5_bytes(w=w, opt=opt, extra=True)
    keras_archive(p("keras3.keras"), keras3_config(), weights)
    keras_archive(p("keras3_deflated.keras"), keras3_config(), weights, zipfile.ZIP_DEFLATED)
    write_keras3_h5(p("keras3.weights.h5"), w=w, opt=opt)
    write_keras3_h5(p("keras35_no_names.weights.h5"), w=w, names=False)
    write_keras3_h5(p("keras310_no_empty_groups.weights.h5"), w=w, empty_groups=False)
    write_keras3_h5(p("tf213.weights.h5"), w=w, names=False, prefix="_layer_checkpoint_dependencies", extra=True)
    write_legacy_h5(p("legacy.h5"), w)
    write_legacy_h5(p("legacy_no_colon.h5"), w, colon=False)
    write_legacy_h5(p("legacy_split.weights.h5"), w, split=True, weights_only=True)
    legacy_optimizer_files(out, w, opt)
    legacy_step_files(out)

    # Files kerascpp must refuse.
    conv = dict(serialized("keras.layers", "Conv2D", {"name": "conv2d", "filters": 4, "kernel_size": [3, 3]}),
                build_config={"input_shape": [None, 8]})
    keras_archive(p("err_conv2d.keras"), keras3_config(extra_layer=conv), weights)
    keras_archive(p("err_center_false.keras"), keras3_config(center=False), weights)
    keras_archive(p("err_amsgrad.keras"), keras3_config(amsgrad=True), weights)
    write_zip(p("err_bad_json.keras"), [("metadata.json", "{}"), ("config.json", '{"class_name": "Sequential", '),
                                        ("model.weights.h5", weights)])
    write_zip(p("err_no_weights.keras"), [("metadata.json", "{}"), ("config.json", json.dumps(keras3_config()))])
    bad = dict(w, dense=[w["dense"][0][:, :7].copy(), w["dense"][1]])
    write_keras3_h5(p("err_shape.weights.h5"), w=bad)
    bad = dict(w, dense=[(w["dense"][0] * 100).astype(np.int32), w["dense"][1]])
    write_keras3_h5(p("err_int_kernel.weights.h5"), w=bad)
    with open(p("err_dims.weights.h5"), "wb") as f:
        f.write(patch_dims(h5_bytes(w=w), (5, 8), (5, 9)))
    write_zip(p("err_zip_bomb.keras"), [("metadata.json", "{}"), ("config.json", json.dumps(keras3_config())),
                                        ("model.weights.h5", bytes(20 << 20))], zipfile.ZIP_DEFLATED)

    metric_object_files(out)

    torch_file(out, rng)
    nested_container_golden(out, rng)
    red_wine_model(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "red-wine.keras"))


if __name__ == "__main__":
    main()
