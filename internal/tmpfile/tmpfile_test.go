package tmpfile

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestMatch(t *testing.T) {
	m := Match("case.db")
	for _, tt := range []struct {
		name string
		want bool
	}{
		{".case.db.tmp123", true},
		{".case.db.tmp3k9z", true},
		{".case.db.tmp", false},
		{"case.db.tmp123", false},
		{".case.db.tmp12-3", false},
		{".case.db.tmp-123", true},
		{".case.db.tmp-", false},
		{".case.db.tmp-12a", false},
		{".case.db.tmp--1", false},
		{".case.db.tmpABC", false},
		{".case.db", false},
		{".other.db.tmp1", false},
		{".case.db.tmp1/x", false},
	} {
		if got := m(tt.name); got != tt.want {
			t.Errorf("Match(case.db)(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestRemoveStale removes a temporary left with data and no lock, and
// keeps a locked one (a live writer's), a recent empty one (maybe a
// writer's before its lock), a directory and files of other names.
func TestRemoveStale(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no advisory locks here")
	}
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := write(".out.jsonl.tmp1", "half an export")
	live := write(".out.jsonl.tmp2", "being written")
	write(".out.jsonl.tmp3", "")
	write("out.jsonl", "the target")
	write(".out.jsonl.tmpx.bak", "not ours")
	if err := os.Mkdir(filepath.Join(dir, ".out.jsonl.tmp4"), 0o700); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(live, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := Lock(f); err != nil {
		t.Fatal(err)
	}
	got := RemoveStale(dir, Match("out.jsonl"))
	if !slices.Equal(got, []string{stale}) {
		t.Errorf("RemoveStale removed %q, want only %q", got, stale)
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	want := []string{".out.jsonl.tmp2", ".out.jsonl.tmp3", ".out.jsonl.tmp4", ".out.jsonl.tmpx.bak", "out.jsonl"}
	if !slices.Equal(left, want) {
		t.Errorf("left %q, want %q", left, want)
	}
	// Once its writer is gone, the live one is stale too.
	f.Close()
	if got := RemoveStale(dir, Match("out.jsonl")); !slices.Equal(got, []string{live}) {
		t.Errorf("after the writer closed it, RemoveStale removed %q, want %q", got, live)
	}
	// An empty one unmodified for EmptyAge is no writer's between its
	// creation and its lock: a forced exit left it (a kill -9 before the
	// first byte was flushed), and it was kept for good.
	empty := filepath.Join(dir, ".out.jsonl.tmp3")
	past := time.Now().Add(-EmptyAge - time.Second)
	if err := os.Chtimes(empty, past, past); err != nil {
		t.Fatal(err)
	}
	if got := RemoveStale(dir, Match("out.jsonl")); !slices.Equal(got, []string{empty}) {
		t.Errorf("an empty temporary %v old: RemoveStale removed %q, want %q", EmptyAge+time.Second, got, empty)
	}
}

// TestRemoveStaleLegacy removes a legacy temporary (".BASE.tmp-" and
// digits, never locked by the versions that wrote it) only once it has
// gone unmodified for LegacyAge.
func TestRemoveStaleLegacy(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no advisory locks here")
	}
	dir := t.TempDir()
	old := filepath.Join(dir, ".m.lnm.tmp-1234")
	recent := filepath.Join(dir, ".m.lnm.tmp-5678")
	for _, p := range []string{old, recent} {
		if err := os.WriteFile(p, []byte("half a model"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-LegacyAge - time.Minute)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	if got := RemoveStale(dir, Match("m.lnm")); !slices.Equal(got, []string{old}) {
		t.Errorf("RemoveStale removed %q, want only %q", got, old)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("the recent legacy temporary: %v, want it kept", err)
	}
}
