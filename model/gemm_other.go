//go:build !amd64 || openblas || purego

package model

// haveAxpyKernel is false: this build leaves every product to blas32.Gemm
// (OpenBLAS with -tags openblas, whose results axpyGemm does not
// reproduce).
const haveAxpyKernel = false

func axpyPanel32(c, b *float32, ldb int, a *float32, astep, k int) {
	panic("model: no axpy kernel in this build")
}

func axpyPanel64(c, b *float32, ldb int, a *float32, astep, k int) {
	panic("model: no axpy kernel in this build")
}

func axpyPanel8(c, b *float32, ldb int, a *float32, astep, k int) {
	panic("model: no axpy kernel in this build")
}
