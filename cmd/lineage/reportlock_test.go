package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// synthEnrolment stores, in a new database, an enrolment "acme" of n
// probes whose controls are synthetic fingerprints (positives follow the
// teacher's top class more often than negatives), enough for a null
// figure.
func synthEnrolment(t *testing.T, n int) string {
	t.Helper()
	const classes = 4
	rng := rand.New(rand.NewPCG(3, 4))
	labels := model.DefaultLabels(classes)
	x := blas32.General{Rows: n, Cols: 2, Stride: 2, Data: make([]float32, 2*n)}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	kinds := make([]probe.Kind, n)
	for i := range kinds {
		kinds[i] = []probe.Kind{probe.Data, probe.Mixup}[i%2]
	}
	s := &probe.Suite{Name: "acme", Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}
	answers := func(follow float64, teacher blas32.General) blas32.General {
		p := blas32.General{Rows: n, Cols: classes, Stride: classes, Data: make([]float32, classes*n)}
		for i := 0; i < n; i++ {
			row := p.Data[i*classes : (i+1)*classes]
			var sum float32
			for j := range row {
				row[j] = rng.Float32() + 0.05
				sum += row[j]
			}
			top := rng.IntN(classes)
			if teacher.Data != nil && rng.Float64() < follow {
				top = model.Argmax(teacher.Data[i*classes : (i+1)*classes])
			}
			row[top] += sum
			sum *= 2
			for j := range row {
				row[j] /= sum
			}
		}
		return p
	}
	fpOf := func(id string, p blas32.General) *fingerprint.Fingerprint {
		fp := &fingerprint.Fingerprint{ID: id, Suite: s.Hash, P: p, Queries: n,
			Model: model.Info{Name: id, Kind: model.Classifier, InputSize: 2, Labels: labels, Hash: "h-" + id}}
		fp.Hash = fp.ComputeHash()
		return fp
	}
	teacher := fpOf("acme/teacher", answers(0, blas32.General{}))
	c := &audit.Case{Suite: s, Teacher: teacher, Enrolment: &store.Enrolment{Name: "acme", Suite: s.Hash, TeacherFP: teacher.ID}}
	for _, half := range []string{store.HalfSelection, store.HalfCalibration} {
		for k := range 12 {
			role, follow := store.RoleNegative, 0.4
			if k < 4 {
				role, follow = store.RolePositive, 0.85
			}
			fp := fpOf(fmt.Sprintf("acme/control-%02d", len(c.Controls)+1), answers(follow, teacher.P))
			c.Controls = append(c.Controls, fp)
			c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: role, Half: half})
		}
	}
	path := filepath.Join(t.TempDir(), "case.db")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(context.Background(), c.Save); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReportFigureUnlocked: the null figures' statistics, seconds of
// work on a large suite, are computed with the store closed (report --plot
// held its read lock meanwhile, and a probe finishing then failed with
// "database is locked"), and an enrolment that changes in the meantime
// is computed again from what the report reads.
func TestReportFigureUnlocked(t *testing.T) {
	path := synthEnrolment(t, 60)
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.svg")
	if _, stderr, code := runCLI(t, "--db", path, "report", "--plot", plain); code != 0 {
		t.Fatalf("report --plot: exit %d: %s", code, stderr)
	}
	want, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}

	calls := 0
	reportPrecomputed = func() {
		calls++
		// A writer gets the lock at once, and changes nothing here.
		db, err := store.Open(path, store.Options{Timeout: 200 * time.Millisecond})
		if err != nil {
			t.Errorf("writer while report computes its figures: %v", err)
			return
		}
		db.Close()
	}
	defer func() { reportPrecomputed = nil }()
	fig := filepath.Join(dir, "fig.svg")
	if _, stderr, code := runCLI(t, "--db", path, "report", "--plot", fig); code != 0 {
		t.Fatalf("report --plot: exit %d: %s", code, stderr)
	}
	if got, _ := os.ReadFile(fig); calls != 1 || string(got) != string(want) {
		t.Errorf("figure computed with the store closed (%d calls) differs from the plain one", calls)
	}

	// A reference added meanwhile joins the null the figure shows.
	reportPrecomputed = func() {
		updateStore(t, path, func(tx *store.Tx) error {
			cs, err := audit.LoadCase(tx, "acme")
			if err != nil {
				return err
			}
			fp := *cs.Controls[len(cs.Controls)-1]
			fp.ID = "vendor"
			fp.P.Data = append([]float32(nil), fp.P.Data...)
			fp.P.Data[0], fp.P.Data[1] = fp.P.Data[1], fp.P.Data[0]
			fp.Hash = fp.ComputeHash()
			if err := tx.PutFingerprint(&fp, store.PutOptions{}); err != nil {
				return err
			}
			return tx.AddReference("acme", store.Control{FP: fp.ID, Role: store.RoleReference, Half: store.HalfCalibration})
		})
	}
	changed := filepath.Join(dir, "changed.svg")
	if _, stderr, code := runCLI(t, "--db", path, "report", "--plot", changed); code != 0 {
		t.Fatalf("report --plot: exit %d: %s", code, stderr)
	}
	reportPrecomputed = nil
	after := filepath.Join(dir, "after.svg")
	if _, stderr, code := runCLI(t, "--db", path, "report", "--plot", after); code != 0 {
		t.Fatalf("report --plot: exit %d: %s", code, stderr)
	}
	got, _ := os.ReadFile(changed)
	again, _ := os.ReadFile(after)
	if string(got) != string(again) || string(got) == string(want) {
		t.Error("the figure of an enrolment changed while report computed does not show the change")
	}
}
