# The verdict rule of README's "Verdicts" and the degenerate outputs it
# names, for recompute.py: pure functions of an audit's JSON result.
import numpy as np


# The reasons README gives for an INCONCLUSIVE verdict before any test
# (the suspect's p-value stays 1), by the start of Go's reason.
PRETEST = ("suspect not fingerprinted on this teacher's suite", "degenerate suspect outputs: ",
           "suite too small: ", "too few controls: ", "too few references: ", "no usable null: ", "no p-value")

MIN_POWER, MIN_POWER_CONTROLS, MAX_VARIATION, MAX_NEARBY = 0.5, 4, 1e-3, 0.05

def rate(res):
    """The calibration TPR; -1 when unknown (null in the JSON)."""
    v = res.get("calibration_tpr")
    return -1.0 if v is None else v

def verdict(res, alpha, clear=0.05):
    """The verdict README's "Verdicts" gives a result, and the start of the
    reason (INCONCLUSIVE) or caution (DERIVED) that says why, "" for none.
    README lists the conditions of a clearance as a conjunction; the reason
    named is the first unmet in its order (README: "Verdicts"), which is
    Go's. A result INCONCLUSIVE before any test keeps its reason."""
    if res.get("reason", "").startswith(PRETEST) and not res.get("statistics"):
        return "INCONCLUSIVE", next(r for r in PRETEST if res["reason"].startswith(r))
    if res["p_value"] <= alpha:
        wm = res.get("statistics", {}).get("watermark")
        if res.get("label_only"):
            # the label-only caution, unless the watermark supports it at 0.05
            return "DERIVED", "" if wm is not None and wm["p"] <= 0.05 else "DERIVED from the suspect's labels alone"
        tpr = rate(res)
        return "DERIVED", "DERIVED by a suite that detected only" if 0 <= tpr < MIN_POWER else ""
    label_only = res.get("label_only", False)
    nc = res.get("nearest_control", {})
    tpr = rate(res)
    rules = [
        (res.get("outside_null"), "the suspect agrees with the teacher's top answer on"),
        (res["p_value"] <= clear, "not significant at α=%g, but p = " % alpha),
        (res.get("labels_p", 1) <= clear, "not significant on its full outputs, but its labels alone"),
        (res.get("data_probes_p", 1) <= clear, "not significant on the whole suite, but on the held-out data probes"),
        (res.get("prob_contrast_p", 1) <= clear, "not significant in the order of its classes, but its probabilities"),
        (res["p_combined"] <= clear, "not significant at α=%g after the correction across" % alpha),
        (res.get("answer_variation", 0) > MAX_VARIATION, "not significant, but the suspect answered the same probe differently"),
        (res.get("nearby_variation", 0) > MAX_NEARBY and not label_only,
         "not significant, but the suspect answered points next to probes differently"),
        (res.get("remote") and "answer_variation" not in res, "not significant, but the suspect is a remote model that was not asked again"),
        (res.get("remote") and "nearby_variation" not in res and not label_only,
         "not significant, but the suspect is a remote model whose answers to points next to probes"),
        (res.get("defaulted_metadata"), "not significant, but the suspect's model file has no"),
        (tpr < 0, "not significant, but this teacher's enrolment has no calibration record"),
        (tpr < MIN_POWER and label_only, "not significant, but this teacher's suite detected only %.0f%% of derived controls from their labels alone" % (100 * tpr)),
        (tpr < MIN_POWER, "not significant, but this teacher's suite detected only %.0f%% of derived controls at" % (100 * tpr)),
        (0 < res.get("calibration_positives", 0) < MIN_POWER_CONTROLS,
         "not significant, but this teacher's suite measured its power on only %d derived controls" % res.get("calibration_positives", 0)),
        (nc.get("role") == "positive" and nc.get("p", 0) > alpha, "not significant, but the suspect is closest to a derived control"),
    ]
    for hit, why in rules:
        if hit:
            return "INCONCLUSIVE", why
    return "NOT_DERIVED", ""


def degenerate(P, tol):
    """README's degenerate outputs (compare.CheckDegenerate's order): an
    invalid row, no probes, every row the same, one top class on every row."""
    if not np.isfinite(P).all() or (P < 0).any() or (P.sum(1) <= 0).any():
        return "invalid probability"
    if P.size == 0:
        return "no probes"
    if len(P) >= 2 and (np.abs(P - P[0]) <= tol).all():
        return "all rows identical"
    if len(P) >= 2 and (P.argmax(1) == P[0].argmax()).all():
        return "constant prediction"
    return ""
