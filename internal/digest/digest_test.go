package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
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

// recorder is a hash.Hash that keeps the bytes written to it.
type recorder struct{ b []byte }

func (r *recorder) Write(p []byte) (int, error) { r.b = append(r.b, p...); return len(p), nil }
func (r *recorder) Sum(b []byte) []byte         { return append(b, r.b...) }
func (r *recorder) Reset()                      { r.b = nil }
func (r *recorder) Size() int                   { return len(r.b) }
func (r *recorder) BlockSize() int              { return 1 }

// TestBytes pins the bytes each function writes: every bit of a float32
// (the lowest of the mantissa, a sign of zero, a NaN's payload) in
// little-endian order, 8 bytes of a uint64, and only as many bytes as
// there are values when the buffer given is longer.
func TestBytes(t *testing.T) {
	for _, tt := range []struct {
		name  string
		write func(h *recorder)
		want  string
	}{
		{"Float32s", func(h *recorder) {
			Float32s(h, make([]byte, 12), []float32{math.Float32frombits(0x3f800001), float32(math.Copysign(0, -1)), math.Float32frombits(0x7fc00001)})
		}, "0100803f00000080 0100c07f"},
		{"Float32s, a longer buffer", func(h *recorder) { Float32s(h, make([]byte, 16), []float32{1}) }, "0000803f"},
		{"Float32s, nothing", func(h *recorder) { Float32s(h, make([]byte, 4), nil) }, ""},
		{"Uint64", func(h *recorder) { Uint64(h, 0x0102030405060708) }, "0807060504030201"},
		{"Matrix", func(h *recorder) {
			Matrix(h, blas32.General{Rows: 2, Cols: 1, Stride: 2, Data: []float32{1, 9, -2}})
		}, "0000803f 000000c0"},
	} {
		var h recorder
		tt.write(&h)
		if got, want := hex.EncodeToString(h.b), strings.ReplaceAll(tt.want, " ", ""); got != want {
			t.Errorf("%s wrote %s, want %s", tt.name, got, want)
		}
	}
}
