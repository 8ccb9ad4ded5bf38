#!/usr/bin/python3
"""A small PyTorch MLP on the digits data served over lineage's exec protocol.

At startup it trains a 64-32-10 ReLU MLP (torch.manual_seed(0),
full-batch Adam, 120 steps, inputs scaled by 1/16 inside the model) on
sklearn's bundled digits, then speaks the exec protocol (remote/doc.go):

    lineage --db case.db audit "exec:/usr/bin/python3 examples/exec/torch_model.py"
"""
import json
import sys

import numpy as np
import torch
from sklearn.datasets import load_digits


def main():
    torch.manual_seed(0)
    torch.set_num_threads(1)
    digits = load_digits()
    x = torch.tensor(digits.data, dtype=torch.float32) / 16.0
    y = torch.tensor(digits.target, dtype=torch.long)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    for _ in range(120):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
    net.eval()
    print(f"torch_model: trained, final loss {loss.item():.4f}", file=sys.stderr, flush=True)

    out = sys.stdout
    out.write(json.dumps({"lineage_exec": 1, "name": "torch-digits-mlp", "input_size": 64,
                          "labels": [str(i) for i in range(10)]}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req["id"]
            xs = torch.tensor(np.asarray(req["inputs"], dtype=np.float32))
            if xs.ndim != 2 or xs.shape[1] != 64:
                raise ValueError(f"inputs have shape {tuple(xs.shape)}, want [n, 64]")
            with torch.no_grad():
                p = torch.softmax(net(xs / 16.0), dim=1)
            ans = {"id": rid, "probabilities": p.tolist()}
        except Exception as e:
            ans = {"id": rid, "error": str(e)}
        out.write(json.dumps(ans) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
