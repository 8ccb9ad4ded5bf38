package main

import (
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
)

// TestSuiteGoneRemoteClash checks the name clashes settled before a
// remote model is asked anything (probe, reference add) with a stored
// fingerprint whose suite db rm suite --force removed: they say which
// suite is gone and what to do, where they said the store was corrupted
// and to run db verify.
func TestSuiteGoneRemoteClash(t *testing.T) {
	dir := t.TempDir()
	useFixture(t, "acme-beta", dir)
	useFixture(t, "suspects", dir)
	db := filepath.Join(dir, "case.db")
	student := filepath.Join(dir, "student.lnm")
	if _, stderr, code := runCLI(t, "--db", db, "probe", student, "--suite", "acme", "--name", "s1"); code != 0 {
		t.Fatalf("probe: exit %d: %s", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--db", db, "db", "rm", "suite", "acme", "--force"); code != 0 {
		t.Fatalf("db rm suite: exit %d: %s", code, stderr)
	}
	m, err := model.Load(student)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(m, serve.Options{Name: "student"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	url := ts.URL + "/v2/models/student"
	gone := `fingerprint "s1" was taken on suite b6d7064dd612, which is no longer stored (removed with db rm suite --force); `
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"probe", []string{"probe", url, "--suite", "beta", "--name", "s1"}, "lineage: " + gone + "pass --replace to take it anew from "},
		{"reference add", []string{"reference", "add", "s1", "--model", url, "--for", "beta"}, `lineage: reference add "s1": ` + gone + "choose another NAME, or remove it with `lineage db rm fingerprint s1`\n"},
	} {
		_, stderr, code := runCLI(t, append([]string{"--db", db}, tt.args...)...)
		if code != 1 || !strings.HasPrefix(stderr, tt.want) || strings.Count(stderr, "\n") != 1 || strings.Contains(stderr, "corrupt") {
			t.Errorf("%s: exit %d, stderr %q; want 1 and one line starting %q", tt.name, code, stderr, tt.want)
		}
	}
}
