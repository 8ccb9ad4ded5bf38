//go:build amd64 && !openblas && !purego

package model

import "golang.org/x/sys/cpu"

// haveAxpyKernel says whether gemm has AVX kernels for the products of
// back-propagation; without AVX it leaves every product to blas32.Gemm.
var haveAxpyKernel = cpu.X86.HasAVX

// axpyPanel32 adds Σ_l a[l·astep]·b[l·ldb : l·ldb+32] to c[0:32], in
// increasing l and skipping the terms whose a is zero, rounding each
// element to float32 after the product and after the sum (no fused
// multiply-add). ldb and astep are in elements.
//
//go:noescape
func axpyPanel32(c, b *float32, ldb int, a *float32, astep, k int)

// axpyPanel64 is axpyPanel32 on 64 columns.
//
//go:noescape
func axpyPanel64(c, b *float32, ldb int, a *float32, astep, k int)

// axpyPanel8 is axpyPanel32 on 8 columns.
//
//go:noescape
func axpyPanel8(c, b *float32, ldb int, a *float32, astep, k int)
