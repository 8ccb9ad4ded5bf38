package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// heldJournals is a store of journals of one distillation (t, seed 1):
// the one every --reveal shares, with batches 0 to 2, and older lineage's
// per --reveal: full holds batches 0 and 1 of it (a run stopped part-way),
// topk:1 batch 0, label a batch 1 unlike its own, topk:2 a batch 3 it
// lacks; and a journal
// of another distillation (seed 2), whose shared journal is missing.
func heldJournals(t *testing.T) (path string, shared string, older func(rv string) string) {
	t.Helper()
	const base = "distill:http://h:1/v2/models/t:0123456789abcdef:transfer=data"
	shared = base + ":queries=300:jitter=0.1:seed=1"
	older = func(rv string) string { return base + ":reveal=" + rv + ":queries=300:jitter=0.1:seed=1" }
	journals := map[string]map[int]string{
		shared:          {0: "a", 1: "b", 2: "c"},
		older("full"):   {0: "a", 1: "b"},
		older("label"):  {0: "a", 1: "B", 2: "c"},
		older("topk:1"): {0: "a"},
		older("topk:2"): {2: "c", 3: "d"},
		base + ":reveal=full:queries=300:jitter=0.1:seed=2": {0: "a"},
	}
	path = filepath.Join(t.TempDir(), "held.db")
	updateStore(t, path, func(tx *store.Tx) error {
		for job, batches := range journals {
			for k, data := range batches {
				if err := tx.PutAnswers(job, k, []byte(data)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return path, shared, older
}

// TestSharedDistillJob checks the name of the shared journal found for an
// older journal of a distillation, and that other names have none.
func TestSharedDistillJob(t *testing.T) {
	tests := []struct{ job, want string }{
		{"distill:m:h:transfer=data:reveal=full:queries=1:seed=1", "distill:m:h:transfer=data:queries=1:seed=1"},
		{"distill:http://h:1/m:h:transfer=mixup:reveal=topk:3:queries=1:seed=1:output=p", "distill:http://h:1/m:h:transfer=mixup:queries=1:seed=1:output=p"},
		{"distill:m:h:transfer=data:queries=1:seed=1", ""},
		{"distill:m:h:transfer=data:reveal=bogus:queries=1", ""},
		{"distill:0123456789abcdef0123456789abcdef", ""},
		{"probe:m:h:transfer=data:reveal=full:queries=1", ""},
	}
	for _, tt := range tests {
		got, ok := sharedDistillJob(tt.job)
		if ok != (tt.want != "") || got != tt.want {
			t.Errorf("sharedDistillJob(%q) = %q, %v; want %q", tt.job, got, ok, tt.want)
		}
	}
}

// TestVerifyRedundantDistillJournals checks that db verify names the
// journal older lineage kept of a distillation with its --reveal whose
// answers are all in the shared journal (a subset of it, which adoption
// of a copy left behind), with the command that removes it, and none
// holding an answer found nowhere else; and that the command works.
func TestVerifyRedundantDistillJournals(t *testing.T) {
	path, _, older := heldJournals(t)
	stdout, stderr, code := runCLI(t, "--db", path, "db", "verify", "--format", "json")
	var got struct {
		OK        bool     `json:"ok"`
		Redundant []string `json:"redundant_journals"`
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil || code != exitOK || !got.OK || !slices.Equal(got.Redundant, []string{older("full"), older("topk:1")}) {
		t.Errorf("db verify --format json: exit %d, %+v (%v), stderr %q; want exit 0, ok and redundant_journals [%q %q]", code, got, err, stderr, older("full"), older("topk:1"))
	}
	stdout, _, _ = runCLI(t, "--db", path, "db", "verify")
	want := "`lineage db rm answers '" + older("full") + "'` removes them"
	if !strings.Contains(stdout, want) || !strings.Contains(stdout, "OK: no problems found") || strings.Count(stdout, "db rm answers") != 2 {
		t.Errorf("db verify:\n%s\nwant two notes, one containing %q, and OK", stdout, want)
	}
	for _, rv := range []string{"full", "topk:1"} {
		if _, stderr, code := runCLI(t, "--db", path, "db", "rm", "answers", older(rv)); code != exitOK {
			t.Fatalf("db rm answers: exit %d, stderr %q", code, stderr)
		}
	}
	if stdout, _, _ := runCLI(t, "--db", path, "db", "verify"); strings.Contains(stdout, "db rm answers") {
		t.Errorf("db verify after db rm answers:\n%s\nwant no journal named", stdout)
	}
}

// TestAdoptRemovesHeldJournals checks that a distillation whose shared
// journal exists removes the older journals of it whose every answer that
// journal holds (they were left for ever: older ones were looked at only
// when it had none), keeping those with an answer held nowhere else, and
// that adopting an older journal also removes one holding part of it.
func TestAdoptRemovesHeldJournals(t *testing.T) {
	path, shared, older := heldJournals(t)
	g := &globalOptions{db: path}
	var stderr bytes.Buffer
	if err := adoptOlderJournal(context.Background(), &stderr, g, shared, older, 3); err != nil {
		t.Fatal(err)
	}
	if want := "lineage distill: 2 journals kept under other --reveal, all of whose answers this one holds, were removed\n"; stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	jobs := answerJobs(t, path)
	wantJobs := []string{shared, older("label"), older("topk:2"), strings.Replace(older("full"), "seed=1", "seed=2", 1)}
	if got := slices.Sorted(maps.Keys(jobs)); !slices.Equal(got, slices.Sorted(slices.Values(wantJobs))) {
		t.Errorf("journals %q, want %q", got, wantJobs)
	}

	// Without the shared journal: label has the most batches and is
	// adopted; topk:1 holds a part of it, full a batch 1 unlike its own,
	// topk:2 a batch 3 it lacks.
	path, shared, older = heldJournals(t)
	g = &globalOptions{db: path}
	stderr.Reset()
	if _, _, code := runCLI(t, "--db", path, "db", "rm", "answers", shared); code != exitOK {
		t.Fatal("db rm answers failed")
	}
	if err := adoptOlderJournal(context.Background(), &stderr, g, shared, older, 3); err != nil {
		t.Fatal(err)
	}
	want := "lineage distill: reusing the 3 batches of answers an earlier run with --reveal label paid for (a journal kept under another --reveal, all of whose answers this one holds, was removed)"
	if !strings.HasPrefix(stderr.String(), want) {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
	jobs = answerJobs(t, path)
	wantJobs = []string{shared, older("full"), older("topk:2"), strings.Replace(older("full"), "seed=1", "seed=2", 1)}
	if got := slices.Sorted(maps.Keys(jobs)); !slices.Equal(got, slices.Sorted(slices.Values(wantJobs))) {
		t.Errorf("journals after adopting: %q, want %q", got, wantJobs)
	}
	if got := string(bytes.Join(jobs[shared], nil)); got != "aBc" {
		t.Errorf("adopted batches %q, want %q", got, "aBc")
	}
}

// TestHeldJournalsOneSharedAtATime checks that db verify reads each shared
// distill journal once and holds one's batches at a time: it checks every
// older journal of a shared journal before it reads the next. The jobs are
// in key order, in which the older journals of two distillations that
// differ after the reveal part interleave; before, their shared journals
// were read as met and every one's batches kept until the end, so peak
// memory was the sum of them.
func TestHeldJournalsOneSharedAtATime(t *testing.T) {
	const base = "distill:m:0123456789abcdef:transfer=noise"
	older := func(rv string, q int) string { return fmt.Sprintf("%s:reveal=%s:queries=%d:seed=1", base, rv, q) }
	shared := func(q int) string { return fmt.Sprintf("%s:queries=%d:seed=1", base, q) }
	jobs := []string{shared(100), shared(200)}
	for _, rv := range []string{"full", "label", "topk:1", "topk:2"} {
		jobs = append(jobs, older(rv, 100), older(rv, 200))
	}
	slices.Sort(jobs)
	// Every older journal is held but label's of 200.
	reads := map[string]int{}
	current := "" // the shared journal whose batches are out
	held := 0
	got := heldJournalsBy(slices.Values(jobs), func(job string) map[int][]byte {
		reads[job]++
		current = job
		return map[int][]byte{0: []byte(job)}
	}, func(job string, batches map[int][]byte) bool {
		s, _ := sharedDistillJob(job)
		if s != current || string(batches[0]) != s {
			t.Errorf("older journal %q checked against %q while %q was read last: its shared journal's batches are held alongside another's", job, batches[0], current)
		}
		held++
		return job != older("label", 200)
	})
	if want := map[string]int{shared(100): 1, shared(200): 1}; !maps.Equal(reads, want) {
		t.Errorf("reads %v, want each shared journal read once: %v", reads, want)
	}
	var want []string
	for _, job := range jobs {
		if _, ok := sharedDistillJob(job); ok && job != older("label", 200) {
			want = append(want, job)
		}
	}
	if held != 8 || !slices.Equal(got, want) {
		t.Errorf("held journals %q after %d checks, want %q after 8", got, held, want)
	}
}
