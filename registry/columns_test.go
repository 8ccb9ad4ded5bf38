package registry

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/report"
)

// TestTablesCellsInTheirColumns renders the summary and verdict tables of
// a registry whose every number differs and checks each cell under its
// header: swapping the TPR and FPR cells, or writing the q-value in the
// p-value column, passed every test before (found by mutating the tables
// by hand), and misleads a reader more than a crash would.
func TestTablesCellsInTheirColumns(t *testing.T) {
	s := Summary{
		Teachers: []Teacher{{Teacher: "acme", Suite: "0123456789abcdef", Probes: 500, Positives: 4, Negatives: 6,
			References: 3, NullSize: 9, NullSizeLO: 9, AUC: 0.97, Audited: 7, Derived: 2,
			Rates: []compare.Rate{{Alpha: 0.01, TPR: 0.75, FPR: 0.125}, {Alpha: 0.05, TPR: 0.875, FPR: 0.25}}}},
		Verdicts: []Verdict{{Suspect: "vendor", Teacher: "acme", Verdict: "DERIVED", PValue: 0.002, QValue: 0.004,
			Best: "js", EffectSize: 5.5, Reason: "r"}},
	}
	tables := s.Tables()
	if len(tables) != 2 {
		t.Fatalf("Tables returned %d tables, want the summary and the verdicts", len(tables))
	}
	for _, tt := range []struct {
		table int
		want  map[string]string // header → cell of the only row
	}{
		{0, map[string]string{"teacher": "acme", "suite": "0123456789ab", "probes": "500", "positives": "4", "negatives": "6",
			"references": "3", "null size": "9", "TPR@0.01": "0.75", "FPR@0.01": "0.125", "TPR@0.05": "0.875", "FPR@0.05": "0.25",
			"AUC": "0.97", "audited": "7", "derived": "2"}},
		{1, map[string]string{"suspect": "vendor", "teacher": "acme", "verdict": "DERIVED", "p-value (Holm)": "0.002",
			"q-value (BH)": "0.004", "best statistic": "js", "effect size (z)": "5.5", "reason": "r"}},
	} {
		var buf bytes.Buffer
		if err := report.Render(&buf, tables[tt.table], report.FormatCSV); err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("table %q as CSV: %d records, %v; want a header and one row", tables[tt.table].Title, len(recs), err)
		}
		got := map[string]string{}
		for j, h := range recs[0] {
			got[h] = recs[1][j]
		}
		for h, w := range tt.want {
			if got[h] != w {
				t.Errorf("table %q, column %q: %q, want %q", tables[tt.table].Title, h, got[h], w)
			}
		}
	}
}

// TestTablesNotes checks the notes that qualify what a table shows, one
// case each: without them a row reads as complete when it is not. Each
// note could be dropped, or the two reasons for an unlisted verdict
// swapped, with every test passing (found by mutating the tables by hand).
func TestTablesNotes(t *testing.T) {
	long := strings.Repeat("label=other,", 40)
	tests := []struct {
		name    string
		s       Summary
		want    string // in the notes
		notWant string // in none of them; "" for no such check
	}{
		{"label-only null", Summary{Teachers: []Teacher{{Teacher: "acme", NullSize: 9, NullSizeLO: 5}}},
			"acme: the null of label-only suspects has 5 models", ""},
		{"fingerprint removed", Summary{Verdicts: []Verdict{{Suspect: "s1", Teacher: "acme", Fingerprint: "fp1", Audit: "a1", FingerprintMissing: true}}},
			"s1 (against acme): its fingerprint fp1 is no longer stored", ""},
		{"long label map", Summary{Verdicts: []Verdict{{Suspect: "s1", Teacher: "acme", LabelMap: long}}},
			",… (label_map in JSON lists them all)", long},
		{"enrolment removed", Summary{Unlisted: []Unlisted{{Suspect: "s1", Teacher: "acme", Audit: "a1", Why: "enrolment removed"}}},
			"because enrolment acme was removed", "enrolled anew"},
		{"enrolled anew", Summary{Unlisted: []Unlisted{{Suspect: "s1", Teacher: "acme", Audit: "a1", Why: "enrolled anew on another suite"}}},
			"because acme was enrolled anew on another suite", "was removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var notes []string
			for _, tab := range tt.s.Tables() {
				notes = append(notes, tab.Notes...)
			}
			got := strings.Join(notes, "\n")
			if !strings.Contains(got, tt.want) {
				t.Errorf("notes %q, want one containing %q", notes, tt.want)
			}
			if tt.notWant != "" && strings.Contains(got, tt.notWant) {
				t.Errorf("notes %q contain %q", notes, tt.notWant)
			}
		})
	}
}
