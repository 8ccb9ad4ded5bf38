package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/store"
	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets testscript run the lineage command in-process: scripts call
// it as `exec lineage ...`. It removes the shared fixtures at the end.
func TestMain(m *testing.M) {
	testscript.Main(removingFixtures{m}, map[string]func(){"lineage": func() { os.Exit(run()) }})
}

// removingFixtures runs the tests, then removes the fixtures they made.
type removingFixtures struct{ m *testing.M }

func (r removingFixtures) Run() int {
	defer removeFixtures()
	return r.m.Run()
}

// TestScripts runs the CLI scripts in testdata/script (enrol → probe →
// audit → report, persistence, read-only commands, bad input).
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("LINEAGE_DB", "")
			env.Values["lockdb"] = &heldLock{}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "other.csv"), []byte(randomCSV(90, "a", "b", "c")), 0o644); err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(env.WorkDir, "digits200.csv"), digitsHead(200), 0o644); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(env.WorkDir, "digits10.csv"), []byte(randomCSV(10, "0", "1", "2", "3", "4", "5", "6", "7", "8", "9")), 0o644)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"lockdb":   cmdLockDB,
			"unlockdb": cmdUnlockDB,
			"corrupt":  cmdCorrupt,
			"fixture":  cmdFixture,
			"relabel":  cmdRelabel,
		},
	})
}

// randomCSV is a dataset of n rows with digits' 64 features, random, and
// the classes labels in turn. With the classes a, b, c, a model trained
// on it does not fit a digits suite; with 0–9 it is digits' shape with
// other contents.
func randomCSV(n int, labels ...string) string {
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for i := 0; i < n; i++ {
		for j := 0; j < 64; j++ {
			fmt.Fprintf(&b, "%d,", rng.IntN(17))
		}
		b.WriteString(labels[i%len(labels)] + "\n")
	}
	return b.String()
}

// digitsHead is the first n rows of the embedded digits as CSV. An
// enrolment on 200 rows takes about 5 s of CPU, on all 1,797 about 11 s:
// the scripts that need an enrolment whose statistics they do not check,
// not one on the full digits, enrol on digits200.csv.
func digitsHead(n int) []byte {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	var b bytes.Buffer
	if err := dataset.WriteCSV(&b, dataset.Digits().Subset(idx)); err != nil {
		panic(err) // writing to a bytes.Buffer
	}
	return b.Bytes()
}

// cmdLockDB opens the store FILE read-write in the test process and keeps
// it open (holding bbolt's exclusive lock) until unlockdb.
func cmdLockDB(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: lockdb FILE")
	}
	db, err := store.Open(ts.MkAbs(args[0]), store.Options{})
	ts.Check(err)
	ts.Value("lockdb").(*heldLock).db = db
}

// heldLock keeps the store lockdb opened until unlockdb.
type heldLock struct{ db *store.Store }

func cmdUnlockDB(ts *testscript.TestScript, neg bool, args []string) {
	h := ts.Value("lockdb").(*heldLock)
	if h.db == nil {
		ts.Fatalf("unlockdb without lockdb")
	}
	ts.Check(h.db.Close())
	h.db = nil
}

// cmdCorrupt overwrites 64 bytes of FILE at each OFFSET with 0xA5.
func cmdCorrupt(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: corrupt FILE OFFSET...")
	}
	f, err := os.OpenFile(ts.MkAbs(args[0]), os.O_RDWR, 0)
	ts.Check(err)
	defer f.Close()
	junk := []byte(strings.Repeat("\xa5", 64))
	for _, a := range args[1:] {
		var off int64
		if _, err := fmt.Sscan(a, &off); err != nil {
			ts.Fatalf("corrupt: bad offset %q", a)
		}
		_, err := f.WriteAt(junk, off)
		ts.Check(err)
	}
}
