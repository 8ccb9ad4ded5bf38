//go:build openblas

package main

// outputTol is the relative difference a model's answers (and the
// statistics computed from them) may have from the same model's answers
// with its output units permuted: OpenBLAS rounds a row of a product
// differently with where it sits in the matrix (8.676264e-05 against
// 8.676279e-05, see remote's predictTol), and the statistics carry that
// on (a JS divergence of 0.004129672 against 0.004129672 in its eighth
// digit, the same p-values to four digits).
const outputTol = 1e-4
