#!/usr/bin/python3
"""Writes the safetensors fixtures for model/safetensors_test.go using only numpy.

tiny_gelu.safetensors: a 4-6-5-3 GELU MLP (exact erf GELU, as torch.nn.GELU)
with lineage metadata (labels, activation, normalisation) and
tiny_gelu.json: inputs and the softmax outputs expected for them.

tiny_nometa.safetensors: a 3-4-2 MLP without __metadata__ (so relu, labels
"0","1") and tiny_nometa.json likewise.

Run from this directory: /usr/bin/python3 make_safetensors.py
"""
import json
import math
import struct

import numpy as np


def write_safetensors(path, tensors, metadata=None):
    header = {}
    if metadata is not None:
        header["__metadata__"] = metadata
    offset = 0
    blobs = []
    for name, arr in tensors:
        arr = np.ascontiguousarray(arr, dtype="<f4")
        b = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def gelu(z):
    erf = np.vectorize(math.erf)
    return 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))


def relu(z):
    return np.maximum(z, 0.0)


def forward(layers, act, x, mean=None, std=None):
    h = x.astype(np.float64)
    if mean is not None:
        h = (h - mean) / std
    for i, (w, b) in enumerate(layers):
        h = h @ w.T.astype(np.float64) + b.astype(np.float64)
        if i < len(layers) - 1:
            h = act(h)
    h = h - h.max(axis=1, keepdims=True)
    e = np.exp(h)
    return e / e.sum(axis=1, keepdims=True)


def make(rng, sizes):
    layers = []
    for i in range(len(sizes) - 1):
        w = rng.normal(0, 1 / math.sqrt(sizes[i]), size=(sizes[i + 1], sizes[i])).astype(np.float32)
        b = rng.normal(0, 0.1, size=(sizes[i + 1],)).astype(np.float32)
        layers.append((w, b))
    return layers


def tensors(layers):
    out = []
    for i, (w, b) in enumerate(layers):
        out += [("layers.%d.weight" % i, w), ("layers.%d.bias" % i, b)]
    return out


def main():
    rng = np.random.default_rng(20240601)

    sizes = [4, 6, 5, 3]
    layers = make(rng, sizes)
    mean = np.array([0.5, -1.0, 2.0, 0.0], dtype=np.float32)
    std = np.array([1.5, 0.5, 2.0, 1.0], dtype=np.float32)
    labels = ["cat", "dog", "bird"]
    meta = {
        "format": "lineage-mlp",
        "name": "tiny-gelu",
        "activation": "gelu",
        "labels": json.dumps(labels),
        "normalization": json.dumps({"mean": mean.tolist(), "std": std.tolist()}),
    }
    write_safetensors("tiny_gelu.safetensors", tensors(layers), meta)
    x = rng.normal(0, 2, size=(5, 4)).astype(np.float32)
    p = forward(layers, gelu, x, mean.astype(np.float64), std.astype(np.float64))
    with open("tiny_gelu.json", "w") as f:
        json.dump({"sizes": sizes, "labels": labels, "x": x.tolist(), "p": p.tolist()}, f, indent=1)

    sizes = [3, 4, 2]
    layers = make(rng, sizes)
    write_safetensors("tiny_nometa.safetensors", tensors(layers))
    x = rng.normal(0, 1, size=(4, 3)).astype(np.float32)
    p = forward(layers, relu, x)
    with open("tiny_nometa.json", "w") as f:
        json.dump({"sizes": sizes, "labels": ["0", "1"], "x": x.tolist(), "p": p.tolist()}, f, indent=1)


if __name__ == "__main__":
    main()
