package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/gonum"
)

// randGeneral returns an r×c matrix with stride c+pad whose entries are
// normal, with a share of exact zeros, negative zeros and, when special,
// infinities and NaNs; the padding holds NaNs that must never be read.
func randGeneral(rng *rand.Rand, r, c, pad int, special bool) blas32.General {
	ld := max(1, c+pad)
	g := blas32.General{Rows: r, Cols: c, Stride: ld, Data: make([]float32, r*ld)}
	for i := range g.Data {
		if i%ld >= c {
			g.Data[i] = float32(math.NaN())
			continue
		}
		switch u := rng.Float64(); {
		case u < 0.2:
			g.Data[i] = 0 // ReLU's zeros: gonum skips those terms
		case u < 0.25:
			g.Data[i] = float32(math.Copysign(0, -1))
		case special && u < 0.26:
			g.Data[i] = float32(math.Inf(1 - 2*rng.IntN(2)))
		case special && u < 0.27:
			g.Data[i] = float32(math.NaN())
		default:
			g.Data[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
		}
	}
	return g
}

// TestAxpyGemmBitsAsGonum checks that gemm's products give gonum's
// pure-Go Sgemm bits exactly (NaN as NaN), over the shapes training uses,
// odd ones, strided operands and products large enough to run on several
// goroutines.
func TestAxpyGemmBitsAsGonum(t *testing.T) {
	if !haveAxpyKernel {
		t.Skip("no axpy kernel in this build: gemm is blas32.Gemm")
	}
	shapes := [][3]int{ // m, n, k
		{1, 1, 1}, {3, 5, 7}, {32, 64, 10}, {64, 64, 32}, {128, 64, 32}, {10, 64, 32},
		{32, 128, 10}, {10, 128, 32}, {32, 32, 32}, {1024, 64, 128}, {1001, 64, 64},
		{33, 71, 65}, {16, 40, 9}, {5, 300, 3}, {200, 784, 17}, {64, 0, 5}, {0, 8, 3}, {7, 9, 0},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, sh := range shapes {
		for _, trans := range []bool{false, true} {
			for _, beta := range []float32{0, 1} {
				for _, special := range []bool{false, true} {
					m, n, k := sh[0], sh[1], sh[2]
					name := fmt.Sprintf("m%d_n%d_k%d_trans%v_beta%g_special%v", m, n, k, trans, beta, special)
					t.Run(name, func(t *testing.T) {
						pad := rng.IntN(3)
						a := randGeneral(rng, m, k, pad, special)
						tA := blas.NoTrans
						if trans {
							a = randGeneral(rng, k, m, pad, special)
							tA = blas.Trans
						}
						b := randGeneral(rng, k, n, rng.IntN(3), special)
						c := randGeneral(rng, m, n, rng.IntN(3), special)
						want := append([]float32(nil), c.Data...)
						lda, ldb, ldc := a.Stride, b.Stride, c.Stride
						if m > 0 && n > 0 {
							gonum.Implementation{}.Sgemm(tA, blas.NoTrans, m, n, k, 1, a.Data, lda, b.Data, ldb, beta, want, ldc)
						}
						gemm(tA, blas.NoTrans, 1, a, b, beta, c)
						for i, g := range c.Data {
							w := want[i]
							if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
								t.Fatalf("element %d (row %d col %d): got %g (%#x), want %g (%#x)", i, i/ldc, i%ldc, g, math.Float32bits(g), w, math.Float32bits(w))
							}
						}
					})
				}
			}
		}
	}
}

// TestGemmOthersAreBlas32 checks that the products gemm does not compute
// itself (b transposed, alpha ≠ 1, beta ∉ {0, 1}) give blas32.Gemm's bits.
func TestGemmOthersAreBlas32(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []struct {
		tB          blas.Transpose
		alpha, beta float32
	}{{blas.Trans, 1, 1}, {blas.NoTrans, 2, 0}, {blas.NoTrans, 1, 0.5}} {
		a := randGeneral(rng, 33, 70, 0, false)
		b := randGeneral(rng, 70, 65, 0, false)
		if tc.tB == blas.Trans {
			b = randGeneral(rng, 65, 70, 0, false)
		}
		c := randGeneral(rng, 33, 65, 0, false)
		want := blas32.General{Rows: c.Rows, Cols: c.Cols, Stride: c.Stride, Data: append([]float32(nil), c.Data...)}
		blas32.Gemm(blas.NoTrans, tc.tB, tc.alpha, a, b, tc.beta, want)
		gemm(blas.NoTrans, tc.tB, tc.alpha, a, b, tc.beta, c)
		for i := range c.Data {
			if math.Float32bits(c.Data[i]) != math.Float32bits(want.Data[i]) {
				t.Fatalf("tB %c alpha %g beta %g: element %d = %g, want %g", tc.tB, tc.alpha, tc.beta, i, c.Data[i], want.Data[i])
			}
		}
	}
}

// TestAxpyGemmShapePanics checks that mismatched shapes are caught.
func TestAxpyGemmShapePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("axpyGemm with b 4×5 for op(a) 2×3: no panic")
		}
	}()
	a := blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: make([]float32, 6)}
	b := blas32.General{Rows: 4, Cols: 5, Stride: 5, Data: make([]float32, 20)}
	c := blas32.General{Rows: 2, Cols: 5, Stride: 5, Data: make([]float32, 10)}
	axpyGemm(false, a, b, false, c)
}
