package main

import (
	"os"
	"strings"
	"testing"
)

// TestTildeUnexpanded: a path flag given as --flag=~/… (or in quotes),
// where the shell leaves ~ as it is, is refused saying so, as is such a
// LINEAGE_DB; the paths named a directory "~" here, and the errors said
// only that it did not exist. A file named ~ here, or a teacher's name
// in audit's --against, is taken as it is.
func TestTildeUnexpanded(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, tt := range []struct {
		env  string // LINEAGE_DB
		args []string
		want string // in stderr
		code int
	}{
		{"", []string{"--db=~/case.db", "db", "ls"}, `lineage db ls: --db "~/case.db": the shell left ~ as it is (it expands it in --db ~/…, not in --db=~/… nor in quotes); write --db ~/case.db or --db "$HOME/case.db"`, exitUsage},
		{"", []string{"train", "--out=~/t.lnm"}, `--out "~/t.lnm": the shell left ~ as it is`, exitUsage},
		{"", []string{"train", "--out", "t.lnm", "--data=~/d.csv"}, `--data "~/d.csv": the shell left ~ as it is`, exitUsage},
		{"", []string{"report", "--plot=~"}, `--plot "~": the shell left ~ as it is (it expands it in --plot ~/…, not in --plot=~/… nor in quotes); write --plot ~ or --plot "$HOME"`, exitUsage},
		{"", []string{"eval", "m.lnm", "--against=~/t.lnm"}, `--against "~/t.lnm": the shell left ~ as it is`, exitUsage},
		{"~/case.db", []string{"db", "ls"}, `lineage db ls: LINEAGE_DB "~/case.db": the shell left ~ as it is (it does not expand it in quotes); set LINEAGE_DB="$HOME/case.db"`, exitUsage},
		// Not a path: a teacher's name, looked up (none is enrolled).
		{"", []string{"--db", "case.db", "audit", "x.lnm", "--against", "~/acme"}, `no lineage database at "case.db"`, exitError},
		// train ignores LINEAGE_DB.
		{"~/case.db", []string{"train", "--out", "sub/t.lnm"}, `directory "sub" does not exist`, exitUsage},
		{"", []string{"--db", "~x.db", "db", "ls"}, `no lineage database at "~x.db"`, exitError},
	} {
		t.Setenv("LINEAGE_DB", tt.env)
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(stderr, tt.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("LINEAGE_DB=%q %v: exit %d, stderr %q; want exit %d and one line holding %q", tt.env, tt.args, code, stderr, tt.code, tt.want)
		}
	}
	if err := os.Mkdir("~", 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LINEAGE_DB", "")
	if _, stderr, _ := runCLI(t, "--db=~/case.db", "db", "ls"); !strings.Contains(stderr, `no lineage database at "~/case.db"`) {
		t.Errorf("with a directory ~ here: stderr %q, want the database looked for in it", stderr)
	}
}

// TestDashFileHint: a file whose name starts with '-', given where the
// command line reads a flag, is refused as an unknown flag saying how to
// give it; "unknown shorthand flag: 'x' in -x.lnm" did not.
func TestDashFileHint(t *testing.T) {
	t.Chdir(t.TempDir())
	for _, f := range []string{"-x.lnm", "--y.lnm"} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", "case.db", "audit", "-x.lnm"}, `lineage audit: unknown shorthand flag: 'x' in -x.lnm (a file named "-x.lnm" is here: give it after --, or as ./-x.lnm)`},
		{[]string{"eval", "--y.lnm"}, `lineage eval: unknown flag: --y.lnm (a file named "--y.lnm" is here: give it after --, or as ./--y.lnm)`},
		{[]string{"eval", "-z.lnm"}, `lineage eval: unknown shorthand flag: 'z' in -z.lnm (see`},
	} {
		_, stderr, code := runCLI(t, tt.args...)
		if code != exitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, exitUsage, tt.want)
		}
	}
}
