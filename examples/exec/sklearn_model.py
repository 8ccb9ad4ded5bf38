#!/usr/bin/python3
"""A scikit-learn digits classifier served over lineage's exec protocol.

At startup it fits a LogisticRegression (fixed random_state) on
sklearn's bundled load_digits data (64 raw pixel features in 0..16,
labels "0".."9"), then speaks the protocol documented in
remote/doc.go and README.md on stdin/stdout:

    lineage --db case.db probe "exec:/usr/bin/python3 examples/exec/sklearn_model.py" --suite acme --name sk-1

Only Debian packages are needed (python3-sklearn, python3-numpy).
"""
import json
import sys
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression


def main():
    warnings.filterwarnings("ignore")  # convergence chatter would go to stderr
    digits = load_digits()
    clf = LogisticRegression(max_iter=300, random_state=0)
    clf.fit(digits.data, digits.target)
    labels = [str(c) for c in clf.classes_]
    d = digits.data.shape[1]
    print(f"sklearn_model: trained, accuracy on training data {clf.score(digits.data, digits.target):.3f}",
          file=sys.stderr, flush=True)

    out = sys.stdout
    out.write(json.dumps({"lineage_exec": 1, "name": "sklearn-digits-logreg",
                          "input_size": d, "labels": labels}) + "\n")
    out.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req["id"]
            x = np.asarray(req["inputs"], dtype=np.float64)
            if x.ndim != 2 or x.shape[1] != d:
                raise ValueError(f"inputs have shape {x.shape}, want [n, {d}]")
            p = clf.predict_proba(x)
            ans = {"id": rid, "probabilities": p.astype(np.float32).tolist()}
        except Exception as e:  # report the failure, keep serving
            ans = {"id": rid, "error": str(e)}
        out.write(json.dumps(ans) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
