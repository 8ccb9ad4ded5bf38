package audit

import (
	"bytes"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/report"
)

// TestLabelOnlyRow: a label-only suspect's row said nothing of it and
// showed "fitted T 1.00", a temperature labels cannot have; the row now
// leaves the cell empty and a note says the suspect answered with labels.
func TestLabelOnlyRow(t *testing.T) {
	for _, labels := range []bool{false, true} {
		tr := TeacherResult{Teacher: "acme", Verdict: Derived, PValue: 0.001, PCombined: 0.001, Temperature: 1, LabelOnly: labels,
			Best: StatWatermark, EffectSize: 5.2, NullSize: 76, TPR: 0.75}
		v := Result{Suspect: "lab1", Alpha: 0.01, Results: []TeacherResult{tr}}.Tables()[0]
		var b bytes.Buffer
		if err := report.Render(&b, v, report.FormatCSV); err != nil {
			t.Fatal(err)
		}
		row := strings.Split(strings.Split(b.String(), "\n")[1], ",")
		if got, want := row[6], map[bool]string{false: "1", true: ""}[labels]; got != want {
			t.Errorf("label-only %v: fitted T cell %q, want %q", labels, got, want)
		}
		notes := strings.Join(v.Notes, "\n")
		if got := strings.Contains(notes, "answered with labels only"); got != labels {
			t.Errorf("label-only %v: note on labels shown %v: %q", labels, got, notes)
		}
	}
}

// TestColumnNotes: the verdict table defines best statistic, effect size
// and the nearest control's d, and the statistics table z, p, p empirical
// and which rows set the p-value; the README names them only in passing.
func TestColumnNotes(t *testing.T) {
	stats := map[string]StatEvidence{StatScore: {NullN: 64}, featResidual: {NullN: 64}, "js_tfit": {NullN: 64},
		StatWatermark: {NullN: 9999}}
	tr := TeacherResult{Teacher: "acme", Verdict: Derived, Statistics: stats, PerKind: map[string]float64{"agreement": 0.7},
		Nearest: &Neighbour{FP: "acme/control-11", Role: "positive", Distance: 2.29}}
	tabs := Result{Suspect: "s1", Alpha: 0.01, Results: []TeacherResult{tr}}.Tables()
	want := map[int][]string{
		0: {"best statistic: the statistic that set the p-value", "effect size (z):", "d its Euclidean distance"},
		1: {"p empirical: the rank p-value", "decoy keys: the real key's rank", "controls t: the independent controls' Student-t",
			"the p-value comes from lineage_score, replica_residual and watermark alone"},
		2: {"soft_agreement: the mean probability the suspect", "a kind with few probes"},
	}
	for i, ws := range want {
		notes := strings.Join(tabs[i].Notes, "\n")
		for _, w := range ws {
			if !strings.Contains(notes, w) {
				t.Errorf("table %q lacks %q in its notes: %q", tabs[i].Title, w, notes)
			}
		}
	}
	tr.Outside = "the suspect agrees with the teacher's top answer on 7% of the probes"
	notes := strings.Join(statisticsTable(tr).Notes, "\n")
	if !strings.Contains(notes, "comes from watermark alone") {
		t.Errorf("outside the null, the statistics note does not say the watermark alone decides: %q", notes)
	}
}
