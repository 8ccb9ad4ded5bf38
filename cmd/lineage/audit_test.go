package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/report"
)

func TestPerKindTable(t *testing.T) {
	tab := perKindTable(map[string]float64{
		"agreement": 0.9, "js": 0.1, "agreement/noise": 0.5, "js/noise": 0.3,
		"agreement/data": 1, "js/data": 0, "mistake_agreement": 0.75,
	})
	var b bytes.Buffer
	if err := report.Render(&b, tab, report.FormatCSV); err != nil {
		t.Fatal(err)
	}
	want := "probes,agreement,js,mistake_agreement\nall,0.9,0.1,0.75\ndata,1,0,\nnoise,0.5,0.3,\n"
	if got := b.String(); got != want {
		t.Errorf("perKindTable CSV:\ngot  %q\nwant %q", got, want)
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, exitOK},
		{errors.New("boom"), exitError},
		{usageError{errors.New("bad flag")}, exitUsage},
		{errDerived, exitDerived},
		{fmt.Errorf("wrapped: %w", errDerived), exitDerived},
	}
	for _, tt := range tests {
		var w bytes.Buffer
		if got := exitCode(&w, tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
		if tt.err != nil && strings.Count(w.String(), "\n") != 1 {
			t.Errorf("exitCode(%v) printed %q, want one line", tt.err, w.String())
		}
	}
}

// TestExitCodeOneLine checks that an error quoting what a suspect sent (a
// label holding a line break and terminal escapes) still prints as one
// line with those characters shown as escapes: the label "zero\nlineage:
// fake line\x1b[2K" printed a second error line and erased it.
func TestExitCodeOneLine(t *testing.T) {
	var w bytes.Buffer
	exitCode(&w, fmt.Errorf("model %q has labels [%s]", "m", "zero\nlineage: fake line\x1b[2K\u202e"))
	if want := `lineage: model "m" has labels [zero\nlineage: fake line\x1b[2K\u202e]` + "\n"; w.String() != want {
		t.Errorf("printed %q, want %q", w.String(), want)
	}
}

func TestRateCell(t *testing.T) {
	if !rate(-1).IsEmpty() {
		t.Errorf("rate(-1) is not empty")
	}
	if got := rate(0.25).String(); got != "0.250" {
		t.Errorf("rate(0.25) = %q, want 0.250", got)
	}
}
