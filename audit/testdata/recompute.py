# Independent recomputation of lineage's audit verdicts from what lineage
# exposes, following README.md ("How the statistics work") and docs/design.md;
# the Go code was read only where the docs were silent (recompute_lib.py names
# what). Run:
#
#   /usr/bin/python3 audit/testdata/recompute.py [--export STORE.jsonl] AUDIT.json ...
#
# AUDIT.json is the output of `lineage audit --format json` (or of `lineage
# bench detect --format json`, whose suspects' combined p-values and min_p
# alone are checked). Checked for every teacher result:
#
#  (a) from the per-statistic p-values: the combined p-value (weighted
#      Bonferroni: p_lineage = min(1, p_score/0.8, p_residual/0.2), then
#      min(1, p_lineage/0.9, p_watermark/0.1) when there is a watermark;
#      without a residual p_lineage = p_score; outside the null
#      min(1, p_watermark/0.1)), Holm's correction across the teachers the
#      suspect was fingerprinted for, the verdict rule, and that the best
#      statistic's z is the effect size; a note says which t-predictive
#      p-values the Yeo-Johnson fit left as the plain Student-t of z;
#  (c) with --export (`lineage db export`), from the fingerprints: the
#      suspect's top-1 agreement and Jensen-Shannon divergence (bits) per
#      probe kind, its fitted temperature, mistake agreement, soft agreement
#      and JS after the fit, and its lineage score and replica residual (from
#      the enrolment record's discriminant); the same for every null model
#      (calibration negatives and references, plus the under-trained controls
#      where the audit says so);
#  (b) from those null values: each statistic's null mean, sd and size, rank
#      p-value and robust predictive p-value; for the score and the residual
#      the larger of that and the worst family's, and the under-trained rule.
#      Audits of the null models themselves (`lineage audit
#      ENROLMENT/control-NN --dry-run --format json`), passed among the
#      AUDIT.json files, supply their score and residual instead: a check of
#      (b) apart from (c).
#
# Example (the demo's store, 4 suspects; about 10 s):
#
#   lineage demo --keep --db demo.db
#   lineage db export --db demo.db > export.jsonl
#   for s in soft-label-student label-only-extraction independent-model rival-teacher-student; do
#     lineage audit $s --db demo.db --dry-run --format json > $s.json
#   done
#   /usr/bin/python3 audit/testdata/recompute.py --export export.jsonl *.json
#
# Prints one line per check and exits 1 when any differs beyond tolerance.
import base64
import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from recompute_rules import degenerate, verdict  # noqa: E402
from recompute_wm import Panel, gaussian_predictive, weighing  # noqa: E402
from recompute_lib import (Scorer, family, fit_temperature, js_rows, label_discriminant,  # noqa: E402
                           logit, one_hot, rescale, robust_p, t_predictive, worst_family_p)


REL = 1e-9

bad = []

def close(got, want, rel=REL, absol=1e-12):
    return abs(got - want) <= max(absol, rel * max(abs(got), abs(want)))

def check(name, got, want, rel=REL, absol=1e-12):
    ok = close(got, want, rel, absol)
    print("%-4s %-60s recomputed %.12g, lineage %.12g" % ("ok" if ok else "DIFF", name, got, want))
    if not ok:
        bad.append(name)

def check_eq(name, got, want):
    ok = got == want
    print("%-4s %-60s recomputed %s, lineage %s" % ("ok" if ok else "DIFF", name, got, want))
    if not ok:
        bad.append(name)

def combined(res):
    st = res.get("statistics", {})
    wm = st.get("watermark", {}).get("p")
    if res.get("outside_null"):
        return 1.0 if wm is None else min(1.0, wm / 0.1)
    if "replica_residual" in st:
        p_lin = min(1.0, st["lineage_score"]["p"] / 0.8, st["replica_residual"]["p"] / 0.2)
    else:
        # fewer than two replicas: no residual, the score's p alone
        p_lin = st["lineage_score"]["p"]
    if wm is None:
        return p_lin
    return min(1.0, p_lin / 0.9, wm / 0.1)

def holm(ps):
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    out, run = [0.0] * len(ps), 0.0
    for rank, i in enumerate(order):
        run = max(run, min(1.0, (len(ps) - rank) * ps[i]))
        out[i] = run
    return out

def check_verdict(tag, r, alpha, clear):
    v, why = verdict(r, alpha, clear)
    check_eq("%s verdict" % tag, v, r["verdict"])
    text = r.get("caution", "") if v == "DERIVED" else r.get("reason", "")
    ok = text.startswith(why) and (why != "" or text == "")
    print("%-4s %-60s recomputed %r, lineage %r" % ("ok" if ok else "DIFF", tag + " " + ("caution" if v == "DERIVED" else "reason"),
                                                    why, text[:len(why) + 20] if why else text[:60]))
    if not ok:
        bad.append(tag + " reason")
    # what a clearance does not rule out is given with NOT_DERIVED only
    if r.get("not_ruled_out") and r["verdict"] != "NOT_DERIVED":
        bad.append(tag + " not_ruled_out")
        print("DIFF %s not_ruled_out on a %s verdict" % (tag, r["verdict"]))

def load_export(path):
    fps, suites, enr = {}, {}, {}
    for line in open(path):
        d = json.loads(line)
        if d["type"] in ("fingerprint", "suite"):
            b = base64.b64decode(d["data"])
            hl = struct.unpack("<I", b[8:12])[0]
            hdr = json.loads(b[12:12 + hl])
            if d["type"] == "suite":
                # the probe inputs follow the header, float32 rows x cols
                hdr["x"] = np.frombuffer(b[12 + hl:12 + hl + 4 * hdr["rows"] * hdr["cols"]], "<f4").reshape(hdr["rows"], hdr["cols"])
                suites[d["id"]] = hdr
            else:
                hdr["p"] = np.frombuffer(b[12 + hl:], "<f4").reshape(hdr["rows"], hdr["cols"]).astype(np.float64)
                fps[d["id"]] = hdr
        elif d["type"] == "enrolment":
            enr[d["id"]] = d["record"]
    return fps, suites, enr

def similarities(S, T, kinds):
    """The suspect's reported statistics that need no replicas, each as
    (value, similarity): mistake agreement, and soft agreement and JS at the
    temperature fitted against the teacher (fit_temperature)."""
    out = {}
    mk = kinds == "mistake"
    if mk.any():
        k = int((S.argmax(1)[mk] == T.argmax(1)[mk]).sum())
        out["mistake_agreement"] = (k / mk.sum(), logit(k, int(mk.sum())))
    t, js = fit_temperature(T, S)
    soft = rescale(S / S.sum(1, keepdims=True), t)[np.arange(len(T)), T.argmax(1)].mean()
    out["js_tfit"] = (js, -math.log(js + 1e-6))
    out["soft_agreement"] = (soft, logit(soft * len(T), len(T)))
    out["_temperature"] = (t, t)
    return out

def labels_only(P):
    """Whether every row is one-hot (compare.LabelOnly, 1e-6)."""
    return bool(np.all((P >= 1 - 1e-6) & (P <= 1 + 1e-6) | (np.abs(P) <= 1e-6)) and np.all((P >= 1 - 1e-6).sum(1) == 1))

def in_null(c, fps, labels):
    """A reference fingerprinted through labels only joins the null of
    label-only suspects only (README, `reference add`)."""
    return c["role"] != "reference" or labels or not labels_only(fps[c["fp"]]["p"])

def null_members(e, res, fps):
    """The calibration negatives and references (with probabilities), plus
    the under-trained controls when the audit says they are in the
    suspect's null."""
    halves = ["calibration"] + (["under-trained"] if res.get("under_trained_in_null") else [])
    return [c for c in e["controls"] if (c["role"] == "negative" and c.get("half") in halves)
            or (c["role"] == "reference" and in_null(c, fps, False))]

def check_fingerprints(tag, res, exp, sfp):
    fps, suites, enr = exp
    e = enr.get(res["teacher"])
    kinds = np.array(suites[res["suite"]]["kinds"])
    T = fps[e["teacher_fp"]]["p"]
    S = sfp["p"]
    pk = res["per_kind"]
    js = js_rows(T / T.sum(1, keepdims=True), S / S.sum(1, keepdims=True))
    for k in sorted(set(kinds)):
        m = kinds == k
        if "agreement/" + k in pk:
            check("%s agreement/%s" % (tag, k), float((S.argmax(1)[m] == T.argmax(1)[m]).mean()), pk["agreement/" + k])
        if "js/" + k in pk:
            # the fingerprints are float32: allow for the rounding of the logs
            check("%s js/%s (bits)" % (tag, k), float(js[m].mean()), pk["js/" + k], rel=1e-6)
    mine = similarities(S, T, kinds)
    if "fitted_temperature" in res:
        check("%s fitted temperature" % tag, mine["_temperature"][0], res["fitted_temperature"], rel=1e-6)
    null = null_members(e, res, fps)
    nulls = [similarities(fps[c["fp"]]["p"], T, kinds) for c in null if c["fp"] in fps]
    for name in ("mistake_agreement", "js_tfit", "soft_agreement"):
        st = res["statistics"].get(name)
        if st is None or name not in mine:
            continue
        v, x = mine[name]
        # soft agreement is float32 rescaled in Go: 1e-7 relative
        rel, ab = (1e-9, 1e-12) if name == "mistake_agreement" else (1e-7, 1e-8)
        check("%s %s value" % (tag, name), v, st["value"], rel=rel, absol=ab)
        check("%s %s similarity" % (tag, name), x, st["similarity"], rel=rel, absol=ab)
        y = np.array([n[name][1] for n in nulls])
        check_eq("%s %s null size" % (tag, name), len(y), st["null_n"])
        check("%s %s null mean" % (tag, name), float(y.mean()), st["null_mean"], rel=rel)
        check("%s %s null sd" % (tag, name), float(y.std(ddof=1)), st["null_sd"], rel=rel)
        p, pemp, method = robust_p(y, x)
        check("%s %s p empirical" % (tag, name), pemp, st["p_empirical"])
        # Go rescales soft agreement's rows in float32: near a tight null
        # (sd 0.02) that rounding moves its p by up to about 1e-7 relative
        prel = 1e-5 if name == "soft_agreement" else rel
        check("%s %s p (%s)" % (tag, name, method), p, st["p"], rel=prel)
        check_eq("%s %s method" % (tag, name), method, st["method"])

def check_pretest(tag, res, exp, sfp):
    """From the export: degenerate outputs, the suite's size (30 probes)
    and the outside-the-null rule (README "Outside the null": the suspect's
    top-1 agreement logit over all the suite's probes below every trained
    independent model's of the null, calibration negatives and references,
    by more than their sd; a reference with labels only is in the null of
    label-only suspects only, and a null model that is the suspect is left
    out)."""
    fps, suites, enr = exp
    why = degenerate(sfp["p"], 1e-6)
    check_eq("%s degenerate outputs" % tag, why, res["reason"][len("degenerate suspect outputs: "):]
             if res.get("reason", "").startswith("degenerate suspect outputs: ") else "")
    rows = len(suites[res["suite"]]["kinds"])
    check_eq("%s suite too small (%d probes)" % (tag, rows), rows < 30, res.get("reason", "").startswith("suite too small: "))
    if why or rows < 30 or not res.get("statistics"):
        return
    e = enr[res["teacher"]]
    T = fps[e["teacher_fp"]]["p"]
    top = T.argmax(1)

    def agree(P):
        return logit(int((P.argmax(1) == top).sum()), len(top))
    lab = bool(res.get("label_only"))
    null = [agree(fps[c["fp"]]["p"]) for c in e["controls"]
            if c["fp"] not in res.get("left_out", []) and c["fp"] in fps and
            ((c["role"] == "negative" and c.get("half") == "calibration") or
             (c["role"] == "reference" and in_null(c, fps, lab)))]
    a = agree(sfp["p"])
    outside = len(null) >= 2 and a < min(null) - np.std(null, ddof=1)
    print("note %s agreement logit %.4g, trained null %d models %.4g..%.4g sd %.4g" % (tag, a, len(null), min(null), max(null), np.std(null, ddof=1)))
    check_eq("%s outside the null" % tag, bool(outside), bool(res.get("outside_null")))

def check_watermark(tag, res, exp, sfp):
    """The watermark row (README "Label-only APIs carry a watermark"):
    the suspect's lean on the watermark probes (its log-odds between the
    teacher's top two classes, clipped to +-1), centred on the mean lean of
    the independent controls (both halves) and references other than the
    suspect itself (a reference read through labels only for label-only
    suspects only), of the suspect's kind (its labels' leans for a suspect
    answering those probes with labels); its statistic under the real key
    and the 9,999 decoys; the rank p-value; each null model's z-score
    under the real key (centred leave-one-out) and the Student-t
    predictive of the suspect's z against them; the row's p the larger.
    The leans whitened when the enrolment's choice (recomputed, and
    checked against the report's `whitened`) says so."""
    fps, suites, enr = exp
    e = enr[res["teacher"]]
    st = res["statistics"]["watermark"]
    rep = e["report"].get("watermark") or {}
    suite = suites[res["suite"]]
    rows = np.array(suite["kinds"]) == "watermark"
    S = sfp["p"]
    if res.get("coarse_outputs"):
        S = one_hot(S)
    S = S[rows]
    hard = bool(np.all(np.isclose(S.max(1), 1, atol=1e-6, rtol=0)) and np.all((S >= 1 - 1e-6) | (np.abs(S) <= 1e-6)))
    key = (res["teacher"], "watermark")
    if key not in COMPUTED:
        T = fps[e["teacher_fp"]]["p"][rows]
        COMPUTED[key] = Panel(e["watermark"], suite["x"][rows], T, rep.get("decoys", 9999))
    pan = COMPUTED[key]
    members = [c for c in e["controls"] if c["role"] != "positive" and c.get("half") != "under-trained" and c["fp"] in fps
               and in_null(c, fps, hard)]
    full = {c["fp"]: fps[c["fp"]]["p"] for c in members}
    leans = {f: pan.lean(one_hot(P[rows]) if hard else P[rows]) for f, P in full.items()}
    me = next((f for f, P in full.items() if P.shape == sfp["p"].shape and (np.array_equal(P, sfp["p"]) or
               hard and np.array_equal(P.argmax(1), sfp["p"].argmax(1)))), "")
    ids = list(leans)

    def center(skip):
        others = [leans[f] for f in ids if f != skip]
        return np.mean(others, 0) if others else None
    kind = "labels" if hard else "outputs"
    wkey = (res["teacher"], "watermark weighing", hard)
    if wkey not in COMPUTED:
        COMPUTED[wkey] = weighing(pan, leans)
        check_eq("%s watermark whitens the leans of its %s" % (res["teacher"], kind), COMPUTED[wkey][0],
                 kind in rep.get("whitened", []))
    whitened, zs, loo, whole, _ = COMPUTED[wkey]
    mine = pan.test(pan.lean(S), center(me), (loo.get(me) or whole) if whitened else None)
    for k in ("value", "null_mean", "null_sd", "z"):
        check("%s watermark %s%s" % (tag, k, " (whitened)" if whitened else ""), mine[k], st[k], rel=1e-9, absol=1e-9)
    p_null = gaussian_predictive([zs[f] for f in ids if f != me], mine["z"])
    p = max(mine["rank_p"], p_null)
    print("note %s watermark: rank among %d decoys p = %.6g, against the %d null models' z p = %.6g: %s sets it" % (
        tag, rep.get("decoys", 9999), mine["rank_p"], len(ids) - (me != ""), p_null,
        "the rank" if mine["rank_p"] >= p_null else "the controls' t"))
    check("%s watermark p" % tag, p, st["p"], rel=1e-7)
    check("%s watermark p empirical (the decoy rank)" % tag, mine["rank_p"], st["p_empirical"], rel=1e-9)

COMPUTED = {}  # (teacher, fingerprint ID) -> the model's score and residual

def check_lineage_test(tag, res, exp, sfp, values):
    """The lineage test from the null models' values of the score and the
    residual (values: fingerprint ID -> {statistic: value}, from audits of
    the controls where given, else computed here): per statistic the larger of the robust predictive and
    the worst family's p; p_lineage = min(1, p_score/0.8, p_residual/0.2);
    against the trained null and, when the suspect follows the teacher's top
    answer no more often than the under-trained controls (at most their
    largest agreement logit plus their sd), against the null with them too,
    keeping the test whose p_lineage is larger."""
    fps, suites, enr = exp
    e = enr[res["teacher"]]
    T = fps[e["teacher_fp"]]["p"]
    top = T.argmax(1)

    def agree(P):
        return logit(int((P.argmax(1) == top).sum()), len(top))
    labels = bool(res.get("label_only") or res.get("coarse_outputs"))
    trained = [c for c in e["controls"] if (c["role"] == "negative" and c.get("half") == "calibration")
               or (c["role"] == "reference" and in_null(c, fps, labels))]
    under = [c for c in e["controls"] if c.get("half") == "under-trained"]
    keys = [k for k in ("lineage_score", "replica_residual") if k in res["statistics"]]
    kinds = np.array(suites[res["suite"]]["kinds"])
    if labels:
        # the discriminant of labels, fitted here; the controls' audits
        # give their full outputs' values, not these
        ck = (res["teacher"], "labels")
        if ck not in COMPUTED:
            COMPUTED[ck] = label_discriminant(e, fps, kinds)
        scorer, values = COMPUTED[ck], {}
        print("note %s: discriminant of labels fitted here: %s, weights %s" % (
            tag, ", ".join(scorer.disc["features"]), ", ".join("%.4g" % w for w in scorer.disc["weights"])))
    else:
        scorer = Scorer(e, fps, kinds)
    mine = scorer.values(None, sfp["p"])
    # a score with temperature-fitted features (an enrolment without
    # replicas) carries Go's float32 rescaling (see check_fingerprints)
    loose = any(f.startswith(("soft_agreement", "js_tfit")) for f in scorer.disc["features"])
    vrel, prel = (1e-7, 1e-5) if loose else (REL, REL)
    for k in keys:
        check("%s %s value from the fingerprints" % (tag, k), mine[k], res["statistics"][k]["value"], rel=vrel, absol=1e-8)
    audited = sum(c["fp"] in values for c in trained + under)
    values = dict(values)
    for c in trained + under:
        if c["fp"] not in values:
            key = (res["teacher"], c["fp"], labels)
            if key not in COMPUTED:
                COMPUTED[key] = scorer.values(c["fp"], fps[c["fp"]]["p"])
            values[c["fp"]] = COMPUTED[key]
    print("note %s: the null's score and residual from %d models' audits, %d computed from the fingerprints"
          % (tag, audited, len(trained + under) - audited))
    weights = {"lineage_score": 0.8, "replica_residual": 0.2} if len(keys) == 2 else {"lineage_score": 1.0}

    def decide(members):
        out, p_lin = {}, 1.0
        for k in keys:
            y = [values[c["fp"]][k] for c in members]
            x = res["statistics"][k]["value"]
            p, pemp, method = robust_p(y, x)
            pw, fam = worst_family_p(y, [family(c) for c in members], x)
            if pw > p:
                p, method = pw, "worst-family t"
            out[k] = (p, pemp, method, len(y), fam if method == "worst-family t" else "")
            p_lin = min(p_lin, p / weights[k])
        return out, p_lin
    d, p_lin = decide(trained)
    ua = [agree(fps[c["fp"]]["p"]) for c in under]
    with_ut = bool(ua) and agree(sfp["p"]) <= max(ua) + (np.std(ua, ddof=1) if len(ua) > 1 else 0)
    if with_ut:
        dw, pw = decide(trained + under)
        if pw > p_lin:
            d, p_lin = dw, pw
    check_eq("%s under-trained controls in the null" % tag, len(under) if with_ut else 0,
             res.get("under_trained_in_null", 0))
    for k in keys:
        st = res["statistics"][k]
        p, pemp, method, n, fam = d[k]
        check("%s %s p from the null's values" % (tag, k), p, st["p"], rel=prel)
        check("%s %s p empirical from the null's values" % (tag, k), pemp, st["p_empirical"])
        check_eq("%s %s method" % (tag, k), method, st["method"])
        check_eq("%s %s null size" % (tag, k), n, st["null_n"])

def main(argv):
    exp = None
    clear = 0.05
    while len(argv) > 1 and argv[0] in ("--export", "--clear-above"):
        if argv[0] == "--export":
            exp = load_export(argv[1])
        else:
            clear = float(argv[1])
        argv = argv[2:]
    docs = [(path, json.load(open(path))) for path in argv]
    # Audits of an enrolment's own controls (`lineage audit acme/control-NN`)
    # give the null models' values of the score and the residual.
    controls = set()
    if exp is not None:
        controls = {c["fp"] for e in exp[2].values() for c in e["controls"]}
    values = {}
    for path, d in docs:
        if d.get("suspect") in controls:
            for r in d["results"]:
                values[d["suspect"]] = {k: v["value"] for k, v in r.get("statistics", {}).items()}
    for path, d in docs:
        if d.get("suspect") in controls:
            continue
        if d.get("experiment") == "detect":
            # `lineage bench detect --format json`: one teacher, the suspect's
            # p_value is its combined p-value
            for z in d["suspects"]:
                # the zoo's JSON has no outside_null: its reason says so
                z["outside_null"] = "only the label watermark's test" in z.get("reason", "")
                check("zoo %s p_value" % z["name"], combined(z), z["p_value"])
                # min_p, which the AUC ranks by: the smallest of the score's,
                # the residual's and the combined p-value, the watermark's
                # own aside (docs/design.md); outside the null the combined
                mp = min([z["p_value"]] + [z["statistics"][k]["p"] for k in ("lineage_score", "replica_residual")
                                           if k in z["statistics"] and not z["outside_null"]])
                check("zoo %s min_p" % z["name"], mp, z["min_p"])
            continue
        alpha = d.get("alpha", 0.01)
        # --clear-above as the audit recorded it; audits stored before it
        # was recorded used the default, or what --clear-above here says
        clear_d = d.get("clear_above", clear)
        results = d["results"]
        for r in results:
            tag = "%s/%s" % (d["suspect"], r["teacher"])
            sfp = None
            if exp is not None and r["teacher"] in exp[2]:
                # the stored fingerprint audited by its ID, else one of the
                # audited model file (by hash; a remote model has none)
                mine = [f for f in exp[0].values() if f["suite"] == r["suite"] and f["id"] not in controls]
                sfp = next((f for f in mine if f["id"] == d["suspect"]), None) or next(
                    (f for f in mine if d.get("model_hash") and f["model"].get("hash") == d["model_hash"]), None)
            if sfp is not None:
                check_pretest(tag, r, exp, sfp)
            if r.get("statistics"):
                check("%s p_combined" % tag, combined(r), r["p_combined"])
                best = r.get("best_statistic")
                if best in r["statistics"]:
                    check("%s effect size = z of %s" % (tag, best), r["statistics"][best]["z"], r["effect_size"])
                for name, st in sorted(r["statistics"].items()):
                    if st["method"] in ("decoy keys", "controls t"):
                        # The watermark: the larger of the real key's rank
                        # among the decoys and the controls' t-predictive,
                        # the method naming which (a record of lineage before
                        # 7 December 2026 says "decoy keys" either way).
                        on_grid = close(st["p"] * 10000, round(st["p"] * 10000), absol=1e-6)
                        print("note %s %s p %.6g (%s) %s" % (tag, name, st["p"], st["method"], "on the decoy grid" if on_grid
                                                            else "OFF the decoy grid: set by the controls' t-predictive"))
                        continue
                    tp = t_predictive(st["z"], st["null_n"])
                    kind = "plain-t" if close(tp, st["p"]) else "transformed"
                    print("note %s %s p %.6g (%s): t-predictive of z %.6g; %s" % (tag, name, st["p"], st["method"], tp, kind))
                if sfp is not None and "watermark" in r["statistics"]:
                    check_watermark(tag, r, exp, sfp)
                if sfp is None:
                    print("skip %s: no export, or the suspect's fingerprint is not in it" % tag)
                elif r.get("coarse_outputs") or r.get("label_only") or np.allclose(sfp["p"].max(1), 1):
                    # audited on its labels: the lineage test only
                    check_lineage_test(tag, r, exp, sfp, values)
                else:
                    check_fingerprints(tag, r, exp, sfp)
                    check_lineage_test(tag, r, exp, sfp, values)
            check_verdict(tag, r, alpha, clear_d)
        # Holm counts every teacher the suspect was fingerprinted for, one
        # INCONCLUSIVE for another reason with its p_combined of 1.
        fingerprinted = [r for r in results if not r.get("reason", "").startswith("suspect not fingerprinted")]
        adj = holm([r["p_combined"] for r in fingerprinted])
        for r, p in zip(fingerprinted, adj):
            check("%s/%s p_value (Holm over %d)" % (d["suspect"], r["teacher"], len(fingerprinted)), p, r["p_value"])
    if bad:
        print("%d checks differ: %s" % (len(bad), ", ".join(bad)))
        return 1
    print("all checks agree")
    return 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
