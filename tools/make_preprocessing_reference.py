#!/usr/bin/env python3
"""Write the pandas / scikit-learn reference files that tests/test_preprocessing.cpp compares with.

Run it with Debian's python3, python3-pandas and python3-sklearn (pandas 1.5, scikit-learn 1.2,
scipy for ARFF; name /usr/bin/python3 when another python3 comes first on PATH):

    /usr/bin/python3 tools/make_preprocessing_reference.py

Everything goes to tests/data/preprocessing/:

    people.csv, people_new.csv   inputs: numbers, text categories (one missing), an integer code
                                 column and a text target
    dummies_*.csv                pd.get_dummies(...) outputs (dtype=float), header = column names
    onehot_new.csv               people_new.csv encoded with the categories of people.csv, unseen
                                 categories as all zeros (get_dummies + reindex, which is what
                                 scikit-learn's OneHotEncoder(handle_unknown="ignore") gives)
    scale_train.csv, scale_test.csv
                                 scaler inputs (a constant column, a missing value, a large offset)
    scaled_*.csv                 scikit-learn MinMaxScaler / StandardScaler outputs and inverses
    weather.arff, weather_arff.csv
                                 an ARFF file and what scipy.io.arff.loadarff reads from it
    lists.txt                    one line per list, "key|item|item|...": LabelEncoder classes and
                                 codes, factorize, value_counts, scaler attributes, feature names

Numbers are written with Python's repr (the shortest text that reads back as the same double), so
the C++ side can compare encoders exactly. The scalers are fed C-ordered arrays, whose column sums
numpy accumulates row by row, the order kerascpp sums in.
"""

import io
import os
import platform
import random

import numpy as np
import pandas as pd
import scipy
import scipy.io.arff
import sklearn
from sklearn.preprocessing import LabelEncoder, MinMaxScaler, OneHotEncoder, StandardScaler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "preprocessing")


def number(x):
    x = float(x)
    return "nan" if np.isnan(x) else repr(x)


def write_frame(name, frame):
    """A frame as CSV: header = column names, integers as integers, other numbers by repr, missing
    values as empty fields."""
    columns = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_integer_dtype(values):
            columns.append([str(int(v)) for v in values])
        elif pd.api.types.is_float_dtype(values):
            columns.append(["" if np.isnan(v) else repr(float(v)) for v in values])
        else:
            columns.append(["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in values])
    lines = [",".join(frame.columns)] + [",".join(row) for row in zip(*columns)]
    with open(os.path.join(OUT, name), "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def write_matrix(name, columns, matrix):
    write_frame(name, pd.DataFrame(np.asarray(matrix, dtype=float), columns=columns))


lists = []


def add_list(key, items):
    items = [number(v) if isinstance(v, (float, np.floating)) else str(v) for v in items]
    assert all("|" not in v and "\n" not in v for v in items)
    lists.append("|".join([key] + items))


def encoders():
    rng = random.Random(5)
    colors = ["red", "green", "blue", "Green", "yellow"]
    sizes = ["S", "M", "L", "XL"]
    labels = ["cat", "dog", "bird", "ant"]
    rows = []
    for i in range(24):
        rows.append({
            "height": round(rng.uniform(-3, 3), 3),
            "color": rng.choice(colors) if i != 5 else None,
            "size": rng.choice(sizes),
            "code": rng.choice([3, 1, 2, 10]),
            "label": rng.choice(labels),
        })
    train = pd.DataFrame(rows)
    write_frame("people.csv", train)
    train = pd.read_csv(os.path.join(OUT, "people.csv"))

    new = pd.DataFrame({
        "height": [0.5, -1.25, 2.0, 1.0],
        "color": ["blue", "purple", None, "red"],
        "size": ["M", "S", "XXL", "L"],
        "code": [1, 3, 7, 10],
        "label": ["dog", "cat", "ant", "bird"],
    })
    write_frame("people_new.csv", new)
    new = pd.read_csv(os.path.join(OUT, "people_new.csv"))

    write_frame("dummies_color_size.csv", pd.get_dummies(train, columns=["color", "size"], dtype=float))
    write_frame("dummies_all_text_drop_first.csv", pd.get_dummies(train, drop_first=True, dtype=float))
    write_frame("dummies_code.csv", pd.get_dummies(train, columns=["code"], dtype=float))
    write_frame("dummies_size_color_sep.csv",
                pd.get_dummies(train, columns=["size", "color"], prefix_sep="=", dtype=float))

    # Learned on train, applied to new; unseen categories (purple, XXL) become all zeros.
    fitted = pd.get_dummies(train, columns=["color", "size"], dtype=float)
    applied = pd.get_dummies(new, columns=["color", "size"], dtype=float).reindex(columns=fitted.columns,
                                                                                  fill_value=0.0)
    write_frame("onehot_new.csv", applied)
    # scikit-learn agrees on the categories, their order and the dummies of known values.
    complete = train.dropna()
    encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(complete[["color", "size"]])
    add_list("onehot sklearn feature names", encoder.get_feature_names_out(["color", "size"]))
    add_list("onehot sklearn new row 0", encoder.transform(new[["color", "size"]])[0])
    add_list("onehot sklearn new row 1", encoder.transform(new[["color", "size"]])[1])
    first = OneHotEncoder(drop="first", sparse_output=False).fit(complete[["color", "size"]])
    add_list("onehot sklearn drop first feature names", first.get_feature_names_out(["color", "size"]))

    le = LabelEncoder().fit(train["label"])
    add_list("label classes", le.classes_)
    add_list("label codes", le.transform(train["label"]))
    add_list("label new codes", le.transform(new["label"]))
    add_list("label inverse 3 0 1", le.inverse_transform([3, 0, 1]))
    le_color = LabelEncoder().fit(complete["color"])
    add_list("color classes", le_color.classes_)

    for sort in (False, True):
        codes, uniques = pd.factorize(train["color"], sort=sort)
        add_list(f"factorize color sort={sort} codes", codes)
        add_list(f"factorize color sort={sort} uniques", uniques)

    for column in ("color", "size", "label", "code", "height"):
        counts = train[column].value_counts()
        add_list(f"value_counts {column} values", counts.index)
        add_list(f"value_counts {column} counts", counts.values)

    # Many distinct values with ties: pandas 1.5 orders them by numpy's unstable quicksort.
    rng = random.Random(11)
    names = [f"v{k:03d}" for k in range(80)]
    values = [rng.choice(names) for _ in range(400)]
    pd.DataFrame({"item": values}).to_csv(os.path.join(OUT, "many_values.csv"), index=False)
    counts = pd.read_csv(os.path.join(OUT, "many_values.csv"))["item"].value_counts()
    add_list("value_counts many values", counts.index)
    add_list("value_counts many counts", counts.values)


def scalers():
    rng = np.random.RandomState(3)
    n = 30
    train = pd.DataFrame({
        "a": np.round(rng.normal(5.0, 2.0, n), 6),
        "constant": np.full(n, 7.25),
        "offset": 1e6 + np.round(rng.uniform(0, 1, n), 9),
        "tiny": rng.normal(0, 1e-8, n),
        "with_nan": np.where(np.arange(n) % 7 == 3, np.nan, np.round(rng.uniform(-10, 10, n), 4)),
    })
    test = pd.DataFrame({
        "a": [0.0, 5.0, 12.5],
        "constant": [7.25, 8.0, -1.0],
        "offset": [1e6, 1e6 + 0.5, 1e6 + 2.0],
        "tiny": [0.0, 1e-8, -3e-8],
        "with_nan": [np.nan, 0.0, 25.0],
    })
    write_frame("scale_train.csv", train)
    write_frame("scale_test.csv", test)
    train = pd.read_csv(os.path.join(OUT, "scale_train.csv"))
    test = pd.read_csv(os.path.join(OUT, "scale_test.csv"))
    x = np.ascontiguousarray(train.to_numpy(dtype=float))
    t = np.ascontiguousarray(test.to_numpy(dtype=float))
    columns = list(train.columns)

    cases = {
        "minmax": MinMaxScaler(),
        "minmax_range": MinMaxScaler(feature_range=(-1.0, 2.0)),
        "standard": StandardScaler(),
        "standard_no_mean": StandardScaler(with_mean=False),
    }
    for name, scaler in cases.items():
        scaler.fit(x)
        write_matrix(f"scaled_{name}_train.csv", columns, scaler.transform(x))
        write_matrix(f"scaled_{name}_test.csv", columns, scaler.transform(t))
        write_matrix(f"scaled_{name}_inverse.csv", columns, scaler.inverse_transform(t))
        for attribute in ("data_min_", "data_max_", "data_range_", "scale_", "min_", "mean_", "var_"):
            if hasattr(scaler, attribute) and getattr(scaler, attribute) is not None:
                add_list(f"{name} {attribute}", getattr(scaler, attribute))


WEATHER = """% The weather data, with the corners of the format: comments, quoted names and values,
% missing values, mixed-case keywords, blank lines and CRLF line ends.
@RELATION weather

@attribute outlook {sunny, overcast, 'light rain'}
@ATTRIBUTE temperature NUMERIC
@attribute 'relative humidity' real
@attribute windy {TRUE, FALSE}
@Attribute play {yes,no}
@attribute day integer

@data
% a comment inside the data
sunny,85,85,FALSE,no,1
sunny, 80, 90,TRUE,no, 2
overcast,83,?,FALSE,yes,3
light rain,70,96,FALSE,yes,4
light rain,68,80,?,yes,5
?,65.5,70,TRUE,no,6
overcast,-64,65,TRUE,yes,7
sunny,72,95,FALSE,no,8
"""


def arff():
    path = os.path.join(OUT, "weather.arff")
    with open(path, "w", newline="") as f:
        f.write(WEATHER.replace("\n", "\r\n"))
    data, meta = scipy.io.arff.loadarff(path)
    frame = pd.DataFrame(data)
    for name in frame.columns:
        if frame[name].dtype == object:
            frame[name] = [None if v == b"?" else v.decode() for v in frame[name]]
    write_frame("weather_arff.csv", frame)
    add_list("arff names", meta.names())
    add_list("arff types", meta.types())


def main():
    os.makedirs(OUT, exist_ok=True)
    encoders()
    scalers()
    arff()
    header = (f"# written by tools/make_preprocessing_reference.py with Python {platform.python_version()}, "
              f"pandas {pd.__version__}, scikit-learn {sklearn.__version__}, numpy {np.__version__}, "
              f"scipy {scipy.__version__}")
    with open(os.path.join(OUT, "lists.txt"), "w", newline="\n") as f:
        f.write(header + "\n" + "\n".join(lists) + "\n")


if __name__ == "__main__":
    main()
