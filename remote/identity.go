package remote

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Identity returns what tells the model ref names from other models, for
// deciding whether stored answers are its own: for an OIP endpoint, its
// URL without credentials, query or trailing slash (Ref.Base); for an
// exec: program, ExecIdentity of its arguments run from the working
// directory; for a file, its path. (Fingerprints stored before lineage
// recorded identities hold the exec: command text instead; see
// SameSource.) A reference that does not parse is its
// own identity.
func Identity(ref string) string {
	r, err := ParseRef(ref)
	if err != nil {
		return StripCredentials(ref)
	}
	switch r.Kind {
	case RefHTTP:
		return r.Base
	case RefExec:
		dir, _ := os.Getwd()
		return ExecIdentity(r.Argv, dir)
	}
	return r.Path
}

// ExecIdentity returns the identity of the exec: program argv started in
// directory dir: "exec:" and the program's absolute path (looked up in
// PATH as os/exec does, when it has no slash), then each argument, made
// absolute when it names an existing file or directory relative to dir.
// The same command text run beside two different scripts (python3
// model.py in two directories) is two models; the same command with
// absolute paths is one model from any directory. What the program reads
// without naming it (python3 -m pkg, files it opens by relative name) is
// not seen. Arguments holding blanks or quotes, or bytes that are not
// UTF-8 (a file name can be any bytes), are quoted (strconv.Quote), so
// that the identity is UTF-8, as the store's journal names and records
// must be: a program under such a path was asked its every answer again
// on each run, its journal refused.
func ExecIdentity(argv []string, dir string) string {
	if len(argv) == 0 {
		return "exec:"
	}
	parts := make([]string, len(argv))
	prog := argv[0]
	if !strings.Contains(prog, "/") {
		if p, err := exec.LookPath(prog); err == nil {
			prog = p
		}
	}
	parts[0] = absIn(prog, dir)
	for i, a := range argv[1:] {
		parts[i+1] = a
		if a != "" && !strings.HasPrefix(a, "-") {
			p := absIn(a, dir)
			if _, err := os.Stat(p); err == nil {
				parts[i+1] = p
			}
		}
	}
	for i, p := range parts {
		if p == "" || strings.ContainsAny(p, " \t\n'\"\\") || !utf8.ValidString(p) {
			parts[i] = strconv.Quote(p)
		}
	}
	return "exec:" + strings.Join(parts, " ")
}

// absIn returns path made absolute against dir, cleaned.
func absIn(path, dir string) string {
	if filepath.IsAbs(path) || dir == "" {
		return filepath.Clean(path)
	}
	return filepath.Join(dir, path)
}

// SameSource reports whether a model's recorded source, source (a
// fingerprint's Model.Source), is that of ref: its Identity, or for an
// exec: program the command text itself, which lineage recorded before it
// recorded identities (such a fingerprint is matched as it was then).
func SameSource(source, ref string) bool {
	if source == Identity(ref) {
		return true
	}
	r, err := ParseRef(ref)
	return err == nil && r.Kind == RefExec && source == ref
}
