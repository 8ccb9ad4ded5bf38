package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// An enrolment trains dozens of control models: about 10 s of CPU with
// --controls 3 and 20 s with --controls 6, most of this package's test
// time when every script and test made its own. The scripts and tests that
// need an enrolled teacher to work on, not an enrolment to check, copy one
// of the fixtures below instead. Each is made once per test run, the first
// time it is asked for, by the lineage commands themselves, in a directory
// removed when the tests end.
var fixtures = map[string]*fixture{
	// acme: teacher.lnm enrolled as acme in case.db with 3 controls and a
	// suite of 60 probes. enroll.json is the enrolment's output.
	"acme": {cmds: []string{
		"train --data digits --hidden 32 --epochs 5 --seed 1 --out teacher.lnm",
		"--db case.db enroll acme --model teacher.lnm --data digits --seed 1 --controls 3 --suite-size 60 --format json > enroll.json",
	}},
	// acme-c6: the same with 6 controls, for the scripts that need audits
	// to say DERIVED: with 3, they say INCONCLUSIVE at most (2 positive
	// controls in the calibration half).
	"acme-c6": {cmds: []string{
		"train --data digits --hidden 32 --epochs 5 --seed 1 --out teacher.lnm",
		"--db case.db enroll acme --model teacher.lnm --data digits --seed 1 --controls 6 --suite-size 60 --format json > enroll.json",
	}},
}

// fixtureRoot holds the fixtures' directories; TestMain removes it.
var fixtureRoot struct {
	sync.Mutex
	dir string
}

// fixture is a directory of files made by lineage command lines.
type fixture struct {
	cmds []string // run in order; "CMD > FILE" saves the command's stdout to FILE

	once sync.Once
	dir  string
	err  error
}

// removeFixtures removes what the fixtures made.
func removeFixtures() {
	fixtureRoot.Lock()
	defer fixtureRoot.Unlock()
	if fixtureRoot.dir != "" {
		os.RemoveAll(fixtureRoot.dir)
	}
}

// make runs the fixture's commands, once; later calls return the first's
// directory or error.
func (f *fixture) make(name string) (string, error) {
	f.once.Do(func() {
		fixtureRoot.Lock()
		if fixtureRoot.dir == "" {
			fixtureRoot.dir, f.err = os.MkdirTemp("", "lineage-fixtures-")
		}
		root := fixtureRoot.dir
		fixtureRoot.Unlock()
		if f.err != nil {
			return
		}
		f.dir = filepath.Join(root, name)
		if f.err = os.Mkdir(f.dir, 0o755); f.err != nil {
			return
		}
		bin, err := exec.LookPath("lineage")
		if err != nil {
			f.err = fmt.Errorf("lineage binary not on PATH: %w", err)
			return
		}
		for _, line := range f.cmds {
			args, out, _ := strings.Cut(line, " > ")
			var stdout, stderr bytes.Buffer
			c := exec.Command(bin, strings.Fields(args)...)
			c.Dir = f.dir
			c.Env = append(os.Environ(), "LINEAGE_DB=")
			c.Stdout, c.Stderr = &stdout, &stderr
			if err := c.Run(); err != nil {
				f.err = fmt.Errorf("fixture %s: lineage %s: %v\n%s", name, args, err, stderr.String())
				return
			}
			if out != "" {
				if err := os.WriteFile(filepath.Join(f.dir, out), stdout.Bytes(), 0o644); err != nil {
					f.err = err
					return
				}
			}
		}
	})
	return f.dir, f.err
}

// copyFixture copies the files of the fixture name into dir.
func copyFixture(name, dir string) error {
	f := fixtures[name]
	if f == nil {
		return fmt.Errorf("no fixture %q", name)
	}
	src, err := f.make(name)
	if err != nil {
		return err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// useFixture copies the fixture name into dir, failing t if it cannot.
func useFixture(t *testing.T, name, dir string) {
	t.Helper()
	if _, err := exec.LookPath("lineage"); err != nil {
		t.Skipf("lineage binary not on PATH: %v", err)
	}
	if err := copyFixture(name, dir); err != nil {
		t.Fatal(err)
	}
}

// cmdFixture is the script command `fixture NAME`: it copies the files of
// the fixture NAME into the work directory.
func cmdFixture(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: fixture NAME")
	}
	ts.Check(copyFixture(args[0], ts.MkAbs(".")))
}
