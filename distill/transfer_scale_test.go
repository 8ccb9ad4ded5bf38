package distill

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"gonum.org/v1/gonum/blas/blas32"
)

// mixedScaleSet returns 40 rows of three features on different scales: an
// area up to 1,000 beside two fractions up to 1 and 0.5.
func mixedScaleSet(t *testing.T) *dataset.Dataset {
	t.Helper()
	const n = 40
	x := blas32.General{Rows: n, Cols: 3, Stride: 3, Data: make([]float32, 3*n)}
	y := make([]int, n)
	for i := range n {
		f := float32(i) / (n - 1)
		x.Data[3*i], x.Data[3*i+1], x.Data[3*i+2] = 1000*f, 1-f, 0.5*f*f
		y[i] = i % 2
	}
	d, err := dataset.New("mixed", x, y, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestTransferMixedScales checks that noise and jitter queries on features
// of different scales stay within each feature's own range, where noise
// was drawn (and jitter clamped) within the global range: the fractions'
// values reached 1,000, hundreds of their ranges from any data.
func TestTransferMixedScales(t *testing.T) {
	d := mixedScaleSet(t)
	if !dataset.MixedScales(d) {
		t.Fatal("the test set is not of mixed scales")
	}
	lo, hi := dataset.FeatureRanges(d)
	for _, spec := range []string{"noise", "jitter"} {
		tr, err := ParseTransfer(spec)
		if err != nil {
			t.Fatal(err)
		}
		if spec == "jitter" {
			tr.JitterScale = 50 // so that rows reach past the bounds, to be clamped
		}
		x, _, err := tr.Generate(rand.New(rand.NewPCG(1, 1)), d, 500)
		if err != nil {
			t.Fatal(err)
		}
		over := make([]int, 3) // rows out of each feature's range
		for i := range x.Rows {
			for j, v := range x.Data[i*x.Cols : (i+1)*x.Cols] {
				if v < lo[j] || v > hi[j] {
					over[j]++
				}
			}
		}
		for j := range over {
			if over[j] > 0 {
				t.Errorf("%s: %d of %d queries have feature %d outside its range [%g, %g]", spec, over[j], x.Rows, j, lo[j], hi[j])
			}
		}
	}
}

// TestTransferSingleScaleUnchanged pins the bytes of the noise and jitter
// queries on digits, whose pixels all span 0–16: they are drawn in and
// clamped to the global range as before the mixed-scale bounds, so the
// zoo's noise-query students and their p-values are unchanged.
func TestTransferSingleScaleUnchanged(t *testing.T) {
	d := dataset.Digits()
	if dataset.MixedScales(d) {
		t.Fatal("digits are of mixed scales")
	}
	tr, err := ParseTransfer("noise,jitter")
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := tr.Generate(rand.New(rand.NewPCG(1, 1)), d, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(f32bytes(x.Data))
	const want = "768c289b009243ecd3fe3d42b5926fe73885a08895c611cd062f65e6eb0f370f"
	if got := hex.EncodeToString(sum[:]); got != want {
		t.Errorf("sha256 of digits' noise,jitter queries %s, want %s", got, want)
	}
}
