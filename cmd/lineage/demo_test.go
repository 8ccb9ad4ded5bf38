package main

import (
	"strings"
	"testing"
)

// TestDemoKeepClash: demo --keep into a database holding one of the
// demo's records is refused before any work and leaves the file as it
// was (the demo replaced the user's fingerprints and audit records of the
// same names).
func TestDemoKeepClash(t *testing.T) {
	for _, tt := range []struct {
		teacher, reference, want string
	}{
		{"acme", "", "holds enrolment acme"},
		{"beta", "independent-model", "holds fingerprint independent-model"},
	} {
		path := tinyEnrolments(t, 4, tt.teacher)
		if tt.reference != "" {
			addTinyReference(t, path, tt.teacher, tt.reference)
		}
		before := fileSum(t, path)
		code, stderr := runLineage(t, "--db", path, "demo", "--keep")
		if code != 1 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "choose another --db") {
			t.Errorf("demo --keep on a store with %s: exit %d, %q; want exit 1 naming %q", tt.teacher, code, stderr, tt.want)
		}
		if fileSum(t, path) != before {
			t.Errorf("demo --keep on a store with %s changed it", tt.teacher)
		}
	}
}
