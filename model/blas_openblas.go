//go:build openblas

package model

// #cgo LDFLAGS: -lopenblas
import "C"

import (
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/netlib/blas/netlib"
)

// init routes blas32 (and so every matrix product of this package) to
// OpenBLAS through gonum's netlib cgo bindings. Building with -tags
// openblas needs cgo and libopenblas-dev; the link flag is set above, so no
// CGO_LDFLAGS is required.
func init() { blas32.Use(netlib.Implementation{}) }

// BLASImplementation names the BLAS implementation that blas32 uses in
// this build: "gonum (pure Go)", or "openblas (netlib)" when built with
// -tags openblas.
func BLASImplementation() string { return "openblas (netlib)" }
