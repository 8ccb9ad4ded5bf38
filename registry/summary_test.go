package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// registryStore returns a new store holding one enrolment per teacher (a
// suite of rows random probes over 10 labels and the teacher's fingerprint,
// no controls) and, on every suite, the fingerprints of suspects models
// s0, s1, … (IDs NAME@TEACHER) with the record of an audit of each against
// every teacher, as `audit MODEL --save` leaves them.
func registryStore(tb testing.TB, teachers []string, rows, suspects int) *store.Store {
	tb.Helper()
	db, err := store.Open(filepath.Join(tb.TempDir(), "case.db"), store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	labels := model.DefaultLabels(10)
	outputs := func(rng *rand.Rand) blas32.General {
		p := blas32.General{Rows: rows, Cols: 10, Stride: 10, Data: make([]float32, 10*rows)}
		for i := 0; i < rows; i++ {
			p.Data[10*i+rng.IntN(10)] = 1
		}
		return p
	}
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		for k, name := range teachers {
			rng := rand.New(rand.NewPCG(uint64(k), 1))
			x := blas32.General{Rows: rows, Cols: 2, Stride: 2, Data: make([]float32, 2*rows)}
			for i := range x.Data {
				x.Data[i] = float32(rng.NormFloat64())
			}
			kinds := make([]probe.Kind, rows)
			for i := range kinds {
				kinds[i] = probe.Data
			}
			s := &probe.Suite{Name: name, Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}
			if err := tx.PutSuite(s); err != nil {
				return err
			}
			put := func(id, hash string) error {
				fp := &fingerprint.Fingerprint{ID: id, Suite: s.Hash, P: outputs(rng), Queries: rows,
					Model: model.Info{Name: id, Kind: model.Classifier, InputSize: 2, Labels: labels, Hash: hash}}
				fp.Hash = fp.ComputeHash()
				return tx.PutFingerprint(fp, store.PutOptions{})
			}
			if err := put(name+"/teacher", "h-"+name); err != nil {
				return err
			}
			if err := tx.PutEnrolment(&store.Enrolment{Name: name, Suite: s.Hash, TeacherFP: name + "/teacher"}, store.PutOptions{}); err != nil {
				return err
			}
			for i := range suspects {
				if err := put(fmt.Sprintf("s%d@%s", i, name), fmt.Sprint("h-s", i)); err != nil {
					return err
				}
			}
		}
		for i := range suspects {
			name := fmt.Sprint("s", i)
			res := audit.Result{Suspect: name, Alpha: 0.01}
			rec := &store.AuditRecord{ID: name, Suspect: name + "@" + teachers[0], Against: teachers}
			for _, teacher := range teachers {
				e, err := tx.Enrolment(teacher)
				if err != nil {
					return err
				}
				res.Results = append(res.Results, audit.TeacherResult{Teacher: teacher, Suite: e.Suite, Verdict: audit.NotDerived,
					PValue: 0.5, PCombined: 0.5, PerKind: map[string]float64{"agreement": 0.8}, TPR: 1})
				rec.Fingerprints = append(rec.Fingerprints, name+"@"+teacher)
			}
			raw, err := json.Marshal(res)
			if err != nil {
				return err
			}
			rec.Result = raw
			if err := tx.PutAudit(rec, store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// summarize loads every enrolment of db and summarizes them with o.
func summarize(tb testing.TB, db *store.Store, o Options) *Summary {
	tb.Helper()
	ctx := context.Background()
	fps, err := db.List(ctx, store.TypeFingerprint)
	if err != nil {
		tb.Fatal(err)
	}
	var sum *Summary
	err = db.View(ctx, func(tx *store.Tx) error {
		es, err := tx.Enrolments()
		if err != nil {
			return err
		}
		var cases []*audit.Case
		for _, e := range es {
			c, err := audit.LoadCase(tx, e.Name)
			if err != nil {
				return err
			}
			cases = append(cases, c)
		}
		sum, err = Summarize(tx, cases, fps, o)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return sum
}

// TestSummarizeMatrixModels checks that each teacher's matrix holds its
// teacher and the suspects' fingerprints on its suite, and none on another
// suite, however many teachers share the store (each decodes only the
// fingerprints the teachers before it did not place on another suite).
func TestSummarizeMatrixModels(t *testing.T) {
	tests := [][]string{{"acme"}, {"acme", "beta"}, {"acme", "beta", "gamma"}}
	for _, teachers := range tests {
		t.Run(fmt.Sprint(len(teachers)), func(t *testing.T) {
			sum := summarize(t, registryStore(t, teachers, 20, 4), Options{})
			if want := 4 * len(teachers); len(sum.Verdicts) != want {
				t.Errorf("%d verdicts, want %d", len(sum.Verdicts), want)
			}
			if len(sum.Matrices) != len(teachers) {
				t.Fatalf("%d matrices, want %d", len(sum.Matrices), len(teachers))
			}
			for _, m := range sum.Matrices {
				var got []string
				for _, mr := range m.Models {
					got = append(got, mr.ID)
				}
				want := []string{m.Teacher + "/teacher"}
				for i := range 4 {
					want = append(want, fmt.Sprintf("s%d@%s", i, m.Teacher))
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s's matrix: models %q, want %q", m.Teacher, got, want)
				}
			}
		})
	}
}

// BenchmarkSummarize measures a report's summary of a registry: 3 teachers
// on suites of 300 probes, 300 suspects fingerprinted on each suite, the
// matrices as the table format computes them (Narrow).
func BenchmarkSummarize(b *testing.B) {
	db := registryStore(b, []string{"acme", "beta", "gamma"}, 300, 300)
	b.ReportAllocs()
	for b.Loop() {
		summarize(b, db, Options{Narrow: true})
	}
}
