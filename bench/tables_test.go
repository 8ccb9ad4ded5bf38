package bench

import (
	"strings"
	"testing"
)

// TestTablesCells checks every figure of the detect summary and family
// tables against the report fields it must show, with a distinct value in
// each field so a row showing the wrong one fails.
func TestTablesCells(t *testing.T) {
	rep := &DetectReport{
		Rates: Rates{AUC: 0.9876, TPR01: 0.111, TPR05: 0.222, FPR01: 0.333, FPR05: 0.444, FPRUpper01: 0.555, FPRUpper05: 0.566,
			QueriesPerAudit: 140, Families: []FamilyResult{
				{Name: "pos", Kind: Positive, N: 4, Flagged01: 2, Flagged05: 3, Cautioned01: 1, Rate01: 0.95, MedianP: 0.012, MeanTestAccuracy: 0.91, Limit: "stated"},
				{Name: "neg", Kind: Negative, N: 20, Flagged01: 0, Flagged05: 1, Cautioned01: 2, MedianP: 0.5, MeanTestAccuracy: 0.88},
			}},
		Baseline: BaselineReport{Available: true, Probes: 12, Rates: Rates{AUC: 0.6543, TPR01: 0.611, TPR05: 0.622, FPR01: 0.633, FPR05: 0.644,
			FPRUpper01: 0.655, QueriesPerAudit: 12, Families: []FamilyResult{
				{Name: "pos", Kind: Positive, N: 4, Flagged01: 1, Flagged05: 4},
				{Name: "neg", Kind: Negative, N: 20, Flagged01: 5, Flagged05: 7},
			}}},
	}
	tabs := rep.Tables()
	rows := map[string][2]string{}
	for _, r := range tabs[0].Rows {
		rows[r[0].String()] = [2]string{r[1].String(), r[2].String()}
	}
	for _, w := range []struct{ label, lineage, baseline string }{
		{"AUC", "0.9876", "0.6543"},
		{"TPR at α=0.01", "0.111", "0.611"},
		{"TPR at α=0.05", "0.222", "0.622"},
		{"FPR at α=0.01", "0.333", "0.633"},
		{"FPR at α=0.05", "0.444", "0.644"},
		{"FPR 95% upper bound at α=0.01", "0.555", "0.655"},
		{"queries per audit", "140", "12"},
	} {
		if got, ok := rows[w.label]; !ok || got != [2]string{w.lineage, w.baseline} {
			t.Errorf("summary row %q: got %q, want [%s %s]", w.label, got, w.lineage, w.baseline)
		}
	}
	notes := strings.Join(tabs[0].Notes, "\n")
	// A limited family at TPR 0.95 (no shortfall) still has its limit noted.
	if !strings.Contains(notes, "limit of pos: stated") {
		t.Errorf("summary notes lack the limit of pos:\n%s", notes)
	}
	if !strings.Contains(notes, "caution: 3 DERIVED verdicts") || !strings.Contains(notes, "(1 of derived suspects, 2 of independent ones)") {
		t.Errorf("summary notes lack the caution counts 1 derived, 2 independent:\n%s", notes)
	}
	want := [][]string{
		{"pos", "positive", "4", "2/4", "3/4", "1/4", "4/4"},
		{"neg", "negative", "20", "0/20", "1/20", "5/20", "7/20"},
	}
	if len(tabs[1].Rows) != len(want) {
		t.Fatalf("family table has %d rows, want %d", len(tabs[1].Rows), len(want))
	}
	for i, w := range want {
		for j, c := range w {
			if got := tabs[1].Rows[i][j].String(); got != c {
				t.Errorf("family row %d column %q: got %q, want %q", i, tabs[1].Columns[j].Name, got, c)
			}
		}
	}
	// Without a baseline its cells say n/a.
	rep.Baseline.Available = false
	for _, r := range rep.Tables()[0].Rows {
		if r[0].String() == "AUC" && r[2].String() != "n/a" {
			t.Errorf("baseline unavailable: AUC baseline cell %q, want n/a", r[2].String())
		}
	}
}
