package main

import (
	"errors"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
)

// TestStartTimeout checks that --start-timeout bounds the wait for an
// exec: program's hello line (a program that never says hello fails in
// about that time, not after the minute of the default), and that a
// negative one is a usage error.
func TestStartTimeout(t *testing.T) {
	tests := []struct {
		flag     string
		wantCode int
		wantErr  string
	}{
		{"1s", 1, "waiting for the hello line: no answer within 1s"},
		{"-1s", 2, "--start-timeout -1s: want a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			start := time.Now()
			_, stderr, code := runCLI(t, "eval", "exec:/bin/sleep 120", "--data", "digits", "--start-timeout", tt.flag)
			if code != tt.wantCode || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, stderr, tt.wantCode, tt.wantErr)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("returned after %v, want well under the default minute", d)
			}
		})
	}
}

// TestQPSFlag checks the bounds of --qps: a rate below one request a day
// (whose wait overflowed to none, an unthrottled run) and a negative one
// are usage errors naming the flag.
func TestQPSFlag(t *testing.T) {
	tests := []struct {
		qps     string
		wantErr string
	}{
		{"1e-10", "--qps 1e-10: below one request a day"},
		{"-1", "--qps -1: want a finite number of requests per second ≥ 0"},
	}
	for _, tt := range tests {
		t.Run(tt.qps, func(t *testing.T) {
			_, stderr, code := runCLI(t, "eval", "exec:/bin/true", "--data", "digits", "--qps", tt.qps)
			if code != 2 || !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, tt.wantErr)
			}
		})
	}
}

// TestAPIKeyFlag checks that a key that cannot be an HTTP header value (a
// line break in it) is a usage error naming the variable, without the key,
// before the server is contacted: it was a connection error, retried.
func TestAPIKeyFlag(t *testing.T) {
	t.Setenv("LINEAGE_TEST_KEY", "tk-secret\r\nX-Injected: 1")
	_, stderr, code := runCLI(t, "eval", "http://127.0.0.1:1/v2/models/m", "--data", "digits", "--api-key-env", "LINEAGE_TEST_KEY")
	want := "lineage: --api-key-env LINEAGE_TEST_KEY: the API key holds a line break or another control character, which an HTTP header cannot carry\n"
	if code != 2 || stderr != want {
		t.Errorf("exit %d, stderr %q; want exit 2, %q", code, stderr, want)
	}
}

// TestAskAgainFlag checks that --ask-again belongs to the commands that
// fingerprint a remote model and to no other (eval and distill took it
// and never used it).
func TestAskAgainFlag(t *testing.T) {
	tests := []struct {
		cmd  []string
		want bool
	}{
		{[]string{"probe"}, true},
		{[]string{"audit"}, true},
		{[]string{"compare"}, true},
		{[]string{"reference", "add"}, true},
		{[]string{"eval"}, false},
		{[]string{"distill"}, false},
	}
	for _, tt := range tests {
		c, _, err := newRootCommand().Find(tt.cmd)
		if err != nil {
			t.Fatalf("find %v: %v", tt.cmd, err)
		}
		if got := c.Flags().Lookup("ask-again") != nil; got != tt.want {
			t.Errorf("lineage %s has --ask-again: %v, want %v", strings.Join(tt.cmd, " "), got, tt.want)
		}
	}
}

// TestLabelMapUsage checks that --label-map's help names what the model's
// labels are read as: the teacher's for the commands that fingerprint a
// suspect, the dataset's for eval (whose help said the teacher's, though
// eval reads no teacher).
func TestLabelMapUsage(t *testing.T) {
	tests := []struct {
		cmd  []string
		want string
	}{
		{[]string{"probe"}, "labels as the teacher's"},
		{[]string{"audit"}, "labels as the teacher's"},
		{[]string{"compare"}, "labels as the teacher's"},
		{[]string{"reference", "add"}, "labels as the teacher's"},
		{[]string{"eval"}, "labels as the dataset's"},
	}
	for _, tt := range tests {
		c, _, err := newRootCommand().Find(tt.cmd)
		if err != nil {
			t.Fatalf("find %v: %v", tt.cmd, err)
		}
		f := c.Flags().Lookup("label-map")
		if f == nil {
			t.Fatalf("lineage %s has no --label-map", strings.Join(tt.cmd, " "))
		}
		if !strings.Contains(f.Usage, tt.want) {
			t.Errorf("lineage %s --label-map usage = %q, want it to say %q", strings.Join(tt.cmd, " "), f.Usage, tt.want)
		}
	}
}

// TestRemoteFlagsOnModelFile checks that each remote flag a user set for a
// model file, which is read in-process, is named on stderr as without
// effect, one line per flag and once per file (a --qps meant to spare a
// server was silently ignored), that a run without them says nothing, and
// that a run with a remote model among its models says nothing either
// (the flags shaped its requests).
func TestRemoteFlagsOnModelFile(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	teacher := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	if err := model.Save("t.lnm", teacher); err != nil {
		t.Fatal(err)
	}
	srv, err := serve.New(teacher, serve.Options{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	const tail = ", a model file read in-process: it applies to a remote model (an Open Inference Protocol URL or exec:) only\n"
	dist := []string{"distill", "--teacher", "t.lnm", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress", "--queries", "50", "--out", "s.lnm"}
	tests := []struct {
		name string
		args []string
		want []string // the notes, in order; none for no note
	}{
		{"distill", dist, nil},
		{"distill, qps", append(dist[:len(dist):len(dist)], "--qps", "5", "--out", "s2.lnm"),
			[]string{"lineage distill: --qps has no effect on t.lnm" + tail}},
		{"distill, qps and concurrency", append(dist[:len(dist):len(dist)], "--qps", "5", "--concurrency", "2", "--out", "s3.lnm"),
			[]string{"lineage distill: --concurrency has no effect on t.lnm" + tail, "lineage distill: --qps has no effect on t.lnm" + tail}},
		// --db journals a remote teacher's answers: a model file's need none.
		{"distill, db", append(dist[:len(dist):len(dist)], "--db", "x.db", "--out", "s4.lnm"),
			[]string{"lineage distill: --db has no effect on t.lnm" + tail}},
		{"eval, three", []string{"eval", "t.lnm", "--data", "digits", "--against", "t.lnm", "--concurrency", "2", "--remote-batch", "8", "--logits"},
			[]string{"lineage eval: --concurrency has no effect on t.lnm" + tail, "lineage eval: --remote-batch has no effect on t.lnm" + tail,
				"lineage eval: --logits has no effect on t.lnm" + tail}},
		// Said once for the run, on the first model (it said it for each).
		{"eval, two files", []string{"eval", "t.lnm", "--data", "digits", "--against", "s.lnm", "--retries", "2"},
			[]string{"lineage eval: --retries has no effect on t.lnm" + tail}},
		{"eval, against a remote model", []string{"eval", "t.lnm", "--data", "digits", "--against", ts.URL + "/v2/models/t", "--qps", "1000", "--timeout", "1m"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runLineage(t, tt.args...)
			if code != exitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
			}
			var got []string
			for line := range strings.Lines(stderr) {
				if strings.Contains(line, "no effect") {
					got = append(got, line)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("notes on stderr:\n%q\nwant:\n%q", got, tt.want)
			}
		})
	}
}

// TestLabelMapFlagFile checks that --label-map @FILE reads a file saved
// with a byte-order mark as the same file without it: the mark made the
// first label "\ufeffzero" (then refused as a label the model lacks), or
// turned a first comment line holding '=' into a pair.
func TestLabelMapFlagFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, text, want string }{
		{"plain", "zero=0\none=1\n", "zero=0,one=1"},
		{"byte-order mark", "\ufeffzero=0\none=1\n", "zero=0,one=1"},
		{"byte-order mark, comment", "\ufeff# the suspect's label = the teacher's\r\nzero=0\r\none=1\r\n", "zero=0,one=1"},
	} {
		path := filepath.Join(dir, tt.name+".map")
		if err := os.WriteFile(path, []byte(tt.text), 0o644); err != nil {
			t.Fatal(err)
		}
		var lm model.LabelMap
		if err := (*labelMapFlag)(&lm).Set("@" + path); err != nil {
			t.Errorf("%s: Set: %v", tt.name, err)
			continue
		}
		if got := lm.Format(nil); got != tt.want {
			t.Errorf("%s: read as %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestLabelMapTwice checks that a second --label-map is refused in one
// line naming the flag, on every command that takes one, before anything
// is read: before, the last map won and the first was dropped silently.
func TestLabelMapTwice(t *testing.T) {
	db := filepath.Join(t.TempDir(), "case.db")
	for _, args := range [][]string{
		{"probe", "m.lnm", "--suite", "acme"},
		{"audit", "m.lnm"},
		{"compare", "a.lnm", "b.lnm"},
		{"reference", "add", "r", "--model", "m.lnm", "--for", "acme"},
		{"eval", "m.lnm", "--data", "digits"},
	} {
		full := args
		if args[0] != "eval" { // eval takes no database
			full = append([]string{"--db", db}, args...)
		}
		full = append(full, "--label-map", "zero=0", "--label-map", "one=1")
		_, stderr, code := runCLI(t, full...)
		lines := strings.Split(strings.TrimSpace(stderr), "\n")
		if code == 0 || len(lines) != 1 || !strings.Contains(stderr, "--label-map") || !strings.Contains(stderr, "given twice") {
			t.Errorf("%s with --label-map twice: exit %d, stderr %q; want one line saying it was given twice", args[0], code, stderr)
		}
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused commands left %s: %v", db, err)
	}
}
