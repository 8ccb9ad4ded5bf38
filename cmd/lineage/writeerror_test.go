package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
)

// errNoSpace is what failAfter's writes fail with, as stdout on a full disk.
var errNoSpace = errors.New("write /dev/stdout: no space left on device")

// failAfter accepts its first n bytes, then fails every write with
// errNoSpace, as a file that fills the disk part-way.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	k := w.n
	w.n = 0
	return k, errNoSpace
}

// TestStdoutWriteError checks that every command whose output cannot be
// written (stdout on a full disk: `lineage db rm ... > /dev/full`) exits
// non-zero with one line naming the write error, whether the first write
// or a later one fails. db rm printed its line with the error ignored and
// exited 0, having removed the record and said nothing; its error now
// says the removal happened, so that a script does not retry it.
func TestStdoutWriteError(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the error line besides the write error
	}{
		// The record removed is named (it was not: "removed, but
		// writing what was removed failed").
		{[]string{"db", "rm", "fingerprint", "beta/teacher", "--force"}, `removed fingerprint "beta/teacher", but writing what was removed failed`},
		{[]string{"db", "rm", "enrolment", "acme"}, `removed enrolment "acme", but writing what was removed failed`},
		{[]string{"db", "rm", "enrolment", "acme", "--purge"}, `removed enrolment "acme", but writing what was removed failed`},
		{[]string{"db", "show", "acme"}, `writing record "acme"`}, // it was "writing the record", naming none
		{[]string{"db", "ls"}, "Records in"},
		{[]string{"db", "export", "-"}, "export store"},
		{[]string{"db", "verify"}, ""},
		{[]string{"reference", "ls"}, ""},
		{[]string{"report", "--format", "json"}, "writing the report as json"},
		{[]string{"report", "--format", "csv"}, "writing tables as csv"},
	}
	for _, tt := range tests {
		for _, after := range []int{0, 10} {
			name := strings.Join(tt.args, " ")
			path := tinyEnrolments(t, 4, "acme", "beta")
			root := newRootCommand()
			var errw bytes.Buffer
			root.SetArgs(append([]string{"--db", path}, tt.args...))
			root.SetOut(&failAfter{n: after})
			root.SetErr(&errw)
			code := exitCode(&errw, root.Execute())
			line := errw.String()
			if code != exitError || strings.Count(line, "\n") != 1 || !strings.Contains(line, errNoSpace.Error()) || !strings.Contains(line, tt.want) {
				t.Errorf("%s, stdout failing after %d bytes: exit %d, stderr %q; want %d and one line with %q and %q",
					name, after, code, line, exitError, tt.want, errNoSpace)
			}
		}
	}
	// The removal that could not be reported is committed all the same.
	path := tinyEnrolments(t, 4, "acme")
	root := newRootCommand()
	root.SetArgs([]string{"--db", path, "db", "rm", "enrolment", "acme", "--purge"})
	root.SetOut(&failAfter{})
	root.SetErr(&bytes.Buffer{})
	if err := root.Execute(); err == nil {
		t.Fatal("db rm to a failing stdout: no error")
	}
	if stdout, stderr, code := runCLI(t, "--db", path, "db", "ls", "--format", "csv"); code != exitOK || strings.Contains(stdout, "acme") {
		t.Errorf("db ls after the purge: exit %d, stdout %q, stderr %q; want acme gone", code, stdout, stderr)
	}
}

// TestAnswersKept checks the hint of a failed commit of what a remote
// model answered (probe's fingerprint, audit --save's record): its answers
// stay journalled, which the error did not say; a model file has no
// journal, and other errors say nothing of it.
func TestAnswersKept(t *testing.T) {
	commit := fmt.Errorf("store %q: %w: file resize error: truncate case.db: file too large", "case.db", store.ErrCommit)
	hint := "; the model's answers are kept in the journal: the same command again stores it without asking the model again"
	for _, tt := range []struct {
		err  error
		ref  string
		want string
	}{
		{commit, "http://h:1/v2/models/m", commit.Error() + hint},
		{commit, "exec:/bin/m", commit.Error() + hint},
		{commit, "m.lnm", commit.Error()},
		{errNoSpace, "http://h:1/v2/models/m", errNoSpace.Error()},
	} {
		err := answersKept(tt.err, tt.ref)
		if err.Error() != tt.want || !errors.Is(err, tt.err) {
			t.Errorf("answersKept(%q, %q) = %q, want %q wrapping the error", tt.err, tt.ref, err, tt.want)
		}
	}
}

// TestServeStdoutWriteError checks that serve whose first line, the
// address it listens on, cannot be written (`lineage serve m.lnm >
// /dev/full`) fails at once with one line: it served on, unreachable by a
// script waiting for that line, and exited 0 when stopped.
func TestServeStdoutWriteError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.lnm")
	m := model.NewMLP([]int{3, 2}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	if err := model.Save(path, m); err != nil {
		t.Fatal(err)
	}
	root := newRootCommand()
	var errw bytes.Buffer
	root.SetArgs([]string{"serve", path, "--addr", "127.0.0.1:0"})
	root.SetOut(&failAfter{})
	root.SetErr(&errw)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	code := exitCode(&errw, root.ExecuteContext(ctx))
	want := "lineage: writing the address it listens on: " + errNoSpace.Error() + "\n"
	if ctx.Err() != nil || code != exitError || errw.String() != want {
		t.Errorf("serve to a failing stdout: exit %d (timed out %v), stderr %q; want %d and %q", code, ctx.Err() != nil, errw.String(), exitError, want)
	}
}

// TestHelpWriteError checks that cobra's own output (help, a command's
// --help, __complete's answer) that cannot be written exits non-zero with one
// line naming the write error, as every command's own output does:
// `lineage --help > /dev/full` exited 0. Output that can be written is
// unchanged, with status 0. (completion bash returns its write error
// itself.)
func TestHelpWriteError(t *testing.T) {
	for _, args := range [][]string{
		{"--help"},
		{"-h"},
		{"help", "audit"},
		{"audit", "--help"},
		{"db", "ls", "--help"},
		{"__complete", "audit", ""}, // ":0\n", then cobra's note on stderr
		{"completion", "bash"},
		{"completion", "zsh", "--no-descriptions"},
	} {
		name := strings.Join(args, " ")
		for _, after := range []int{0, 2} {
			root := newRootCommand()
			var errw bytes.Buffer
			root.SetArgs(args)
			root.SetOut(&failAfter{n: after})
			root.SetErr(&errw)
			code := exitCode(&errw, execute(context.Background(), root))
			lines := strings.Split(strings.TrimSuffix(errw.String(), "\n"), "\n")
			if last := lines[len(lines)-1]; code != exitError || last != "lineage: "+errNoSpace.Error() {
				t.Errorf("%s, stdout failing after %d bytes: exit %d, stderr %q; want %d and the line %q",
					name, after, code, errw.String(), exitError, "lineage: "+errNoSpace.Error())
			}
		}
		root := newRootCommand()
		var out, errw bytes.Buffer
		root.SetArgs(args)
		root.SetOut(&out)
		root.SetErr(&errw)
		if code := exitCode(&errw, execute(context.Background(), root)); code != exitOK || out.Len() == 0 {
			t.Errorf("%s, stdout writable: exit %d, %d bytes out, stderr %q; want %d and the output", name, code, out.Len(), errw.String(), exitOK)
		}
	}
}
