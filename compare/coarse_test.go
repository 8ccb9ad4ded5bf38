package compare

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestCoarseShare(t *testing.T) {
	soft := []float32{0.7, 0.2, 0.06, 0.03, 0.01}
	rounded := []float32{0.7, 0.2, 0.1, 0, 0}          // rounded to one decimal
	flat := []float32{0.7, 0.075, 0.075, 0.075, 0.075} // top-1 kept, the rest spread evenly
	zero := []float32{0.7, 0.2, 0.06, 0.04, 0}         // one exact zero
	topTie := []float32{0.4, 0.4, 0.1, 0.07, 0.03}     // a tie at the top is no tie below it
	hot := []float32{0, 1, 0, 0, 0}
	mat := func(rows ...[]float32) blas32.General {
		m := blas32.General{Rows: len(rows), Cols: len(rows[0]), Stride: len(rows[0])}
		for _, r := range rows {
			m.Data = append(m.Data, r...)
		}
		return m
	}
	for _, tt := range []struct {
		name string
		p    blas32.General
		want float64
	}{
		{"soft", mat(soft, soft), 0},
		{"tie at the top", mat(topTie), 0},
		{"rounded", mat(rounded, soft), 0.5},
		{"flattened", mat(flat, flat, soft, soft), 0.5},
		{"one exact zero", mat(zero), 1},
		{"one-hot", mat(hot, hot), 1},
		{"empty", blas32.General{}, 0},
	} {
		if got := CoarseShare(tt.p); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: CoarseShare = %g, want %g", tt.name, got, tt.want)
		}
	}
}

func TestMixFloor(t *testing.T) {
	mat := func(rows ...[]float32) blas32.General {
		m := blas32.General{Rows: len(rows), Cols: len(rows[0]), Stride: len(rows[0])}
		for _, r := range rows {
			m.Data = append(m.Data, r...)
		}
		return m
	}
	mix := func(eps float32, r []float32) []float32 {
		out := make([]float32, len(r))
		for j, v := range r {
			out[j] = (1-eps)*v + eps/float32(len(r))
		}
		return out
	}
	mixWith := func(eps float32, p, r []float32) []float32 {
		out := make([]float32, len(p))
		for j := range p {
			out[j] = (1-eps)*p[j] + eps*r[j]
		}
		return out
	}
	r := []float32{0.5, 0.3, 0.15, 0.05}
	a := []float32{0.9, 0.09, 0.009, 0.001}
	b := []float32{0.001, 0.009, 0.09, 0.9}
	for _, tt := range []struct {
		name string
		p    blas32.General
		want float64
	}{
		{"one row", mat(a), 1},
		{"trained outputs", mat(a, b), 0.02},
		{"uniform mix 0.3", mat(mix(0.3, a), mix(0.3, b)), 0.3 + 0.7*0.02},
		{"mix 0.2 with a fixed non-uniform r", mat(mixWith(0.2, a, r), mixWith(0.2, b, r)), 0.2 + 0.8*0.02},
		{"one-hot", mat([]float32{0, 1, 0}, []float32{1, 0, 0}), 0},
		{"empty", blas32.General{}, 0},
	} {
		if got := MixFloor(tt.p); math.Abs(got-tt.want) > 1e-6 {
			t.Errorf("%s: MixFloor = %g, want %g", tt.name, got, tt.want)
		}
	}
}

// TestMixFloorTrim checks that leaving out the k smallest values of each
// class finds a floor served on all but k rows, which MixFloor misses.
func TestMixFloorTrim(t *testing.T) {
	const n, K = 50, 4
	rng := rand.New(rand.NewPCG(3, 4))
	p := blas32.General{Rows: n, Cols: K, Stride: K, Data: make([]float32, n*K)}
	for i := range n {
		row := p.Data[i*K : (i+1)*K]
		var s float32
		for j := range row {
			row[j] = float32(math.Exp(8 * rng.NormFloat64()))
			s += row[j]
		}
		for j := range row {
			row[j] /= s
		}
	}
	const eps = 0.3
	mixed := blas32.General{Rows: n, Cols: K, Stride: K, Data: make([]float32, n*K)}
	for i, v := range p.Data {
		mixed.Data[i] = (1-eps)*v + eps/K
	}
	// The floor is left off rows 0–2, which all but rule out classes 1–3.
	for i := range 3 {
		copy(mixed.Data[i*K:(i+1)*K], []float32{1 - 3e-6, 1e-6, 1e-6, 1e-6})
	}
	for _, tt := range []struct {
		k       int
		atLeast float64 // want MixFloorTrim ≥ atLeast
		below   float64 // and < below
	}{
		{0, 0, eps / 2},
		{2, 0, eps / 2},
		{3, eps, 1},
		{10, eps, 1},
		{n, 0, 1e-12},
	} {
		got := MixFloorTrim(mixed, tt.k)
		if got < tt.atLeast || got >= tt.below {
			t.Errorf("k %d: MixFloorTrim = %g, want in [%g, %g)", tt.k, got, tt.atLeast, tt.below)
		}
	}
	if got, want := MixFloorTrim(mixed, 0), MixFloor(mixed); got != want {
		t.Errorf("MixFloorTrim(p, 0) = %g, MixFloor = %g; want the same", got, want)
	}
	defer func() {
		if r := recover(); r == nil {
			t.Error("MixFloorTrim with k −1 did not panic")
		}
	}()
	MixFloorTrim(mixed, -1)
}
