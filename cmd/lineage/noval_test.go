package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestEmptyValidationSplit checks that train and distill on data too small
// to hold out a validation row print its accuracy as n/a, with the line
// saying why, and as null in their JSON and --log lines, where they
// printed 0.0000 and 0 as if every validation row were wrong; and that
// data with validation rows still prints a number.
func TestEmptyValidationSplit(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	write := func(name string, rows int) {
		var b strings.Builder
		b.WriteString("a,b,label\n")
		for i := range rows {
			fmt.Fprintf(&b, "%d,%d,%d\n", i%7, (i*3)%5, i%2)
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("tiny.csv", 6)
	write("big.csv", 60)
	if _, stderr, code := runCLI(t, "train", "--data", "tiny.csv", "--hidden", "4", "--epochs", "2", "--no-progress", "--out", "t.lnm"); code != exitOK {
		t.Fatalf("train: exit %d: %s", code, stderr)
	}
	for _, tt := range []struct {
		data    string
		wantVal bool
	}{{"tiny.csv", false}, {"big.csv", true}} {
		for _, cmd := range [][]string{
			{"train", "--data", tt.data, "--hidden", "4", "--epochs", "2", "--no-progress", "--out", "m.lnm", "--log", "m.log"},
			{"distill", "--teacher", "t.lnm", "--data", tt.data, "--hidden", "4", "--epochs", "2", "--no-progress", "--out", "m.lnm", "--log", "m.log"},
		} {
			name := cmd[0] + " " + tt.data
			stdout, stderr, code := runCLI(t, append(cmd, "--format", "json")...)
			var got struct {
				Val *float64 `json:"val_accuracy"`
			}
			if err := json.Unmarshal([]byte(stdout), &got); code != exitOK || err != nil || (got.Val != nil) != tt.wantVal {
				t.Errorf("%s --format json: exit %d, val_accuracy %v (%v), stderr %q; want a number %v", name, code, got.Val, err, stderr, tt.wantVal)
			}
			log, err := os.ReadFile("m.log")
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(log)), "\n")
			for _, line := range lines {
				var e map[string]any
				if err := json.Unmarshal([]byte(line), &e); err != nil {
					t.Fatalf("%s --log line %q: %v", name, line, err)
				}
				_, num := e["val_accuracy"].(float64)
				_, loss := e["val_loss"].(float64)
				if v, ok := e["val_accuracy"]; !ok || num != tt.wantVal || loss != tt.wantVal || (!tt.wantVal && (v != nil || e["val_loss"] != nil)) {
					t.Errorf("%s --log line %s: want val_accuracy and val_loss numbers %v, else null", name, line, tt.wantVal)
				}
			}
			if len(lines) != 2 {
				t.Errorf("%s --log: %d lines, want 2", name, len(lines))
			}
			stdout, _, _ = runCLI(t, cmd...)
			na := regexp.MustCompile(`\| validation accuracy +\| n/a +\|`).MatchString(stdout) && strings.Contains(stdout, "- "+noValNote+"\n")
			if na == tt.wantVal {
				t.Errorf("%s:\n%s\nwant validation accuracy n/a and the note %v", name, stdout, !tt.wantVal)
			}
		}
	}
}
