package demo

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// tinySuite stores a suite of two probes named name (its inputs set by
// seed) and returns its hash.
func tinySuite(t *testing.T, tx *store.Tx, name string, seed float32) string {
	t.Helper()
	labels := model.DefaultLabels(2)
	x := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{seed, 1, 2, 3}}
	kinds := []probe.Kind{probe.Data, probe.Data}
	s := &probe.Suite{Name: name, Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}
	if err := tx.PutSuite(s); err != nil {
		t.Fatal(err)
	}
	return s.Hash
}

// tinyFingerprint stores a fingerprint id of a model named model on the
// suite of hash suite.
func tinyFingerprint(t *testing.T, tx *store.Tx, id, modelName, suite string) {
	t.Helper()
	labels := model.DefaultLabels(2)
	fp := &fingerprint.Fingerprint{ID: id, Suite: suite, Queries: 2,
		P:     blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{1, 0, 0, 1}},
		Model: model.Info{Name: modelName, Kind: model.Classifier, InputSize: 2, Labels: labels, Hash: "h-" + id}}
	fp.Hash = fp.ComputeHash()
	if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// enrol stores the enrolment name on a suite of its own, its teacher a
// model named teacher, its report saying it was made from the digits with
// seed and the default controls, suite size and watermark, as Run's is.
func enrol(t *testing.T, tx *store.Tx, name, teacher string, seed uint64) string {
	t.Helper()
	suite := tinySuite(t, tx, name, float32(len(name)))
	tinyFingerprint(t, tx, name+"/teacher", teacher, suite)
	d := dataset.Digits()
	k, n := audit.DefaultControls, audit.DefaultSuiteSize
	rep := audit.EnrolReport{Name: name, Data: &audit.DataRef{Name: d.Name, Hash: d.Hash}, Seed: seed,
		Positives: audit.PositiveControls(k), UnderTrained: audit.UnderTrainedControls(k), Probes: n,
		WatermarkProbes: min(int(audit.DefaultWatermark*float64(n)), n/2)}
	if !rep.MadeWith(d, audit.EnrollOptions{Seed: seed}) {
		t.Fatalf("the report made for the test is not one of an enrolment made with seed %d", seed)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	e := &store.Enrolment{Name: name, Suite: suite, TeacherFP: name + "/teacher", Teacher: model.Info{Name: teacher}, Report: b}
	if err := tx.PutEnrolment(e, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	return suite
}

// demoRecords stores what a run of the demo with seed 1 stores before
// it is interrupted: the enrolment and the first suspect's fingerprint
// and audit record (through putAudit, as Run stores it).
func demoRecords(t *testing.T, tx *store.Tx) string {
	suite := enrol(t, tx, Enrolment, "teacher", 1)
	tinyFingerprint(t, tx, SuspectIDs[0], SuspectIDs[0], suite)
	r := audit.Result{Results: []audit.TeacherResult{{Teacher: Enrolment}}}
	if err := putAudit(tx, SuspectIDs[0], r); err != nil {
		t.Fatal(err)
	}
	return suite
}

// TestClash checks which stored records Clash names: none for what a run
// with the same seed and controls stores, the first of the records a run
// would write over or collide with otherwise.
func TestClash(t *testing.T) {
	beyond3 := audit.ControlID(Enrolment, audit.NumControls(3)) // a control of the default enrolment, not of one with 3 controls
	for _, tt := range []struct {
		name  string
		opts  Options
		build func(t *testing.T, tx *store.Tx)
		want  string
	}{
		{"empty", Options{}, func(*testing.T, *store.Tx) {}, ""},
		{"an interrupted run, seed 0", Options{}, func(t *testing.T, tx *store.Tx) { demoRecords(t, tx) }, ""},
		{"an interrupted run, seed 1", Options{Seed: 1}, func(t *testing.T, tx *store.Tx) { demoRecords(t, tx) }, ""},
		{"an interrupted run, another seed", Options{Seed: 2}, func(t *testing.T, tx *store.Tx) { demoRecords(t, tx) }, "enrolment acme"},
		{"another teacher", Options{}, func(t *testing.T, tx *store.Tx) { enrol(t, tx, Enrolment, "rival", 1) }, "enrolment acme"},
		{"a suite named acme", Options{}, func(t *testing.T, tx *store.Tx) { tinySuite(t, tx, Enrolment, 0) }, "suite acme"},
		{"a suspect's ID", Options{}, func(t *testing.T, tx *store.Tx) {
			tinyFingerprint(t, tx, SuspectIDs[2], "mine", tinySuite(t, tx, "mine", 0))
		}, "fingerprint " + SuspectIDs[2]},
		{"a control of more controls", Options{Controls: 3}, func(t *testing.T, tx *store.Tx) {
			tinyFingerprint(t, tx, beyond3, "mine", tinySuite(t, tx, "mine", 0))
		}, ""},
		{"a control's ID", Options{}, func(t *testing.T, tx *store.Tx) {
			tinyFingerprint(t, tx, beyond3, "mine", tinySuite(t, tx, "mine", 0))
		}, "fingerprint " + beyond3},
		{"a suspect's ID on another suite", Options{}, func(t *testing.T, tx *store.Tx) {
			demoRecords(t, tx)
			tinyFingerprint(t, tx, SuspectIDs[3], "mine", tinySuite(t, tx, "mine", 0))
		}, "fingerprint " + SuspectIDs[3]},
		{"an audit of another suspect", Options{}, func(t *testing.T, tx *store.Tx) {
			suite := demoRecords(t, tx)
			tinyFingerprint(t, tx, "mine", "mine", suite)
			putRecord(t, tx, &store.AuditRecord{ID: SuspectIDs[1], Suspect: "mine", Against: []string{Enrolment}})
		}, "audit " + SuspectIDs[1]},
		{"an audit against another teacher", Options{}, func(t *testing.T, tx *store.Tx) {
			suite := demoRecords(t, tx)
			enrol(t, tx, "beta", "teacher", 1)
			tinyFingerprint(t, tx, SuspectIDs[1], SuspectIDs[1], suite)
			putRecord(t, tx, &store.AuditRecord{ID: SuspectIDs[1], Suspect: SuspectIDs[1], Against: []string{"beta"}})
		}, "audit " + SuspectIDs[1]},
		{"an audit against two teachers", Options{}, func(t *testing.T, tx *store.Tx) {
			suite := demoRecords(t, tx)
			enrol(t, tx, "beta", "teacher", 1)
			tinyFingerprint(t, tx, SuspectIDs[1], SuspectIDs[1], suite)
			putRecord(t, tx, &store.AuditRecord{ID: SuspectIDs[1], Suspect: SuspectIDs[1], Against: []string{Enrolment, "beta"}})
		}, "audit " + SuspectIDs[1]},
		{"an audit without the enrolment", Options{}, func(t *testing.T, tx *store.Tx) {
			enrol(t, tx, "beta", "teacher", 1)
			tinyFingerprint(t, tx, "mine", "mine", tinySuite(t, tx, "mine", 0))
			putRecord(t, tx, &store.AuditRecord{ID: SuspectIDs[1], Suspect: "mine", Against: []string{"beta"}})
		}, "audit " + SuspectIDs[1]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, err := store.Open(filepath.Join(t.TempDir(), "demo.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			ctx := context.Background()
			if err := db.Update(ctx, func(tx *store.Tx) error { tt.build(t, tx); return nil }); err != nil {
				t.Fatal(err)
			}
			var got string
			db.View(ctx, func(tx *store.Tx) error { got = Clash(tx, tt.opts); return nil })
			if got != tt.want {
				t.Errorf("Clash = %q, want %q", got, tt.want)
			}
		})
	}
}

// putRecord stores the audit record r.
func putRecord(t *testing.T, tx *store.Tx, r *store.AuditRecord) {
	t.Helper()
	if err := tx.PutAudit(r, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestCheck checks that Check refuses the controls Run would refuse, and
// only those.
func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		controls int
		ok       bool
	}{{0, true}, {2, false}, {3, true}, {256, true}, {257, false}} {
		if err := (Options{Controls: tt.controls}).Check(); (err == nil) != tt.ok {
			t.Errorf("Options{Controls: %d}.Check() = %v, want ok %v", tt.controls, err, tt.ok)
		}
	}
}
