package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestExecIdentity checks that one command text names two models when run
// from two directories holding two scripts, one model when run twice from
// one, and that the program is found on PATH and arguments that name no
// file are kept as written.
func TestExecIdentity(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, d := range []string{a, b} {
		if err := os.WriteFile(filepath.Join(d, "model.py"), []byte("# "+d), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	argv := []string{"sh", "model.py", "--seed", "7", "no such file", "-x"}
	ia, ib := ExecIdentity(argv, a), ExecIdentity(argv, b)
	if ia == ib {
		t.Errorf("identity in %s and in %s: both %q, want two", a, b, ia)
	}
	if again := ExecIdentity(argv, a); again != ia {
		t.Errorf("identity twice in one directory: %q then %q", ia, again)
	}
	for _, want := range []string{filepath.Join(a, "model.py"), " --seed 7 ", `"no such file"`, " -x"} {
		if !strings.Contains(ia, want) {
			t.Errorf("identity %q does not contain %q", ia, want)
		}
	}
	if !strings.HasPrefix(ia, "exec:/") {
		t.Errorf("identity %q: want the program's absolute path after exec:", ia)
	}
	// Absolute paths name one model from any directory.
	abs := []string{"/bin/sh", filepath.Join(a, "model.py")}
	if x, y := ExecIdentity(abs, a), ExecIdentity(abs, b); x != y {
		t.Errorf("an absolute command from two directories: %q and %q, want one identity", x, y)
	}
	if ref := "exec:sh model.py"; !SameSource(ref, ref) || SameSource("exec:sh other.py", ref) {
		t.Errorf("SameSource: the command text recorded by older lineage must match its own ref, and only it")
	}
	// Arguments that are not UTF-8 (a file name can be any bytes) are
	// quoted, so that the identity is UTF-8, as journal names and stored
	// records must be: the store refused the journal, and every run asked
	// the model everything again.
	if got, want := ExecIdentity([]string{"/bin/sh", "/d\xff/m.sh", "café"}, a), `exec:/bin/sh "/d\xff/m.sh" café`; got != want || !utf8.ValidString(got) {
		t.Errorf("identity of a path that is not UTF-8: %q, want %q (UTF-8)", got, want)
	}
	if got, want := Identity("http://u:secret@host:8080/v2/models/m/?q=1"), "http://host:8080/v2/models/m"; got != want {
		t.Errorf("Identity of a URL: got %q, want %q", got, want)
	}
}
