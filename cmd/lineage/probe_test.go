package main

import "testing"

func TestDefaultFingerprintID(t *testing.T) {
	tests := []struct{ ref, want string }{
		{"suspect.lnm", "suspect"},
		{"dir/sub/model.safetensors", "model"},
		{"file://x/y.lnm", "y"},
		{"http://host:8080/v2/models/vendor-m", "vendor-m"},
		{"exec:python3 examples/exec/logreg.py", "logreg"},
	}
	for _, tt := range tests {
		if got := defaultFingerprintID(tt.ref); got != tt.want {
			t.Errorf("defaultFingerprintID(%q) = %q, want %q", tt.ref, got, tt.want)
		}
	}
}
