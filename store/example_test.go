package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "lineage-store-example")
	defer os.RemoveAll(dir)
	s, err := store.Open(filepath.Join(dir, "case.db"), store.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	x := blas32.General{Rows: 2, Cols: 1, Stride: 1, Data: []float32{-1, 1}}
	kinds := []probe.Kind{probe.Data, probe.Noise}
	labels := []string{"no", "yes"}
	suite := &probe.Suite{Name: "acme", Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}
	fp := &fingerprint.Fingerprint{ID: "acme-teacher", Suite: suite.Hash,
		Model: model.Info{Name: "teacher", InputSize: 1, Labels: labels},
		P:     blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{0.75, 0.25, 0.5, 0.5}}}
	fp.Hash = fp.ComputeHash()

	// Suite, fingerprint and enrolment land together or not at all.
	err = s.Update(ctx, func(tx *store.Tx) error {
		if err := tx.PutSuite(suite); err != nil {
			return err
		}
		if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
			return err
		}
		return tx.PutEnrolment(&store.Enrolment{Name: "acme", TeacherFP: fp.ID, Suite: "acme", Teacher: fp.Model}, store.PutOptions{})
	})
	fmt.Println("enrolled:", err)

	entries, _ := s.List(ctx, "")
	for _, e := range entries {
		if e.Type != store.TypeSuite { // the suite's ID is its long hash
			fmt.Println(e.Type, e.ID, e.Detail)
		}
	}
	_, err = s.Enrolment(ctx, "umbrella")
	fmt.Println(err, errors.Is(err, store.ErrNotFound))
	r, _ := s.Verify(ctx)
	fmt.Println("consistent:", r.OK())
	// Output:
	// enrolled: <nil>
	// fingerprint acme-teacher model teacher, suite ff5c825d152d, 2×2
	// enrolment acme teacher fp acme-teacher, suite ff5c825d152d, 0 controls
	// teacher "umbrella" not found true
	// consistent: true
}
