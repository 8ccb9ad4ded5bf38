# Independent computation of fingerprint content hashes (rules 1, 2 and 3)
# from the canonical form fingerprint.ComputeHash documents, for the values
# TestHashPinned, TestHashRemotePinned and TestHashHeaderPinned pin. Run:
# /usr/bin/python3 fingerprint/testdata/hash_rules.py
import hashlib, struct
def u64(v): return struct.pack('<Q', v & 0xFFFFFFFFFFFFFFFF)
def s(x): b = x.encode(); return u64(len(b)) + b
def fp_hash(suite, model, rows, cols, topk, p, meta):
    h = hashlib.sha256()
    h.update(b"lineage-fingerprint-v1" + s(suite) + s(model["hash"]) + u64(rows) + u64(cols) + u64(topk))
    for v in p: h.update(struct.pack('<f', v))
    keys = ["defaulted_metadata", "label_map"]
    if "hash_rule" in meta:
        keys += ["hash_rule", "remote", "answer_variation", "nearby_variation", "outputs", "output", "output_chosen_by"]
    for k in keys:
        if k in meta: h.update(b"meta" + s(k) + s(meta[k]))
    if "hash_rule" in meta and meta["hash_rule"] != "2":
        h.update(b"model" + s(model["name"]) + s(model["kind"]) + u64(model["input_size"]) + u64(len(model["labels"])))
        for l in model["labels"]: h.update(s(l))
        h.update(u64(model["params"]) + s(model["source"]))
    return h.hexdigest()
P = [0.5, 0.25, 0.25, 0.1, 0.2, 0.7]
# sanity: the rule-1 and rule-2 pinned values
bare = {"hash": "mh"}
print("rule1", fp_hash("suite", bare, 2, 3, 0, P, {}))
remote = {"remote": "url", "source": "http://x", "requests": "7", "retries": "0", "warnings": "0",
  "answer_variation": "0", "nearby_variation": "0.01", "queries_asked_again": "16", "outputs": "logits (softmax taken by lineage)",
  "output": "probs", "other_outputs": "logits", "output_chosen_by": "--output"}
print("rule2", fp_hash("suite", bare, 2, 3, 0, P, dict(remote, hash_rule="2")))
hdr = {"hash": "mh", "name": "m", "kind": "classifier", "input_size": 4, "labels": ["a", "b", "c"], "params": 123, "source": "/models/m.lnm"}
print("rule3 local", fp_hash("suite", hdr, 2, 3, 0, P, {"label_map": "x=a,y=b,z=c", "hash_rule": "3"}))
print("rule3 remote", fp_hash("suite", dict(hdr, hash="", source="http://x/v2/models/m", input_size=-1, params=0, labels=[]), 2, 3, 0, P, dict(remote, hash_rule="3")))
