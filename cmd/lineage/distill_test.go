package main

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
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
