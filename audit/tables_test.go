package audit

import (
	"bytes"
	"maps"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/report"
)

func TestPerKindTable(t *testing.T) {
	values := map[string]float64{
		"agreement": 0.9, "js": 0.1, "agreement/noise": 0.5, "js/noise": 0.3,
		"agreement/data": 1, "js/data": 0, "mistake_agreement": 0.75,
	}
	for _, tt := range []struct {
		probes map[string]int
		want   string
	}{
		{nil, "probes,agreement,js,mistake_agreement\nall,0.9,0.1,0.75\ndata,1,0,\nnoise,0.5,0.3,\n"},
		// Results of older lineage have no counts: no column.
		{map[string]int{"all": 30, "data": 20, "noise": 10}, "probes,n,agreement,js,mistake_agreement\nall,30,0.9,0.1,0.75\ndata,20,1,0,\nnoise,10,0.5,0.3,\n"},
	} {
		var b bytes.Buffer
		if err := report.Render(&b, PerKindTable(values, tt.probes), report.FormatCSV); err != nil {
			t.Fatal(err)
		}
		if got := b.String(); got != tt.want {
			t.Errorf("PerKindTable CSV with probes %v:\ngot  %q\nwant %q", tt.probes, got, tt.want)
		}
	}
}

// TestKindProbes checks that the probe counts per kind are read from the
// agreement's, "all" for the whole suite.
func TestKindProbes(t *testing.T) {
	got := KindProbes(map[string]compare.Value{"agreement": {Value: 0.9, N: 30}, "js": {N: 30}, "agreement/noise": {N: 10}, "js/noise": {N: 10}, "agreement/data": {N: 20}})
	if want := map[string]int{"all": 30, "noise": 10, "data": 20}; !maps.Equal(got, want) {
		t.Errorf("KindProbes = %v, want %v", got, want)
	}
}

func TestRateCell(t *testing.T) {
	if !rateCell(-1).IsEmpty() {
		t.Errorf("rateCell(-1) is not empty")
	}
	if got := rateCell(0.25).String(); got != "0.250" {
		t.Errorf("rateCell(0.25) = %q, want 0.250", got)
	}
}

func TestShortID(t *testing.T) {
	tests := []struct{ id, teacher, want string }{
		{"acme/control-03", "acme", "control-03"},
		{"acme/teacher", "acme", "teacher"},
		{"beta/teacher", "acme", "beta/teacher"},
		{"suspect-1", "acme", "suspect-1"},
	}
	for _, tt := range tests {
		if got := ShortID(tt.id, tt.teacher); got != tt.want {
			t.Errorf("ShortID(%q, %q) = %q, want %q", tt.id, tt.teacher, got, tt.want)
		}
	}
}

// TestUnderTrainedNote checks that the verdict table mentions the
// under-trained controls only when the run with them set the p-value.
func TestUnderTrainedNote(t *testing.T) {
	tests := []struct {
		name         string
		underTrained int
		scoreNullN   int
		want         bool
	}{
		{"not in the null", 0, 64, false},
		{"in the null, trained run set p", 12, 64, false},
		{"in the null, their run set p", 12, 76, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := TeacherResult{Teacher: "acme", Verdict: NotDerived, PValue: 0.5, NullSize: 64 + tt.underTrained, UnderTrained: tt.underTrained,
				Statistics: map[string]StatEvidence{StatScore: {NullN: tt.scoreNullN}}}
			v := Result{Suspect: "s", Alpha: 0.01, Results: []TeacherResult{tr}}.Tables()[0]
			got := false
			for _, n := range v.Notes {
				if strings.Contains(n, "under-trained controls, and the lineage test with them") {
					got = true
				}
			}
			if got != tt.want {
				t.Errorf("under-trained note shown = %v, want %v; notes: %q", got, tt.want, v.Notes)
			}
		})
	}
}

// TestUnderTrainedStatisticsNote: the statistics table's note on the
// under-trained controls names the replica residual only when the table
// has its row; a label-only suspect's table (the score alone) said
// "lineage_score, and replica_residual beside it" all the same.
func TestUnderTrainedStatisticsNote(t *testing.T) {
	for _, residual := range []bool{false, true} {
		stats := map[string]StatEvidence{StatScore: {NullN: 22}}
		if residual {
			stats[featResidual] = StatEvidence{NullN: 22}
		}
		tr := TeacherResult{Teacher: "acme", NullSize: 22, UnderTrained: 4, Statistics: stats}
		notes := strings.Join(statisticsTable(tr).Notes, "\n")
		if !strings.Contains(notes, "under-trained controls in the null") {
			t.Fatalf("residual %v: no under-trained note in %q", residual, notes)
		}
		if got := strings.Contains(notes, featResidual); got != residual {
			t.Errorf("residual row %v: note names %s: %v; notes %q", residual, featResidual, got, notes)
		}
	}
}

// TestOutsideNotes: for a suspect outside the null the lineage test is not
// applied, so no note may say its run with the under-trained controls "is
// the one used", and the outside note gives the p-value's formula: it
// said "the watermark's test alone" beside a p-value of 1 for a watermark
// p of 0.39 (the p-value is min(1, 10·p_watermark)).
func TestOutsideNotes(t *testing.T) {
	tr := TeacherResult{Teacher: "acme", Verdict: Inconclusive, PValue: 1, PCombined: 1, NullSize: 21, UnderTrained: 4,
		Outside:    "the suspect agrees with the teacher's top answer on 7% of the probes",
		Statistics: map[string]StatEvidence{StatScore: {NullN: 21}, StatWatermark: {P: 0.39, NullN: 9999}}}
	notes := strings.Join(Result{Suspect: "s", Alpha: 0.01, Results: []TeacherResult{tr}}.Tables()[0].Notes, "\n")
	if strings.Contains(notes, "that is the one used") {
		t.Errorf("outside the null, a note says the lineage test's run was used: %q", notes)
	}
	if !strings.Contains(notes, "min(1, 10·p_watermark)") {
		t.Errorf("outside note without the p-value's formula: %q", notes)
	}
}

// TestLabelMapNote checks that the verdict table says when the suspect's
// labels were read by a label map the auditor stated, with the map (cut,
// at a pair, when long), and says nothing of one otherwise.
func TestLabelMapNote(t *testing.T) {
	long := strings.Repeat("label=other,", 40) + "last=end"
	for _, tt := range []struct {
		name, lm string
		want     []string
	}{
		{"none", "", nil},
		{"short", "zero=0,one=1", []string{"acme: the suspect's outputs were relabelled by the label map the auditor stated (suspect label=teacher label, --label-map), not read by their names: zero=0,one=1; the verdict holds for that correspondence"}},
		{"long", long, []string{"label=other,… (label_map in JSON lists them all)"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tr := TeacherResult{Teacher: "acme", Verdict: Derived, PValue: 0.001, PCombined: 0.001, LabelMap: tt.lm}
			notes := strings.Join(Result{Suspect: "s", Alpha: 0.01, Results: []TeacherResult{tr}}.Tables()[0].Notes, "\n")
			if tt.want == nil && strings.Contains(notes, "label map") {
				t.Errorf("no map, yet a note of one: %q", notes)
			}
			for _, w := range tt.want {
				if !strings.Contains(notes, w) {
					t.Errorf("notes %q lack %q", notes, w)
				}
			}
			if tt.name == "long" && strings.Contains(notes, "last=end") {
				t.Errorf("a long map is shown whole: %q", notes)
			}
		})
	}
}

// TestMarkPNote checks the verdict table's watermark note names the test
// that set the row's p: it said "over 9999 decoy keys" of a p the
// controls' Student-t set (method "controls t"), whose rank among the
// decoys was far smaller.
func TestMarkPNote(t *testing.T) {
	for _, tt := range []struct {
		wm   StatEvidence
		want string
	}{
		{StatEvidence{P: 0.0012, PEmpirical: 0.0012, NullN: 9999, Method: MethodDecoyKeys}, "0.0012 over 9999 decoy keys"},
		{StatEvidence{P: 0.147, PEmpirical: 0.0003, NullN: 9999, Method: MethodControlsT},
			"0.15 by the independent controls' Student-t under the real key (its rank among 9999 decoy keys gives 0.0003)"},
	} {
		res := Result{Suspect: "s", Results: []TeacherResult{{Teacher: "acme", Statistics: map[string]StatEvidence{StatWatermark: tt.wm}}}}
		want := "acme: label watermark p = " + tt.want + "; combined p = "
		found := false
		for _, tab := range res.Tables() {
			for _, n := range tab.Notes {
				found = found || strings.HasPrefix(n, want)
			}
		}
		if !found {
			t.Errorf("method %q: no note starting %q in %+v", tt.wm.Method, want, res.Tables())
		}
	}
}
