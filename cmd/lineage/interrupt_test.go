package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestAsInterrupted(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	wrapped := fmt.Errorf("enrol %q: train controls: recipe kd-t4: %w", "acme", context.Canceled)
	hinted := interrupted{"checkpoint saved to \"m.lnm.ckpt\"; rerun with --resume to continue", context.Canceled}
	other := errors.New("disk full")
	for _, tt := range []struct {
		ctx  context.Context
		err  error
		want string
	}{
		{cancelled, wrapped, "lineage: interrupted\n"},
		{cancelled, fmt.Errorf("train: %w", hinted), "lineage: interrupted: checkpoint saved to \"m.lnm.ckpt\"; rerun with --resume to continue\n"},
		{cancelled, other, "lineage: disk full\n"},
		// Without a signal a context error is an error like any other.
		{context.Background(), wrapped, "lineage: " + wrapped.Error() + "\n"},
	} {
		var w bytes.Buffer
		want := exitError
		if strings.HasPrefix(tt.want, "lineage: interrupted") {
			want = exitInterrupted
		}
		if code := exitCode(&w, asInterrupted(tt.ctx, tt.err)); code != want {
			t.Errorf("%v: exit status %d, want %d", tt.err, code, want)
		}
		if w.String() != tt.want {
			t.Errorf("%v: printed %q, want %q", tt.err, w.String(), tt.want)
		}
	}
	if err := asInterrupted(cancelled, nil); err != nil {
		t.Errorf("asInterrupted(nil) = %v", err)
	}
}

// interruptAfter starts c, sends SIGINT after d (and a second one 20 ms
// later, as an impatient user would), and returns the exit status, what
// the command wrote to stderr and how long it took to stop after the
// first signal.
func interruptAfter(t *testing.T, c *exec.Cmd, d time.Duration) (int, string, time.Duration) {
	t.Helper()
	var errb bytes.Buffer
	c.Stderr = &errb
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(d)
	start := time.Now()
	c.Process.Signal(syscall.SIGINT)
	time.Sleep(20 * time.Millisecond)
	c.Process.Signal(syscall.SIGINT)
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		c.Process.Kill()
		<-done
		t.Fatalf("%s: still running 10 s after SIGINT", strings.Join(c.Args, " "))
	}
	return c.ProcessState.ExitCode(), errb.String(), time.Since(start)
}

// TestInterrupt sends SIGINT to long commands and checks that they stop
// promptly with one line saying so (and what to do next), not a chain of
// wrapped "context canceled" errors, leaving no half-written output.
func TestInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("interrupts real processes; skipped with -short")
	}
	dir := t.TempDir()

	code, stderr, took := interruptAfter(t, lineageCmd(t, dir, "train", "--hidden", "256,256", "--epochs", "500", "--out", "m.lnm"), time.Second)
	if want := "lineage: interrupted: checkpoint saved to \"m.lnm.ckpt\"; rerun with --resume to continue\n"; code != exitInterrupted || stderr != want || took > 3*time.Second {
		t.Errorf("train: exit %d after %v, stderr %q; want %d within 3 s, %q", code, took, stderr, exitInterrupted, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "m.lnm")); err == nil {
		t.Error("an interrupted train wrote its model")
	}
	if _, err := os.Stat(filepath.Join(dir, "m.lnm.ckpt")); err != nil {
		t.Errorf("no checkpoint: %v", err)
	}

	// Resumed with --log, the log keeps the epochs before the interruption.
	targs := []string{"train", "--hidden", "256,256", "--epochs", "25", "--out", "r.lnm", "--log", "r.log", "--resume"}
	if code, stderr, _ := interruptAfter(t, lineageCmd(t, dir, targs...), 700*time.Millisecond); code != exitInterrupted {
		t.Fatalf("train --log: exit %d (%s), want an interrupted run", code, stderr)
	}
	runOK(t, dir, targs...)
	if b, err := os.ReadFile(filepath.Join(dir, "r.log")); err != nil || strings.Count(string(b), "\n") != 25 ||
		!strings.HasPrefix(string(b), `{"epoch":1,`) {
		t.Errorf("log of the interrupted and resumed run: %d lines (%v), want the 25 epochs from 1:\n%.300s", strings.Count(string(b), "\n"), err, b)
	}

	runOK(t, dir, "train", "--hidden", "32", "--epochs", "5", "--out", "t.lnm")
	code, stderr, took = interruptAfter(t, lineageCmd(t, dir, "--db", "case.db", "enroll", "acme", "--model", "t.lnm",
		"--data", "digits", "--controls", "6", "--suite-size", "60"), 1500*time.Millisecond)
	if want := "lineage: interrupted\n"; code != exitInterrupted || stderr != want || took > 3*time.Second {
		t.Errorf("enroll: exit %d after %v, stderr %q; want %d within 3 s, %q", code, took, stderr, exitInterrupted, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "case.db")); err == nil {
		t.Error("an interrupted enrolment left a database")
	}
}
