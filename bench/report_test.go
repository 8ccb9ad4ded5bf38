package bench

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/report"
)

// synthetic returns suspects of two families with the given p-values.
func synthetic(posP, negP []float64) ([]Family, []SuspectResult) {
	fams := []Family{{Name: "pos", Kind: Positive}, {Name: "neg", Kind: Negative}}
	var res []SuspectResult
	for _, p := range posP {
		res = append(res, SuspectResult{Family: "pos", Kind: Positive, P: p, MinP: p / 3, BaselineP: 1, TestAccuracy: 0.9, Queries: 200})
	}
	for _, p := range negP {
		res = append(res, SuspectResult{Family: "neg", Kind: Negative, P: p, MinP: p / 3, BaselineP: 1, TestAccuracy: 0.8, Queries: 200})
	}
	return fams, res
}

func TestComputeRates(t *testing.T) {
	tests := []struct {
		name         string
		posP, negP   []float64
		tpr01, tpr05 float64
		fpr01, fpr05 float64
		auc          float64
		flaggedPos01 int
		flaggedNeg05 int
	}{
		{name: "separated", posP: []float64{1e-5, 0.001, 0.01, 0.03}, negP: []float64{0.2, 0.5, 1, 1},
			tpr01: 0.75, tpr05: 1, fpr01: 0, fpr05: 0, auc: 1, flaggedPos01: 3, flaggedNeg05: 0},
		{name: "overlap", posP: []float64{0.001, 0.5}, negP: []float64{0.04, 0.005, 1, 0.5},
			tpr01: 0.5, tpr05: 0.5, fpr01: 0.25, fpr05: 0.5, auc: (1 + 1 + 1 + 1 + 0 + 0 + 0.5 + 1) / 8, flaggedPos01: 1, flaggedNeg05: 2},
		{name: "ties at one", posP: []float64{1}, negP: []float64{1},
			tpr01: 0, tpr05: 0, fpr01: 0, fpr05: 0, auc: 0.5},
	}
	for _, tc := range tests {
		fams, res := synthetic(tc.posP, tc.negP)
		r := ComputeRates(fams, res, func(s SuspectResult) (float64, float64) { return s.P, s.MinP })
		near := func(what string, got, want float64) {
			if math.Abs(got-want) > 1e-12 {
				t.Errorf("%s: %s = %g, want %g", tc.name, what, got, want)
			}
		}
		near("tpr_at_0.01", r.TPR01, tc.tpr01)
		near("tpr_at_0.05", r.TPR05, tc.tpr05)
		near("fpr_at_0.01", r.FPR01, tc.fpr01)
		near("fpr_at_0.05", r.FPR05, tc.fpr05)
		near("auc", r.AUC, tc.auc)
		if len(r.Families) != 2 {
			t.Fatalf("%s: got %d families, want 2", tc.name, len(r.Families))
		}
		if got := r.Families[0]; got.Name != "pos" || got.N != len(tc.posP) || got.Flagged01 != tc.flaggedPos01 {
			t.Errorf("%s: positive family = %+v, want n=%d flagged_at_0.01=%d", tc.name, got, len(tc.posP), tc.flaggedPos01)
		}
		if got := r.Families[1]; got.Name != "neg" || got.N != len(tc.negP) || got.Flagged05 != tc.flaggedNeg05 {
			t.Errorf("%s: negative family = %+v, want n=%d flagged_at_0.05=%d", tc.name, got, len(tc.negP), tc.flaggedNeg05)
		}
		if r.Positives != len(tc.posP) || r.Negatives != len(tc.negP) {
			t.Errorf("%s: got %d/%d positives/negatives, want %d/%d", tc.name, r.Positives, r.Negatives, len(tc.posP), len(tc.negP))
		}
		if r.FPRUpper01 < r.FPR01 || r.FPRUpper01 > 1 {
			t.Errorf("%s: fpr_upper95_at_0.01 = %g not in [fpr %g, 1]", tc.name, r.FPRUpper01, r.FPR01)
		}
	}
}

func TestComputeRatesSkipsEmptyFamilies(t *testing.T) {
	fams, res := synthetic([]float64{0.001}, nil)
	fams = append(fams, Family{Name: "unused", Kind: Negative})
	r := ComputeRates(fams, res, func(s SuspectResult) (float64, float64) { return s.P, s.MinP })
	if len(r.Families) != 1 || r.Families[0].Name != "pos" {
		t.Errorf("got families %+v, want only pos", r.Families)
	}
	if r.AUC != 0 || r.FPR01 != 0 {
		t.Errorf("no negatives: got auc %g fpr %g, want 0 and 0", r.AUC, r.FPR01)
	}
}

func TestComputeRatesWithinReach(t *testing.T) {
	fams, res := synthetic([]float64{1e-4, 1e-3}, []float64{0.2, 0.5})
	fams = append(fams, Family{Name: "beyond", Kind: Positive, Limit: "stated"})
	for _, p := range []float64{0.9, 1} {
		res = append(res, SuspectResult{Family: "beyond", Kind: Positive, P: p, MinP: p})
	}
	r := ComputeRates(fams, res, func(s SuspectResult) (float64, float64) { return s.P, s.MinP })
	// pos's two positives outrank both negatives, beyond's two rank below
	// them: 4 of the 8 positive–negative pairs are won.
	if got, want := r.AUC, 0.5; math.Abs(got-want) > 1e-12 {
		t.Errorf("auc = %g, want %g", got, want)
	}
	if got, want := r.AUCWithinReach, 1.0; math.Abs(got-want) > 1e-12 {
		t.Errorf("auc_within_reach = %g, want %g", got, want)
	}
	if got := r.limitedFamilies(); len(got) != 1 || got[0] != "beyond" {
		t.Errorf("limited families = %v, want [beyond]", got)
	}
	fams, res = synthetic([]float64{1e-4, 0.3}, []float64{0.2, 0.5})
	r = ComputeRates(fams, res, func(s SuspectResult) (float64, float64) { return s.P, s.MinP })
	if r.AUCWithinReach != r.AUC {
		t.Errorf("no limited family: auc_within_reach = %g, want auc %g", r.AUCWithinReach, r.AUC)
	}
}

func TestShortfallsNameLimitedFamilies(t *testing.T) {
	fams, res := synthetic([]float64{1e-4, 1e-3}, []float64{0.2, 0.5})
	fams = append(fams, Family{Name: "beyond", Kind: Positive, Limit: "stated"})
	res = append(res, SuspectResult{Family: "beyond", Kind: Positive, P: 1, MinP: 1})
	rep := summarize(DetectOptions{Seed: 7, Workers: 2, Families: fams}, res, &baseline{probes: 12, null: make([][]float64, 5)})
	got := strings.Join(rep.Shortfalls(), "\n")
	if want := "(1.000 without beyond, whose limits are stated)"; !strings.Contains(got, want) {
		t.Errorf("shortfalls missing %q; got:\n%s", want, got)
	}
	var buf bytes.Buffer
	if err := report.RenderAll(&buf, rep.Tables(), report.FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"AUC without beyond", `positive family beyond: TPR 0.00 \< 0.95 at α=0.01 (0/1, median p 1); limit: stated`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("tables missing %q; got:\n%s", want, buf.String())
		}
	}
}

func TestShortfallsSayWhy(t *testing.T) {
	fams, res := synthetic([]float64{1e-4, 1e-3}, []float64{0.2, 0.5})
	fams = append(fams,
		Family{Name: "weak", Kind: Positive, Reason: "a narrower view"},
		Family{Name: "unexplained", Kind: Positive})
	for _, p := range []float64{0.003, 0.04, 0.2} {
		res = append(res, SuspectResult{Family: "weak", Kind: Positive, P: p, MinP: p})
	}
	for _, p := range []float64{0.001, 0.002, 0.5, 0.02} {
		res = append(res, SuspectResult{Family: "unexplained", Kind: Positive, P: p, MinP: p})
	}
	rep := summarize(DetectOptions{Seed: 7, Workers: 2, Families: fams}, res, &baseline{probes: 12, null: make([][]float64, 5)})
	tests := []struct {
		family  string
		medianP float64
		line    string
	}{
		{"pos", 5.5e-4, ""},
		{"weak", 0.04, "positive family weak: TPR 0.33 < 0.95 at α=0.01 (1/3, median p 0.04); why: a narrower view"},
		{"unexplained", 0.011, "positive family unexplained: TPR 0.50 < 0.95 at α=0.01 (2/4, median p 0.011); why: no mechanism known (chance, or in a quick run the small suite)"},
	}
	got := strings.Join(rep.Shortfalls(), "\n")
	for _, tc := range tests {
		i := slices.IndexFunc(rep.Families, func(f FamilyResult) bool { return f.Name == tc.family })
		if i < 0 {
			t.Fatalf("family %s missing from the report", tc.family)
		}
		if m := rep.Families[i].MedianP; math.Abs(m-tc.medianP) > 1e-12 {
			t.Errorf("family %s: median p = %g, want %g", tc.family, m, tc.medianP)
		}
		if tc.line == "" {
			if strings.Contains(got, "family "+tc.family+":") {
				t.Errorf("family %s met its target but is named in the shortfalls:\n%s", tc.family, got)
			}
		} else if !strings.Contains(got, tc.line) {
			t.Errorf("shortfalls missing %q; got:\n%s", tc.line, got)
		}
	}
	if !slices.Equal(rep.Unmet, rep.Shortfalls()) {
		t.Errorf("report's shortfalls field = %q, want %q", rep.Unmet, rep.Shortfalls())
	}
}

func TestBinomialTail(t *testing.T) {
	tests := []struct {
		k, n int
		p    float64
		want float64
	}{
		{0, 20, 0.01, 1},
		{1, 3, 0.01, 1 - math.Pow(0.99, 3)},
		{2, 20, 0.01, 1 - math.Pow(0.99, 20) - 20*0.01*math.Pow(0.99, 19)},
		{20, 20, 0.5, math.Pow(0.5, 20)},
		{21, 20, 0.5, 0},
		// The far tail, relative error: 1 − CDF gave 1.1e-16.
		{20, 20, 0.01, 1e-40},
		{3, 20, 0.001, 1.1255576375601594e-06},
	}
	for _, tc := range tests {
		if got := binomialTail(tc.k, tc.n, tc.p); math.Abs(got-tc.want) > 1e-9*tc.want {
			t.Errorf("binomialTail(%d, %d, %g) = %g, want %g", tc.k, tc.n, tc.p, got, tc.want)
		}
	}
}

func syntheticReport() *DetectReport {
	fams, res := synthetic([]float64{1e-4, 0.02}, []float64{0.3, 0.008, 1})
	bl := &baseline{probes: 12, null: make([][]float64, 5)}
	rep := summarize(DetectOptions{Seed: 7, Workers: 2, Families: fams}, res, bl)
	rep.Enrolment.Suite = "abc"
	return rep
}

func TestShortfalls(t *testing.T) {
	rep := syntheticReport()
	got := strings.Join(rep.Shortfalls(), "\n")
	for _, want := range []string{"positive family pos: TPR 0.50", "negative family neg: FPR 0.33 > 0.05 at α=0.01 (1/3, median p 0.3; with valid p-values, 1 or more of 3 happen with probability 0.03); why: no mechanism known", "overall FPR 0.333", "does not beat",
		"1 negative family over FPR 0.05 at α=0.01; with valid p-values, some family of the 1 would be over with probability 0.03"} {
		if !strings.Contains(got, want) {
			t.Errorf("shortfalls missing %q; got:\n%s", want, got)
		}
	}
	if strings.Contains(got, "queries") {
		t.Errorf("200 queries reported as a shortfall:\n%s", got)
	}
}

func TestReportJSONContract(t *testing.T) {
	b, err := json.Marshal(syntheticReport())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"auc", "tpr_at_0.01", "fpr_at_0.01", "fpr_at_0.05", "queries_per_audit", "families", "baseline", "wall_time_s", "seed", "enrolment", "shortfalls"} {
		if _, ok := m[k]; !ok {
			t.Errorf("report JSON lacks %q", k)
		}
	}
	bl, _ := m["baseline"].(map[string]any)
	for _, k := range []string{"auc", "tpr_at_0.01", "fpr_at_0.01", "fpr_at_0.05", "queries_per_audit", "families"} {
		if _, ok := bl[k]; !ok {
			t.Errorf("baseline JSON lacks %q", k)
		}
	}
	fams, _ := m["families"].([]any)
	if len(fams) != 2 {
		t.Fatalf("got %d families, want 2", len(fams))
	}
	f0, _ := fams[0].(map[string]any)
	for _, k := range []string{"name", "kind", "n", "flagged_at_0.01", "flagged_at_0.05", "median_p_value"} {
		if _, ok := f0[k]; !ok {
			t.Errorf("family JSON lacks %q", k)
		}
	}
	if f0["kind"] != "positive" {
		t.Errorf("family kind = %v, want positive", f0["kind"])
	}
}

func TestTablesRender(t *testing.T) {
	rep := syntheticReport()
	for _, f := range report.Formats() {
		var buf bytes.Buffer
		if err := report.RenderAll(&buf, rep.Tables(), f); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if !strings.Contains(buf.String(), "neg") {
			t.Errorf("%s: output lacks the negative family:\n%s", f, buf.String())
		}
	}
}

func TestScreen(t *testing.T) {
	tests := []struct {
		name     string
		pos, neg []float64
		want     Screening
	}{
		// m = 5, sorted 0.001, 0.004, 0.02 (neg), 0.3, 0.9: BH q 0.005,
		// 0.01, 0.0333, 0.375, 0.9; three at q ≤ 0.05, one of them false.
		{"one false", []float64{0.001, 0.004, 0.3}, []float64{0.02, 0.9}, Screening{Q: 0.05, Discoveries: 3, False: 1, FDP: 1.0 / 3, TPR: 2.0 / 3}},
		{"none", []float64{0.5}, []float64{0.6}, Screening{Q: 0.05}},
		{"no positives", nil, []float64{0.001}, Screening{Q: 0.05, Discoveries: 1, False: 1, FDP: 1}},
		// BH q exactly 0.05 (0.025·2/1 and 0.05·2/2) counts as a discovery.
		{"q equal to 0.05", []float64{0.025}, []float64{0.05}, Screening{Q: 0.05, Discoveries: 2, False: 1, FDP: 0.5, TPR: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := screen(tt.pos, tt.neg, 0.05)
			if got.Discoveries != tt.want.Discoveries || got.False != tt.want.False ||
				math.Abs(got.FDP-tt.want.FDP) > 1e-12 || math.Abs(got.TPR-tt.want.TPR) > 1e-12 || got.Q != tt.want.Q {
				t.Errorf("screen(%v, %v) = %+v, want %+v", tt.pos, tt.neg, got, tt.want)
			}
		})
	}
}

// TestCautionCounts: a family counts the suspects flagged at 0.01 whose
// verdict carries the audit's caution, and the summary table says how many
// of derived and of independent suspects do.
func TestCautionCounts(t *testing.T) {
	fams, res := synthetic([]float64{1e-4, 0.005, 0.02}, []float64{0.008, 0.3})
	res[0].Caution, res[2].Caution, res[3].Caution = true, true, true // res[2]: p 0.02, not flagged
	rep := summarize(DetectOptions{Seed: 7, Workers: 2, Families: fams}, res, &baseline{probes: 12, null: make([][]float64, 5)})
	if got := []int{rep.Families[0].Cautioned01, rep.Families[1].Cautioned01}; !slices.Equal(got, []int{1, 1}) {
		t.Errorf("cautioned at 0.01 per family = %v, want [1 1]", got)
	}
	notes := strings.Join(rep.Tables()[0].Notes, "\n")
	if want := "caution: 2 DERIVED verdicts at α=0.01 rest on a label-only suspect's lineage score without the watermark's support (1 of derived suspects, 1 of independent ones)"; !strings.Contains(notes, want) {
		t.Errorf("summary notes lack %q:\n%s", want, notes)
	}
	if n := syntheticReport().cautionNote(); n != "" {
		t.Errorf("no caution, note %q; want none", n)
	}
}
