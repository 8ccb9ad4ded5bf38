package registry

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"gonum.org/v1/gonum/blas/blas32"
)

func fpOf(rows ...[]float32) *fingerprint.Fingerprint {
	p := blas32.General{Rows: len(rows), Cols: len(rows[0]), Stride: len(rows[0])}
	for _, r := range rows {
		p.Data = append(p.Data, r...)
	}
	return &fingerprint.Fingerprint{P: p}
}

func TestPairStat(t *testing.T) {
	a := fpOf([]float32{0.9, 0.1}, []float32{0.2, 0.8}, []float32{0.6, 0.4}, []float32{0.5, 0.5})
	b := fpOf([]float32{0.7, 0.3}, []float32{0.9, 0.1}, []float32{0.6, 0.4}, []float32{0.5, 0.5})
	if got, want := pairStat(a, b, "agreement"), 0.75; got != want {
		t.Errorf("agreement = %v, want %v", got, want)
	}
	if got := pairStat(a, a, "js"); math.Abs(got) > 1e-9 {
		t.Errorf("js(a, a) = %v, want 0", got)
	}
	if got := pairStat(a, b, "js"); !(got > 0 && got < 1) {
		t.Errorf("js(a, b) = %v, want in (0, 1)", got)
	}
	if got := pairStat(a, fpOf([]float32{1, 0}), "agreement"); !math.IsNaN(got) {
		t.Errorf("pairStat of different shapes = %v, want NaN", got)
	}
}

func TestCommonAlpha(t *testing.T) {
	rows := []Verdict{{Teacher: "acme", Alpha: 0.01}, {Teacher: "beta", Alpha: 0.05}, {Teacher: "acme", Alpha: 0.01}}
	if got := commonAlpha("acme", rows); got != 0.01 {
		t.Errorf("acme: α %g, want 0.01", got)
	}
	if got := commonAlpha("gamma", rows); got != 0 {
		t.Errorf("no verdicts: α %g, want 0", got)
	}
	rows = append(rows, Verdict{Teacher: "acme", Alpha: 0.05})
	if got := commonAlpha("acme", rows); got != 0 {
		t.Errorf("mixed α: %g, want 0", got)
	}
}

// TestMatrixFigureNames checks that the heat map of --plot-matrix names its
// models as the matrix table does: a suspect audited as a model against
// several teachers by its name, not by its fingerprint NAME@TEACHER, and
// the teacher of another enrolment on the suite with that enrolment.
func TestMatrixFigureNames(t *testing.T) {
	m := Matrix{Teacher: "acme", Statistic: "agreement", Models: []ModelRole{
		{ID: "acme/teacher", Role: "teacher"},
		{ID: "acme/ref-1", Role: "reference"},
		{ID: "beta/teacher", Role: "teacher", Enrolment: "beta"},
		{ID: "s2@acme", Role: "suspect", Suspect: "s2"},
		{ID: "suspect-1", Role: "suspect", Suspect: "suspect-1"},
	}, Values: [][]float64{{1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {0, 0, 1, 0, 0}, {0, 0, 0, 1, 0}, {0, 0, 0, 0, 1}}}
	fig := m.Figure()
	want := []string{"teacher", "ref-1 (reference)", "beta/teacher (teacher of beta)", "s2 (suspect)", "suspect-1 (suspect)"}
	if !slices.Equal(fig.Rows, want) || !slices.Equal(fig.Cols, want) {
		t.Errorf("heat map rows %q, columns %q; want %q", fig.Rows, fig.Cols, want)
	}
	sum := Summary{Matrices: []Matrix{m}}
	tables := sum.Tables()
	var names []string
	for _, tb := range tables {
		if rows := tb.AllRows(); len(rows) == len(m.Models) && len(tb.Columns) > 1 && tb.Columns[1].Name == "model" {
			for i := range rows {
				names = append(names, rows[i][1].String())
			}
		}
	}
	if want := []string{"teacher", "ref-1", "beta/teacher", "s2", "suspect-1"}; !slices.Equal(names, want) {
		t.Errorf("matrix table names %q, want %q", names, want)
	}
}

func TestSummarizeUnknownStatistic(t *testing.T) {
	if _, err := Summarize(nil, nil, nil, Options{Statistic: "cosine"}); err == nil {
		t.Error("Summarize with statistic cosine: no error, want one")
	}
}

func TestSetQValues(t *testing.T) {
	tests := []struct {
		name        string
		pPair, pHol []float64
		want        []float64
	}{
		// BH over m = 4: sorted 0.01, 0.02, 0.03, 0.5 → 0.04, 0.04, 0.04, 0.5.
		{"bh", []float64{0.03, 0.5, 0.01, 0.02}, []float64{0.06, 1, 0.02, 0.04}, []float64{0.04, 0.5, 0.04, 0.04}},
		// A record of older lineage without the pair's p-value (0) falls
		// back on the Holm-adjusted one, never on 0.
		{"missing pair p", []float64{0, 0.01}, []float64{0.2, 0.02}, []float64{0.2, 0.02}},
		{"none", nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := make([]Verdict, len(tt.pPair))
			for i := range vs {
				vs[i] = Verdict{PValue: tt.pHol[i], pPair: tt.pPair[i]}
			}
			setQValues(vs)
			for i, v := range vs {
				if math.Abs(v.QValue-tt.want[i]) > 1e-12 {
					t.Errorf("verdict %d: got q %g, want %g", i, v.QValue, tt.want[i])
				}
			}
		})
	}
}

// TestSetQValuesSameModel: a verdict that stands for another's (SameAs) is
// not one more test in the Benjamini–Hochberg family and takes that
// verdict's q-value.
func TestSetQValuesSameModel(t *testing.T) {
	vs := []Verdict{
		{Suspect: "a", Teacher: "acme", pPair: 0.01, SameAs: "b"},
		{Suspect: "b", Teacher: "acme", pPair: 0.02},
		{Suspect: "c", Teacher: "acme", pPair: 0.5},
	}
	setQValues(vs)
	// BH over m = 2 (b, c): 0.02·2 = 0.04, 0.5.
	want := []float64{0.04, 0.04, 0.5}
	for i, v := range vs {
		if math.Abs(v.QValue-want[i]) > 1e-12 {
			t.Errorf("verdict %s: got q %g, want %g", v.Suspect, v.QValue, want[i])
		}
	}
	if got := distinct(vs); got != 2 {
		t.Errorf("distinct = %d, want 2", got)
	}
}

// TestVerdictNotes checks the verdict table's note when nothing is listed:
// no audit at all, or audit records that measured no teacher listed (a
// report after db rm enrolment said "no audit recorded yet").
func TestVerdictNotes(t *testing.T) {
	tests := []struct {
		records int
		want    string
	}{
		{0, "no audit recorded yet"},
		{2, "none of the 2 audit records measured a suspect against a teacher listed here"},
	}
	for _, tt := range tests {
		s := Summary{records: tt.records}
		tables := s.Tables()
		v := tables[len(tables)-1]
		if len(v.Notes) != 1 || !strings.Contains(v.Notes[0], tt.want) {
			t.Errorf("%d records: notes %q, want %q", tt.records, v.Notes, tt.want)
		}
	}
}

func TestHolmNote(t *testing.T) {
	tests := []struct {
		name   string
		tested []int
		want   string // "" for no note
	}{
		{"one size", []int{3, 3}, ""},
		{"two sizes", []int{1, 3, 3}, "(1 from audits against 1 teacher, 2 from audits against 3 teachers)"},
	}
	for _, tt := range tests {
		s := Summary{records: len(tt.tested)}
		for i, n := range tt.tested {
			s.Verdicts = append(s.Verdicts, Verdict{Suspect: fmt.Sprint(i), Teacher: "t", TeachersTested: n})
		}
		tables := s.Tables()
		notes := strings.Join(tables[len(tables)-1].Notes, "\n")
		if got := strings.Contains(notes, "Holm-adjusted across the teachers"); got != (tt.want != "") || !strings.Contains(notes, tt.want) {
			t.Errorf("%s: notes %q, want the Holm note %q", tt.name, notes, tt.want)
		}
	}
}

// TestAlphaNote: verdicts of audits at different --alpha levels are listed
// side by side, where the same p-value can be DERIVED in one row and
// INCONCLUSIVE in another; the report said nothing of the levels (a
// p = 0.038 DERIVED at α = 0.05 sat beside an INCONCLUSIVE at 0.01).
func TestAlphaNote(t *testing.T) {
	tests := []struct {
		name   string
		alphas []float64
		want   string // "" for no note
	}{
		{"one level", []float64{0.01, 0.01}, ""},
		{"two levels", []float64{0.05, 0.01, 0.01}, "(2 at α = 0.01, 1 at α = 0.05)"},
		{"unrecorded", []float64{0, 0.01}, "(1 at an unrecorded α, 1 at α = 0.01)"},
	}
	for _, tt := range tests {
		s := Summary{records: len(tt.alphas)}
		for i, a := range tt.alphas {
			s.Verdicts = append(s.Verdicts, Verdict{Suspect: fmt.Sprint(i), Teacher: "t", TeachersTested: 1, Alpha: a})
		}
		tables := s.Tables()
		notes := strings.Join(tables[len(tables)-1].Notes, "\n")
		if got := strings.Contains(notes, "different significance levels"); got != (tt.want != "") || !strings.Contains(notes, tt.want) {
			t.Errorf("%s: notes %q, want the α note %q", tt.name, notes, tt.want)
		}
	}
}

func TestReasonCell(t *testing.T) {
	tests := []struct {
		v    Verdict
		want string
	}{
		{Verdict{Reason: "not significant"}, "not significant"},
		{Verdict{Caution: "labels alone"}, "caution: labels alone"},
		{Verdict{Verdict: "NOT_DERIVED", NotRuledOut: []string{"extract-mixup-label", "kd-t1"}}, "not ruled out: extract-mixup-label, kd-t1"},
		{Verdict{}, ""},
	}
	for _, tt := range tests {
		if got := reasonCell(tt.v); got != tt.want {
			t.Errorf("reasonCell(%+v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}
