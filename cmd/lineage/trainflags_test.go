package main

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// TestTrainingFlagErrors checks that every training flag train and
// distill refuse through distill.Config's checks (a *distill.FieldError)
// is refused in one line naming the flag and the value given first, then
// what is wanted, with the usage status: they read "epochs must be ≥ 0,
// got -1: invalid training configuration", the reason last and no flag
// named.
func TestTrainingFlagErrors(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv("LINEAGE_DB", "")
	teacher := model.NewMLP([]int{64, 4, 10}, model.ActReLU, dataset.DigitLabels, rand.New(rand.NewPCG(1, 2)))
	if err := model.Save("t.lnm", teacher); err != nil {
		t.Fatal(err)
	}
	train := []string{"train", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress", "--out", "a.lnm"}
	dist := []string{"distill", "--teacher", "t.lnm", "--data", "digits", "--hidden", "4", "--epochs", "1", "--no-progress", "--out", "s.lnm"}
	tests := []struct {
		base  []string
		flags []string
		want  string // the whole stderr, after "lineage: "
	}{
		{train, []string{"--epochs", "-1"}, "--epochs -1: want 0 or more"},
		{train, []string{"--epochs", "2000000000"}, "--epochs 2000000000: want at most 53687091: at 40 steps an epoch, more is too many steps"},
		{train, []string{"--batch-size", "-2"}, "--batch-size -2: want 0 or more"},
		{train, []string{"--patience", "-1"}, "--patience -1: want 0 or more"},
		{train, []string{"--warmup", "-1"}, "--warmup -1: want 0 or more"},
		{train, []string{"--lr", "-1"}, "--lr -1: want a finite number > 0"},
		{train, []string{"--lr", "NaN"}, "--lr NaN: want a finite number > 0"},
		{train, []string{"--clip", "-1"}, "--clip -1: want a finite number ≥ 0"},
		{train, []string{"--weight-decay", "NaN"}, "--weight-decay NaN: want a finite number"},
		{train, []string{"--momentum", "0.5"}, "--momentum 0.5: applies to sgd and nesterov only, not adam"},
		{train, []string{"--optimizer", "sgd", "--momentum", "1"}, "--momentum 1: want a number in [0, 1)"},
		{train, []string{"--optimizer", "rmsprop"}, "--optimizer rmsprop: want sgd, nesterov, adam or adamw"},
		{train, []string{"--schedule", "linear"}, "--schedule linear: want constant, step[:gamma] or cosine"},
		{train, []string{"--schedule", "step:2"}, "--schedule step:2: gamma must be a number in (0,1]"},
		{train, []string{"--activation", "foo"}, "--activation foo: want relu, tanh or gelu"},
		{train, []string{"--init", "zeros"}, "--init zeros: want normal or uniform"},
		{train, []string{"--hidden", "10000000"}, "--hidden 10000000: training layer sizes [64 10000000 10] on batches of 32 rows needs about 23.1 GiB of memory, more than the 8 GiB lineage allows: use smaller hidden layers or batches"},
		{train, []string{"--hidden", strings.Repeat("1,", 4096) + "1"}, "--hidden " + strings.Repeat("1,", 28) + "1…: 4097 hidden layers make a model of 4098 layers, more than the 4096 lineage reads"},
		{dist, []string{"--loss", "jsd:2"}, "--loss jsd:2: β must lie strictly between 0 and 1"},
		{dist, []string{"--reveal", "topk:0"}, "--reveal topk:0: K must be at least 1"},
		{dist, []string{"--reveal", "topk:10"}, "--reveal topk:10: keeps every one of the teacher's 10 labels: that is full"},
		{dist, []string{"--transfer", "data,foo"}, `--transfer data,foo: unknown source "foo" (want data, noise, jitter or mixup)`},
		{dist, []string{"--jitter", "-1"}, "--jitter -1: want a finite number ≥ 0"},
		{dist, []string{"--queries", "-1"}, "--queries -1: want 0 or more"},
		{dist, []string{"--epochs", "-3"}, "--epochs -3: want 0 or more"},
	}
	for _, tt := range tests {
		args := append(append([]string(nil), tt.base...), tt.flags...)
		code, stderr := runLineage(t, args...)
		if want := "lineage: " + tt.want + "\n"; code != exitUsage || stderr != want {
			t.Errorf("lineage %s %s: status %d, stderr %q; want status %d, stderr %q", tt.base[0], strings.Join(tt.flags, " "), code, stderr, exitUsage, want)
		}
	}
}
