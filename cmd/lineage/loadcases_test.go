package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// tinyEnrolments stores, in a new database, one enrolment per name: a
// suite of n random probes and the teacher's fingerprint, no controls.
func tinyEnrolments(t *testing.T, n int, names ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "case.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	labels := model.DefaultLabels(3)
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		for k, name := range names {
			rng := rand.New(rand.NewPCG(uint64(k), 1))
			x := blas32.General{Rows: n, Cols: 2, Stride: 2, Data: make([]float32, 2*n)}
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			kinds := make([]probe.Kind, n)
			for i := range kinds {
				kinds[i] = probe.Data
			}
			s := &probe.Suite{Name: name, Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}
			p := blas32.General{Rows: n, Cols: 3, Stride: 3, Data: make([]float32, 3*n)}
			for i := 0; i < n; i++ {
				p.Data[3*i+rng.IntN(3)] = 1
			}
			fp := &fingerprint.Fingerprint{ID: name + "/teacher", Suite: s.Hash, P: p, Queries: n,
				Model: model.Info{Name: name, Kind: model.Classifier, InputSize: 2, Labels: labels, Hash: "h-" + name}}
			fp.Hash = fp.ComputeHash()
			if err := tx.PutSuite(s); err != nil {
				return err
			}
			if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
				return err
			}
			if err := tx.PutEnrolment(&store.Enrolment{Name: name, Suite: s.Hash, TeacherFP: fp.ID}, store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadCasesOnce checks that a teacher named twice by --against is
// loaded once: audited twice, it would count as two tests in Holm's
// correction and double the suspect's p-value.
func TestLoadCasesOnce(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	tests := []struct {
		names []string
		want  []string
	}{
		{nil, []string{"acme", "beta"}},
		{[]string{"acme", "acme"}, []string{"acme"}},
		{[]string{"beta", "acme", "beta", "acme"}, []string{"beta", "acme"}},
	}
	for _, tt := range tests {
		var got []string
		err := viewDB(context.Background(), &globalOptions{db: path}, func(tx *store.Tx) error {
			cases, err := loadCases(tx, tt.names)
			for _, c := range cases {
				got = append(got, c.Enrolment.Name)
			}
			return err
		})
		if err != nil {
			t.Fatalf("loadCases(%q): %v", tt.names, err)
		}
		if len(got) != len(tt.want) {
			t.Errorf("loadCases(%q) = %q, want %q", tt.names, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("loadCases(%q) = %q, want %q", tt.names, got, tt.want)
				break
			}
		}
	}
}

// TestAgainstNames: --against takes an enrolled teacher's name whole, else
// a CSV list of names. It split every value on commas, so a teacher named
// x,y could not be audited alone (and `"q` was a parse error).
func TestAgainstNames(t *testing.T) {
	path := tinyEnrolments(t, 4, "x,y", "x", "y", `a"b`)
	for _, tt := range []struct {
		values []string
		want   []string
		err    string // a usage error holding this, or "" for none
	}{
		{[]string{"x,y"}, []string{"x,y"}, ""},
		{[]string{"x", "y"}, []string{"x", "y"}, ""},
		{[]string{"y,x"}, []string{"y", "x"}, ""},
		{[]string{`"x,y",x`}, []string{"x,y", "x"}, ""},
		{[]string{"x, y"}, []string{"x", "y"}, ""},
		{[]string{`a"b`}, []string{`a"b`}, ""},
		{[]string{`"a""b",x`}, []string{`a"b`, "x"}, ""},
		{[]string{"unknown"}, []string{"unknown"}, ""}, // loadCases says "not found"
		{[]string{""}, nil, "an empty teacher name"},
		{[]string{"x,"}, nil, "an empty teacher name"},
		{[]string{`"x,y`}, nil, `--against "\"x,y"`},
	} {
		var got []string
		err := viewDB(context.Background(), &globalOptions{db: path}, func(tx *store.Tx) (err error) {
			got, err = againstNames(tx, tt.values)
			return err
		})
		var ue usageError
		switch {
		case tt.err == "" && (err != nil || !slices.Equal(got, tt.want)):
			t.Errorf("againstNames(%q) = %q, %v; want %q", tt.values, got, err, tt.want)
		case tt.err != "" && (!errors.As(err, &ue) || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("againstNames(%q): %v, want a usage error holding %q", tt.values, err, tt.err)
		}
	}
}

// TestSaveAuditKeepsOtherFingerprint checks that `audit MODEL --save` does
// not silently replace a stored fingerprint of other content under the
// suspect's ID (as `probe` does not without --replace), and that saving the
// same fingerprint again is fine.
func TestSaveAuditKeepsOtherFingerprint(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	ctx := context.Background()
	g := &globalOptions{db: path}
	var teacher *fingerprint.Fingerprint
	if err := viewDB(ctx, g, func(tx *store.Tx) (err error) {
		teacher, err = tx.Fingerprint("acme/teacher")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mk := func(row int) *fingerprint.Fingerprint {
		fp := *teacher
		fp.ID, fp.Model.Hash = "suspect", "h-suspect"
		fp.P.Data = make([]float32, len(teacher.P.Data))
		for i := 0; i < fp.P.Rows; i++ {
			fp.P.Data[i*fp.P.Cols+(i+row)%fp.P.Cols] = 1
		}
		fp.Hash = fp.ComputeHash()
		return &fp
	}
	stored, other := mk(0), mk(1)
	if err := updateDB(ctx, g, func(tx *store.Tx) error { return tx.PutFingerprint(stored, store.PutOptions{}) }); err != nil {
		t.Fatal(err)
	}
	o := &auditOptions{save: true}
	res := audit.Result{Suspect: "suspect", Results: []audit.TeacherResult{{Teacher: "acme", Suite: teacher.Suite}}}
	tests := []struct {
		name    string
		fp      *fingerprint.Fingerprint
		wantErr bool
	}{
		{"same content", stored, false},
		{"other content", other, true},
	}
	for _, tt := range tests {
		err := saveAudit(ctx, g, o, false, res, []*fingerprint.Fingerprint{tt.fp}, nil, 0)
		if (err != nil) != tt.wantErr {
			t.Errorf("%s: saveAudit error %v, want error %v", tt.name, err, tt.wantErr)
		}
		if err != nil && !errors.Is(err, store.ErrExists) {
			t.Errorf("%s: error %v does not wrap store.ErrExists", tt.name, err)
		}
	}
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		got, err := tx.Fingerprint("suspect")
		if err == nil && got.Hash != stored.Hash {
			t.Errorf("stored fingerprint replaced: hash %.12s, want %.12s", got.Hash, stored.Hash)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// TestAuditModelFitsNoTeacher checks that a model that fits none of the
// teachers' suites is one error on one line naming every teacher's reason,
// not only the last teacher's.
func TestAuditModelFitsNoTeacher(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta") // 2 inputs, 3 labels
	file := filepath.Join(t.TempDir(), "wide.lnm")
	if err := model.Save(file, model.NewMLP([]int{5, 3}, model.ActReLU, model.DefaultLabels(3), rand.New(rand.NewPCG(1, 2)))); err != nil {
		t.Fatal(err)
	}
	root := newRootCommand()
	root.SetOut(io.Discard)
	root.SetArgs([]string{"--db", path, "audit", file})
	err := root.ExecuteContext(context.Background())
	if !errors.Is(err, fingerprint.ErrMismatch) {
		t.Fatalf("audit: error %v, want a mismatch", err)
	}
	msg := err.Error()
	for _, want := range []string{`has 5 inputs, suite "acme" has 2`, `has 5 inputs, suite "beta" has 2`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not say %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error %q is not one line", msg)
	}
}

// TestAuditStoredOnNoTeacherSuite checks that auditing a stored fingerprint
// against teachers none of whose suites it was taken on is one error line
// that says which teacher it can be audited against (it was a run of
// INCONCLUSIVE rows with exit status 0, so --fail-on-derived passed), and
// that the database is left byte-identical.
func TestAuditStoredOnNoTeacherSuite(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	before := fileSum(t, path)
	root := newRootCommand()
	root.SetOut(io.Discard)
	root.SetArgs([]string{"--db", path, "audit", "acme/teacher", "--against", "beta", "--fail-on-derived"})
	err := root.ExecuteContext(context.Background())
	if !errors.Is(err, audit.ErrSuite) {
		t.Fatalf("audit: error %v, want one wrapping audit.ErrSuite", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "against acme") || strings.Contains(msg, "\n") {
		t.Errorf("error %q: want one line naming acme", msg)
	}
	if fileSum(t, path) != before {
		t.Error("the database changed")
	}
}

// TestAuditUnmeasuredEffectSize checks that a teacher nothing was tested
// against (not fingerprinted on its suite, or no usable null) shows no
// effect size: null in JSON, an empty cell in the table — not a measured
// z of 0.
func TestAuditUnmeasuredEffectSize(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	var out strings.Builder
	root := newRootCommand()
	root.SetOut(&out)
	root.SetArgs([]string{"--db", path, "audit", "acme/teacher", "--dry-run", "--format", "json"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Results []struct {
			Teacher    string   `json:"teacher"`
			EffectSize *float64 `json:"effect_size"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(res.Results) != 2 {
		t.Fatalf("got %d results, want 2:\n%s", len(res.Results), out.String())
	}
	for _, r := range res.Results {
		if r.EffectSize != nil {
			t.Errorf("teacher %s: effect_size %v, want null (nothing tested)", r.Teacher, *r.EffectSize)
		}
	}
	out.Reset()
	root = newRootCommand()
	root.SetOut(&out)
	root.SetArgs([]string{"--db", path, "audit", "acme/teacher", "--dry-run", "--format", "csv"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "NaN") || strings.Contains(out.String(), ",0.00,") {
		t.Errorf("csv shows a number for an unmeasured effect size:\n%s", out.String())
	}
}

// TestAuditRecordAgainstMeasured checks that an audit record names only
// the teachers the suspect was measured against (what `db ls audit`
// shows), not every teacher the audit listed as not fingerprinted.
func TestAuditRecordAgainstMeasured(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	root := newRootCommand()
	root.SetOut(io.Discard)
	root.SetArgs([]string{"--db", path, "audit", "acme/teacher"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := viewDB(context.Background(), &globalOptions{db: path}, func(tx *store.Tx) error {
		rec, err := tx.Audit("acme/teacher")
		if err != nil {
			return err
		}
		if len(rec.Against) != 1 || rec.Against[0] != "acme" {
			t.Errorf("record against %q, want [acme]", rec.Against)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestSameEnrolmentOddControls checks that rerunning a completed
// enrolment with an odd --controls (rounded up to even when the controls
// were made) is recognised as the same enrolment, not a clash.
func TestSameEnrolmentOddControls(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	ctx := context.Background()
	g := &globalOptions{db: path}
	rep := audit.EnrolReport{Name: "acme", Teacher: model.Info{Hash: "h-acme"}, Seed: 7, Positives: 4, UnderTrained: audit.UnderTrainedControls(4), Probes: 60}
	putReport := func() {
		t.Helper()
		if err := updateDB(ctx, g, func(tx *store.Tx) error {
			e, err := tx.Enrolment("acme")
			if err != nil {
				return err
			}
			if e.Report, err = json.Marshal(rep); err != nil {
				return err
			}
			return tx.PutEnrolment(e, store.PutOptions{Replace: true})
		}); err != nil {
			t.Fatal(err)
		}
	}
	putReport()
	for _, tt := range []struct {
		controls int
		want     bool
	}{{3, true}, {4, true}, {5, false}, {2, false}} {
		if err := viewDB(ctx, g, func(tx *store.Tx) error {
			got := sameEnrolment(tx, "acme", "h-acme", audit.EnrollOptions{Controls: tt.controls, SuiteSize: 60, Seed: 7}) != nil
			if got != tt.want {
				t.Errorf("--controls %d: same enrolment %v, want %v", tt.controls, got, tt.want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	// An enrolment made before the under-trained controls is not the one
	// enroll would make now: it must not be reported as already done.
	rep.UnderTrained = 0
	putReport()
	if err := viewDB(ctx, g, func(tx *store.Tx) error {
		if sameEnrolment(tx, "acme", "h-acme", audit.EnrollOptions{Controls: 4, SuiteSize: 60, Seed: 7}) != nil {
			t.Error("an enrolment without under-trained controls: same enrolment true, want false")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
