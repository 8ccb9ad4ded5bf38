package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/internal/jobclaim"
	"github.com/lineage-audit/lineage/store"
)

// TestConcurrentRemoteJob starts two runs of the same remote probe, then of
// the same API distillation (into other --out files), at once against a
// served model, and counts the server's requests: the second run must wait
// for the first and replay its answers, not pay for them again. A first
// run killed with SIGKILL while the second waits must not block it: the
// second resumes from what the first stored.
func TestConcurrentRemoteJob(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	dir := t.TempDir()
	useFixture(t, "acme-c6", dir) // teacher.lnm enrolled as acme, 60 probes
	base, srvLog := startServe(t, dir, nil, "teacher.lnm", "--name", "teacher")
	url := base + "/v2/models/teacher"
	infers := func() int { return strings.Count(srvLog.String(), "/infer") }
	type proc struct {
		c      *exec.Cmd
		stderr *syncBuffer
	}
	start := func(args ...string) proc {
		t.Helper()
		c := lineageCmd(t, dir, args...)
		var errb syncBuffer
		c.Stdout, c.Stderr = new(bytes.Buffer), &errb
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return proc{c, &errb}
	}
	waitFor := func(p proc, text string) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(p.stderr.String(), text); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %q on stderr:\n%s", text, p.stderr.String())
			}
		}
	}
	finish := func(p proc) string {
		t.Helper()
		if err := p.c.Wait(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(p.c.Args, " "), err, p.stderr.String())
		}
		return p.stderr.String()
	}
	const waiting = "another run is asking the same model the same questions"

	// 60 probes in batches of 4: 15 requests for the two runs.
	probeArgs := func(name string) []string {
		return []string{"--db", "case.db", "probe", url, "--suite", "acme", "--name", name,
			"--ask-again", "-1", "--remote-batch", "4", "--qps", "8", "--concurrency", "1"}
	}
	before := infers()
	p1 := start(probeArgs("s1")...)
	p2 := start(probeArgs("s1")...)
	e1, e2 := finish(p1), finish(p2)
	if got := infers() - before; got != 15 {
		t.Errorf("two concurrent probes made %d requests, want 15 (the second waits and replays)\n%s\n%s", got, e1, e2)
	}
	if !strings.Contains(e1+e2, waiting) || !strings.Contains(e1+e2, "it was not asked again") {
		t.Errorf("neither probe said it waited for the other and asked nothing:\n%s\n%s", e1, e2)
	}

	// The first killed while the second waits: the second resumes.
	before = infers()
	p1 = start(probeArgs("s2")...)
	for infers() == before {
		time.Sleep(20 * time.Millisecond)
	}
	p2 = start(probeArgs("s2")...)
	waitFor(p2, waiting)
	p1.c.Process.Signal(syscall.SIGKILL)
	p1.c.Wait()
	e2 = finish(p2)
	// A remote probe keeps two batches in flight (fingerprintBatched),
	// each committed once answered: the kill can land after both were
	// answered and before either was committed, and their requests are
	// then asked again. On a loaded machine a commit (the store opened
	// for it, synced) outlasts the next batch's request, and 17 was seen.
	if got := infers() - before; got < 15 || got > 15+remoteInFlight {
		t.Errorf("a killed probe and the run that waited for it made %d requests, want 15 (up to %d more if the kill hit the batches in flight answered but not committed)\n%s", got, remoteInFlight, e2)
	}
	if !strings.Contains(e2, "resumed fingerprint s2") {
		t.Errorf("the run that waited for a killed one did not resume:\n%s", e2)
	}

	// 600 queries in batches of 20: 30 requests for the two distillations.
	dargs := func(out string) []string {
		return []string{"--db", "case.db", "distill", "--teacher", url, "--data", "digits", "--hidden", "16",
			"--reveal", "label", "--queries", "600", "--epochs", "1", "--seed", "1",
			"--remote-batch", "20", "--qps", "10", "--concurrency", "1", "--out", out}
	}
	before = infers()
	d1 := start(dargs("a.lnm")...)
	for infers() == before {
		time.Sleep(20 * time.Millisecond)
	}
	d2 := start(dargs("b.lnm")...)
	e1, e2 = finish(d1), finish(d2)
	if got := infers() - before; got != 30 {
		t.Errorf("two concurrent distillations made %d requests, want 30\n%s\n%s", got, e1, e2)
	}
	if !strings.Contains(e1+e2, waiting) || !strings.Contains(e1+e2, "teacher answered 0 queries; 600 more were replayed") {
		t.Errorf("neither distillation waited for the other and replayed its answers:\n%s\n%s", e1, e2)
	}
}

// TestConcurrentAuditsNoDeadlock starts two audits of one remote model
// with --save against two teachers named in opposite orders. Each holds
// the claim of the fingerprint it took until it has stored them all, so
// two runs taking the claims in their --against order each waited, for
// ever, for the claim the other held. They take them in one order
// (claimOrder): both must finish.
func TestConcurrentAuditsNoDeadlock(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	dir := t.TempDir()
	useFixture(t, "acme-beta", dir) // acme with 60 probes, beta with 30
	base, _ := startServe(t, dir, nil, "teacher.lnm", "--name", "teacher")
	audit := func(against string) *exec.Cmd {
		c := lineageCmd(t, dir, "--db", "case.db", "audit", base+"/v2/models/teacher", "--save", "--name", "s",
			"--against", against, "--remote-batch", "5", "--qps", "20", "--concurrency", "1")
		c.Stdout, c.Stderr = new(bytes.Buffer), new(syncBuffer)
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	cmds := []*exec.Cmd{audit("acme,beta"), audit("beta,acme")}
	done := make(chan error, len(cmds))
	for _, c := range cmds {
		go func() { done <- c.Wait() }()
	}
	timeout := time.After(120 * time.Second)
	for range cmds {
		select {
		case <-done:
		case <-timeout:
			for _, c := range cmds {
				c.Process.Signal(syscall.SIGKILL)
			}
			for range cmds {
				<-done
			}
			t.Fatalf("two audits against acme,beta and beta,acme still running after 120 s (each waiting for the other's claim):\n%s\n%s",
				cmds[0].Stderr, cmds[1].Stderr)
		}
	}
	// The run that waited may end with errStoredMeanwhile (the fingerprint
	// stored meanwhile): that is not what this test is about.
	for _, c := range cmds {
		if !c.ProcessState.Success() && !strings.Contains(fmt.Sprint(c.Stderr), errStoredMeanwhile.Error()) {
			t.Errorf("%s: %v\n%s", strings.Join(c.Args[4:], " "), c.ProcessState, c.Stderr)
		}
	}

	// Ctrl-C while an audit waits for its second claim, the first
	// suite's answers journalled: the line says they are kept. It said
	// only "nothing was asked while waiting for the other run".
	db, err := store.Open(filepath.Join(dir, "case.db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	// The audit takes the claims in their order: the test holds the
	// second, after the first suite's probes (acme's 60 or beta's 30).
	var claims []string
	probes := map[string]int{}
	err = db.View(context.Background(), func(tx *store.Tx) error {
		for teacher, n := range map[string]int{"acme": 60, "beta": 30} {
			h, err := tx.SuiteHash(teacher)
			if err != nil {
				return err
			}
			claim := probeClaim(base+"/v2/models/teacher", h, "s2@"+teacher)
			claims, probes[claim] = append(claims, claim), n
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(claims)
	kept := fmt.Sprintf("%d answers are kept in", probes[claims[0]])
	release, _, err := jobclaim.Acquire(context.Background(), filepath.Join(dir, "case.db"), claims[1], "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	c := lineageCmd(t, dir, "--db", "case.db", "audit", base+"/v2/models/teacher", "--save", "--name", "s2",
		"--against", "acme,beta", "--remote-batch", "5", "--qps", "20", "--concurrency", "1")
	stderr := new(syncBuffer)
	c.Stdout, c.Stderr = new(bytes.Buffer), stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(60 * time.Second); !strings.Contains(stderr.String(), "another run is asking"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.Process.Signal(syscall.SIGKILL)
			c.Wait()
			t.Fatalf("the audit did not wait for the held claim:\n%s", stderr)
		}
	}
	c.Process.Signal(syscall.SIGINT)
	c.Wait()
	if code := c.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(stderr.String(), kept) {
		t.Errorf("audit interrupted while waiting for its second claim: exit %d, want %d and %q:\n%s", code, exitInterrupted, kept, stderr)
	}
}
