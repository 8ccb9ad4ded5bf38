# The label watermark's test (README "Label-only APIs carry a watermark"),
# recomputed from a `db export`: the enrolment's key and normalisation, the
# suite's watermark probes and the controls' fingerprints. README says what
# is tested and when leans are whitened; the rest is read from the Go code:
# package watermark (key.go: decoy i is SHA-256(key || "decoy" || uint64 LE
# i); mark.go: the C x D matrix of a key is NormFloat64()/sqrt(D) from
# math/rand/v2's ChaCha8 seeded with the key), Go's own internal/chacha8rand
# and math/rand/v2 NormFloat64 (tables in recompute_zig.py), reimplemented
# here with numpy, and audit/whiten.go (the Ledoit-Wolf formula, shrinkage
# at least 0.1, covariance over n) and markweigh.go (gonum's empirical
# median of the stand-ins).
import hashlib
import math
import struct

import numpy as np

from recompute_lib import t_sf
from recompute_zig import FN, KN, RN, WN

M32 = np.uint32(0xFFFFFFFF)


def _rotl(x, n):
    return (x << np.uint32(n)) | (x >> np.uint32(32 - n))


def _qr(a, b, c, d):
    a = a + b; d ^= a; d = _rotl(d, 16)
    c = c + d; b ^= c; b = _rotl(b, 12)
    a = a + b; d ^= a; d = _rotl(d, 8)
    c = c + d; b ^= c; b = _rotl(b, 7)
    return a, b, c, d


def _block(seed, counter):
    """chacha8rand's block for K seeds at once (seed: K x 4 uint64 as
    K x 8 uint32, low word first): 32 uint64 per seed, in Go's buffer
    order."""
    K = len(seed)
    consts = (0x61707865, 0x3320646e, 0x79622d32, 0x6b206574)
    b = [np.full((K, 4), c, np.uint32) for c in consts]
    b += [np.repeat(seed[:, w:w + 1], 4, 1) for w in range(8)]
    b.append(np.tile(np.arange(counter, counter + 4, dtype=np.uint32), (K, 1)))
    b += [np.zeros((K, 4), np.uint32) for _ in range(3)]
    x = [v.copy() for v in b]
    with np.errstate(over="ignore"):
        for _ in range(4):
            x[0], x[4], x[8], x[12] = _qr(x[0], x[4], x[8], x[12])
            x[1], x[5], x[9], x[13] = _qr(x[1], x[5], x[9], x[13])
            x[2], x[6], x[10], x[14] = _qr(x[2], x[6], x[10], x[14])
            x[3], x[7], x[11], x[15] = _qr(x[3], x[7], x[11], x[15])
            x[0], x[5], x[10], x[15] = _qr(x[0], x[5], x[10], x[15])
            x[1], x[6], x[11], x[12] = _qr(x[1], x[6], x[11], x[12])
            x[2], x[7], x[8], x[13] = _qr(x[2], x[7], x[8], x[13])
            x[3], x[4], x[9], x[14] = _qr(x[3], x[4], x[9], x[14])
        for w in range(4, 12):
            x[w] = x[w] + b[w]  # only the key words are added back
    # buf[2w] = x[w][0] | x[w][1] << 32, buf[2w+1] = x[w][2] | x[w][3] << 32
    out = np.empty((K, 32), np.uint64)
    for w in range(16):
        v = x[w].astype(np.uint64)
        out[:, 2 * w] = v[:, 0] | (v[:, 1] << np.uint64(32))
        out[:, 2 * w + 1] = v[:, 2] | (v[:, 3] << np.uint64(32))
    return out


def chacha8_streams(keys, n):
    """The first n Uint64s of math/rand/v2's ChaCha8 seeded with each
    32-byte key (reseeding from the last 4 words every 16 counters)."""
    seed = np.array([struct.unpack("<8I", k) for k in keys], np.uint32)
    out, c = [], 0
    while sum(o.shape[1] for o in out) < n:
        buf = _block(seed, c)
        if c == 12:
            out.append(buf[:, :28])
            nxt = buf[:, 28:]
            seed = np.stack([(nxt & np.uint64(0xFFFFFFFF)).astype(np.uint32),
                             (nxt >> np.uint64(32)).astype(np.uint32)], 2).reshape(len(keys), 8)
            c = 0
        else:
            out.append(buf)
            c += 4
    return np.concatenate(out, 1)[:, :n]


_KN = np.array(KN, np.int64)
_WN = np.array(WN, np.float32).astype(np.float64)
_FN = np.array(FN, np.float32)


def normals(keys, count):
    """count NormFloat64s per key, Go's ziggurat: the fast path in lockstep
    over the keys, the rare rejections one key at a time."""
    stream = chacha8_streams(keys, count + count // 4 + 64)
    K = len(keys)
    out = np.empty((K, count))
    ptr = np.zeros(K, np.int64)
    rows = np.arange(K)
    for m in range(count):
        u = stream[rows, ptr]
        j = (u & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32).astype(np.int64)
        i = ((u >> np.uint64(32)) & np.uint64(0x7F)).astype(np.int64)
        x = j * _WN[i]
        fast = np.abs(j) < _KN[i]
        out[fast, m] = x[fast]
        ptr[fast] += 1
        for k in np.flatnonzero(~fast):
            out[k, m], ptr[k] = _slow(stream[k], int(ptr[k]))
    return out


def _float64(u):
    return float(int(u) & ((1 << 53) - 1)) / (1 << 53)


def _slow(s, p):
    """NormFloat64 from position p of the stream s, whose first draw missed
    the fast path; returns the value and the next position."""
    while True:
        u = int(s[p]); p += 1
        j = u & 0xFFFFFFFF
        j = j - (1 << 32) if j >= 1 << 31 else j
        i = (u >> 32) & 0x7F
        x = j * float(_WN[i])
        if abs(j) < KN[i]:
            return x, p
        if i == 0:
            while True:
                x = -math.log(_float64(s[p])) * (1.0 / RN)
                y = -math.log(_float64(s[p + 1]))
                p += 2
                if y + y >= x * x:
                    break
            return (RN + x if j > 0 else -RN - x), p
        f = _FN[i] + np.float32(_float64(s[p])) * (_FN[i - 1] - _FN[i])
        p += 1
        if f < np.float32(math.exp(-.5 * x * x)):
            return x, p


def keys_of(key_hex, decoys=9999):
    k = bytes.fromhex(key_hex)
    return [k] + [hashlib.sha256(k + b"decoy" + struct.pack("<Q", i)).digest() for i in range(1, decoys + 1)]


class Panel:
    """The tilt differences g_a - g_b of every key (row 0 the real one) on
    the watermark probes, a and b the teacher's top two classes."""

    def __init__(self, wm, X, T, decoys=9999):
        D, C = X.shape[1], T.shape[1]
        xt = X.astype(np.float64)
        if wm.get("mean") is not None:
            xt = xt - np.asarray(wm["mean"], np.float32).astype(np.float64)
        if wm.get("std") is not None:
            sd = np.asarray(wm["std"], np.float32).astype(np.float64)
            xt = np.where(sd != 0, xt / np.where(sd != 0, sd, 1), xt)
        self.a = T.argmax(1)
        Tb = T.astype(np.float64).copy()
        Tb[np.arange(len(T)), self.a] = -np.inf
        self.b = Tb.argmax(1)  # the first largest of the others
        W = normals(keys_of(wm["key"], decoys), C * D).reshape(-1, C, D) / math.sqrt(D)
        G = W @ xt.T  # keys x classes x probes
        n = np.arange(len(T))
        self.diff = G[:, self.a, n] - G[:, self.b, n]

    def lean(self, P):
        n = np.arange(len(P))
        v = np.log(P[n, self.a].astype(np.float32).astype(np.float64) + 1e-6) - \
            np.log(P[n, self.b].astype(np.float32).astype(np.float64) + 1e-6)
        return np.clip(v, -1, 1)

    def test(self, lean, center, weigh=None):
        """watermark.Panel.TestLean: the statistic (of the centred lean,
        weighed by weigh when given), the decoys' mean and sd, z and the
        rank p-value."""
        y = lean - center if center is not None else lean
        if weigh is not None:
            y = weigh(y)
        s = self.diff @ y
        stat, dec = s[0], s[1:]
        n = len(dec)
        mean = dec.sum() / n
        sd = math.sqrt(max(0.0, ((dec * dec).sum() - n * mean * mean) / (n - 1)))
        z = (stat - mean) / sd if sd > 0 else 0.0
        return {"value": stat, "null_mean": mean, "null_sd": sd, "z": z,
                "rank_p": (1 + int((dec >= stat).sum())) / (n + 1)}


def gaussian_predictive(y, x, min_null=5):
    """compare.Test with PredictiveGaussian on one column: the Student-t
    predictive with n - 1 degrees of freedom (1 below min_null)."""
    y = np.asarray(y, float)
    n = len(y)
    if n < min_null:
        return 1.0
    mean, sd = y.mean(), y.std(ddof=1)
    pemp = (1 + int((y >= x).sum())) / (n + 1)
    if not sd > 1e-12 * max(1, abs(mean)):
        return pemp
    _, counts = np.unique(y, return_counts=True)
    if counts.max() / n >= 0.5:
        return pemp
    return max(t_sf((x - mean) / sd / math.sqrt(1 + 1 / n), n - 1), 1e-300)


def whitener(X, min_whiten=8, min_shrink=0.1):
    """README's whitening (audit/whiten.go shrunkCov): the Ledoit-Wolf
    covariance of the leans X, lam*m*I + (1-lam)*S with S the covariance
    (1/n), m = tr(S)/p, lam = min(1, max(0.1, b2/d2)); returns the map
    y -> Sigma^-1 y, or None with fewer than 8 leans or none varying."""
    X = np.asarray(X, float)
    n, p = X.shape
    if n < min_whiten:
        return None
    c = X - X.mean(0)
    S = c.T @ c / n
    m = np.trace(S) / p
    if m <= 0:
        return None
    d2 = ((S - m * np.eye(p)) ** 2).sum()
    s2 = (S * S).sum()
    b2 = sum((r @ r) ** 2 - 2 * r @ S @ r + s2 for r in c) / (n * n)
    lam = min(1.0, max(min_shrink, b2 / d2)) if d2 > 0 else 1.0
    cov = (1 - lam) * S + lam * m * np.eye(p)
    return lambda y: np.linalg.solve(cov, y)


def weighing(pan, leans, copy_share=0.2, gain=1.25, max_probes=400):
    """audit/markweigh.go chooseWeighing, as README describes it: each null
    model's lean plus a fifth of the real key's tilt (clipped) stands in
    for a copy; its trace is the smaller of its z over the decoys and its
    standing among the null models' own z; whitening is chosen when the
    stand-ins' median trace is positive and at least 1.25 times the
    unweighed test's. Returns (whitened, each model's z, each model's
    whitener of the others' leans, the whitener of all)."""
    ids = list(leans)
    tilt = pan.diff[0]
    best = None
    for whiten in (False, True):
        if whiten and (len(ids) <= 8 or len(tilt) > max_probes):
            break
        whole = whitener([leans[f] for f in ids]) if whiten else None
        if whiten and whole is None:
            break
        z, copies, loo = {}, [], {}
        for f in ids:
            others = [leans[g] for g in ids if g != f]
            center = np.mean(others, 0) if others else None
            w = None
            if whiten:
                w = loo[f] = whitener(others)
                if w is None:
                    return best
            z[f] = pan.test(leans[f], center, w)["z"]
            stand = np.clip(leans[f] + copy_share * tilt, -1, 1)
            copies.append(pan.test(stand, center, w)["z"])
        zs = np.array([z[f] for f in ids])
        m, sd = zs.mean(), zs.std(ddof=1)
        if sd > 0:
            copies = [min(c, (c - m) / sd) for c in copies]
        copies.sort()
        power = copies[int(math.ceil(0.5 * len(copies))) - 1]  # gonum's empirical quantile
        if not whiten or (power > 0 and power >= gain * max(best[4], 0)):
            best = (whiten, z, loo, whole, power)
    return best
