#!/usr/bin/python3
"""A minimal Open Inference Protocol v2 REST server: standard library + numpy.

It fits a softmax regression with plain numpy gradient descent (fixed
initialisation, full batch, 300 steps) on the digits CSV (64 pixel
columns then the label; default: scikit-learn's bundled digits.csv.gz,
or --data PATH) and serves it as model NAME (default "digits-softmax"):

    /usr/bin/python3 examples/oip_server.py --port 0
    lineage --db case.db audit http://127.0.0.1:PORT/v2/models/digits-softmax

The first line on stdout is "listening on http://127.0.0.1:PORT". It
exists so that lineage's client is tested against an implementation of
the protocol other than its own (package serve). Requests may send FP32
or FP64 data, flat or nested; the output is FP32 "probabilities".
"""
import argparse
import glob
import gzip
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np


def find_digits():
    for pattern in ("/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz",
                    "/usr/local/lib/python3*/dist-packages/sklearn/datasets/data/digits.csv.gz"):
        hits = glob.glob(pattern)
        if hits:
            return hits[0]
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "..", "dataset", "data", "digits.csv.gz")


def load_csv(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        data = np.loadtxt(f, delimiter=",")
    return data[:, :-1], data[:, -1].astype(int)


def fit_softmax(x, y, k, steps=300, lr=0.5):
    xs = x / 16.0
    n, d = xs.shape
    w = np.zeros((d, k))
    b = np.zeros(k)
    onehot = np.eye(k)[y]
    for _ in range(steps):
        z = xs @ w + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) / n
        w -= lr * (xs.T @ g + 1e-4 * w)
        b -= lr * g.sum(axis=0)
    return w, b


class Model:
    def __init__(self, name, w, b):
        self.name, self.w, self.b = name, w, b
        self.d, self.k = w.shape

    def predict(self, x):
        z = (x / 16.0) @ self.w + self.b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        return p / p.sum(axis=1, keepdims=True)


def make_handler(model):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet
            pass

        def reply(self, status, obj):
            body = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            base = "/v2/models/" + model.name
            if self.path in ("/v2/health/live", "/v2/health/ready"):
                self.reply(200, {})
            elif self.path == "/v2":
                self.reply(200, {"name": "oip_server.py", "version": "1", "extensions": []})
            elif self.path == base:
                self.reply(200, {
                    "name": model.name, "versions": ["1"], "platform": "numpy",
                    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, model.d]}],
                    "outputs": [{"name": "probs", "datatype": "FP32", "shape": [-1, model.k]}],
                })
            elif self.path == base + "/ready":
                self.reply(200, {"name": model.name, "ready": True})
            else:
                self.reply(404, {"error": "not found: " + self.path})

        def do_POST(self):
            if self.path != "/v2/models/" + model.name + "/infer":
                self.reply(404, {"error": "not found: " + self.path})
                return
            try:
                n = int(self.headers.get("Content-Length", "0"))
                req = json.loads(self.rfile.read(n))
                inp = req["inputs"][0]
                if inp["datatype"] not in ("FP32", "FP64"):
                    raise ValueError("datatype " + inp["datatype"])
                x = np.asarray(inp["data"], dtype=np.float64).reshape(inp["shape"])
                if x.ndim != 2 or x.shape[1] != model.d:
                    raise ValueError(f"shape {list(x.shape)}, want [n, {model.d}]")
            except Exception as e:
                self.reply(400, {"error": str(e)})
                return
            p = model.predict(x).astype(np.float32)
            # Nested data (allowed by the protocol) to exercise the client.
            out = {"model_name": model.name, "outputs": [
                {"name": "probs", "datatype": "FP32", "shape": list(p.shape), "data": p.tolist()}]}
            if "id" in req:
                out["id"] = req["id"]
            self.reply(200, out)

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--name", default="digits-softmax")
    ap.add_argument("--data", default=None, help="digits CSV (64 features then the label)")
    args = ap.parse_args()
    x, y = load_csv(args.data or find_digits())
    w, b = fit_softmax(x, y, int(y.max()) + 1)
    srv = ThreadingHTTPServer((args.host, args.port), make_handler(Model(args.name, w, b)))
    print(f"listening on http://{args.host}:{srv.server_address[1]}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
