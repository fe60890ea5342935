#!/usr/bin/env python3
"""Check a `.keras` file saved by kerascpp against what Keras 3 writes, with h5py and NumPy.

ctest runs it as keras_files_h5py_check:

    python3 tools/check_keras_file.py --run <test_keras_files executable> --dir <folder>

It first runs the test case of tests/test_keras_files.cpp that trains a small model
(Dense(6, relu) -> BatchNormalization(momentum=0.8) -> Dense(3, tanh) -> Dense(1), Adam, mse, the
metric "mae" by name and a RootMeanSquaredError object) and
saves `roundtrip.keras` and its predictions (`roundtrip.predictions.json`) in the folder. Then it
checks the archive (entries, order, stored), metadata.json, config.json (the metric object
serialized as Keras 3 serializes it), and in model.weights.h5
every group, dataset, shape, dtype, storage layout and `name` attribute Keras 3 writes, and that a
NumPy forward pass of the file's weights equals kerascpp's predictions. It then runs the test case
that saves `normalization_schedule.keras` (an adapted Normalization -> Dense(5, tanh) -> Dense(1),
Adam with an ExponentialDecay schedule and clipnorm, Huber(2.0)) and checks it the same way: the
Normalization layer and the serialized schedule in config.json, the variables mean, variance and
the int64 scalar count of the layer, the optimizer's variables without a learning rate, and a
NumPy forward pass. Exits 77 (skipped) when h5py or NumPy is missing, 1 with a list of differences
otherwise.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import zipfile

try:
    import h5py
    import numpy as np
except ImportError as e:
    print(f"skipped: {e}")
    sys.exit(77)

TEST = "save_model writes what Keras 3 writes and loads back: same predictions, same continued training"
NORMALIZATION_TEST = "save_model writes an adapted Normalization, a schedule and clipping for the h5py check"


ACTIVATIONS = {"linear": lambda h: h, "relu": lambda h: np.maximum(h, 0), "tanh": np.tanh}


def forward_difference(folder, stem, layers, f):
    """Largest difference between kerascpp's predictions (<stem>.predictions.json) and a NumPy
    forward pass of the weights in `f`, layer by layer as config.json lists them (each layer's
    variables under layers/<snake_case class name, numbered on repeat>/vars)."""
    predictions = json.load(open(os.path.join(folder, f"{stem}.predictions.json")))
    h = np.array(predictions["x"], dtype=np.float64)
    seen = {}
    for layer in layers[1:]:  # after the InputLayer
        kind = layer["class_name"]
        snake = {"Dense": "dense", "BatchNormalization": "batch_normalization", "Normalization": "normalization"}[kind]
        path = snake if snake not in seen else f"{snake}_{seen[snake]}"
        seen[snake] = seen.get(snake, 0) + 1
        w = lambda k: f[f"layers/{path}/vars/{k}"][()].astype(np.float64)
        if kind == "Dense":
            h = ACTIVATIONS[layer["config"]["activation"]](h @ w(0) + w(1))
        elif kind == "BatchNormalization":
            h = (h - w(2)) / np.sqrt(w(3) + layer["config"]["epsilon"]) * w(0) + w(1)
        else:
            h = (h - w(0)) / np.maximum(np.sqrt(w(1)), 1e-7)
    return np.abs(h - np.array(predictions["y"])).max()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--run", help="the test_keras_files executable, to write the file first")
    parser.add_argument("--dir", required=True)
    args = parser.parse_args()
    if args.run:
        for test in (TEST, NORMALIZATION_TEST):
            subprocess.run([args.run, test.replace(",", "\\,")], check=True, stdout=subprocess.DEVNULL)
    problems = []

    def expect(condition, message):
        if not condition:
            problems.append(message)

    path = os.path.join(args.dir, "roundtrip.keras")
    with zipfile.ZipFile(path) as z:
        infos = z.infolist()
        expect([i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"],
               f"entries {[i.filename for i in infos]}")
        expect(all(i.compress_type == zipfile.ZIP_STORED for i in infos), "entries are not all stored")
        expect(z.testzip() is None, "a CRC does not match")
        metadata = json.loads(z.read("metadata.json"))
        config = json.loads(z.read("config.json"))
        weights = z.read("model.weights.h5")
    expect(metadata.get("keras_version") == "3.15.0", f"metadata {metadata}")
    expect("date_saved" in metadata, "metadata has no date_saved")
    expect(config["class_name"] == "Sequential" and config["module"] == "keras", "config is not a keras Sequential")
    layers = config["config"]["layers"]
    expect([l["class_name"] for l in layers] == ["InputLayer", "Dense", "BatchNormalization", "Dense", "Dense"],
           f"layers {[l['class_name'] for l in layers]}")
    expect(layers[0]["config"]["batch_shape"] == [None, 4], "InputLayer batch_shape")
    expect(layers[1]["config"]["activation"] == "relu" and layers[1]["config"]["units"] == 6, "first Dense")
    expect(layers[1]["config"]["kernel_initializer"]["class_name"] == "GlorotUniform", "kernel_initializer")
    bn = layers[2]["config"]
    expect(bn["momentum"] == 0.8 and bn["epsilon"] == 0.001 and bn["center"] and bn["scale"], "BatchNormalization")
    compile_config = config["compile_config"]
    optimizer = compile_config["optimizer"]
    expect(optimizer["class_name"] == "Adam" and optimizer["module"] == "keras.optimizers", "optimizer")
    expect(optimizer["config"]["learning_rate"] == 0.01 and optimizer["config"]["name"] == "adam", "optimizer config")
    expect(compile_config["loss"] == "mean_squared_error", f"loss {compile_config['loss']}")
    rmse = {"module": "keras.metrics", "class_name": "RootMeanSquaredError",
            "config": {"name": "root_mean_squared_error", "dtype": "float32"}, "registered_name": None}
    expect(compile_config["metrics"] == ["mae", rmse], f"metrics {compile_config['metrics']}")

    f = h5py.File(io.BytesIO(weights), "r")
    seen = {}

    def visit(name, obj):
        seen[name] = obj  # returns None: visititems stops at the first value that is not None

    f.visititems(visit)
    expected_datasets = {
        "layers/dense/vars/0": (4, 6), "layers/dense/vars/1": (6,),
        "layers/batch_normalization/vars/0": (6,), "layers/batch_normalization/vars/1": (6,),
        "layers/batch_normalization/vars/2": (6,), "layers/batch_normalization/vars/3": (6,),
        "layers/dense_1/vars/0": (6, 3), "layers/dense_1/vars/1": (3,),
        "layers/dense_2/vars/0": (3, 1), "layers/dense_2/vars/1": (1,),
        "optimizer/vars/0": (), "optimizer/vars/1": (),
    }
    trainable = [(4, 6), (6,), (6,), (6,), (6, 3), (3,), (3, 1), (1,)]
    for i, shape in enumerate(trainable):
        expected_datasets[f"optimizer/vars/{2 + 2 * i}"] = shape
        expected_datasets[f"optimizer/vars/{3 + 2 * i}"] = shape
    names = {"vars": "sequential", "layers/dense/vars": "dense", "layers/batch_normalization/vars": "batch_normalization",
             "layers/dense_1/vars": "dense_1", "layers/dense_2/vars": "dense_2", "optimizer/vars": "adam"}
    datasets = {n for n, o in seen.items() if isinstance(o, h5py.Dataset)}
    expect(datasets == set(expected_datasets), f"datasets {sorted(datasets ^ set(expected_datasets))} differ")
    for name, shape in expected_datasets.items():
        if name not in seen:
            continue
        d = seen[name]
        expect(d.shape == shape, f"{name} shape {d.shape}, expected {shape}")
        dtype = "<i8" if name == "optimizer/vars/0" else "<f4"
        expect(d.dtype.str == dtype, f"{name} dtype {d.dtype.str}, expected {dtype}")
        expect(d.id.get_create_plist().get_layout() == h5py.h5d.CONTIGUOUS, f"{name} is not contiguous")
        expect(d.compression is None and len(d.attrs) == 0, f"{name} has compression or attributes")
    for group, name in names.items():
        g = f.get(group)
        expect(isinstance(g, h5py.Group), f"no group {group}")
        if not isinstance(g, h5py.Group):
            continue
        expect(list(g.attrs) == ["name"] and g.attrs["name"] == name, f"{group} attrs {dict(g.attrs)}")
        attr = g.attrs.get_id("name")
        t = attr.get_type()
        expect(isinstance(t, h5py.h5t.TypeStringID) and t.is_variable_str() and t.get_cset() == h5py.h5t.CSET_UTF8
               and attr.shape == (), f"{group} attribute 'name' is not a scalar variable-length UTF-8 string")
    expect(f["optimizer/vars/0"][()] > 0, "iterations")
    expect(abs(f["optimizer/vars/1"][()] - 0.01) < 1e-9, "learning rate")

    difference = forward_difference(args.dir, "roundtrip", layers, f)
    expect(difference < 1e-5, f"NumPy forward pass differs from kerascpp's predict by {difference}")

    if problems:
        print("roundtrip.keras differs from what Keras 3 writes:\n  " + "\n  ".join(problems))
        return 1
    print(f"roundtrip.keras: {len(datasets)} datasets, {len(names)} named groups as Keras 3 writes them; "
          f"NumPy forward pass within {difference:.2e} of kerascpp's predict")
    return check_normalization_schedule(args.dir)


def check_normalization_schedule(folder):
    """normalization_schedule.keras: Normalization and a learning-rate schedule as Keras 3 writes them."""
    problems = []

    def expect(condition, message):
        if not condition:
            problems.append(message)

    with zipfile.ZipFile(os.path.join(folder, "normalization_schedule.keras")) as z:
        config = json.loads(z.read("config.json"))
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    layers = config["config"]["layers"]
    expect([l["class_name"] for l in layers] == ["InputLayer", "Normalization", "Dense", "Dense"],
           f"layers {[l['class_name'] for l in layers]}")
    norm = layers[1]
    expect(norm["module"] == "keras.layers" and norm["build_config"] == {"input_shape": [None, 4]}, "Normalization")
    expect({k: norm["config"][k] for k in ("axis", "invert", "mean", "variance")} ==
           {"axis": [-1], "invert": False, "mean": None, "variance": None}, f"Normalization config {norm['config']}")
    optimizer = config["compile_config"]["optimizer"]["config"]
    schedule = {"module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
                "config": {"initial_learning_rate": 0.01, "decay_steps": 10, "decay_rate": 0.9, "staircase": False,
                           "name": "ExponentialDecay"}, "registered_name": None}
    expect(optimizer["learning_rate"] == schedule, f"learning_rate {optimizer['learning_rate']}")
    expect((optimizer["clipnorm"], optimizer["global_clipnorm"], optimizer["clipvalue"]) == (1.0, None, None), "clipping")
    expect(config["compile_config"]["loss"]["class_name"] == "Huber"
           and config["compile_config"]["loss"]["config"]["delta"] == 2.0, f"loss {config['compile_config']['loss']}")

    group = f["layers/normalization/vars"]
    expect(sorted(group) == ["0", "1", "2"] and group.attrs["name"] == "normalization", "normalization vars")
    expect(group["0"].shape == (4,) and group["1"].shape == (4,) and group["0"].dtype.str == "<f4", "mean, variance")
    expect(group["2"].shape == () and group["2"].dtype.str == "<i8" and group["2"][()] == 0, "count")
    trainable = [(4, 5), (5,), (5, 1), (1,)]
    expect(len(f["optimizer/vars"]) == 1 + 2 * len(trainable), f"optimizer variables {sorted(f['optimizer/vars'])}")
    expect(f["optimizer/vars/0"].dtype.str == "<i8" and f["optimizer/vars/0"][()] == 9, "iterations")
    for i, shape in enumerate(trainable):
        for k in (1 + 2 * i, 2 + 2 * i):
            expect(f[f"optimizer/vars/{k}"].shape == shape, f"optimizer/vars/{k} shape {f[f'optimizer/vars/{k}'].shape}")

    difference = forward_difference(folder, "normalization_schedule", layers, f)
    expect(difference < 1e-5, f"NumPy forward pass differs from kerascpp's predict by {difference}")
    if problems:
        print("normalization_schedule.keras differs from what Keras 3 writes:\n  " + "\n  ".join(problems))
        return 1
    print(f"normalization_schedule.keras: Normalization and ExponentialDecay as Keras 3 writes them; "
          f"NumPy forward pass within {difference:.2e} of kerascpp's predict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
