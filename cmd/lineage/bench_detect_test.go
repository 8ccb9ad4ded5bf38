package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
)

func TestBenchDetectUsage(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{args: []string{"bench"}, want: "want a subcommand"},
		{args: []string{"bench", "detect", "extra"}, want: "no arguments"},
		{args: []string{"bench", "detect", "--workers", "0"}, want: "--workers must be at least 1"},
		{args: []string{"bench", "detect", "--other-teachers", "-1"}, want: "--other-teachers must not be negative"},
		{args: []string{"bench", "detect", "--teacher-hidden", "64,x"}, want: "not a positive layer size"},
		{args: []string{"bench", "detect", "--teacher-activation", "sigmoid"}, want: `--teacher-activation: activation "sigmoid": want relu, tanh or gelu`},
		{args: []string{"bench", "detect", "--format", "yaml"}, want: "format"},
		{args: []string{"bench", "detect", "--quick", "--controls", "99999"}, want: "--controls must be 0 (enroll's default) or 3 to 256, got 99999"},
		{args: []string{"bench", "detect", "--quick", "--controls", "2"}, want: "--controls must be 0 (enroll's default) or 3 to 256, got 2"},
		{args: []string{"bench", "detect", "--controls", "-1"}, want: "got -1"},
		{args: []string{"bench", "serve", "--batch", "99999999"}, want: "--batch must be 1 to 65536, got 99999999"},
		{args: []string{"bench", "serve", "--batch", "0"}, want: "--batch must be 1 to 65536, got 0"},
		{args: []string{"bench", "serve", "--concurrency", "1,100000"}, want: "--concurrency: 100000 is above 1024"},
		// Refused by bench.ServeOptions.Check, which said so with status 1.
		{args: []string{"bench", "serve", "--hidden", "100000000,100000"}, want: "make a model of more than 1073741824 parameters"},
	}
	for _, tc := range tests {
		_, err := runBenchCLI(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got error %v, want one containing %q", tc.args, err, tc.want)
			continue
		}
		if codeOf(err) != exitUsage {
			t.Errorf("%v: got exit status %d, want %d (usage)", tc.args, codeOf(err), exitUsage)
		}
	}
}

func TestBenchDetectQuickJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the quick detection experiment (~7 s of CPU)")
	}
	if raceEnabled {
		// 45 s under -race on CI's machine, for a check of the JSON's
		// fields; the experiment's concurrency (--workers) is bench's,
		// whose TestDetectQuick runs under -race.
		t.Skip("checks the JSON contract, no concurrency: runs without -race")
	}
	// The test checks the JSON contract, which depends neither on the
	// enrolment's size nor on the data: --controls 3 (the quick default is
	// 6) and the first 200 rows of digits make the run a quarter of the
	// default quick one (bench's TestDetectQuick runs that).
	data := filepath.Join(t.TempDir(), "digits200.csv")
	if err := os.WriteFile(data, digitsHead(200), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runBenchCLI(t, "bench", "detect", "--quick", "--controls", "3", "--data", data, "--seed", "2", "--format", "json", "--no-progress")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"auc", "tpr_at_0.01", "fpr_at_0.01", "fpr_at_0.05", "queries_per_audit", "families", "baseline", "wall_time_s"} {
		if _, ok := m[k]; !ok {
			t.Errorf("bench detect JSON lacks %q", k)
		}
	}
	if got, want := m["seed"], float64(2); got != want {
		t.Errorf("seed = %v, want %v", got, want)
	}
	enr, _ := m["enrolment"].(map[string]any)
	if got, want := enr["positives"], float64(audit.PositiveControls(3)); got != want {
		t.Errorf("enrolment positives = %v, want %v (--controls 3)", got, want)
	}
	fams, _ := m["families"].([]any)
	kinds := map[any]int{}
	for _, f := range fams {
		fm, _ := f.(map[string]any)
		kinds[fm["kind"]]++
		for _, k := range []string{"name", "n", "flagged_at_0.01", "flagged_at_0.05"} {
			if _, ok := fm[k]; !ok {
				t.Errorf("family %v lacks %q", fm["name"], k)
			}
		}
	}
	if kinds["positive"] == 0 || kinds["negative"] == 0 {
		t.Errorf("family kinds %v, want both positive and negative", kinds)
	}
}
