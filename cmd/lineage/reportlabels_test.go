package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
)

// TestReportPlotLabelOnly checks that report --plot draws a suspect that
// answered with labels only against the null its audit ranked it in, the
// controls' values from their labels, on strips of their own, and says so:
// it was drawn against the null of suspects with probabilities, on
// another scale (on the demo's store, a label API at p = 0.82 sat above
// the null's bulk, beside a suspect at p = 0.09).
func TestReportPlotLabelOnly(t *testing.T) {
	dir := t.TempDir()
	useFixture(t, "acme", dir) // teacher.lnm enrolled as acme, 60 probes
	m, err := model.Load(filepath.Join(dir, "teacher.lnm"))
	if err != nil {
		t.Fatal(err)
	}
	api := labelAPI(t, m)
	db := filepath.Join(dir, "case.db")
	fig := filepath.Join(dir, "null.svg")
	if _, stderr, code := runCLI(t, "--db", db, "audit", api, "--save", "--name", "label api"); code != exitOK {
		t.Fatalf("audit: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code := runCLI(t, "--db", db, "report", "--plot", fig); code != exitOK {
		t.Fatalf("report --plot: exit %d, stderr %q", code, stderr)
	}
	svg, err := os.ReadFile(fig)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{">null, labels only<", ">label api: ", " (labels only)<", " from labels only (read against the labels-only strips)<"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("figure lacks %q", want)
		}
	}
}

// TestReportPlotNoLabelDiscriminant checks that report --plot draws a
// teacher whose discriminant for labels cannot be fitted (the selection
// half's independent controls agree on every label of a small suite): its
// label-only suspect's audit is INCONCLUSIVE for that reason, and the
// figure shows it without a value. The whole report failed instead, for
// every teacher: 'enrolment "g": fit discriminant: too few controls: the
// selection half's independent controls do not vary'.
func TestReportPlotNoLabelDiscriminant(t *testing.T) {
	dir := t.TempDir()
	useFixture(t, "teacher", dir)
	db := filepath.Join(dir, "case.db")
	teacher := filepath.Join(dir, "teacher.lnm")
	if _, stderr, code := runCLI(t, "--db", db, "enroll", "g", "--model", teacher, "--data", "digits", "--seed", "1",
		"--controls", "3", "--suite-size", "30", "--watermark-probes", "15"); code != exitOK {
		t.Fatalf("enroll: exit %d, stderr %q", code, stderr)
	}
	m, err := model.Load(teacher)
	if err != nil {
		t.Fatal(err)
	}
	api := labelAPI(t, m)
	stdout, stderr, code := runCLI(t, "--db", db, "audit", api, "--save", "--name", "label api")
	if code != exitOK || !strings.Contains(stdout, "the selection half's independent controls do not vary") {
		t.Fatalf("audit: exit %d, stderr %q, stdout %q; want the reason that no discriminant for labels was fitted", code, stderr, stdout)
	}
	fig := filepath.Join(dir, "null.svg")
	if _, stderr, code := runCLI(t, "--db", db, "report", "--plot", fig); code != exitOK {
		t.Fatalf("report --plot: exit %d, stderr %q", code, stderr)
	}
	svg, err := os.ReadFile(fig)
	if err != nil {
		t.Fatal(err)
	}
	if want := ">label api: INCONCLUSIVE, no lineage_score value<"; !strings.Contains(string(svg), want) {
		t.Errorf("figure lacks %q", want)
	}
}
