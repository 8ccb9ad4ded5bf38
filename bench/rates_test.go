package bench

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
)

// TestComputeRatesPerFamily checks every per-family figure of ComputeRates
// against hand-computed values, the Clopper–Pearson bounds at both alphas,
// and that the AUC ranks suspects by their minimum p-value, not by the
// combined p-value.
func TestComputeRatesPerFamily(t *testing.T) {
	fams := []Family{{Name: "pos", Kind: Positive}, {Name: "neg", Kind: Negative}, {Name: "pos", Kind: Positive}}
	res := []SuspectResult{
		{Family: "pos", Kind: Positive, P: 0.001, MinP: 0.001, TestAccuracy: 0.9, Caution: true},
		{Family: "pos", Kind: Positive, P: 0.01, MinP: 0.002, TestAccuracy: 0.8},
		{Family: "pos", Kind: Positive, P: 0.04, MinP: 0.003, TestAccuracy: 0.7, Caution: true},
		{Family: "pos", Kind: Positive, P: 0.3, MinP: 0.1, TestAccuracy: 0.6},
		// The first negative has a smaller combined p-value than two
		// positives but a larger minimum p-value than all but the last.
		{Family: "neg", Kind: Negative, P: 0.03, MinP: 0.05, TestAccuracy: 0.5},
		{Family: "neg", Kind: Negative, P: 0.2, MinP: 0.2, TestAccuracy: 0.5},
		{Family: "neg", Kind: Negative, P: 0.5, MinP: 0.5, TestAccuracy: 0.5},
		{Family: "neg", Kind: Negative, P: 1, MinP: 1, TestAccuracy: 0.5},
		{Family: "neg", Kind: Negative, P: 1, MinP: 1, TestAccuracy: 1},
	}
	r := ComputeRates(fams, res, func(s SuspectResult) (float64, float64) { return s.P, s.MinP })
	near := func(what string, got, want, tol float64) {
		t.Helper()
		if math.Abs(got-want) > tol {
			t.Errorf("%s = %.10g, want %.10g", what, got, want)
		}
	}
	// Scores −log10(MinP): every positive outranks every negative but the
	// first negative (MinP 0.05) outranks the last positive (MinP 0.1):
	// 19 of 20 pairs. Ranked by P it would be 17 of 20.
	near("auc", r.AUC, 19.0/20, 1e-12)
	near("tpr_at_0.01", r.TPR01, 0.5, 0)
	near("tpr_at_0.05", r.TPR05, 0.75, 0)
	near("fpr_at_0.01", r.FPR01, 0, 0)
	near("fpr_at_0.05", r.FPR05, 0.2, 0)
	// One-sided 95 % Clopper–Pearson with n = 5: none flagged gives
	// 1 − 0.05^(1/5), one flagged 0.657408 (the Beta(2, 4) 0.95 quantile).
	near("fpr_upper95_at_0.01", r.FPRUpper01, 1-math.Pow(0.05, 0.2), 1e-9)
	near("fpr_upper95_at_0.05", r.FPRUpper05, 0.657408, 1e-6)
	// BH over all 9 p-values: adjusted 0.009 and 0.045 for the two smallest
	// (both positives), 0.09 next; so 2 discoveries at q = 0.05, none false.
	if want := (Screening{Q: 0.05, Discoveries: 2, TPR: 0.5}); r.BH05 != want {
		t.Errorf("bh_screening_at_q0.05 = %+v, want %+v", r.BH05, want)
	}
	if len(r.Families) != 2 {
		t.Fatalf("got %d families %+v, want 2 (a family listed twice is reported once)", len(r.Families), r.Families)
	}
	want := []FamilyResult{
		{Name: "pos", Kind: Positive, N: 4, Flagged01: 2, Flagged05: 3, Cautioned01: 1, Rate01: 0.5, Rate05: 0.75,
			MedianP: (0.01 + 0.04) / 2, MeanTestAccuracy: 0.75},
		{Name: "neg", Kind: Negative, N: 5, Flagged01: 0, Flagged05: 1, Cautioned01: 0, Rate01: 0, Rate05: 0.2,
			MedianP: 0.5, MeanTestAccuracy: 0.6},
	}
	for i, w := range want {
		g := r.Families[i]
		if g.Name != w.Name || g.Kind != w.Kind || g.N != w.N || g.Flagged01 != w.Flagged01 || g.Flagged05 != w.Flagged05 || g.Cautioned01 != w.Cautioned01 {
			t.Errorf("family %d = %+v, want %+v", i, g, w)
		}
		near(w.Name+" rate_at_0.01", g.Rate01, w.Rate01, 1e-12)
		near(w.Name+" rate_at_0.05", g.Rate05, w.Rate05, 1e-12)
		near(w.Name+" median_p_value", g.MedianP, w.MedianP, 1e-12)
		near(w.Name+" mean_test_accuracy", g.MeanTestAccuracy, w.MeanTestAccuracy, 1e-12)
	}
}

// TestSummarizeBaseline checks what summarize reports beside the rates:
// queries_per_audit is the suspects' query count, the baseline's is its
// number of teacher-mistake probes, its null size the number of null
// vectors, and the baseline's rates and AUC come from BaselineP alone
// (the lineage audit's MinP plays no part in them).
func TestSummarizeBaseline(t *testing.T) {
	fams, res := synthetic([]float64{1e-4, 0.3}, []float64{0.2, 0.5, 1})
	// Baseline p-values that rank the suspects the other way round from
	// the audit's: the baseline's AUC is 0 where lineage's is 5/6.
	for i, bp := range []float64{0.9, 0.8, 0.01, 0.02, 0.03} {
		res[i].BaselineP = bp
		res[i].Queries = 140
	}
	rep := summarize(DetectOptions{Seed: 3, Workers: 1, Families: fams}, res, &baseline{probes: 12, null: make([][]float64, 5)})
	if rep.QueriesPerAudit != 140 {
		t.Errorf("queries_per_audit = %d, want 140", rep.QueriesPerAudit)
	}
	b := rep.Baseline
	if !b.Available || b.Probes != 12 || b.NullSize != 5 || b.QueriesPerAudit != 12 {
		t.Errorf("baseline available %v, probes %d, null_size %d, queries_per_audit %d; want true, 12, 5, 12",
			b.Available, b.Probes, b.NullSize, b.QueriesPerAudit)
	}
	if math.Abs(rep.AUC-5.0/6) > 1e-12 || b.AUC != 0 {
		t.Errorf("auc %g, baseline auc %g; want 5/6 and 0", rep.AUC, b.AUC)
	}
	// Baseline at α = 0.01: no positive, one negative (p = 0.01) flagged.
	if b.TPR01 != 0 || math.Abs(b.FPR01-1.0/3) > 1e-12 || math.Abs(b.FPR05-1) > 1e-12 {
		t.Errorf("baseline tpr01 %g fpr01 %g fpr05 %g, want 0, 1/3, 1", b.TPR01, b.FPR01, b.FPR05)
	}
}

// TestShortfallsAtThresholds checks each target of Shortfalls at its
// threshold: TPR 0.95 per positive family, FPR 0.05 per negative family and
// 0.02 overall at α = 0.01, AUC 0.99 and 300 queries per audit are met
// exactly at the threshold; beating the baseline needs a strictly higher
// TPR and an FPR no higher than the baseline's.
func TestShortfallsAtThresholds(t *testing.T) {
	at := func(baseTPR, baseFPR float64) *DetectReport {
		return &DetectReport{
			Rates: Rates{AUC: 0.99, TPR01: 0.9, FPR01: 0.02, QueriesPerAudit: 300, Families: []FamilyResult{
				{Name: "p", Kind: Positive, N: 20, Flagged01: 19, Rate01: 0.95},
				{Name: "n", Kind: Negative, N: 20, Flagged01: 1, Rate01: 0.05},
			}},
			Baseline: BaselineReport{Available: true, Rates: Rates{TPR01: baseTPR, FPR01: baseFPR}},
		}
	}
	tests := []struct {
		name string
		rep  *DetectReport
		want string // "" for no shortfall
	}{
		{"every target met exactly", at(0.8, 0.02), ""},
		{"baseline's TPR equalled", at(0.9, 0.05), "does not beat the baseline"},
		{"baseline's FPR lower", at(0.8, 0.01), "does not beat the baseline"},
	}
	for _, tt := range tests {
		got := tt.rep.Shortfalls()
		switch {
		case tt.want == "" && len(got) > 0:
			t.Errorf("%s: shortfalls %q, want none", tt.name, got)
		case tt.want != "" && (len(got) != 1 || !strings.Contains(got[0], tt.want)):
			t.Errorf("%s: shortfalls %q, want one containing %q", tt.name, got, tt.want)
		}
	}
}

// TestLimitedFamilies checks that only positive families with a stated
// limit are named beside the AUC: a negative family's limit does not take
// it out of AUCWithinReach, which drops positives only.
func TestLimitedFamilies(t *testing.T) {
	r := Rates{Families: []FamilyResult{
		{Name: "beyond", Kind: Positive, Limit: "stated"},
		{Name: "hard-negative", Kind: Negative, Limit: "stated too"},
		{Name: "plain", Kind: Positive},
	}}
	if got := r.limitedFamilies(); len(got) != 1 || got[0] != "beyond" {
		t.Errorf("limited families = %q, want [beyond]", got)
	}
}

// TestComputeRatesUnlistedFamily checks that suspects of a family missing
// from the family list are still reported, under their own kind, and count
// towards the rates of that kind.
func TestComputeRatesUnlistedFamily(t *testing.T) {
	res := []SuspectResult{
		{Family: "extra-pos", Kind: Positive, P: 0.001, MinP: 0.001},
		{Family: "extra-neg", Kind: Negative, P: 0.5, MinP: 0.5},
		{Family: "extra-neg", Kind: Negative, P: 0.005, MinP: 0.005},
	}
	r := ComputeRates(nil, res, func(s SuspectResult) (float64, float64) { return s.P, s.MinP })
	if len(r.Families) != 2 || r.Families[0].Kind != Positive || r.Families[1].Kind != Negative ||
		r.Families[0].N != 1 || r.Families[1].N != 2 || r.Families[1].Flagged01 != 1 {
		t.Fatalf("families %+v, want extra-pos (positive, n 1) and extra-neg (negative, n 2, 1 flagged)", r.Families)
	}
	if r.Positives != 1 || r.Negatives != 2 || r.TPR01 != 1 || r.FPR01 != 0.5 {
		t.Errorf("positives %d negatives %d tpr01 %g fpr01 %g, want 1, 2, 1, 0.5", r.Positives, r.Negatives, r.TPR01, r.FPR01)
	}
}

// TestEnrolSummaryNaN checks that an enrolment without positive (or
// negative) controls, whose calibration rates and AUC are NaN, is
// summarised with 0 in their place: the detect report must stay
// JSON-encodable.
func TestEnrolSummaryNaN(t *testing.T) {
	var e audit.Enrolled
	e.Report.Calibration = compare.Calibration{
		Rates: []compare.Rate{{Alpha: 0.01, TPR: math.NaN(), FPR: 0.25, FPRUpper: 0.6}, {Alpha: 0.05, TPR: 0.5, FPR: math.NaN(), FPRUpper: 1}},
		AUC:   math.NaN(),
	}
	s := enrolSummary(&e)
	if r := s.Calibration; len(r) != 2 || r[0].TPR != 0 || r[0].FPR != 0.25 || r[1].TPR != 0.5 || r[1].FPR != 0 || s.CalibrationAUC != 0 {
		t.Errorf("calibration %+v auc %v, want NaN rates and AUC as 0, the others kept", r, s.CalibrationAUC)
	}
	if _, err := json.Marshal(s); err != nil {
		t.Errorf("summary not JSON-encodable: %v", err)
	}
	if !math.IsNaN(e.Report.Calibration.Rates[0].TPR) {
		t.Error("enrolSummary changed the enrolment's own rates")
	}
}
