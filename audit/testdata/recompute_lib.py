# The numerics of recompute.py, each following the rule README.md states
# and, where README only names it, the Go code it names (compare/nulltest.go,
# yj.go, temperature.go, kernels.go, rank.go, logcorr.go, spearman.go;
# audit/family.go, score.go, contrast.go, residual.go). numpy only.
import math

import numpy as np


# Student-t survival function, from the regularised incomplete beta function
# (numpy only: scipy is not required).
def betacf(a, b, x):
    qab, qap, qam = a + b, a + 1, a - 1
    c, d = 1.0, 1 - qab * x / qap
    d = 1 / d if abs(d) > 1e-300 else 1e300
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 + aa * d
        d = 1 / d if abs(d) > 1e-300 else 1e300
        c = 1 + aa / c if abs(1 + aa / c) > 1e-300 else 1e-300
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 + aa * d
        d = 1 / d if abs(d) > 1e-300 else 1e300
        c = 1 + aa / c if abs(1 + aa / c) > 1e-300 else 1e-300
        de = d * c
        h *= de
        if abs(de - 1) < 1e-16:
            break
    return h

def betainc(a, b, x):
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    lbt = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1) / (a + b + 2):
        return math.exp(lbt) * betacf(a, b, x) / a
    return 1 - math.exp(lbt) * betacf(b, a, 1 - x) / b

def t_sf(t, nu):
    tail = 0.5 * betainc(nu / 2, 0.5, nu / (nu + t * t))
    return tail if t >= 0 else 1 - tail

def t_predictive(z, n):
    nu = min((n - 1) / 3, 8)
    return t_sf(z / math.sqrt(1 + 1 / n), nu)

# The fits below follow compare.FitTemperature and compare.fitYJ (read from
# the Go code: the README names them, docs/design.md gives their ranges):
# a 9-point (temperature, T = 2^-4..2^4, over log T) or 17-point (lambda in
# [0, 1]) grid, then golden-section search to a width of 1e-4.
IP = 0.6180339887498949

def rescale(S, T):
    with np.errstate(divide='ignore'):
        l = np.log(S) / T
    l = l - l.max(1, keepdims=True)
    q = np.exp(l); return q / q.sum(1, keepdims=True)

def js_rows(P, Q):
    M = (P + Q) / 2
    with np.errstate(divide='ignore', invalid='ignore'):
        a = np.where(P > 0, P * np.log2(np.where(P > 0, P, 1) / M), 0).sum(1)
        b = np.where(Q > 0, Q * np.log2(np.where(Q > 0, Q, 1) / M), 0).sum(1)
    return np.clip(0.5 * (a + b), 0, 1)

def fit_temperature(T, S):
    Pt = T / T.sum(1, keepdims=True); Sn = S / S.sum(1, keepdims=True)
    ev = lambda lt: js_rows(Pt, rescale(Sn, math.exp(lt))).mean()
    lo, hi = math.log(1/16), math.log(16); step = (hi - lo) / 8
    vals = [ev(lo + k * step) for k in range(9)]
    at1 = vals[4]; bk = int(np.argmin(vals)); bv = vals[bk]
    a = lo + max(bk - 1, 0) * step; b = lo + min(bk + 1, 8) * step
    x1, x2 = b - IP * (b - a), a + IP * (b - a); f1, f2 = ev(x1), ev(x2)
    while b - a > 1e-4:
        if f1 <= f2:
            b, x2, f2 = x2, x1, f1; x1 = b - IP * (b - a); f1 = ev(x1)
        else:
            a, x1, f1 = x1, x2, f2; x2 = a + IP * (b - a); f2 = ev(x2)
    bl = lo + bk * step
    if f1 < bv: bl, bv = x1, f1
    if f2 < bv: bl, bv = x2, f2
    if not bv < at1: return 1.0, at1
    return math.exp(bl), bv

def yj(z, lam):
    z = np.asarray(z, float)
    pos = z >= 0
    out = np.empty_like(z)
    out[pos] = np.log1p(z[pos]) if abs(lam) < 1e-9 else ((z[pos] + 1) ** lam - 1) / lam
    out[~pos] = -np.log1p(-z[~pos]) if abs(lam - 2) < 1e-9 else -((1 - z[~pos]) ** (2 - lam) - 1) / (2 - lam)
    return out

def yj_loglik(z, lam):
    t = yj(z, lam); n = len(z); v = (t * t).mean() - t.mean() ** 2
    if not v > 0: return -math.inf
    jac = np.where(z >= 0, np.log1p(np.abs(z)), -np.log1p(np.abs(z))).sum()
    return -n / 2 * math.log(v) + (lam - 1) * jac

def fit_yj(z, lo=0.0, hi=1.0):
    step = (hi - lo) / 16
    vals = [yj_loglik(z, lo + k * step) for k in range(17)]
    bk = int(np.argmax(vals)); bv = vals[bk]
    a = lo + max(bk - 1, 0) * step; b = lo + min(bk + 1, 16) * step
    x1, x2 = b - IP * (b - a), a + IP * (b - a); f1, f2 = yj_loglik(z, x1), yj_loglik(z, x2)
    while b - a > 1e-4:
        if f1 >= f2:
            b, x2, f2 = x2, x1, f1; x1 = b - IP * (b - a); f1 = yj_loglik(z, x1)
        else:
            a, x1, f1 = x1, x2, f2; x2 = a + IP * (b - a); f2 = yj_loglik(z, x2)
    best = lo + bk * step
    if f1 > bv: best, bv = x1, f1
    if f2 > bv: best = x2
    return best

def robust_p(y, x):
    """The robust Student-t predictive p-value of x against null values y
    (README "The p-value"): the rank p-value when half or more of y share
    one value; else Yeo-Johnson with lambda in [0, 1] fitted by maximum
    likelihood to the standardised null, then a Student-t predictive with
    nu = min((n-1)/3, 8) on the transformed values."""
    y = np.asarray(y, float)
    n = len(y)
    m, s = y.mean(), y.std(ddof=1)
    pemp = (1 + int((y >= x).sum())) / (n + 1)
    if np.unique(y, return_counts=True)[1].max() / n >= 0.5 or not s > 1e-12 * max(1, abs(m)):
        return pemp, pemp, "empirical"
    lam = fit_yj((y - m) / s)
    t = yj((y - m) / s, lam)
    tx = yj(np.array([(x - m) / s]), lam)[0]
    p = t_sf((tx - t.mean()) / (t.std(ddof=1) * math.sqrt(1 + 1 / n)), min((n - 1) / 3, 8))
    return max(p, 1e-300), pemp, "t-predictive"

def worst_family_p(y, fam, x):
    """The largest over families f of the Student-t predictive against f's
    mean, with the spread pooled within families (df = n - families)."""
    y, fam = np.asarray(y, float), np.asarray(fam)
    fams = sorted(set(fam))
    df = len(y) - len(fams)
    if df < 2:
        return 0.0, ""
    sw = math.sqrt(sum(((y[fam == f] - y[fam == f].mean()) ** 2).sum() for f in fams) / df)
    best = (0.0, "")
    for f in fams:
        yf = y[fam == f]
        pf = t_sf((x - yf.mean()) / (sw * math.sqrt(1 + 1 / len(yf))), df)
        if pf > best[0]:
            best = (pf, f)
    return best

def logit(k, n):
    """The similarity of an agreement-like statistic: the logit of the
    continuity-corrected fraction (k + 1/2)/(n + 1)."""
    return math.log((k + 0.5) / (n - k + 0.5))

def family(c):
    return "reference" if c["role"] == "reference" else (c.get("recipe", "").split() or ["unnamed"])[0]

# The lineage score, from the enrolment record's discriminant (features,
# mean, sd, weights) and the fingerprints. Read from the Go code
# (audit/score.go, contrast.go, residual.go; compare/rank.go, logcorr.go,
# spearman.go), which the docs describe only in words.
CONTRAST_KINDS = ("mixup", "data", "watermark", "boundary")

def rank_profile(P):
    """Rows' rank profiles: v_j = -log(1 + mid-rank of class j from the
    top), centred and scaled to unit length (0 for a row of ties)."""
    out = np.zeros(P.shape)
    for i, row in enumerate(P.astype(np.float32)):
        order = np.argsort(-row, kind="stable")
        r = np.empty(len(row))
        s = 0
        while s < len(row):
            e = s + 1
            while e < len(row) and row[order[e]] == row[order[s]]:
                e += 1
            r[order[s:e]] = (s + e - 1) / 2
            s = e
        v = -np.log1p(r)
        v -= v.mean()
        nrm = math.sqrt((v * v).sum())
        out[i] = v / nrm if nrm > 0 else 0
    return out

def centred_log(P):
    a = np.log(np.maximum(P.astype(np.float64), 1e-30))
    return a - a.mean(1, keepdims=True)

def midranks(x):
    order = np.argsort(x, kind="stable")
    r, xs, i = np.empty(len(x)), x[order], 0
    while i < len(x):
        j = i + 1
        while j < len(x) and xs[j] == xs[i]:
            j += 1
        r[order[i:j]] = (i + j - 1) / 2
        i = j
    return r

def log_corr(A, B):
    x, y = np.log(A + 1e-7), np.log(B + 1e-7)
    x, y = x - x.mean(1, keepdims=True), y - y.mean(1, keepdims=True)
    den = np.sqrt((x * x).sum(1) * (y * y).sum(1))
    return np.where(den > 0, (x * y).sum(1) / np.where(den > 0, den, 1), 0)

class Scorer:
    """Features of the discriminant: each the similarity to the teacher
    minus the mean similarity to the replicas (teacher-recipe negatives of
    the selection half; a replica's own left out), the replica contrast
    C(S) = mean_i <rho(S_i), rho(T_i) - mean_r rho(R_i)> and the replica
    residual (Spearman of the centred logs of suspect and teacher once each
    is cleared of its projection on the replicas' mean), on the mixup, data,
    watermark and boundary probes; then sum_k w_k (f_k - mean_k)/sd_k."""

    def __init__(self, e, fps, kinds, labels=False):
        self.disc = e["report"]["discriminant"]
        self.labels = labels  # score the models' labels (one_hot) on label_discriminant
        self.fps, self.kinds = fps, kinds
        self.T = fps[e["teacher_fp"]]["p"]
        self.reps = [c["fp"] for c in e["controls"] if c["role"] == "negative" and c.get("half") == "selection"
                     and family(c) == "teacher-recipe"]
        if len(self.reps) < 2:
            self.reps = []
        self.ck = np.isin(kinds, CONTRAST_KINDS)
        self.prof = {r: rank_profile(fps[r]["p"][self.ck]) for r in self.reps}
        self.clog = {r: centred_log(fps[r]["p"][self.ck]) for r in self.reps}
        self.tprof, self.tclog = rank_profile(self.T[self.ck]), centred_log(self.T[self.ck])

    def sim(self, feat, ref, S, t):
        stat, _, kind = feat.partition("/")
        m = self.kinds == kind if kind else np.ones(len(S), bool)
        n = int(m.sum())
        if stat == "agreement" or stat == "mistake_agreement":
            return logit(int((S.argmax(1)[m] == ref.argmax(1)[m]).sum()), n)
        if stat == "logcorr":
            return math.atanh(max(-0.999999, min(log_corr(ref[m], S[m]).mean(), 0.999999)))
        R = rescale(S / S.sum(1, keepdims=True), t)
        if stat == "soft_agreement":
            return logit(R[m][np.arange(n), ref[m].argmax(1)].mean() * n, n)
        if stat == "js_tfit":
            return -math.log(js_rows(ref[m] / ref[m].sum(1, keepdims=True), R[m]).mean() + 1e-6)
        if stat == "js":
            return -math.log(js_rows(ref[m] / ref[m].sum(1, keepdims=True), S[m] / S[m].sum(1, keepdims=True)).mean() + 1e-6)
        raise KeyError(feat)

    def features(self, fid, S):
        if self.labels:
            S, t = one_hot(S), 1.0  # no feature of labels fits a temperature
        else:
            t = fit_temperature(self.T, S)[0]
        reps = [r for r in self.reps if r != fid]
        out = {}
        for feat in self.disc["features"]:
            if feat == "replica_contrast":
                mean = np.mean([self.prof[r] for r in reps], 0)
                out[feat] = float((rank_profile(S[self.ck]) * (self.tprof - mean)).sum(1).mean())
            elif feat == "replica_residual":
                m = np.mean([self.clog[r] for r in reps], 0).ravel()
                tt, s = self.tclog.ravel(), centred_log(S[self.ck]).ravel()
                mm = m @ m
                if not mm > 0:
                    out[feat] = 0.0
                    continue
                tt, s = tt - (tt @ m) / mm * m, s - (s @ m) / mm * m
                out[feat] = float(np.corrcoef(midranks(tt), midranks(s))[0, 1])
            else:
                x = self.sim(feat, self.T, S, t)
                if reps:
                    x -= np.mean([self.sim(feat, self.fps[r]["p"], S, t) for r in reps])
                out[feat] = x
        return out

    def values(self, fid, S):
        """The score and the residual (when the discriminant has it)."""
        f = self.features(fid, S)
        d = self.disc
        z = [(f[k] - mu) / sd for k, mu, sd in zip(d["features"], d["mean"], d["sd"])]
        out = {"lineage_score": float(np.dot(d["weights"], z))}
        if "replica_residual" in f:
            out["replica_residual"] = f["replica_residual"]
        return out


def one_hot(P):
    out = np.zeros(P.shape)
    out[np.arange(len(P)), P.argmax(1)] = 1
    return out

# The kinds whose top-1 agreement is a feature, in Go's order (audit/score.go
# features), when the suite has at least 5 probes of the kind.
AGREEMENT_KINDS = ("mixup", "mistake", "adversarial", "boundary", "conferrable", "data")

def label_discriminant(e, fps, kinds):
    """The discriminant of label-only suspects, which the export does not
    hold (an audit fits it): README "One score": top-1 agreement per kind
    of probe and the replica contrast of the labels, standardised over the
    selection half's positives and negatives, weighed by the negatives'
    covariance shrunk by 0.3 towards its mean variance times the identity
    (audit/score.go: shrinkage), solved for non-negative weights by
    dropping every negative weight and solving again (nonNegativeSolve).
    Returns a Scorer of labels on it."""
    feats = ["agreement/" + k for k in AGREEMENT_KINDS if (kinds == k).sum() >= 5] or ["agreement"]
    sc = Scorer(e, fps, kinds, labels=True)
    if sc.reps:
        feats.append("replica_contrast")
    sc.disc = {"features": feats}
    sel = [c for c in e["controls"] if c.get("half") == "selection" and c["role"] in ("positive", "negative")]
    X = {c["fp"]: sc.features(c["fp"], fps[c["fp"]]["p"]) for c in sel}
    pos = np.array([[X[c["fp"]][f] for f in feats] for c in sel if c["role"] == "positive"])
    neg = np.array([[X[c["fp"]][f] for f in feats] for c in sel if c["role"] == "negative"])
    allv = np.vstack([pos, neg])
    mu, sd = allv.mean(0), allv.std(0, ddof=1)
    sd = np.where(sd > 1e-9, sd, 1.0)
    zp, zn = (pos - mu) / sd, (neg - mu) / sd
    d = zn - zn.mean(0)
    S = d.T @ d
    S = 0.7 * S + 0.3 * np.trace(S) / len(feats) * np.eye(len(feats))
    diff = zp.mean(0) - zn.mean(0)
    active = np.ones(len(feats), bool)
    while True:
        w = np.zeros(len(feats))
        if active.any():
            idx = np.flatnonzero(active)
            w[idx] = np.linalg.solve(S[np.ix_(idx, idx)], diff[idx])
        if not (w < 0).any():
            break
        active &= w >= 0
    sc.disc = {"features": feats, "mean": list(mu), "sd": list(sd), "weights": list(w)}
    return sc
