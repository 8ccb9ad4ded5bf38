package audit

import (
	"errors"
	"testing"
)

// TestEnrollOptionsCheck pins the bounds of EnrollOptions: zero values
// (the defaults) and values up to the maxima pass, anything negative, too
// few controls or above a maximum wraps ErrOptions.
func TestEnrollOptionsCheck(t *testing.T) {
	tests := []struct {
		name string
		o    EnrollOptions
		ok   bool
	}{
		{"defaults", EnrollOptions{}, true},
		{"maxima", EnrollOptions{Controls: MaxControls, SuiteSize: MaxSuiteSize, Workers: MaxWorkers}, true},
		{"minimum controls", EnrollOptions{Controls: MinControls}, true},
		{"too few controls", EnrollOptions{Controls: MinControls - 1}, false},
		{"too many controls", EnrollOptions{Controls: MaxControls + 1}, false},
		{"suite too large", EnrollOptions{SuiteSize: MaxSuiteSize + 1}, false},
		{"suite of 100,000", EnrollOptions{SuiteSize: 100000}, false},
		{"negative suite", EnrollOptions{SuiteSize: -1}, false},
		{"suite smaller than audits take", EnrollOptions{SuiteSize: DefaultMinProbes - 1}, false},
		{"smallest suite", EnrollOptions{SuiteSize: DefaultMinProbes}, true},
		{"negative workers", EnrollOptions{Workers: -1}, false},
		{"too many workers", EnrollOptions{Workers: MaxWorkers + 1}, false},
	}
	for _, tt := range tests {
		err := tt.o.Check()
		if got := err == nil; got != tt.ok || (err != nil && !errors.Is(err, ErrOptions)) {
			t.Errorf("%s: Check() = %v, want ok %v (errors wrapping ErrOptions)", tt.name, err, tt.ok)
		}
	}
}
