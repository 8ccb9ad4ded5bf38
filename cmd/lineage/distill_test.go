package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
	"github.com/lineage-audit/lineage/store"
)

// TestDistillIgnoredFlags checks that distill says which flags the user
// set have no effect on the run, and says nothing otherwise.
func TestDistillIgnoredFlags(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	teacher := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	if err := model.Save("teacher.lnm", teacher); err != nil {
		t.Fatal(err)
	}
	dist := []string{"distill", "--teacher", "teacher.lnm", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress", "--queries", "50", "--out", "s.lnm"}
	tests := []struct {
		name string
		args []string
		want string // "" for no note
	}{
		{"defaults", nil, ""},
		{"temperature with kl", []string{"--temperature", "2"}, ""},
		{"label, defaults", []string{"--reveal", "label"}, ""},
		{"label, temperature", []string{"--reveal", "label", "--temperature", "2"}, "lineage distill: --temperature has no effect with --reveal label: the student is fitted to the teacher's labels by cross-entropy\n"},
		{"label, loss and temperature", []string{"--reveal", "label", "--loss", "rkl", "--temperature", "2"}, "lineage distill: --loss and --temperature have no effect with --reveal label"},
		{"ce, temperature", []string{"--loss", "ce", "--temperature", "2"}, "lineage distill: --temperature has no effect with --loss ce\n"},
		{"mse, temperature", []string{"--loss", "mse", "--temperature", "2"}, "lineage distill: --temperature has no effect with --loss mse\n"},
		{"mse, default temperature", []string{"--loss", "mse"}, ""},
		{"alpha with data", []string{"--alpha", "0.5"}, ""},
		{"alpha with data and mixup", []string{"--alpha", "0.5", "--transfer", "data,mixup"}, ""},
		{"alpha without data", []string{"--alpha", "0.5", "--transfer", "mixup,noise"}, "lineage distill: --alpha has no effect with --transfer mixup,noise: no transfer row carries a dataset label, so every row is fitted to the teacher alone\n"},
		{"label, alpha without data", []string{"--reveal", "label", "--alpha", "0.5", "--transfer", "jitter"}, "lineage distill: --alpha has no effect with --transfer jitter"},
		{"jitter with jitter", []string{"--jitter", "0.5", "--transfer", "data,jitter"}, ""},
		{"jitter without jitter", []string{"--jitter", "0.5"}, "lineage distill: --jitter has no effect with --transfer data: it scales the noise of --transfer jitter only\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := runLineage(t, append(append([]string(nil), dist...), tt.args...)...)
			if code != exitOK {
				t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr)
			}
			if tt.want == "" && strings.Contains(stderr, "no effect") {
				t.Errorf("stderr = %q, want no note on ignored flags", stderr)
			}
			if tt.want != "" && !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.want)
			}
		})
	}
}

// dyingTeacher is an exec: teacher for one-row requests (--remote-batch
// 1) that answers its first two requests and exits on its third.
const dyingTeacher = `echo '{"lineage_exec":1,"name":"dying","input_size":64,"labels":["0","1","2","3","4","5","6","7","8","9"]}'
n=0
while read l; do
  n=$((n+1))
  if [ $n -ge 3 ]; then exit 5; fi
  id=${l#*\"id\":}
  echo "{\"id\":${id%%,*},\"probabilities\":[[0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1]]}"
done`

// TestDistillFailureLeavesNoDatabase checks that a remote distillation
// that fails before any answer is kept leaves no database where there
// was none (an empty 32 KiB one made a later audit stop saying that
// there is no database), keeps the answers it had committed, saying so
// (it said only how the teacher failed), and leaves a database that
// existed as it was.
func TestDistillFailureLeavesNoDatabase(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	if err := os.WriteFile("dying.sh", []byte(dyingTeacher+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := tinyTeacherServer(t)
	// The metadata is served; every inference fails.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	defer ts.Close()
	if err := createDB(context.Background(), &globalOptions{db: "old.db"}, 0, func(*store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	oldSum := fileSum(t, "old.db")

	tests := []struct {
		name    string
		db      string
		teacher string
		flags   []string
		want    string // in the one error line
		kept    string // the end of that line when answers were kept
		batches int    // answers kept in the database; -1: no database
	}{
		{"HTTP 500", "http.db", ts.URL + "/v2/models/teacher", nil, "HTTP 500 Internal Server Error: internal error", "", -1},
		{"exec dies in the first batch", "exec.db", "exec:/bin/sh dying.sh", []string{"--remote-batch", "1", "--concurrency", "4"}, "request 3: program exited: exit status 5", "", -1},
		{"exec dies after two batches", "kept.db", "exec:/bin/sh dying.sh", []string{"--remote-batch", "1", "--concurrency", "1"}, "request 3: program exited: exit status 5",
			"; the teacher's 2 answers so far are kept in kept.db: the same command again asks only for the rest\n", 2},
		{"database there before", "old.db", ts.URL + "/v2/models/teacher", nil, "HTTP 500 Internal Server Error", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--db", tt.db, "distill", "--teacher", tt.teacher, "--data", "digits", "--hidden", "4",
				"--epochs", "1", "--no-progress", "--retries", "-1", "--out", "s.lnm"}, tt.flags...)
			code, stderr := runLineage(t, args...)
			if code != exitError || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr:\n%s\nwant exit %d and one line holding %q", code, stderr, exitError, tt.want)
			}
			if tt.kept != "" && !strings.HasSuffix(stderr, tt.kept) || tt.kept == "" && strings.Contains(stderr, "are kept") {
				t.Errorf("stderr:\n%s\nwant it to end %q", stderr, tt.kept)
			}
			if fileExists("s.lnm") {
				t.Error("a failed distillation left its --out file")
			}
			_, err := os.Lstat(tt.db)
			if tt.batches < 0 {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("a distillation that kept no answer left the database %s (stat: %v), want none", tt.db, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("database %s: %v, want it kept", tt.db, err)
			}
			if tt.db == "old.db" && fileSum(t, tt.db) != oldSum {
				t.Error("the database that was there before was changed")
			}
			db, err := store.Open(tt.db, store.Options{ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			es, err := db.List(context.Background(), store.TypeAnswers)
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			for _, e := range es {
				var n int
				if _, err := fmt.Sscanf(e.Detail, "%d", &n); err != nil {
					t.Fatalf("answers %q: detail %q", e.ID, e.Detail)
				}
				got += n
			}
			if got != tt.batches {
				t.Errorf("the database keeps %d batches of answers, want %d", got, tt.batches)
			}
		})
	}
	if entries, _ := os.ReadDir("."); len(entries) != 3 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left: %s; want only dying.sh, kept.db and old.db", strings.Join(names, " "))
	}
}

// TestDistillResumedAnswersNote: an API distillation resumed from its
// checkpoint, which caches the teacher's answers, says they came from
// there; it said "teacher answered 0 queries; 0 more were replayed from
// the journal" beside "teacher queries 600" in its table.
func TestDistillResumedAnswersNote(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	srv := tinyTeacherServer(t)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	args := []string{"--db", "case.db", "distill", "--teacher", ts.URL + "/v2/models/teacher", "--data", "digits",
		"--hidden", "4", "--queries", "600", "--epochs", "300", "--no-progress", "--out", "s.lnm"}

	// Interrupted once the first epoch's checkpoint is written.
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !fileExists("s.lnm.ckpt") {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	root := newRootCommand()
	root.SetArgs(args)
	var out, errw bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errw)
	if code := exitCode(&errw, root.ExecuteContext(ctx)); code != exitInterrupted || !fileExists("s.lnm.ckpt") {
		t.Fatalf("exit %d, checkpoint there: %v; want an interrupted run with a checkpoint; stderr:\n%s", code, fileExists("s.lnm.ckpt"), errw.String())
	}

	code, stderr := runLineage(t, append(args, "--resume")...)
	if code != exitOK {
		t.Fatalf("resumed run: exit %d, stderr:\n%s", code, stderr)
	}
	if want := "lineage distill: the teacher's 600 answers were read from the checkpoint; it was asked nothing\n"; stderr != want {
		t.Errorf("resumed run's stderr = %q, want %q", stderr, want)
	}
}

// TestDistillReorderedTeacher checks that a teacher listing the data's
// labels in another order (an API that sorts its class names) is
// distilled with its answers aligned by label name, saying so on stderr:
// the student is the one the same teacher answering in the data's order
// gives, weight for weight (such a teacher was refused).
func TestDistillReorderedTeacher(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	const loop = `while read l; do id=${l#*\"id\":}; id=${id%%%%,*}; echo "{\"id\":$id,\"probabilities\":[[%s]]}"; done`
	p := "0.02,0.03,0.05,0.1,0.3,0.2,0.1,0.1,0.06,0.04"
	q := "0.04,0.06,0.1,0.1,0.2,0.3,0.1,0.05,0.03,0.02" // p reversed
	scripts := map[string]string{
		"inorder.sh":  `echo '{"lineage_exec":1,"name":"t","input_size":64,"labels":["0","1","2","3","4","5","6","7","8","9"]}'` + "\n" + fmt.Sprintf(loop, p),
		"reversed.sh": `echo '{"lineage_exec":1,"name":"t","input_size":64,"labels":["9","8","7","6","5","4","3","2","1","0"]}'` + "\n" + fmt.Sprintf(loop, q),
		"otherset.sh": `echo '{"lineage_exec":1,"name":"t","input_size":64,"labels":["a","1","2","3","4","5","6","7","8","9"]}'` + "\n" + fmt.Sprintf(loop, p),
	}
	for name, src := range scripts {
		if err := os.WriteFile(name, []byte(src+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(script, out string) (int, string) {
		return runLineage(t, "--db", script+".db", "distill", "--teacher", "exec:/bin/sh "+script, "--data", "digits", "--hidden", "4",
			"--epochs", "1", "--queries", "40", "--transfer", "mixup", "--remote-batch", "1", "--no-progress", "--seed", "3", "--out", out)
	}
	if code, stderr := run("inorder.sh", "a.lnm"); code != 0 || strings.Contains(stderr, "another order") {
		t.Fatalf("teacher in the data's order: exit %d, stderr %q", code, stderr)
	}
	code, stderr := run("reversed.sh", "b.lnm")
	if note := "lists the dataset's labels in another order ([9 8 7 6 5 4 3 2 1 0]); its answers were aligned to the dataset's ([0 1 2 3 4 5 6 7 8 9]) by label name"; code != 0 || !strings.Contains(stderr, note) {
		t.Fatalf("reversed teacher: exit %d, stderr %q; want 0 and %q", code, stderr, note)
	}
	a, errA := model.Load("a.lnm")
	b, errB := model.Load("b.lnm")
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if !slices.Equal(a.Theta, b.Theta) || !slices.Equal(a.Labels, b.Labels) {
		t.Errorf("students of the same teacher in two label orders differ: labels %v and %v", a.Labels, b.Labels)
	}
	if code, stderr := run("otherset.sh", "c.lnm"); code != exitError || !strings.Contains(stderr, `has labels [a 1 2 3 4 5 6 7 8 9] but dataset "digits" has labels`) {
		t.Errorf("teacher of other labels: exit %d, stderr %q; want a refusal naming both", code, stderr)
	}
}

// TestDistillServedRevealNote checks the line on what a served teacher
// revealed, whatever --reveal asked: top-K answers distilled with
// --reveal full (their hidden mass spread evenly, which the student
// learnt as the teacher's without a word) and labels; none for the full
// distribution or when --reveal already says top-K.
func TestDistillServedRevealNote(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	teacher := model.NewMLP([]int{64, 8, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	const topKNote = "lineage distill: every one of the teacher's 300 answers spread one probability evenly over all but at most 3 labels, as an API revealing its top 3 does (or the teacher is saturated): the student learnt that spread as the teacher's; --reveal topk:3 fits only what is revealed\n"
	tests := []struct {
		name   string
		served model.Reveal
		reveal string
		want   string // "" for no note
	}{
		{"full served", model.Reveal{}, "full", ""},
		{"top 3 served, full asked", model.Reveal{Mode: model.RevealTopK, K: 3}, "full", topKNote},
		{"top 3 served, top 3 asked", model.Reveal{Mode: model.RevealTopK, K: 3}, "topk:3", ""},
		{"labels served, full asked", model.Reveal{Mode: model.RevealLabel}, "full", "answers was one-hot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := serve.New(teacher, serve.Options{Name: "teacher", Reveal: tt.served})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv)
			defer ts.Close()
			code, stderr := runLineage(t, "--db", "case.db", "distill", "--teacher", ts.URL+"/v2/models/teacher", "--reveal", tt.reveal,
				"--data", "digits", "--hidden", "4", "--queries", "300", "--epochs", "1", "--no-progress", "--out", "s.lnm")
			if code != exitOK {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr)
			}
			note := strings.Contains(stderr, "answers spread") || strings.Contains(stderr, "answers was one-hot")
			if tt.want == "" && note || tt.want != "" && !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr:\n%s\nwant %q", stderr, tt.want)
			}
		})
	}
}

// tinyTeacherServer returns lineage's server (serve.New, named "teacher")
// of an untrained 64-4-10 digits network of fixed seed: a remote teacher
// for API distillation tests that need answers, not a good teacher.
func tinyTeacherServer(t *testing.T) *serve.Server {
	t.Helper()
	teacher := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	srv, err := serve.New(teacher, serve.Options{Name: "teacher"})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}
