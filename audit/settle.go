package audit

import (
	"fmt"
	"strings"
)

// MaxVariation is the largest total-variation distance between two answers
// of a suspect to one probe with which it can still be cleared: a model
// that answers an input differently each time may be a copy with fresh
// noise on its outputs, which can hide it (an evasion hunt saw a KD copy
// with Gaussian noise of sd 2 on its logits, at 4 points of accuracy,
// cleared at p = 0.055, and two more at p 0.021 and 0.048). Floating-point
// differences between batches of another size stay far below it.
const MaxVariation = 1e-3

// MaxNearby is the largest total-variation distance between a suspect's
// answers to a probe and to the point next to it (each feature moved by
// probe.NudgeFraction of its range) with which it can still be cleared:
// noise keyed on the exact input answers the same probe the same way twice
// but answers the point next to it anew (an evasion hunt saw KD copies
// with such noise, sd 2 on their logits, at p 0.010–0.013, and nearby
// distances of 0.71–0.92), where the largest distance over all 300 probes
// of a suite was 0.014 for 150 trained digits networks of many kinds and
// 0.0045 for six Fashion-MNIST ones.
// Labels are exempt: a label may flip between two points next to each
// other on a trained network's boundary.
const MaxNearby = 0.05

// labelOnlyCaution returns, for a label-only suspect found DERIVED, a
// sentence saying that the verdict rests on the lineage score alone when
// the label watermark gives it no support (p above DefaultClear, or no
// watermark); "" otherwise.
//
// Why: labels carry only where the suspect agrees with the teacher's top
// answer, relative to its replicas. A hunt for false accusations found
// innocent models unlike every control (trained from the teacher's own
// initial weights; trained a little more than the under-trained controls)
// DERIVED through their labels, and a second found RBF-kernel SVMs at
// p ≤ 0.05 through their labels 19 times in 71 against one enrolment
// (README, "What lineage cannot tell"). The watermark's test is exact over keys
// for any model, however unlike the controls; the lineage score's holds
// only for models like them.
func labelOnlyCaution(tr *TeacherResult, alpha float64) string {
	if !tr.LabelOnly {
		return ""
	}
	support := "the teacher has no label watermark"
	if wm, ok := tr.Statistics[StatWatermark]; ok {
		if wm.P <= DefaultClear {
			return ""
		}
		support = fmt.Sprintf("the label watermark gives it no support (p = %.2g)", wm.P)
	}
	rate := ""
	if tr.FPR >= 0 {
		rate = fmt.Sprintf(" (on this teacher's independent controls' labels, %.1f%% were DERIVED at α = %g)", 100*tr.FPR, alpha)
	}
	return fmt.Sprintf("DERIVED from the suspect's labels alone, by the lineage score; %s. This is the weakest evidence lineage gives: innocent models unlike every control, such as ones trained from the teacher's own initial weights or RBF-kernel SVMs, can agree with the teacher this way%s", support, rate)
}

// lowPowerCaution returns, for a suspect with full outputs found DERIVED
// by a suite whose measured power at α (tr.TPR) is below MinPower, a
// sentence saying so; "" otherwise (and for a label-only suspect, whose
// caution is labelOnlyCaution's).
//
// Why: the p-value is as valid as on any suite, but a test that seldom
// finds the teacher's own copies gives a significant result that is, far
// more often than on a strong suite, one of the chance draws α allows.
// A hunt on small tabular CSVs (7 December 2026) found an independent
// model DERIVED (p = 0.0067) by an enrolment whose calibration copies it
// detected none of.
func lowPowerCaution(tr *TeacherResult, alpha float64) string {
	if tr.LabelOnly || tr.TPR < 0 || tr.TPR >= MinPower {
		return ""
	}
	// The enrolment report's low-power note is not pointed to: it is
	// printed only for 4 or more copies and at the α of its rates.
	of := " of its"
	if tr.PowerControls > 0 {
		of = fmt.Sprintf(" of its %d", tr.PowerControls)
	}
	return fmt.Sprintf("DERIVED by a suite that detected only %.0f%%%s calibration copies at α = %g: "+
		"a test that seldom finds copies still flags about one independent model in %.0f by chance, so a significant result from it is weak evidence; "+
		"weigh it with other evidence, or enrol with more --controls and --suite-size and audit again", 100*tr.TPR, of, alpha, 1/alpha)
}

// unmeasuredNote returns what a recorded total variation of 1, the most
// two answers can differ, may also mean: that asking failed
// (fingerprint.VariationUnmeasured reads as 1).
func unmeasuredNote(v float64) string {
	if v >= 1 {
		return ", or it could not be asked"
	}
	return ""
}

// settle sets the verdict of tr, tested against tested teachers at once
// (Holm's correction ran over them), from its p-values and calibration:
// DERIVED at p ≤ α; NOT_DERIVED only when nothing below stands in the
// way; INCONCLUSIVE, with the reason, otherwise. A verdict already set
// (INCONCLUSIVE before any test) stays. NotRuledOut is kept for a
// NOT_DERIVED verdict only.
func settle(tr *TeacherResult, o Options, tested int) {
	defer func() {
		if tr.Verdict != NotDerived {
			tr.NotRuledOut = nil // what a clearance does not rule out
		}
	}()
	if tr.Verdict == Inconclusive {
		return
	}
	switch {
	case tr.PValue <= o.Alpha:
		tr.Verdict = Derived
		tr.Caution = labelOnlyCaution(tr, o.Alpha)
		if tr.Caution == "" {
			tr.Caution = lowPowerCaution(tr, o.Alpha)
		}
	case tr.Outside != "":
		tr.Verdict, tr.Reason = Inconclusive, tr.Outside
	case tr.PValue <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant at α=%g, but p = %.2g is at most %g: weak evidence of derivation, and none of independence", o.Alpha, tr.PValue, o.Clear)
	case tr.LabelsP != nil && *tr.LabelsP <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant on its full outputs, but its labels alone give p = %.2g, at most %g: its outputs below the top class may have been altered to hide a copy; weak evidence of derivation, and none of independence", *tr.LabelsP, o.Clear)
	case tr.DataP != nil && *tr.DataP <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant on the whole suite, but on the held-out data probes alone it sides with the teacher rather than its replicas (p = %.2g, at most %g): a copy may answer only the inputs it is unsure of with another model; weak evidence of derivation, and none of independence", *tr.DataP, o.Clear)
	case tr.ProbP != nil && *tr.ProbP <= o.Clear:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant in the order of its classes, but its probabilities side with the teacher rather than its replicas (p = %.2g, at most %g): a copy blended with another model may keep them; weak evidence of derivation, and none of independence", *tr.ProbP, o.Clear)
	case tr.PCombined <= o.Clear:
		// Holm's correction guards against a false DERIVED among
		// several teachers; a p-value it raised is no evidence of
		// independence, so clearing goes by the p-value before it.
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant at α=%g after the correction across %d teachers, but p = %.2g before it is at most %g: weak evidence of derivation, and none of independence", o.Alpha, tested, tr.PCombined, o.Clear)
	case tr.Variation != nil && *tr.Variation > MaxVariation:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but the suspect answered the same probe differently when asked again (total variation up to %.2g%s): noise on its answers may hide a copy, so it is not cleared", *tr.Variation, unmeasuredNote(*tr.Variation))
	case tr.Nearby != nil && *tr.Nearby > MaxNearby && !tr.LabelOnly:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but the suspect answered points next to probes differently from the probes themselves (total variation up to %.2g%s, where trained networks move by hundredths): noise keyed on its inputs may hide a copy, so it is not cleared", *tr.Nearby, unmeasuredNote(*tr.Nearby))
	case tr.Remote && tr.Variation == nil:
		tr.Verdict, tr.Reason = Inconclusive, "not significant, but the suspect is a remote model that was not asked again for any probe (a fingerprint of older lineage, or taken with --ask-again -1): noise on its answers may hide a copy, so it is not cleared; fingerprint it again with asking again on (lineage probe MODEL --suite SUITE --name NEW, or --replace while no audit record uses the old one)"
	case tr.Remote && tr.Nearby == nil && !tr.LabelOnly:
		tr.Verdict, tr.Reason = Inconclusive, "not significant, but the suspect is a remote model whose answers to points next to probes were not asked (a fingerprint stored before lineage asked them): noise keyed on its inputs may hide a copy, so it is not cleared; fingerprint it again (lineage probe MODEL --suite SUITE --name NEW, or --replace while no audit record uses the old one)"
	case len(tr.Defaulted) > 0:
		tr.Verdict, tr.Reason = Inconclusive, defaultedReason(tr.Defaulted)
	case !(tr.TPR >= 0):
		// Without a measured detection rate nothing shows that this
		// suite would have caught a copy: no exoneration.
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's enrolment has no calibration record of detecting derived controls at α=%g", o.Alpha)
	case tr.TPR < MinPower && tr.LabelOnly:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's suite detected only %.0f%% of derived controls from their labels alone at α=%g", 100*tr.TPR, o.Alpha)
	case tr.TPR < MinPower:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's suite detected only %.0f%% of derived controls at α=%g", 100*tr.TPR, o.Alpha)
	case tr.PowerControls > 0 && tr.PowerControls < MinPowerControls:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but this teacher's suite measured its power on only %d derived controls (%d needed to clear a suspect: enrol with --controls %d or more)", tr.PowerControls, MinPowerControls, 2*MinPowerControls)
	case tr.Nearest != nil && tr.Nearest.P != nil && *tr.Nearest.P > o.Alpha:
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("not significant, but the suspect is closest to a derived control (%s) that this suite does not detect either (p = %.2g)", tr.Nearest.Family(), *tr.Nearest.P)
	default:
		tr.Verdict = NotDerived
	}
}

// defaultedReason says why a suspect read with defaulted metadata keys is
// not cleared (see TeacherResult.Defaulted).
func defaultedReason(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("%q", k)
	}
	return fmt.Sprintf("not significant, but the suspect's model file has no %s metadata and was read with lineage's defaults: if it was trained otherwise (on scaled or standardised inputs, another activation, its classes in another order), these are not the answers it gives in use, and a copy read so looks independent; so it is not cleared: add the metadata (README: \"Models from PyTorch\") and audit it again", strings.Join(q, ", "))
}
