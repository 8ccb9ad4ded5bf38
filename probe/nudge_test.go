package probe

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func nudgeSuite(hash string) *Suite {
	return &Suite{Labels: []string{"a", "b"}, Kinds: []Kind{Data, Data, Noise, Noise, Noise}, Hash: hash,
		X: blas32.General{Rows: 5, Cols: 3, Stride: 3, Data: []float32{
			0, 5, 1,
			16, 5, 2,
			8, 5, 3,
			4, 5, 1.5,
			12, 5, 2.5,
		}}}
}

// TestNudged checks that every feature moves by the fraction of its range
// over the suite, up or down, a constant one not at all, and that the
// directions follow the suite's hash.
func TestNudged(t *testing.T) {
	s := nudgeSuite("00112233445566778899aabbccddeeff")
	rows := []int{2, 0}
	got := s.Nudged(rows, 1e-2)
	if got.Rows != 2 || got.Cols != 3 {
		t.Fatalf("Nudged: %d×%d, want 2×3", got.Rows, got.Cols)
	}
	ranges := []float64{16, 0, 2}
	for i, r := range rows {
		for j, want := range ranges {
			step := math.Abs(float64(got.Data[i*3+j] - s.Row(r)[j]))
			if math.Abs(step-1e-2*want) > 1e-6 {
				t.Errorf("row %d feature %d moved by %g, want %g", r, j, step, 1e-2*want)
			}
		}
	}
	if again := s.Nudged(rows, 1e-2); !slices.Equal(again.Data, got.Data) {
		t.Errorf("Nudged twice: %v then %v; want the same", got.Data, again.Data)
	}
	// Another suite's hash draws other directions (for some of the 9
	// signs free to go either way in these rows).
	other := nudgeSuite("ffeeddccbbaa99887766554433221100").Nudged([]int{3, 4, 3, 4, 2}, 1e-2)
	mine := s.Nudged([]int{3, 4, 3, 4, 2}, 1e-2)
	if slices.Equal(other.Data, mine.Data) {
		t.Errorf("suites of two hashes nudged alike: %v", mine.Data)
	}
	if z := s.Nudged(rows, 0); !slices.Equal(z.Data, []float32{8, 5, 3, 0, 5, 1}) {
		t.Errorf("Nudged by 0: %v, want the rows themselves", z.Data)
	}
	// A feature at the suite's minimum moves up, one at its maximum down:
	// every point stays within the ranges the probes span.
	for _, h := range []string{"00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100", "0123456789abcdef0123456789abcdef"} {
		x := nudgeSuite(h).Nudged([]int{0, 1, 2, 3, 4}, 1e-2)
		for i := range 5 {
			for j := range 3 {
				lo, hi := []float32{0, 5, 1}[j], []float32{16, 5, 3}[j]
				if v := x.Data[i*3+j]; v < lo || v > hi {
					t.Errorf("hash %s: row %d feature %d nudged to %g, outside the suite's [%g, %g]", h, i, j, v, lo, hi)
				}
			}
		}
	}
}

func TestNudgedPanics(t *testing.T) {
	s := nudgeSuite("")
	for name, f := range map[string]func(){
		"row out of range":  func() { s.Nudged([]int{5}, 1e-4) },
		"negative row":      func() { s.Nudged([]int{-1}, 1e-4) },
		"negative fraction": func() { s.Nudged([]int{0}, -1) },
		"NaN fraction":      func() { s.Nudged([]int{0}, math.NaN()) },
		"fraction above 1":  func() { s.Nudged([]int{0}, 1.5) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}
