package model

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// gemm computes c = alpha·op(a)·op(b) + beta·c like blas32.Gemm, which it
// calls, except for the two products of back-propagation, a·b and aᵀ·b
// with alpha 1 and beta 0 or 1, which it computes with axpyGemm when this
// build has a fast kernel for them (haveAxpyKernel).
func gemm(tA, tB blas.Transpose, alpha float32, a, b blas32.General, beta float32, c blas32.General) {
	if !haveAxpyKernel || tB != blas.NoTrans || alpha != 1 || (beta != 0 && beta != 1) {
		blas32.Gemm(tA, tB, alpha, a, b, beta, c)
		return
	}
	axpyGemm(tA == blas.Trans, a, b, beta == 0, c)
}

// axpyGemm sets c to op(a)·b (zero) or adds op(a)·b to c, op(a) being a or
// aᵀ (trans). It gives the bits gonum's pure-Go Sgemm gives for the same
// product with alpha 1 and beta 0 or 1, whatever the sizes: gonum builds
// each row of c as a sequence of axpy updates c[i,:] += a(i,l)·b[l,:] in
// increasing l, skipping those with a(i,l) == 0, each element rounded to
// float32 after the product and after the sum, and its blocks and
// goroutines only change which rows and columns are updated together.
// axpyGemm makes the same updates in the same order for each element but
// keeps a panel of c's row in registers across all l (axpyPanel64), instead
// of loading and storing it once per l. It panics on mismatched shapes.
func axpyGemm(trans bool, a, b blas32.General, zero bool, c blas32.General) {
	m, k := a.Rows, a.Cols
	if trans {
		m, k = k, m
	}
	n := c.Cols
	if c.Rows != m || b.Rows != k || b.Cols != n || a.Stride < a.Cols || b.Stride < n || c.Stride < n {
		panic(fmt.Sprintf("model: gemm: op(a) is %d×%d, b %d×%d, c %d×%d (strides %d, %d, %d)", m, k, b.Rows, b.Cols, c.Rows, c.Cols, a.Stride, b.Stride, c.Stride))
	}
	if zero {
		for i := range m {
			clear(c.Data[i*c.Stride : i*c.Stride+n])
		}
	}
	if m == 0 || n == 0 || k == 0 {
		return
	}
	// Bounds: the last element each operand is read or written at.
	_ = a.Data[(a.Rows-1)*a.Stride+a.Cols-1]
	_ = b.Data[(k-1)*b.Stride+n-1]
	_ = c.Data[(m-1)*c.Stride+n-1]
	ai, al := a.Stride, 1 // steps of a(i,l) in i and in l
	if trans {
		ai, al = 1, a.Stride
	}
	p := axpyProduct{a: a.Data, ai: ai, al: al, b: b, c: c, k: k}
	// Large products on several goroutines, as gonum's Sgemm runs them
	// (its criterion: at least minParBlocks 64×64 blocks of c). Each
	// element's updates stay on one goroutine in the same order, so the
	// bits do not depend on the split.
	w := runtime.GOMAXPROCS(0)
	if w < 2 || ((m+63)/64)*((n+63)/64) < minParBlocks {
		p.rows(0, m, 0, n)
		return
	}
	p.parallel(m, n, w)
}

// parallel computes the product on w goroutines, splitting c's m rows or,
// when there are too few, its n columns in whole panels.
func (p axpyProduct) parallel(m, n, w int) {
	var wg sync.WaitGroup
	if m >= 8*w { // by rows
		chunk := (m + w - 1) / w
		for i0 := 0; i0 < m; i0 += chunk {
			wg.Go(func() { p.rows(i0, min(i0+chunk, m), 0, n) })
		}
	} else { // by columns
		chunk := (n + w*64 - 1) / (w * 64) * 64
		for j0 := 0; j0 < n; j0 += chunk {
			wg.Go(func() { p.rows(0, m, j0, min(j0+chunk, n)) })
		}
	}
	wg.Wait()
}

// axpyProduct is one axpyGemm product: a(i,l) = a[i·ai + l·al].
type axpyProduct struct {
	a      []float32
	ai, al int
	b, c   blas32.General
	k      int
}

// rows computes the rows [i0, i1) and columns [j0, j1) of the product.
func (p *axpyProduct) rows(i0, i1, j0, j1 int) {
	for i := i0; i < i1; i++ {
		axpyRow(p.c.Data[i*p.c.Stride+j0:i*p.c.Stride+j1], p.b, j0, p.a[i*p.ai:], p.al, p.k)
	}
}

// minParBlocks is the number of 64×64 blocks of c from which gemm, as
// gonum's Sgemm, splits a product across goroutines.
const minParBlocks = 4

// axpyRow adds Σ_l a[l·al]·b[l, j0:j0+len(crow)] to crow in increasing l,
// skipping the terms with a zero a[l·al], panels of 64, 32 and 8 columns
// in the assembly kernels and the last few in Go.
func axpyRow(crow []float32, b blas32.General, j0 int, a []float32, al, k int) {
	n := len(crow)
	j := 0
	for ; j+64 <= n; j += 64 {
		axpyPanel64(&crow[j], &b.Data[j0+j], b.Stride, &a[0], al, k)
	}
	for ; j+32 <= n; j += 32 {
		axpyPanel32(&crow[j], &b.Data[j0+j], b.Stride, &a[0], al, k)
	}
	for ; j+8 <= n; j += 8 {
		axpyPanel8(&crow[j], &b.Data[j0+j], b.Stride, &a[0], al, k)
	}
	if j == n {
		return
	}
	// The last columns, fewer than 8, as gonum's scalar tail does them:
	// the product b·a, then the sum with c.
	for l := range k {
		v := a[l*al]
		if v == 0 {
			continue
		}
		brow := b.Data[l*b.Stride+j0+j : l*b.Stride+j0+n]
		for jj, bv := range brow {
			crow[j+jj] = float32(bv*v) + crow[j+jj]
		}
	}
}
