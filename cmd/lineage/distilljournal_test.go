package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// answerJobs lists the journals in the database at path.
func answerJobs(t *testing.T, path string) map[string][][]byte {
	t.Helper()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string][][]byte{}
	err = db.View(context.Background(), func(tx *store.Tx) error {
		for j := range tx.AnswerJobs() {
			for _, data := range tx.Answers(j) {
				out[j] = append(out[j], data)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestDistillRevealSharesJournal checks that an API distillation with
// another --reveal replays the answers an earlier one paid for (the
// journal holds the teacher's answers as it gave them, --reveal being
// applied afterwards), giving the student a fresh run gives, and that a
// journal older lineage kept under a name with its --reveal is taken
// over, its copies removed. Each --reveal asked the teacher again.
func TestDistillRevealSharesJournal(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	srv := tinyTeacherServer(t)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	ref := ts.URL + "/v2/models/teacher"
	for _, d := range []string{"fresh", "shared"} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	distill := func(db, reveal, out string) string {
		t.Helper()
		code, stderr := runLineage(t, "--db", db, "distill", "--teacher", ref, "--data", "digits", "--hidden", "4",
			"--queries", "300", "--epochs", "1", "--no-progress", "--reveal", reveal, "--out", out)
		if code != exitOK {
			t.Fatalf("distill --reveal %s: exit %d, stderr:\n%s", reveal, code, stderr)
		}
		return stderr
	}
	const paid = "lineage distill: teacher answered 300 queries; 0 more were replayed"
	const replayed = "lineage distill: teacher answered 0 queries; 300 more were replayed"
	if got := distill("shared.db", "full", "shared/full.lnm"); !strings.Contains(got, paid) {
		t.Errorf("first distillation: stderr %q, want %q", got, paid)
	}
	for _, rv := range []string{"label", "topk:3"} {
		if got := distill("shared.db", rv, "shared/s.lnm"); !strings.Contains(got, replayed) {
			t.Errorf("distill --reveal %s after --reveal full: stderr %q, want %q", rv, got, replayed)
		}
		distill("fresh-"+strings.ReplaceAll(rv, ":", "")+".db", rv, "fresh/s.lnm")
		a, _ := os.ReadFile("shared/s.lnm")
		b, _ := os.ReadFile("fresh/s.lnm")
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("--reveal %s: the student of replayed answers differs from a fresh run's", rv)
		}
	}
	jobs := answerJobs(t, "shared.db")
	if len(jobs) != 1 {
		t.Fatalf("journals after three distillations: %d, want one", len(jobs))
	}

	// The journal as older lineage named it: with reveal=label, and a
	// copy with reveal=topk:3.
	var job string
	for j := range jobs {
		job = j
	}
	older := func(rv string) string {
		return strings.Replace(job, ":transfer=data:", ":transfer=data:reveal="+rv+":", 1)
	}
	updateStore(t, "shared.db", func(tx *store.Tx) error {
		for k, data := range tx.Answers(job) {
			for _, rv := range []string{"label", "topk:3"} {
				if err := tx.PutAnswers(older(rv), k, data); err != nil {
					return err
				}
			}
		}
		return tx.DeleteAnswers(job)
	})
	got := distill("shared.db", "full", "shared/full2.lnm")
	want := "lineage distill: reusing the 2 batches of answers an earlier run with --reveal label paid for (a journal kept under another --reveal, all of whose answers this one holds, was removed)"
	if !strings.Contains(got, want) || !strings.Contains(got, replayed) {
		t.Errorf("distill beside an older journal: stderr %q, want %q and %q", got, want, replayed)
	}
	if after := answerJobs(t, "shared.db"); len(after) != 1 || !slices.EqualFunc(after[job], jobs[job], bytes.Equal) {
		t.Errorf("journals after taking over the older one: %d, want the one, as it was", len(after))
	}
}

// TestOlderDistillJobs checks which names of older lineage's journals of a
// distillation are looked for: every canonical --reveal, and any other
// spelling among the store's journals when the name is not hashed.
func TestOlderDistillJobs(t *testing.T) {
	plain := func(rv string) string { return "distill:m:h:transfer=data:reveal=" + rv + ":queries=0" }
	hashed := func(rv string) string { // as journalJob hashes a long name
		sum := sha256.Sum256([]byte(plain(rv)))
		return "distill:" + hex.EncodeToString(sum[:16])
	}
	jobs := []string{plain("topk:03"), plain("bogus"), "distill:m:h:transfer=data:queries=0", hashed("topk:03")}
	tests := []struct {
		name  string
		older func(string) string
		want  []string
	}{
		{"plain", plain, []string{"full", "label", "topk:03", "topk:1", "topk:2", "topk:3"}},
		{"hashed", hashed, []string{"full", "label", "topk:1", "topk:2", "topk:3"}},
	}
	for _, tt := range tests {
		got := olderDistillJobs(tt.older, 3, jobs)
		var reveals []string
		for name, rv := range got {
			if name != tt.older(rv) {
				t.Errorf("%s: %q stands for --reveal %s, want %q", tt.name, name, rv, tt.older(rv))
			}
			reveals = append(reveals, rv)
		}
		if slices.Sort(reveals); !slices.Equal(reveals, tt.want) {
			t.Errorf("%s: reveals %q, want %q", tt.name, reveals, tt.want)
		}
	}
}

// TestDistillDanglingDB checks that an API distillation whose --db is a
// symbolic link leading to no file (which lineage makes no database
// through) fails in one line naming the link, before the teacher is
// asked anything: with the link's target in a missing directory it
// printed the note that the job could not be claimed, then the error.
func TestDistillDanglingDB(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	srv := tinyTeacherServer(t)
	var asked atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	if err := os.Mkdir("dir", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{"nosuch/case.db", "dir/case.db"} {
		asked.Store(0)
		link := "link-" + strings.ReplaceAll(target, "/", "-")
		if err := os.Symlink(target, link); err != nil {
			t.Fatal(err)
		}
		code, stderr := runLineage(t, "--db", link, "distill", "--teacher", ts.URL+"/v2/models/teacher", "--data", "digits",
			"--hidden", "4", "--queries", "300", "--epochs", "1", "--no-progress", "--out", "s.lnm")
		want := `lineage: database "` + link + `" cannot be written: a symbolic link to "` + target + `", which leads to no file`
		if code != exitError || !strings.HasPrefix(stderr, want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("--db %s (to %s): exit %d, stderr %q; want %d and one line starting %q", link, target, code, stderr, exitError, want)
		}
		if n := asked.Load(); n > 0 {
			t.Errorf("--db %s (to %s): the teacher was asked %d times before the database was refused; want none", link, target, n)
		}
		for _, name := range []string{"s.lnm", "nosuch", "dir/case.db"} {
			if _, err := os.Lstat(name); err == nil {
				t.Errorf("--db %s (to %s): %s was made", link, target, name)
			}
		}
	}
}
