package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"github.com/rogpeppe/go-internal/testscript"
)

// An enrolment trains dozens of control models: about 10 s of CPU with
// --controls 3 and 20 s with --controls 6, most of this package's test
// time when every script and test made its own (and five to ten times
// that under -race). The scripts and tests that need an enrolled teacher
// or a trained model to work on, not an enrolment or a training to check,
// copy one of the fixtures below instead. Each is made once per test run,
// the first time it is asked for, by the lineage commands themselves, in a
// directory removed when the tests end.
var fixtures = map[string]*fixture{
	// teacher: teacher.lnm, the teacher the fixtures below enrol or distil.
	"teacher": {cmds: []string{
		"train --data digits --hidden 32 --epochs 5 --seed 1 --out teacher.lnm",
	}},
	// acme: teacher.lnm enrolled as acme in case.db with 3 controls and a
	// suite of 60 probes. enroll.json is the enrolment's output.
	"acme": {from: "teacher", cmds: []string{
		"--db case.db enroll acme --model teacher.lnm --data digits --seed 1 --controls 3 --suite-size 60 --format json > enroll.json",
	}},
	// acme-c6: the same with 6 controls, for the scripts that need audits
	// to say DERIVED: with 3, they say INCONCLUSIVE at most (2 positive
	// controls in the calibration half).
	"acme-c6": {from: "teacher", cmds: []string{
		"--db case.db enroll acme --model teacher.lnm --data digits --seed 1 --controls 6 --suite-size 60 --format json > enroll.json",
	}},
	// acme-beta: acme, and teacher.lnm enrolled again as beta with other
	// probes (seed 2) and a smaller suite (30), for the tests of two
	// teachers' job claims. Claims are taken in suite-hash order: beta's
	// is taken before acme's (as for the acme2 these tests enrolled
	// before, with 60 probes).
	"acme-beta": {from: "acme", cmds: []string{
		"--db case.db enroll beta --model teacher.lnm --data digits --seed 2 --controls 3 --suite-size 30",
	}},
	// suspects: teacher.lnm, a student distilled from it (student.lnm) and
	// a model trained apart (indep.lnm), the two suspects most scripts
	// audit. Training is deterministic (same seed, same bytes): each used
	// to make its own, the same.
	"suspects": {from: "teacher", cmds: []string{
		"distill --teacher teacher.lnm --data digits --hidden 32 --temperature 4 --epochs 10 --out student.lnm",
		"train --data digits --hidden 32 --epochs 10 --seed 7 --out indep.lnm",
	}},
}

// fixtureRoot holds the fixtures' directories; TestMain removes it.
var fixtureRoot struct {
	sync.Mutex
	dir string
}

// fixture is a directory of files made by lineage command lines.
type fixture struct {
	from string   // the fixture whose files the directory starts with, if any
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
		if f.from != "" {
			if f.err = copyFixture(f.from, f.dir); f.err != nil {
				return
			}
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

// copyFixture copies the files of the fixture name into dir. A file dir
// holds already is left as it is if it has the same bytes (two fixtures
// made from the same one share its files); with other bytes it is an
// error.
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
		from, to := filepath.Join(src, e.Name()), filepath.Join(dir, e.Name())
		err := copyFile(from, to)
		if errors.Is(err, fs.ErrExist) {
			err = sameFile(from, to)
		}
		if err != nil {
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

// sameFile checks that the files a and b hold the same bytes.
func sameFile(a, b string) error {
	x, err := os.ReadFile(a)
	if err != nil {
		return err
	}
	y, err := os.ReadFile(b)
	if err != nil {
		return err
	}
	if !bytes.Equal(x, y) {
		return fmt.Errorf("%s exists, with other bytes than %s", b, a)
	}
	return nil
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

// labelAPI serves m with labels only for the rest of the test and returns
// the model's address, as `lineage serve --reveal label` would give it.
func labelAPI(t *testing.T, m *model.MLP) string {
	t.Helper()
	srv, err := serve.New(m, serve.Options{Name: "m", Reveal: model.Reveal{Mode: model.RevealLabel}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL + "/v2/models/m"
}
