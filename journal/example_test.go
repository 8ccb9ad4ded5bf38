package journal_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/lineage-audit/lineage/journal"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

func Example() {
	dir, _ := os.MkdirTemp("", "journal")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	m := model.NewMLP([]int{2, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	x := blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: []float32{1, 2}}
	for run := 1; run <= 2; run++ {
		db, _ := store.Open(filepath.Join(dir, "case.db"), store.Options{})
		j, _ := journal.New(ctx, m, db, "probe:demo")
		j.Predict(ctx, x)
		asked, replayed := j.Counts()
		fmt.Printf("run %d: asked %d, replayed %d\n", run, asked, replayed)
		db.Close()
	}
	// Output:
	// run 1: asked 1, replayed 0
	// run 2: asked 0, replayed 1
}
