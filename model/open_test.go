package model

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	m := testModel()
	lnm := filepath.Join(dir, "m.lnm")
	st := filepath.Join(dir, "m.safetensors")
	if err := Save(lnm, m); err != nil {
		t.Fatal(err)
	}
	if err := SaveSafetensors(st, m); err != nil {
		t.Fatal(err)
	}
	stub := &MLP{Name: "stub"}
	r := Resolver{
		Schemes: map[string]OpenFunc{"oip": func(ref string) (Model, error) { return stub, nil }},
		Formats: map[string]OpenFunc{".gguf": func(ref string) (Model, error) { return nil, errors.New("gguf: " + ref) }},
	}
	tests := []struct {
		ref      string
		wantHash string // "" when an error is expected
		wantErr  string
	}{
		{lnm, m.Info().Hash, ""},
		{"file://" + lnm, m.Info().Hash, ""},
		{st, m.Info().Hash, ""},
		{filepath.Join(dir, "m.onnx"), "", `unknown format ".onnx"`},
		{"http://host/model", "", `no opener for scheme "http"`},
		{filepath.Join(dir, "missing.lnm"), "", "no such file"},
		{"x.gguf", "", "gguf: x.gguf"},
	}
	for _, tc := range tests {
		got, err := r.Open(tc.ref)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("Open(%q) error = %v, want it to contain %q", tc.ref, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q): %v", tc.ref, err)
			continue
		}
		if h := got.Info().Hash; h != tc.wantHash {
			t.Errorf("Open(%q) hash %q, want %q", tc.ref, h, tc.wantHash)
		}
	}
	if got, err := r.Open("oip://host:9000/m"); err != nil || got != Model(stub) {
		t.Errorf("Open(oip://...) = %v, %v; want the registered opener's model", got, err)
	}
	if _, err := Open("oip://host/m"); !errors.Is(err, ErrUnknownRef) {
		t.Errorf("package Open of a remote ref: err = %v, want ErrUnknownRef", err)
	}
}
