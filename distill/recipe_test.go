package distill

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
)

// TestRecipeSchedule checks that the recipe records the step schedule's
// gamma and the warm-up, which change the run: "step:0.5" and warm-up
// runs were recorded as "sched=step" and "sched=cosine" like the defaults.
func TestRecipeSchedule(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	tests := []struct {
		schedule string
		warmup   int
		want     string
		wantNot  string
	}{
		{"", 0, " sched=cosine seed=", "warmup"},
		{"step", 0, " sched=step seed=", "warmup"},
		{"step:0.5", 0, " sched=step:0.5 seed=", "warmup"},
		{"constant", 3, " sched=constant warmup=3 seed=", ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s-%d", tt.schedule, tt.warmup), func(t *testing.T) {
			res, err := Train(context.Background(), Config{Train: sp.Train.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7}), Hidden: []int{4},
				Epochs: 1, Seed: 1, Schedule: tt.schedule, Warmup: tt.warmup, WeightDecay: -1})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.Recipe, tt.want) {
				t.Errorf("recipe %q, want %q in it", res.Recipe, tt.want)
			}
			if tt.wantNot != "" && strings.Contains(res.Recipe, tt.wantNot) {
				t.Errorf("recipe %q, want no %q", res.Recipe, tt.wantNot)
			}
		})
	}
}
