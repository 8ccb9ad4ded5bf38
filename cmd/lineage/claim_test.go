package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
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
	runOK(t, dir, "train", "--hidden", "32", "--epochs", "5", "--out", "t.lnm")
	runOK(t, dir, "--db", "case.db", "enroll", "acme", "--model", "t.lnm", "--data", "digits",
		"--controls", "6", "--suite-size", "60", "--seed", "1")
	base, srvLog := startServe(t, dir, nil, "t.lnm", "--name", "teacher")
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
	if got := infers() - before; got < 15 || got > 16 {
		t.Errorf("a killed probe and the run that waited for it made %d requests, want 15 (16 if the kill hit an answer before its commit)\n%s", got, e2)
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

// TestAuditSaveStoredMeanwhile plays the race of two `audit URL --save`
// runs of one suspect against two teachers at once, deterministically: the
// test holds the jobs' claims as the first run would, starts the second,
// which waits, then stores what the first run stores (its fingerprints and
// audit record, copied from a store where that run was made) and releases
// the claims. The second run must use the fingerprints the first stored,
// asking the model nothing, where it ended with "stored meanwhile by the
// run this one waited for; the same command again uses it" (and, had it
// gone on, would have asked again for the second teacher's suite).
func TestAuditSaveStoredMeanwhile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs real processes; skipped with -short")
	}
	dir := t.TempDir()
	useFixture(t, "acme", dir)
	runOK(t, dir, "--db", "case.db", "enroll", "acme2", "--model", "teacher.lnm", "--data", "digits", "--seed", "2",
		"--controls", "3", "--suite-size", "60")
	base, srvLog := startServe(t, dir, nil, "teacher.lnm", "--name", "teacher")
	url := base + "/v2/models/teacher"
	infers := func() int { return strings.Count(srvLog.String(), "/infer") }
	if err := copyFile(filepath.Join(dir, "case.db"), filepath.Join(dir, "first.db")); err != nil {
		t.Fatal(err)
	}
	args := func(db string) []string {
		return []string{"--db", db, "audit", url, "--save", "--name", "s1", "--ask-again", "-1", "--format", "json"}
	}
	// The first run, made beforehand in a copy of the store.
	want := runOK(t, dir, args("first.db")...)

	ctx := context.Background()
	var (
		fps  []*fingerprint.Fingerprint
		rec  *store.AuditRecord
		jobs []string
	)
	first, err := store.Open(filepath.Join(dir, "first.db"), store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	err = first.View(ctx, func(tx *store.Tx) error {
		for _, teacher := range []string{"acme", "acme2"} {
			e, err := tx.Enrolment(teacher)
			if err != nil {
				return err
			}
			id := "s1@" + teacher
			jobs = append(jobs, journalJob("probe", url, e.Suite, id))
			fp, err := tx.Fingerprint(id)
			if err != nil {
				return err
			}
			fps = append(fps, fp)
		}
		var err error
		rec, err = tx.Audit("s1")
		return err
	})
	first.Close()
	if err != nil {
		t.Fatal(err)
	}

	// The test holds the claims, as the first run does while it asks.
	dbPath := filepath.Join(dir, "case.db")
	var releases []func()
	for _, job := range jobs {
		release, _, err := jobclaim.Acquire(ctx, dbPath, job, "the test", nil)
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
		defer release()
	}
	c := lineageCmd(t, dir, args("case.db")...)
	var stdout bytes.Buffer
	var stderr syncBuffer
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Process.Kill()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), "another run is asking the same model"); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the second run did not wait:\n%s", stderr.String())
		}
	}
	before := infers()
	// What the first run stores, in one transaction, before its claim ends.
	db, err := store.Open(dbPath, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(ctx, func(tx *store.Tx) error {
		for _, fp := range fps {
			if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
				return err
			}
		}
		return tx.PutAudit(rec, store.PutOptions{})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, release := range releases {
		release()
	}
	if err := c.Wait(); err != nil {
		t.Fatalf("the run that waited: %v\n%s", err, stderr.String())
	}
	if got := infers() - before; got != 0 {
		t.Errorf("the run that waited made %d requests, want 0 (it uses the fingerprint stored meanwhile)\n%s", got, stderr.String())
	}
	if !strings.Contains(stderr.String(), `fingerprint "s1@acme" was stored meanwhile`) || !strings.Contains(stderr.String(), `fingerprint "s1@acme2" is already stored`) {
		t.Errorf("stderr does not say the fingerprint was stored meanwhile:\n%s", stderr.String())
	}
	// The same audit: the first run's result, with the stderr line removed
	// from runOK's output.
	if got := stdout.String(); !strings.HasPrefix(want, got) || got == "" {
		t.Errorf("the run that waited printed\n%s\nwant the first run's\n%s", got, want)
	}
}
