package audit

import (
	"context"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
)

// TestRecipeTraining checks that a recipe's learning rate, weight decay
// and initialisation reach the trainer (the trained model's recorded
// recipe says so) and its own description, and that zero values leave
// the trainer's defaults.
func TestRecipeTraining(t *testing.T) {
	sp := dataset.Digits().Split(dataset.SplitOptions{})
	tr := sp.Train.Subset([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11})
	for _, tt := range []struct {
		name    string
		r       Recipe
		desc    []string // in Recipe.String
		trained []string // in the model's provenance recipe
		not     []string // in neither
	}{
		{"defaults", Recipe{Family: "a", Source: FromLabels, Hidden: []int{4}, Epochs: 1, Seed: 1},
			nil, []string{" lr=0.005 ", " wd=0.001"}, []string{"init=", "lr=0.001"}},
		{"torch-like", Recipe{Family: "b", Source: FromLabels, Hidden: []int{4}, Epochs: 1, Seed: 1, LR: 1e-3, WeightDecay: -1, Init: "uniform"},
			[]string{" lr=0.001", " wd=0", " init=uniform"}, []string{" lr=0.001 ", " init=uniform"}, []string{"wd=0.001"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			desc := tt.r.String()
			m, err := Make(context.Background(), tt.r, Teachers{}, tr, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := m.Prov.Recipe
			for _, w := range tt.desc {
				if !strings.Contains(desc, w) {
					t.Errorf("description %q, want %q in it", desc, w)
				}
			}
			for _, w := range tt.trained {
				if !strings.Contains(got, w) {
					t.Errorf("trained recipe %q, want %q in it", got, w)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(desc, w) || strings.Contains(got, w) {
					t.Errorf("description %q, trained recipe %q: want no %q", desc, got, w)
				}
			}
		})
	}
}
