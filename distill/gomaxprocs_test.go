package distill

import (
	"bytes"
	"context"
	"runtime"
	"testing"
)

// TestDeterminismGOMAXPROCS trains the same student under GOMAXPROCS 1 and
// 4: the bytes must not depend on how many goroutines share the work. The
// student is large enough for every split there is: its Adam step runs on
// several goroutines (parallelMin parameters or more) and so do its
// back-propagation products (256×256 weight gradients, gemm's minParBlocks
// and more). README's "Reproducibility" says the same command gives the
// same model whatever GOMAXPROCS.
func TestDeterminismGOMAXPROCS(t *testing.T) {
	sp, teacher := digits(t)
	cfg := Config{Train: sp.Train, Val: sp.Val, Teacher: teacher, Hidden: []int{256, 256}, Epochs: 1, Seed: 9,
		Transfer: "data,mixup", Queries: 1500}
	run := func(procs int) []byte {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		res, err := Train(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(res.Student.Theta); n < parallelMin {
			t.Fatalf("student has %d parameters, fewer than parallelMin (%d): its Adam step runs on one goroutine and the test tests nothing", n, parallelMin)
		}
		return encode(t, res.Student)
	}
	one, four := run(1), run(4)
	if !bytes.Equal(one, four) {
		t.Errorf("the same training gives other model bytes under GOMAXPROCS 4 than under 1")
	}
}
