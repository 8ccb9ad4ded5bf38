package main

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"testing"

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
