package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestMatrixIgnoresStride(t *testing.T) {
	tight := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{1, 2, 3, 4}}
	padded := blas32.General{Rows: 2, Cols: 2, Stride: 3, Data: []float32{1, 2, 99, 3, 4, 99}}
	a, b := sha256.New(), sha256.New()
	Matrix(a, tight)
	Matrix(b, padded)
	if got, want := hex.EncodeToString(b.Sum(nil)), hex.EncodeToString(a.Sum(nil)); got != want {
		t.Errorf("padded matrix hashes to %s, want %s", got, want)
	}
}

func ExampleMatrix() {
	h := sha256.New()
	Uint64(h, 1)
	Matrix(h, blas32.General{Rows: 1, Cols: 2, Stride: 2, Data: []float32{0.5, 1}})
	fmt.Printf("%x\n", h.Sum(nil)[:4])
	// Output: 3fb60c80
}
