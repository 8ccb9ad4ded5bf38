package shellword

import (
	"os/exec"
	"strings"
	"testing"
)

// TestArg checks that the names suggested commands hold (`lineage db rm
// fingerprint NAME`, `... enrolment NAME --purge`) reach a POSIX shell as
// one word, the name itself, and that plain names read as before. Before,
// a name with a space or an apostrophe was printed bare, so the command a
// message suggested removed something else or nothing.
func TestArg(t *testing.T) {
	tests := []struct{ in, want string }{
		{"acme", "acme"},
		{"acme/control-01", "acme/control-01"},
		{"suspect-1.v2", "suspect-1.v2"},
		{"http://host:8080/v2/models/m@x", "http://host:8080/v2/models/m@x"},
		{"my teacher", "'my teacher'"},
		{"o'brien", `'o'\''brien'`},
		{"$HOME", "'$HOME'"},
		{"a;rm -rf x", "'a;rm -rf x'"},
		{"", "''"},
		{"tab\there", "'tab\there'"},
		// Marks a shell gives a meaning (globs, ~ and = at a word's
		// start, # a comment, ! history, braces) are quoted; the plain
		// marks are not.
		{"*.go", "'*.go'"},
		{"x?", "'x?'"},
		{"[ab]", "'[ab]'"},
		{"{a,b}", "'{a,b}'"},
		{"~root", "'~root'"},
		{"#x", "'#x'"},
		{"a!b", "'a!b'"},
		{"=ls", "'=ls'"},
		{"50%,c++", "50%,c++"},
	}
	sh, err := exec.LookPath("sh")
	for _, tt := range tests {
		got := Arg(tt.in)
		if got != tt.want {
			t.Errorf("Arg(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if err != nil {
			continue
		}
		out, err := exec.Command(sh, "-c", "printf '%s|' "+got).Output()
		if err != nil {
			t.Fatalf("sh -c printf %s: %v", got, err)
		}
		if s := strings.TrimSuffix(string(out), "|"); s != tt.in {
			t.Errorf("sh read Arg(%q) = %s as %q", tt.in, got, out)
		}
	}
}

// TestCommand checks the suggested command lines: the name after the
// command and before the flags, as before, or, for a name starting with
// '-' (read as a flag before), the flags first and "--" before the name.
func TestCommand(t *testing.T) {
	tests := []struct {
		cmd, name string
		flags     []string
		quoted    bool
		want      string
	}{
		{"lineage db rm enrolment", "acme", []string{"--purge"}, false, "lineage db rm enrolment acme --purge"},
		{"lineage db rm fingerprint", "my model", nil, false, "lineage db rm fingerprint 'my model'"},
		{"lineage db rm enrolment", "-x", []string{"--purge"}, false, "lineage db rm enrolment --purge -- -x"},
		{"lineage db show audit", "--help", nil, false, "lineage db show audit -- --help"},
		{"lineage db rm fingerprint", "-a b", nil, false, "lineage db rm fingerprint -- '-a b'"},
		{"lineage db rm answers", "probe:m:x", nil, true, "lineage db rm answers 'probe:m:x'"},
		{"lineage db rm answers", "-j", nil, true, "lineage db rm answers -- '-j'"},
		{"lineage db rm fingerprint", "a-b", nil, false, "lineage db rm fingerprint a-b"},
	}
	for _, tt := range tests {
		got := Command(tt.cmd, tt.name, tt.flags...)
		if tt.quoted {
			got = QuotedCommand(tt.cmd, tt.name, tt.flags...)
		}
		if got != tt.want {
			t.Errorf("Command(%q, %q, %q) quoted %v = %s, want %s", tt.cmd, tt.name, tt.flags, tt.quoted, got, tt.want)
		}
	}
}
