package main

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// TestFailOnDerivedOnlyOnDerived audits a suspect with no DERIVED verdict
// (nothing measured: both teachers INCONCLUSIVE) with --fail-on-derived:
// the exit status must be 0. The script audit_flow checks the other side
// (status 3 on a DERIVED verdict); a mutant exiting 3 whenever the flag
// was given passed every test, and would fail every CI gate that uses it.
func TestFailOnDerivedOnlyOnDerived(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	var out strings.Builder
	root := newRootCommand()
	root.SetOut(&out)
	root.SetArgs([]string{"--db", path, "audit", "acme/teacher", "--dry-run", "--format", "json"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Results []struct {
			Verdict string `json:"verdict"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out.String()), &res); err != nil || len(res.Results) == 0 {
		t.Fatalf("audit JSON: %v\n%s", err, out.String())
	}
	for _, r := range res.Results {
		if r.Verdict == "DERIVED" {
			t.Fatalf("the set-up's audit has a DERIVED verdict:\n%s", out.String())
		}
	}
	root = newRootCommand()
	root.SetOut(io.Discard)
	root.SetArgs([]string{"--db", path, "audit", "acme/teacher", "--dry-run", "--fail-on-derived"})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Errorf("audit --fail-on-derived without a DERIVED verdict: %v (exit %d), want exit %d", err, codeOf(err), exitOK)
	}
}
