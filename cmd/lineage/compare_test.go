package main

import (
	"os"
	"path/filepath"
	"testing"
)

func TestIsModelRef(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "m.lnm")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref  string
		want bool
	}{
		{f, true},
		{filepath.Join(dir, "missing.lnm"), false},
		{"suspect-1", false},
		{"http://host/v2/models/m", true},
		{"exec:python3 m.py", true},
	}
	for _, tt := range tests {
		if got := isModelRef(tt.ref); got != tt.want {
			t.Errorf("isModelRef(%q) = %v, want %v", tt.ref, got, tt.want)
		}
	}
}
