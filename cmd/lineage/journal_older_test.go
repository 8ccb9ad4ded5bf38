package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// TestProbeOlderJournal: a remote probe whose fingerprint ID has answers
// journalled by lineage before 3 December 2026 (named without the model)
// says so on stderr, with the command that removes them, and asks the
// model every probe, replaying none; a store without them gets no note.
func TestProbeOlderJournal(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	tests := []struct {
		name      string
		oldJobFor string // the fingerprint ID the older journal names; "" for none
		wantNote  bool
	}{
		{"older journal of this ID", "s", true},
		{"older journal of another ID", "other", false},
		{"none", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tinyEnrolments(t, 4, "acme") // 4 probes
			var old string
			updateStore(t, path, func(tx *store.Tx) error {
				h, err := tx.SuiteHash("acme")
				if err != nil || tt.oldJobFor == "" {
					return err
				}
				old = "probe:" + h + ":" + tt.oldJobFor
				return tx.PutAnswers(old, 0, []byte("answers of lineage before 3 December"))
			})
			_, script, answers := flakyScript(t)
			var stderr bytes.Buffer
			root := newRootCommand()
			root.SetOut(io.Discard)
			root.SetErr(&stderr)
			root.SetArgs([]string{"--db", path, "probe", "exec:/bin/sh " + script, "--suite", "acme", "--name", "s", "--ask-again", "-1", "--remote-batch", "1"})
			if err := root.ExecuteContext(context.Background()); err != nil {
				t.Fatalf("probe: %v", err)
			}
			note := "stored by an interrupted run of lineage before 3 December 2026 are not replayed"
			if got := strings.Contains(stderr.String(), note); got != tt.wantNote {
				t.Errorf("stderr %q: note shown %v, want %v", stderr.String(), got, tt.wantNote)
			}
			if tt.wantNote && !strings.Contains(stderr.String(), "`lineage db rm answers '"+old+"'`") {
				t.Errorf("stderr %q: want the command removing %q", stderr.String(), old)
			}
			if got := answers(); got != 4 {
				t.Errorf("the model gave %d answers, want all 4", got)
			}
		})
	}
}
