package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/lineage-audit/lineage/internal/fifo"
)

// TestIsDatabase checks which files IsDatabase takes for a database: a
// store, intact or cut short after its first page, and any bbolt file;
// not text, an empty file, a directory, a missing file or a named pipe
// (which it must not open: that would wait for a writer).
func TestIsDatabase(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.db")
	s := openTest(t, real, false)
	populate(t, s)
	s.Close()
	full, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pipe := filepath.Join(dir, "fifo")
	if err := fifo.Make(pipe, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		want bool
	}{
		{"store", real, true},
		{"first page only", write("cut.db", full[:4096]), true},
		{"header only", write("head.db", full[:pageHeader+8]), true},
		{"shorter than a header", write("short.db", full[:pageHeader+7]), false},
		{"text", write("log.jsonl", []byte(`{"epoch":1}`+"\n")), false},
		{"empty", write("empty", nil), false},
		{"directory", dir, false},
		{"missing", filepath.Join(dir, "none"), false},
		{"named pipe", pipe, false},
	} {
		if got := IsDatabase(tc.path); got != tc.want {
			t.Errorf("%s: IsDatabase = %v, want %v", tc.name, got, tc.want)
		}
	}
}
