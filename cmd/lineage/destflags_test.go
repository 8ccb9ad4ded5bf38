package main

import (
	"os"
	"strings"
	"testing"
)

// TestLongAndLoopingPaths: a file name over 255 bytes, or a symbolic link
// loop, given as a file to write or as the database, is refused in one
// line naming the flag, the path once and the problem: export found it
// only when writing ("lineage: lstat NAME: file name too long", without
// the flag), and --out and --db wrote the path out twice.
func TestLongAndLoopingPaths(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	if err := os.Symlink("loop2", "loop1"); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop1", "loop2"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("n", 300)
	db := newStore(t)
	const tooLong = `: file name too long (a name in a path may have at most 255 bytes, a path 4,095)`
	for _, tt := range []struct {
		args []string
		want string
		code int
	}{
		{[]string{"--db", db, "db", "export", long + ".jsonl"}, `lineage: export FILE "` + long + `.jsonl"` + tooLong, exitUsage},
		{[]string{"--db", db, "db", "export", "loop1"}, `lineage: export FILE "loop1": too many levels of symbolic links`, exitUsage},
		{[]string{"--db", db, "report", "--plot", long + ".png"}, `lineage: --plot "` + long + `.png"` + tooLong, exitUsage},
		{[]string{"train", "--out", long + ".lnm"}, `lineage: --out "` + long + `.lnm"` + tooLong, exitUsage},
		{[]string{"train", "--out", "m.lnm", "--log", long}, `lineage: --log "` + long + `"` + tooLong, exitUsage},
		{[]string{"--db", long + ".db", "db", "ls"}, `lineage: open store "` + long + `.db"` + tooLong, exitError},
		{[]string{"--db", "loop1", "db", "ls"}, `lineage: open store "loop1": too many levels of symbolic links`, exitError},
	} {
		_, stderr, code := runCLI(t, tt.args...)
		if code != tt.code || stderr != tt.want+"\n" {
			t.Errorf("%.80q: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr, tt.code, tt.want)
		}
	}
}

// TestDestNotRegular: an export FILE that is a link to a missing file is
// refused before any work (it failed, exit 1, once it had read the
// store); figure_links.txtar checks report --plot.
func TestDestNotRegular(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	db := newStore(t)
	if err := os.Symlink("missing/x.jsonl", "x.jsonl"); err != nil {
		t.Fatal(err)
	}
	want := `lineage: export FILE: "x.jsonl" is a symbolic link to a missing file, not a regular file: lineage writes its files whole and renames them into place` + "\n"
	if _, stderr, code := runCLI(t, "--db", db, "db", "export", "x.jsonl"); code != exitUsage || stderr != want {
		t.Errorf("export to a link to a missing file: exit %d, stderr %q; want exit %d and %q", code, stderr, exitUsage, want)
	}
}
