//go:build !openblas

package main

// outputTol is the relative difference a model's answers (and the
// statistics computed from them) may have from the same model's answers
// with its output units permuted: none in the pure-Go build, whose
// products give each output the same bits whatever its row.
const outputTol = 0.0
