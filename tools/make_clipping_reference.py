#!/usr/bin/env python3
"""Write the PyTorch gradient-clipping reference that tests/test_clipping.cpp compares with.

Run it with Debian's python3 and python3-torch (PyTorch 1.13; name /usr/bin/python3 when another
python3 comes first on PATH):

    /usr/bin/python3 tools/make_clipping_reference.py

It writes tests/data/clipping_reference.txt, one line per tensor, fields separated by "|":

    shapes|3x4|1x4|4x2               the shapes of the three gradient tensors, in store order
    grad|<k>|<values>                tensor k's gradient, row by row
    <case>|<k>|<values>              tensor k after the clipping of <case>:
        clipnorm <c>                 torch.nn.utils.clip_grad_norm_ on each tensor by itself
        global_clipnorm <c>          torch.nn.utils.clip_grad_norm_ on the three tensors together
        clipvalue <c>                torch.nn.utils.clip_grad_value_ on the three tensors
    norm|<k>|<value>                 each tensor's L2 norm; norm|all|<value> the global one

The tensors are float64 and every number is written with Python's repr (the shortest text that
reads back as the same double). PyTorch scales by max_norm / (norm + 1e-6), clamped to 1, where
Keras (and kerascpp) scale by max_norm / max(norm, max_norm): the two differ by the factor
norm / (norm + 1e-6) when a tensor is clipped, which the test allows for.
"""

import os

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "clipping_reference.txt")

SHAPES = [(3, 4), (1, 4), (4, 2)]
SCALES = [3.0, 0.05, 1.0]  # the first tensor's norm is large, the second's small


def gradients():
    generator = torch.Generator().manual_seed(20261203)
    return [torch.randn(shape, generator=generator, dtype=torch.float64) * scale
            for shape, scale in zip(SHAPES, SCALES)]


def as_parameters(grads):
    params = []
    for g in grads:
        p = torch.zeros_like(g, requires_grad=True)
        p.grad = g.clone()
        params.append(p)
    return params


def values(t):
    return ",".join(repr(float(v)) for v in t.reshape(-1).tolist())


def main():
    grads = gradients()
    lines = [
        "# written by tools/make_clipping_reference.py with torch " + torch.__version__,
        "shapes|" + "|".join(f"{r}x{c}" for r, c in SHAPES),
    ]
    for k, g in enumerate(grads):
        lines.append(f"grad|{k}|{values(g)}")
    for k, g in enumerate(grads):
        lines.append(f"norm|{k}|{repr(float(torch.linalg.vector_norm(g)))}")
    total = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    lines.append(f"norm|all|{repr(float(total))}")

    for c in [1.0, 2.5]:
        params = as_parameters(grads)
        for p in params:
            torch.nn.utils.clip_grad_norm_([p], max_norm=c)
        lines += [f"clipnorm {c!r}|{k}|{values(p.grad)}" for k, p in enumerate(params)]
    for c in [1.0, 100.0]:
        params = as_parameters(grads)
        torch.nn.utils.clip_grad_norm_(params, max_norm=c)
        lines += [f"global_clipnorm {c!r}|{k}|{values(p.grad)}" for k, p in enumerate(params)]
    for c in [0.5]:
        params = as_parameters(grads)
        torch.nn.utils.clip_grad_value_(params, clip_value=c)
        lines += [f"clipvalue {c!r}|{k}|{values(p.grad)}" for k, p in enumerate(params)]

    with open(OUT, "w", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
