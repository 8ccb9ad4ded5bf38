package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/report"
	"github.com/spf13/cobra"
)

// TestDemoKeepClash: demo --keep into a database holding one of the
// demo's records is refused before any work and leaves the file as it
// was (the demo replaced the user's fingerprints and audit records of the
// same names).
func TestDemoKeepClash(t *testing.T) {
	for _, tt := range []struct {
		teacher, reference, want string
	}{
		{"acme", "", "holds enrolment acme"},
		{"beta", "independent-model", "holds fingerprint independent-model"},
	} {
		path := tinyEnrolments(t, 4, tt.teacher)
		if tt.reference != "" {
			addTinyReference(t, path, tt.teacher, tt.reference)
		}
		before := fileSum(t, path)
		code, stderr := runLineage(t, "--db", path, "demo", "--keep")
		if code != 1 || !strings.Contains(stderr, tt.want) || !strings.Contains(stderr, "choose another --db") {
			t.Errorf("demo --keep on a store with %s: exit %d, %q; want exit 1 naming %q", tt.teacher, code, stderr, tt.want)
		}
		if fileSum(t, path) != before {
			t.Errorf("demo --keep on a store with %s changed it", tt.teacher)
		}
	}
}

// TestDemoControlsRefusedFirst: a --controls the enrolment would refuse
// is a usage error before any work; the demo trained a teacher and a
// student first, failed with status 1, and with --keep left a new empty
// database behind.
func TestDemoControlsRefusedFirst(t *testing.T) {
	for _, tt := range []struct {
		controls, want string
	}{
		{"2", "lineage: --controls 2: want 0 (the default) or 3 to 256\n"},
		{"-1", "lineage: --controls -1: want 0 (the default) or 3 to 256\n"},
		{"257", "lineage: --controls 257: want 0 (the default) or 3 to 256\n"},
	} {
		path := filepath.Join(t.TempDir(), "demo.db")
		code, stderr := runLineage(t, "--db", path, "demo", "--keep", "--controls", tt.controls)
		if code != exitUsage || stderr != tt.want {
			t.Errorf("demo --controls %s: exit %d, %q; want exit %d, %q", tt.controls, code, stderr, exitUsage, tt.want)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("demo --keep --controls %s left %s behind (stat: %v)", tt.controls, path, err)
		}
	}
}

// TestDemoKeepOpenStopsOnInterrupt checks that demo --keep's open of the
// user's database ends its wait for readers (store.Options.ReaderTimeout,
// 30 s) as soon as the command's context is cancelled, as updateDB's does
// (TestReaderWaitStopsOnInterrupt): it opened the store without the
// context, so Ctrl-C while a report read the database was ignored for 30 s.
func TestDemoKeepOpenStopsOnInterrupt(t *testing.T) {
	g := readStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(200*time.Millisecond, cancel)
	errc := make(chan error, 1)
	go func() {
		errc <- runDemo(ctx, &cobra.Command{}, g, &demoOptions{seed: 1, keep: true, format: report.FormatTable})
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("demo --keep: error %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo --keep: still waiting for the reader 10 s after start (cancelled at 200ms)")
	}
}
