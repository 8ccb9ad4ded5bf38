package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
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

func TestSafeFileName(t *testing.T) {
	tests := []struct{ in, want string }{{"acme", "acme"}, {"a/b c:d", "a_b_c_d"}}
	for _, tt := range tests {
		if got := safeFileName(tt.in); got != tt.want {
			t.Errorf("safeFileName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFigurePaths(t *testing.T) {
	ts := func(names ...string) []teacherSummary {
		var out []teacherSummary
		for _, n := range names {
			out = append(out, teacherSummary{Teacher: n})
		}
		return out
	}
	tests := []struct {
		names []string
		want  []string
	}{
		{[]string{"acme"}, []string{"m.png"}},
		{[]string{"acme", "x y", "x_y", "X_Y", "x_y-2"}, []string{"m-acme.png", "m-x_y.png", "m-x_y-2.png", "m-X_Y-3.png", "m-x_y-2-2.png"}},
	}
	for _, tc := range tests {
		got := figurePaths("m.png", ts(tc.names...))
		if !slices.Equal(got, tc.want) {
			t.Errorf("figurePaths(%q) = %q, want %q", tc.names, got, tc.want)
		}
	}
}

// TestSharedPath checks that the two figure flags are refused when, named
// per teacher, they would write one file: teachers "x" and "a-x" with
// --plot a.png and --plot-matrix a-a.png both give a-a-x.png.
func TestSharedPath(t *testing.T) {
	ts := []teacherSummary{{Teacher: "x"}, {Teacher: "a-x"}}
	null, matrix := figurePaths("a.png", ts), figurePaths("a-a.png", ts)
	if p, ok := sharedPath(null, matrix); !ok || p != "a-a-x.png" {
		t.Errorf("sharedPath(%q, %q) = %q, %v; want a-a-x.png, true", null, matrix, p, ok)
	}
	if p, ok := sharedPath(figurePaths("n.png", ts), figurePaths("m.png", ts)); ok {
		t.Errorf("distinct flags: shared %q", p)
	}
	if _, ok := sharedPath([]string{"dir/A.PNG"}, []string{"./dir/a.png"}); !ok {
		t.Error("paths differing in case and ./: not shared")
	}
}

func TestCommonAlpha(t *testing.T) {
	rows := []verdictRow{{Teacher: "acme", alpha: 0.01}, {Teacher: "beta", alpha: 0.05}, {Teacher: "acme", alpha: 0.01}}
	if got := commonAlpha("acme", rows); got != 0.01 {
		t.Errorf("acme: α %g, want 0.01", got)
	}
	if got := commonAlpha("gamma", rows); got != 0 {
		t.Errorf("no verdicts: α %g, want 0", got)
	}
	rows = append(rows, verdictRow{Teacher: "acme", alpha: 0.05})
	if got := commonAlpha("acme", rows); got != 0 {
		t.Errorf("mixed α: %g, want 0", got)
	}
}

// TestReportUnmeasuredTeachers checks that a recorded audit counts, lists
// and plots a suspect only under the teachers it was measured against: a
// teacher whose suite it was not fingerprinted on (INCONCLUSIVE "not
// fingerprinted on this suite") or a result of an enrolment of that name on
// another suite gives no verdict row and no "audited" count.
func TestReportUnmeasuredTeachers(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	ctx := context.Background()
	g := &globalOptions{db: path}
	var suites map[string]string
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		suites = map[string]string{}
		es, err := tx.Enrolments()
		for _, e := range es {
			suites[e.Name] = e.Suite
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	measured := func(teacher string, v audit.Verdict) audit.TeacherResult {
		return audit.TeacherResult{Teacher: teacher, Suite: suites[teacher], Verdict: v, PValue: 0.5, PCombined: 0.5,
			PerKind: map[string]float64{"agreement": 0.8}, TPR: 1, FPR: 0}
	}
	unmeasured := func(teacher string) audit.TeacherResult {
		return audit.TeacherResult{Teacher: teacher, Suite: suites[teacher], Verdict: audit.Inconclusive, PValue: 1, PCombined: 1,
			Reason: "not fingerprinted on this suite", TPR: 1, FPR: 0}
	}
	stale := measured("beta", audit.Derived)
	stale.Suite = suites["acme"] // an earlier "beta" enrolled on another suite
	records := map[string]audit.Result{
		"on-acme": {Suspect: "on-acme", Alpha: 0.01, Results: []audit.TeacherResult{measured("acme", audit.NotDerived), unmeasured("beta")}},
		"on-beta": {Suspect: "on-beta", Alpha: 0.01, Results: []audit.TeacherResult{unmeasured("acme"), measured("beta", audit.Derived)}},
		"stale":   {Suspect: "stale", Alpha: 0.01, Results: []audit.TeacherResult{stale}},
	}
	if err := updateDB(ctx, g, func(tx *store.Tx) error {
		for id, res := range records {
			raw, err := json.Marshal(res)
			if err != nil {
				return err
			}
			rec := &store.AuditRecord{ID: id, Suspect: "acme/teacher", Result: raw}
			if err := tx.PutAudit(rec, store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Teachers []struct {
			Teacher string `json:"teacher"`
			Audited int    `json:"suspects_audited"`
			Derived int    `json:"suspects_derived"`
		} `json:"teachers"`
		Verdicts []struct {
			Suspect string `json:"suspect"`
			Teacher string `json:"teacher"`
		} `json:"verdicts"`
	}
	var out bytes.Buffer
	root := newRootCommand()
	root.SetOut(&out)
	root.SetArgs([]string{"--db", path, "report", "--format", "json"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	var rows []string
	for _, v := range doc.Verdicts {
		rows = append(rows, v.Suspect+"@"+v.Teacher)
	}
	slices.Sort(rows)
	if want := []string{"on-acme@acme", "on-beta@beta"}; !slices.Equal(rows, want) {
		t.Errorf("verdict rows %q, want %q", rows, want)
	}
	for _, ts := range doc.Teachers {
		if ts.Audited != 1 {
			t.Errorf("teacher %s: %d suspects audited, want 1", ts.Teacher, ts.Audited)
		}
		if want := map[string]int{"acme": 0, "beta": 1}[ts.Teacher]; ts.Derived != want {
			t.Errorf("teacher %s: %d suspects derived, want %d", ts.Teacher, ts.Derived, want)
		}
	}
}

// TestMatrixFigureNames checks that the heat map of --plot-matrix names its
// models as the matrix table does: a suspect audited as a model against
// several teachers by its name, not by its fingerprint NAME@TEACHER, and
// the teacher of another enrolment on the suite with that enrolment.
func TestMatrixFigureNames(t *testing.T) {
	m := similarityDoc{Teacher: "acme", Statistic: "agreement", Models: []modelRole{
		{ID: "acme/teacher", Role: "teacher"},
		{ID: "acme/ref-1", Role: "reference"},
		{ID: "beta/teacher", Role: "teacher", Enrolment: "beta"},
		{ID: "s2@acme", Role: "suspect", Suspect: "s2"},
		{ID: "suspect-1", Role: "suspect", Suspect: "suspect-1"},
	}, Values: [][]float64{{1, 0, 0, 0, 0}, {0, 1, 0, 0, 0}, {0, 0, 1, 0, 0}, {0, 0, 0, 1, 0}, {0, 0, 0, 0, 1}}}
	fig := matrixFigure(m)
	want := []string{"teacher", "ref-1 (reference)", "beta/teacher (teacher of beta)", "s2 (suspect)", "suspect-1 (suspect)"}
	if !slices.Equal(fig.Rows, want) || !slices.Equal(fig.Cols, want) {
		t.Errorf("heat map rows %q, columns %q; want %q", fig.Rows, fig.Cols, want)
	}
	doc := reportDoc{Matrices: []similarityDoc{m}}
	tables := reportTables(&doc)
	var names []string
	for _, tb := range tables {
		if len(tb.Rows) == len(m.Models) && len(tb.Columns) > 1 && tb.Columns[1].Name == "model" {
			for i := range tb.Rows {
				names = append(names, tb.Rows[i][1].String())
			}
		}
	}
	if want := []string{"teacher", "ref-1", "beta/teacher", "s2", "suspect-1"}; !slices.Equal(names, want) {
		t.Errorf("matrix table names %q, want %q", names, want)
	}
}
