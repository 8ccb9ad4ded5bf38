package main

import (
	"encoding/json"
	"testing"
)

// TestFailOnDerivedOnlyOnDerived audits a suspect with no DERIVED verdict
// (nothing measured: both teachers INCONCLUSIVE) with --fail-on-derived:
// the exit status must be 0. The script audit_flow checks the other side
// (status 3 on a DERIVED verdict); a mutant exiting 3 whenever the flag
// was given passed every test, and would fail every CI gate that uses it.
func TestFailOnDerivedOnlyOnDerived(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	out, stderr, code := runCLI(t, "--db", path, "audit", "acme/teacher", "--dry-run", "--format", "json")
	if code != exitOK {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	var res struct {
		Results []struct {
			Verdict string `json:"verdict"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Results) == 0 {
		t.Fatalf("audit JSON: %v\n%s", err, out)
	}
	for _, r := range res.Results {
		if r.Verdict == "DERIVED" {
			t.Fatalf("the set-up's audit has a DERIVED verdict:\n%s", out)
		}
	}
	if _, stderr, code := runCLI(t, "--db", path, "audit", "acme/teacher", "--dry-run", "--fail-on-derived"); code != exitOK {
		t.Errorf("audit --fail-on-derived without a DERIVED verdict: exit %d (%s), want exit %d", code, stderr, exitOK)
	}
}
