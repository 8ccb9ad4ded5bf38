package audit

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// findingsStore makes a store with the teachers acme and beta, each on a
// suite of its own, and the fingerprints fps (ID → teacher whose suite it
// was taken on). It returns the store and the suites by teacher.
func findingsStore(t *testing.T, fps map[string]string) (*store.Store, map[string]string) {
	t.Helper()
	db, err := store.Open(filepath.Join(t.TempDir(), "case.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	labels := model.DefaultLabels(3)
	suites := map[string]string{}
	newFP := func(id string, s *probe.Suite, seed uint64) *fingerprint.Fingerprint {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := blas32.General{Rows: s.Len(), Cols: 3, Stride: 3, Data: make([]float32, 3*s.Len())}
		for i := 0; i < s.Len(); i++ {
			p.Data[3*i+rng.IntN(3)] = 1
		}
		fp := &fingerprint.Fingerprint{ID: id, Suite: s.Hash, P: p, Queries: s.Len(),
			Model: model.Info{Name: id, Kind: model.Classifier, InputSize: 2, Labels: labels, Hash: "h-" + id}}
		fp.Hash = fp.ComputeHash()
		return fp
	}
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		byTeacher := map[string]*probe.Suite{}
		for k, name := range []string{"acme", "beta"} {
			x := blas32.General{Rows: 4, Cols: 2, Stride: 2, Data: []float32{1, 2, 3, 4, 5, 6, 7, float32(k)}}
			kinds := []probe.Kind{probe.Data, probe.Data, probe.Data, probe.Data}
			s := &probe.Suite{Name: name, Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}
			byTeacher[name], suites[name] = s, s.Hash
			if err := tx.PutSuite(s); err != nil {
				return err
			}
			if err := tx.PutFingerprint(newFP(name+"/teacher", s, uint64(k)), store.PutOptions{}); err != nil {
				return err
			}
			if err := tx.PutEnrolment(&store.Enrolment{Name: name, Suite: s.Hash, TeacherFP: name + "/teacher"}, store.PutOptions{}); err != nil {
				return err
			}
		}
		seed := uint64(10)
		for id, teacher := range fps {
			seed++
			if err := tx.PutFingerprint(newFP(id, byTeacher[teacher], seed), store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, suites
}

// putRecord stores an audit record of suspect name (ID id) with a measured
// result for each teacher of against, p-value p; its Suspect is the first
// of fps, or id, or with old set the first of fps in a record without them,
// as older lineage wrote.
func putRecord(t *testing.T, db *store.Store, suites map[string]string, id, name, created string, against, fps []string, p float64, old bool) {
	t.Helper()
	res := Result{Suspect: name, Alpha: 0.01}
	for _, a := range against {
		res.Results = append(res.Results, TeacherResult{Teacher: a, Suite: suites[a], Verdict: NotDerived, PValue: p,
			PerKind: map[string]float64{"agreement": 0.5}})
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	suspect := id
	if len(fps) > 0 {
		suspect = fps[0]
	}
	rec := &store.AuditRecord{ID: id, Suspect: suspect, Against: against, Fingerprints: fps, Result: raw, Created: created}
	if old {
		rec.Fingerprints = nil
	}
	if err := db.PutAudit(context.Background(), rec, store.PutOptions{Replace: true}); err != nil {
		t.Fatal(err)
	}
}

type row struct {
	Suspect, Teacher, Audit, FP string
	P                           float64
}

func readRows(t *testing.T, db *store.Store, suites map[string]string) ([]row, *Findings) {
	t.Helper()
	var f *Findings
	err := db.View(context.Background(), func(tx *store.Tx) (err error) {
		f, err = ReadFindings(tx, suites)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var rows []row
	for _, v := range f.List {
		rows = append(rows, row{v.Suspect, v.Teacher, v.Audit, v.Fingerprint, v.PValue})
	}
	return rows, f
}

// TestFindingsOnePerSuspectAndTeacher audits suspect s as a model against
// acme and beta (fingerprints s@acme and s@beta; an earlier audit against
// acme alone left fingerprint s), then its fingerprint s@acme on its own:
// s is listed once per teacher, with the latest result, and its
// fingerprints on acme's suite make one row of the similarity matrix.
func TestFindingsOnePerSuspectAndTeacher(t *testing.T) {
	db, suites := findingsStore(t, map[string]string{"s": "acme", "s@acme": "acme", "s@beta": "beta", "t": "acme"})
	putRecord(t, db, suites, "s", "s", "2025-01-02T10:00:00.5Z", []string{"acme", "beta"}, []string{"s@acme", "s@beta"}, 0.03, false)
	putRecord(t, db, suites, "s@acme", "s@acme", "2025-01-02T10:00:01Z", []string{"acme"}, []string{"s@acme"}, 0.015, false)
	putRecord(t, db, suites, "t", "t", "", []string{"acme"}, []string{"t"}, 0.5, true) // a record of older lineage
	rows, f := readRows(t, db, suites)
	want := []row{
		{"s", "acme", "s@acme", "s@acme", 0.015},
		{"s", "beta", "s", "s@beta", 0.03},
		{"t", "acme", "t", "t", 0.5},
	}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("findings\n%v\nwant\n%v", rows, want)
	}
	got := f.Suspects("acme", []string{"s", "s@acme", "t"})
	wantS := []Suspect{{Name: "s", Fingerprint: "s@acme", Also: []string{"s"}}, {Name: "t", Fingerprint: "t"}}
	if !reflect.DeepEqual(got, wantS) {
		t.Errorf("Suspects(acme) = %+v, want %+v", got, wantS)
	}

	// Auditing s as a model again makes its result the latest.
	putRecord(t, db, suites, "s", "s", "2025-01-02T10:00:02Z", []string{"acme", "beta"}, []string{"s@acme", "s@beta"}, 0.04, false)
	rows, _ = readRows(t, db, suites)
	if want := (row{"s", "acme", "s", "s@acme", 0.04}); rows[0] != want {
		t.Errorf("after a new audit of s: %v, want %v", rows[0], want)
	}
}

// TestFindingsOldRecords reads records of an older lineage, without
// fingerprints or times: s@acme is s's by its name, and between two
// records of the same time the audit of s by its own name gives the row.
func TestFindingsOldRecords(t *testing.T) {
	db, suites := findingsStore(t, map[string]string{"s@acme": "acme", "s@beta": "beta"})
	putRecord(t, db, suites, "s", "s", "", []string{"acme", "beta"}, []string{"s@acme", "s@beta"}, 0.03, true)
	putRecord(t, db, suites, "s@acme", "s@acme", "", []string{"acme"}, []string{"s@acme"}, 0.015, true)
	rows, _ := readRows(t, db, suites)
	want := []row{{"s", "acme", "s", "s@acme", 0.03}, {"s", "beta", "s", "s@beta", 0.03}}
	if !reflect.DeepEqual(rows, want) {
		t.Errorf("findings\n%v\nwant\n%v", rows, want)
	}
}
