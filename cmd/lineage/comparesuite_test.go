package main

import (
	"strings"
	"testing"
)

// TestCompareNeedsOneSuite compares stored fingerprints taken on different
// suites, or on a suite other than --suite: one error line each, not a
// similarity of outputs to different probes. Two enrolments of the same
// shape (suites acme and beta) make such a comparison computable, and
// mutants skipping either check exited 0 with a meaningless number.
func TestCompareNeedsOneSuite(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "beta")
	for _, tt := range []struct {
		args []string
		want string // in the error line; "" for success
	}{
		{[]string{"acme/teacher", "beta/teacher"}, "compare needs fingerprints on the same suite"},
		{[]string{"acme/teacher", "acme/teacher", "--suite", "beta"}, `acme/teacher and acme/teacher were not fingerprinted on suite "beta"`},
		{[]string{"acme/teacher", "acme/teacher", "--suite", "acme"}, ""},
	} {
		_, stderr, code := runCLI(t, append([]string{"--db", path, "compare"}, tt.args...)...)
		switch {
		case tt.want == "" && code != exitOK:
			t.Errorf("compare %v: exit %d, stderr %q; want success", tt.args, code, stderr)
		case tt.want != "" && (code != exitError || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1):
			t.Errorf("compare %v: exit %d, stderr %q; want %d and one line saying %q", tt.args, code, stderr, exitError, tt.want)
		}
	}
}
