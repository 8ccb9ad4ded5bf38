package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/jobclaim"
	"github.com/lineage-audit/lineage/store"
)

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
	useFixture(t, "acme-beta", dir) // teacher.lnm enrolled as acme and beta
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
		for _, teacher := range []string{"acme", "beta"} {
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
	// The claims are taken in one order (claimOrder), not --against's:
	// the first fingerprint taken was stored meanwhile, the other is then
	// already stored.
	meanwhile := func(a, b string) bool {
		return strings.Contains(stderr.String(), `fingerprint "`+a+`" was stored meanwhile`) &&
			strings.Contains(stderr.String(), `fingerprint "`+b+`" is already stored`)
	}
	if !meanwhile("s1@acme", "s1@beta") && !meanwhile("s1@beta", "s1@acme") {
		t.Errorf("stderr does not say one fingerprint was stored meanwhile and the other is then already stored:\n%s", stderr.String())
	}
	// The same audit: the first run's result, with the stderr line removed
	// from runOK's output.
	if got := stdout.String(); !strings.HasPrefix(want, got) || got == "" {
		t.Errorf("the run that waited printed\n%s\nwant the first run's\n%s", got, want)
	}
}

// TestAuditFitsNoTeacherOrder checks that an `audit --save` of a remote
// model that fits none of the teachers lists their reasons in the
// teachers' order: it takes the teachers' job claims sorted by claim name
// (claimOrder), and listed the reasons in that order.
func TestAuditFitsNoTeacherOrder(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	teachers := []string{"acme", "beta", "gamma", "delta"}
	path := tinyEnrolments(t, 4, teachers...) // 2 inputs
	_, script, _ := writeFlaky(t, strings.Replace(flakySuspect, `"input_size":2`, `"input_size":3`, 1))
	var stderr bytes.Buffer
	root := newRootCommand()
	root.SetOut(io.Discard)
	root.SetErr(&stderr)
	root.SetArgs([]string{"--db", path, "audit", "exec:/bin/sh " + script, "--save", "--name", "s",
		"--against", strings.Join(teachers, ","), "--remote-batch", "1", "--concurrency", "1"})
	err := root.ExecuteContext(context.Background())
	if err == nil {
		t.Fatal("audit of a model with 3 inputs against suites of 2 succeeded")
	}
	msg, last := err.Error(), -1
	for _, name := range teachers {
		i := strings.Index(msg, `suite "`+name+`"`)
		if i <= last {
			t.Fatalf("the reasons are not in the teachers' order %v: %s", teachers, msg)
		}
		last = i
	}
}
