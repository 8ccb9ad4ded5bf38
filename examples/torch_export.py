#!/usr/bin/python3
"""Train a PyTorch MLP on lineage's digits split and export it for lineage.

Needs only Debian's python3-torch and python3-numpy (no safetensors
package: the format is written by hand). First write lineage's split:

    go run ./examples/datasplit --data digits --out split
    /usr/bin/python3 examples/torch_export.py split teacher.safetensors
    lineage eval teacher.safetensors --data digits     # the same test accuracy

The file holds what lineage reads (README, "Models from PyTorch"):
  * tensors layers.{i}.weight [out, in] and layers.{i}.bias [out], the
    nn.Linear layers numbered 0, 1, 2, ... (not the nn.Sequential indices
    0, 2, 4, ... of its state_dict);
  * __metadata__, strings only: "activation" ("relu", "tanh" or "gelu"),
    "labels" (a JSON list, in output order) and "normalization" (JSON
    {"mean": [...], "std": [...]}, one number per input: lineage feeds the
    model (x - mean) / std of the raw inputs, so whatever scaling the model
    was trained with must be written here; without it lineage feeds raw
    pixels and the model's answers are wrong).
"""
import json
import struct
import sys

import numpy as np
import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.float16: "F16", torch.bfloat16: "BF16"}


def save_safetensors(path, net, labels, mean, std, activation="relu", dtype=torch.float32):
    """Writes the nn.Linear layers of net with lineage's names and metadata."""
    linears = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    header = {"__metadata__": {
        "activation": activation,
        "labels": json.dumps(labels),
        "normalization": json.dumps({"mean": [float(v) for v in mean], "std": [float(v) for v in std]}),
    }}
    blobs, off = [], 0
    for i, lin in enumerate(linears):
        for kind, t in (("weight", lin.weight), ("bias", lin.bias)):
            t = t.detach().to(dtype).contiguous()
            raw = (t.view(torch.int16) if dtype == torch.bfloat16 else t).numpy().tobytes()
            header[f"layers.{i}.{kind}"] = {"dtype": DTYPES[dtype], "shape": list(t.shape),
                                            "data_offsets": [off, off + len(raw)]}
            blobs.append(raw)
            off += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def load(path):
    a = np.loadtxt(path, delimiter=",", dtype=np.float32, ndmin=2)
    return torch.tensor(a[:, :-1]), torch.tensor(a[:, -1].astype(np.int64))


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: torch_export.py SPLIT_DIR OUT.safetensors")
    split, out = sys.argv[1], sys.argv[2]
    xtr, ytr = load(f"{split}/train.csv")
    xte, yte = load(f"{split}/test.csv")
    with open(f"{split}/labels.json") as f:
        labels = json.load(f)
    mean = xtr.mean(0)
    std = xtr.std(0, unbiased=False)
    std[std < 1e-3 * float(xtr.max() - xtr.min())] = 1.0  # constant pixels: lineage refuses a zero std
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(xtr.shape[1], 64), torch.nn.ReLU(), torch.nn.Linear(64, len(labels)))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    z = (xtr - mean) / std
    for _ in range(40):
        perm = torch.randperm(len(z))
        for i in range(0, len(z), 64):
            idx = perm[i:i + 64]
            loss = torch.nn.functional.cross_entropy(net(z[idx]), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        p = torch.softmax(net((xte - mean) / std), dim=1)
    print(f"test accuracy {(p.argmax(1) == yte).float().mean().item():.6f} on {len(yte)} rows")
    print("first test row's probabilities", [round(v, 6) for v in p[0].tolist()])
    save_safetensors(out, net, labels, mean, std)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
