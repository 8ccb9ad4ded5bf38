package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
)

// TestRmSuiteTakesJournals checks that a suite removed, by db rm
// enrolment --purge or db rm suite, takes along the journals of the
// probes on it, and no other journal: an interrupted probe's journal
// outlived the purge of its suite, which no probe could resume.
func TestRmSuiteTakesJournals(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "other")
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var acme, other *probe.Suite
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		var err error
		if acme, err = tx.Suite("acme"); err != nil {
			return err
		}
		if other, err = tx.Suite("other"); err != nil {
			return err
		}
		for _, job := range []string{
			probeJob("http://h:1/v2/models/m", acme, "sus", acme.Labels, false, ""),
			olderProbeJob(acme, "old"),
			probeJob("exec:/bin/m", other, "sus", other.Labels, true, ""),
			"distill:http://h:1/v2/models/m:0123456789abcdef:transfer=data:queries=0:jitter=0:seed=1",
		} {
			if err := tx.PutAnswers(job, 0, []byte("x")); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	jobs := func() []string {
		t.Helper()
		db, err := store.Open(path, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var out []string
		db.View(context.Background(), func(tx *store.Tx) error {
			out = slices.Collect(tx.AnswerJobs())
			return nil
		})
		return out
	}
	wantOther := []string{
		"distill:http://h:1/v2/models/m:0123456789abcdef:transfer=data:queries=0:jitter=0:seed=1",
		probeJob("exec:/bin/m", other, "sus", other.Labels, true, ""),
	}
	slices.Sort(wantOther)

	stdout, stderr, code := runCLI(t, "--db", path, "db", "rm", "enrolment", "acme", "--purge")
	want := "removed enrolment acme, 1 fingerprint, suite name acme, suite " + acme.Hash[:12] + ", and the answers of 2 interrupted probes on its suite\n"
	if code != exitOK || stdout != want {
		t.Errorf("rm enrolment acme --purge: exit %d, stdout %q, stderr %q; want 0, %q", code, stdout, stderr, want)
	}
	if got := jobs(); !slices.Equal(got, wantOther) {
		t.Errorf("journals after the purge: %q, want %q", got, wantOther)
	}

	stdout, stderr, code = runCLI(t, "--db", path, "db", "rm", "suite", other.Hash, "--force")
	want = "removed suite " + other.Hash + ", and the answers of 1 interrupted probe on its suite\n"
	if code != exitOK || stdout != want {
		t.Errorf("rm suite --force: exit %d, stdout %q, stderr %q; want 0, %q", code, stdout, stderr, want)
	}
	if got, want := jobs(), wantOther[:1]; !slices.Equal(got, want) {
		t.Errorf("journals after rm suite: %q, want %q", got, want)
	}
}

// TestVerifyOrphanJournals checks that db verify names the journals of
// probes on a suite the store no longer holds (as a purge by older
// lineage left them), with the command that removes them, and no other,
// without calling them a problem.
func TestVerifyOrphanJournals(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "other")
	var orphan string
	updateStore(t, path, func(tx *store.Tx) error {
		acme, err := tx.Suite("acme")
		if err != nil {
			return err
		}
		other, err := tx.Suite("other")
		if err != nil {
			return err
		}
		orphan = probeJob("http://h:1/v2/models/m", acme, "sus", acme.Labels, false, "")
		for _, job := range []string{orphan, probeJob("http://h:1/v2/models/m", other, "sus", other.Labels, false, ""), "distill:x:0123456789abcdef"} {
			if err := tx.PutAnswers(job, 0, []byte("x")); err != nil {
				return err
			}
		}
		_, err = tx.PurgeEnrolment("acme") // the store alone: the journal stays
		return err
	})
	stdout, stderr, code := runCLI(t, "--db", path, "db", "verify", "--format", "json")
	var got struct {
		OK             bool     `json:"ok"`
		OrphanJournals []string `json:"orphan_journals"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != exitOK || !got.OK || !slices.Equal(got.OrphanJournals, []string{orphan}) {
		t.Errorf("db verify --format json: exit %d, %+v (%v), stderr %q; want exit 0, ok and orphan_journals [%q]", code, got, err, stderr, orphan)
	}
	stdout, _, _ = runCLI(t, "--db", path, "db", "verify")
	if want := "`lineage db rm answers '" + orphan + "'` removes them"; !strings.Contains(stdout, want) || !strings.Contains(stdout, "OK: no problems found") {
		t.Errorf("db verify:\n%s\nwant a note containing %q, and OK", stdout, want)
	}
}

// TestPurgeAgainNamesUnusedSuite follows a suite a purge keeps because a
// suspect's fingerprint uses it: the purge says so with the command that
// removes it, and once the fingerprint is removed too, a second purge,
// which finds nothing of the enrolment, and db verify name the now unused
// suite and that command. The second purge said only `teacher "acme" not
// found`, and nothing listed the suite left behind.
func TestPurgeAgainNamesUnusedSuite(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme", "other")
	var hash string
	updateStore(t, path, func(tx *store.Tx) error {
		fp, err := tx.Fingerprint("acme/teacher")
		if err != nil {
			return err
		}
		hash = fp.Suite
		fp.ID = "tt" // a suspect probed on acme's suite
		return tx.PutFingerprint(fp, store.PutOptions{})
	})
	rmSuite := "`lineage db rm suite " + hash + "` removes it"
	stdout, stderr, code := runCLI(t, "--db", path, "db", "rm", "enrolment", "acme", "--purge")
	if want := "kept suite " + hash[:12] + " (used by fingerprint tt): once nothing uses it, " + rmSuite; code != exitOK || !strings.Contains(stdout, want) {
		t.Errorf("first purge: exit %d, stdout %q, stderr %q; want exit 0 and %q", code, stdout, stderr, want)
	}
	if _, stderr, code := runCLI(t, "--db", path, "db", "rm", "fingerprint", "tt"); code != exitOK {
		t.Fatalf("db rm fingerprint tt: exit %d: %s", code, stderr)
	}
	_, stderr, code = runCLI(t, "--db", path, "db", "rm", "enrolment", "acme", "--purge")
	if code == exitOK || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, `teacher "acme" not found`) || !strings.Contains(stderr, "suite "+hash[:12]+" is used by nothing") || !strings.Contains(stderr, rmSuite) {
		t.Errorf("second purge: exit %d, stderr %q; want one error line naming suite %.12s and %q", code, stderr, hash, rmSuite)
	}
	unused := func() []string {
		t.Helper()
		stdout, stderr, code := runCLI(t, "--db", path, "db", "verify", "--format", "json")
		var got struct {
			OK           bool     `json:"ok"`
			UnusedSuites []string `json:"unused_suites"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != exitOK || !got.OK {
			t.Fatalf("db verify --format json: exit %d, %+v (%v), stderr %q; want exit 0, ok", code, got, err, stderr)
		}
		return got.UnusedSuites
	}
	if got := unused(); !slices.Equal(got, []string{hash}) {
		t.Errorf("unused_suites = %q, want [%q] (the other enrolment's suite is used)", got, hash)
	}
	if stdout, _, _ := runCLI(t, "--db", path, "db", "verify"); !strings.Contains(stdout, rmSuite) || !strings.Contains(stdout, "OK: no problems found") {
		t.Errorf("db verify:\n%s\nwant a note containing %q, and OK", stdout, rmSuite)
	}
	if _, stderr, code := runCLI(t, "--db", path, "db", "rm", "suite", hash); code != exitOK {
		t.Fatalf("db rm suite: exit %d: %s", code, stderr)
	}
	if got := unused(); len(got) != 0 {
		t.Errorf("unused_suites after db rm suite = %q, want none", got)
	}
}
