package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
)

// MethodWorstFamily marks a lineage-score p-value set by the hardest
// family of independent controls rather than by their pooled mix.
const MethodWorstFamily compare.Method = "worst-family t"

// StatisticKeys returns the statistics whose p-values decide an audit's
// verdict (besides the label watermark, StatWatermark): the discriminant
// score, which combines every similarity feature, and for a suspect with
// full outputs the replica residual, tested alone beside it (see
// ResidualWeight). A result holds the residual only when its enrolment has
// replicas of the teacher.
func StatisticKeys(s *probe.Suite, labelOnly bool) []string {
	if labelOnly {
		return []string{StatScore}
	}
	return []string{StatScore, StatResidual}
}

// InformationalKeys returns further statistics an audit reports with their
// own p-values but does not combine: mean JS divergence after fitting the
// suspect's temperature (skipped for label-only suspects) and, when the
// suite has at least MinMistakeProbes teacher-mistake probes, agreement on
// them (the mistake-agreement baseline).
func InformationalKeys(s *probe.Suite, labelOnly bool) []string {
	var keys []string
	if !labelOnly {
		keys = append(keys, string(compare.StatSoftAgreement), string(compare.StatJSTFit))
	}
	n := 0
	for _, k := range s.Kinds {
		if k == probe.Mistake {
			n++
		}
	}
	if n >= MinMistakeProbes {
		keys = append(keys, string(compare.StatMistakeAgreement))
	}
	return keys
}

// ErrSuite is wrapped when a suspect's fingerprint was not taken on the
// case's suite.
var ErrSuite = errors.New("fingerprint taken on another suite")

// auditOne audits suspect against one case (before Holm's correction).
func auditOne(ctx context.Context, c *Case, suspect *fingerprint.Fingerprint, o Options) (TeacherResult, error) {
	return auditAs(ctx, c, suspect, c.replicaOf(suspect), o)
}

// auditAs is auditOne with the suspect's replica key self: the ID of the
// teacher's replica whose outputs are the suspect's, which the replica
// contrast and the features relative to the replicas leave out, or "" for
// none (see replicaOf). A suspect's ID is only a label and leaves nothing
// out by itself.
func auditAs(ctx context.Context, c *Case, suspect *fingerprint.Fingerprint, self string, o Options) (TeacherResult, error) {
	tr := TeacherResult{Teacher: c.Enrolment.Name, Suite: c.Suite.Hash, PValue: 1, PCombined: 1, EffectSize: math.NaN(), TPR: -1, FPR: -1}
	var rep EnrolReport
	if len(c.Enrolment.Report) > 0 {
		if err := json.Unmarshal(c.Enrolment.Report, &rep); err != nil {
			return tr, fmt.Errorf("enrolment %q: report: %w", c.Enrolment.Name, err)
		}
	}
	if !rep.OutsideRule {
		// Written before the outside-null rule: its positive controls'
		// p-values may count copies audits now put outside the null.
		rep.Calibration.PosP = gateStored(c, rep.Calibration.PosP)
	}
	tr.TPR, tr.FPR = calibrationRates(rep.Calibration, o.Alpha)
	if tr.TPR >= 0 && len(rep.Calibration.PosP) > 0 {
		tr.PowerControls = len(rep.Calibration.PosP)
	}
	if suspect == nil {
		tr.Verdict, tr.Reason = Inconclusive, "suspect not fingerprinted on this teacher's suite"
		return tr, nil
	}
	if suspect.Suite != c.Suite.Hash {
		return tr, fmt.Errorf("suspect %q vs teacher %q: %w", suspect.ID, c.Enrolment.Name, ErrSuite)
	}
	if v, ok := suspect.Variation(); ok {
		tr.Variation = &v
	}
	if v, ok := suspect.Nearby(); ok {
		tr.Nearby = &v
	}
	tr.Remote = suspect.Remote()
	tr.Defaulted = suspect.DefaultedMetadata()
	tr.LabelMap = suspect.LabelMap()
	if why := coarseOutputs(c, suspect.P); why != "" {
		tr.Coarse = why
		suspect = labelsOf(suspect)
	}
	st, err := compare.Compute(c.Teacher.P, suspect.P, c.Suite.Kinds)
	if err != nil {
		return tr, fmt.Errorf("suspect %q vs teacher %q: %w", suspect.ID, c.Enrolment.Name, err)
	}
	tr.LabelOnly, tr.Temperature = st.LabelOnly, st.Temperature
	tr.PerKind = map[string]float64{}
	for k, v := range st.Values {
		tr.PerKind[k] = v.Value
	}
	tr.KindProbes = KindProbes(st.Values)
	if st.Degenerate != "" {
		tr.Verdict, tr.Reason = Inconclusive, "degenerate suspect outputs: "+st.Degenerate
		return tr, nil
	}
	if c.Suite.Len() < o.MinProbes {
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("suite too small: %d probes, need %d", c.Suite.Len(), o.MinProbes)
		return tr, nil
	}
	ref, err := c.reference(ctx, st.LabelOnly)
	if errors.Is(err, ErrTooFewControls) {
		tr.Verdict, tr.Reason = Inconclusive, err.Error()
		return tr, nil
	}
	if err != nil {
		return tr, err
	}
	posP := rep.Calibration.PosP
	if st.LabelOnly && tr.TPR >= 0 {
		// The suite's power on labels alone, not on full outputs (see
		// labelCalibration); an enrolment without a calibration record
		// clears no one, whatever the suspect answers.
		cal, err := c.labelCalibration(ctx)
		if err != nil {
			return tr, fmt.Errorf("enrolment %q: %w", c.Enrolment.Name, err)
		}
		tr.TPR, tr.FPR = calibrationRates(cal, o.Alpha)
		tr.PowerControls = 0
		if tr.TPR >= 0 {
			tr.PowerControls = len(cal.PosP)
		}
		posP = cal.PosP
	}
	// Kept only if the verdict is NOT_DERIVED (see settle).
	tr.NotRuledOut = missedFamilies(posP, ref.positiveFamilies(), o.Alpha)
	ref, tr.LeftOut = ref.without(c, suspect)
	agree := agreementSimilarity(c.Teacher.P, suspect.P)
	base := ref // the null before nullFor, for the nearest control's own audit
	ref = base.nullFor(agree, "")
	for _, u := range ref.cond {
		if u {
			tr.UnderTrained++
		}
	}
	disc, info := ref.disc, ref.info
	scored := *suspect
	scored.ID = self
	xf, x, err := c.vector(&scored, disc, info, st.LabelOnly)
	if err != nil {
		return tr, err
	}
	null, allF, allCtl := ref.null, ref.allF, ref.allCtl
	tr.NullSize = len(null)
	if len(allF) > 0 {
		names := make([]string, len(allF))
		for i, ctl := range allCtl {
			names[i] = ctl.FP
		}
		nb := compare.Nearest(allF, names, xf)
		if nb.Index >= 0 {
			ctl := allCtl[nb.Index]
			tr.Nearest = &Neighbour{FP: ctl.FP, Role: ctl.Role, Recipe: ctl.Recipe, Distance: nb.Distance}
		}
	}
	if len(null) < o.MinNull {
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("too few references: %d independent models in the null, need %d (add some with `lineage reference add`)", len(null), o.MinNull)
		return tr, nil
	}
	if nb := tr.Nearest; nb != nil && nb.Role == store.RolePositive {
		for i, ctl := range allCtl {
			if ctl.FP == nb.FP {
				cfp := c.Controls[ref.allIdx[i]]
				if st.LabelOnly {
					cfp = labelsOf(cfp)
				}
				d, outside, err := base.test(ref.allD[i], agreementSimilarity(c.Teacher.P, cfp.P), "")
				if p := d.P; err == nil && !math.IsNaN(p) {
					if outside {
						p = 1 // as an audit of it would have it
					}
					if mr, err := c.markTest(ctx, cfp); err == nil && mr != nil {
						p = combineP(p, mr.P)
					}
					nb.P = &p
				}
			}
		}
	}
	// One p-value per statistic (informational), then the verdict's: the
	// lineage test of the discriminant score and, beside it, the replica
	// residual (see decide and ResidualWeight).
	tr.Statistics = map[string]StatEvidence{}
	if len(info) > 0 {
		res, err := compare.Test(null, x, compare.Options{})
		if err != nil && !errors.Is(err, compare.ErrInsufficientNull) {
			return tr, err
		}
		for j, k := range info {
			r, v := res.Stats[j], st.Values[k]
			tr.Statistics[k] = StatEvidence{Value: v.Value, N: v.N, Similarity: r.X, NullMean: r.Mean, NullSD: r.SD,
				NullN: r.N, Z: r.Z, P: r.P, PEmpirical: r.PEmpirical, Method: r.Method}
		}
	}
	// The verdict's test, against the trained null and, when the
	// under-trained controls are in this suspect's null, against it with
	// them too, whichever p-value is larger (see reference.test).
	dec, outside, err := base.testWhy(decisionValues(disc, ref.ds, xf), agree, "")
	if err != nil && !errors.Is(err, compare.ErrInsufficientNull) {
		return tr, err
	}
	for j, s := range ref.ds {
		r := dec.Stats[j]
		ev := StatEvidence{Value: r.X, N: c.Suite.Len(), Similarity: r.X, NullMean: r.Mean, NullSD: r.SD,
			NullN: r.N, Z: r.Z, P: r.P, PEmpirical: r.PEmpirical, Method: r.Method}
		if s.key == featResidual {
			ev.N = len(c.contrast().rows)
		}
		if dec.Worst[j] != "" {
			// The p-value also holds against the hardest single family of
			// independent models, not only against their mix (see
			// worstFamilyP).
			ev.Method = MethodWorstFamily
		}
		tr.Statistics[s.key] = ev
	}
	if dec.Stats[0].Method == compare.MethodInsufficient {
		tr.Verdict, tr.Reason = Inconclusive, fmt.Sprintf("no usable null: the score could not be computed for the suspect or for %d independent models", compare.DefaultMinNull)
		return tr, nil
	}
	tr.PCombined, tr.PValue = dec.P, dec.P
	tr.Best = ref.ds[dec.Best].key
	tr.EffectSize = dec.Stats[dec.Best].Z
	tr.NullFamily = dec.Worst[dec.Best]
	mr, src, err := c.markTestBy(ctx, suspect)
	if err != nil {
		return tr, err
	}
	if mr != nil {
		tr.Statistics[StatWatermark] = markEvidence(mr, src)
		tr.PCombined = combineP(dec.P, mr.P)
		tr.PValue = tr.PCombined
		if mr.P/WatermarkWeight < dec.P/(1-WatermarkWeight) {
			tr.Best, tr.EffectSize = StatWatermark, mr.Z
		}
	}
	if outside != "" {
		tr.Outside = outside
		tr.PCombined, tr.Best, tr.EffectSize, tr.NullFamily = 1, "", math.NaN(), ""
		if mr != nil {
			tr.PCombined = combineP(1, mr.P)
			tr.Best, tr.EffectSize = StatWatermark, mr.Z
		}
		tr.PValue = tr.PCombined
	}
	if math.IsNaN(tr.PCombined) {
		// Not expected (compare.Test and the watermark test give no NaN
		// p-values), but Holm would read NaN as 1 and clear the suspect.
		tr.PCombined, tr.PValue = 1, 1
		tr.Verdict, tr.Reason = Inconclusive, "no p-value"
	}
	if !tr.LabelOnly && tr.Outside == "" && tr.Verdict == "" && tr.PCombined > o.Clear {
		// A candidate for clearing: its labels alone must not look
		// derived either (see TeacherResult.LabelsP).
		lt, err := auditAs(ctx, c, labelsOf(suspect), self, o)
		if err != nil {
			return tr, err
		}
		if lt.Verdict == "" && !math.IsNaN(lt.PCombined) {
			p := lt.PCombined
			tr.LabelsP = &p
		}
		// Nor may its answers on the held-out data probes side with the
		// teacher (see dataContrastP).
		if p, ok, err := c.dataContrastP(base, &scored); err != nil {
			return tr, err
		} else if ok {
			tr.DataP = &p
		}
		if p, ok, err := c.probContrastP(base, &scored, agree); err != nil {
			return tr, err
		} else if ok {
			tr.ProbP = &p
		}
	}
	return tr, nil
}

// Audit audits one suspect against several teachers. suspects[i] is the
// suspect's fingerprint on cases[i]'s suite (nil when it has none). The
// combined p-values are corrected with Holm's step-down method across the
// teachers, so the chance of any false DERIVED verdict in this audit stays
// below α.
func Audit(cases []*Case, suspects []*fingerprint.Fingerprint, name string, opts Options) (Result, error) {
	return AuditContext(context.Background(), cases, suspects, name, opts)
}

// AuditContext is Audit, stopping with ctx's error when ctx is done while
// a case's null is computed (its discriminant fitted, between controls,
// or its watermark panel prepared); what was computed then is not kept
// in the case, so a later audit computes it anew and gets the result it
// would have had.
func AuditContext(ctx context.Context, cases []*Case, suspects []*fingerprint.Fingerprint, name string, opts Options) (Result, error) {
	o := opts.withDefaults()
	out := Result{Suspect: name, Alpha: o.Alpha, ClearAbove: o.Clear}
	ps := make([]float64, len(cases))
	for i, c := range cases {
		tr, err := auditOne(ctx, c, suspects[i], o)
		if err != nil {
			return out, err
		}
		if out.Model == "" && suspects[i] != nil {
			out.Model = suspects[i].Model.Hash
		}
		out.Results = append(out.Results, tr)
		ps[i] = tr.PCombined
	}
	// Holm's correction runs over the teachers the suspect was actually
	// tested against; a teacher without a fingerprint adds no test.
	var tested []int
	var tp []float64
	for i, s := range suspects {
		if s != nil {
			tested = append(tested, i)
			tp = append(tp, ps[i])
		}
	}
	adj := make([]float64, len(tp))
	compare.Holm(adj, tp)
	for k, i := range tested {
		out.Results[i].PValue = adj[k]
	}
	for i := range out.Results {
		settle(&out.Results[i], o, len(tp))
	}
	return out, nil
}
