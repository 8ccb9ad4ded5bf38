//go:build !openblas

package model

// BLASImplementation names the BLAS implementation that blas32 uses in
// this build: "gonum (pure Go)", or "openblas (netlib)" when built with
// -tags openblas.
func BLASImplementation() string { return "gonum (pure Go)" }
