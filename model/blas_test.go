package model

import (
	"fmt"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestBLASImplementation(t *testing.T) {
	name := BLASImplementation()
	impl := fmt.Sprintf("%T", blas32.Implementation())
	tests := []struct {
		name, implPkg string
	}{
		{"gonum (pure Go)", "gonum.Implementation"},
		{"openblas (netlib)", "netlib.Implementation"},
	}
	for _, tc := range tests {
		if name == tc.name {
			if !strings.HasSuffix(impl, tc.implPkg) {
				t.Errorf("BLASImplementation() = %q but blas32 uses %s, want %s", name, impl, tc.implPkg)
			}
			return
		}
	}
	t.Errorf("BLASImplementation() = %q, want one of %v", name, tests)
}
