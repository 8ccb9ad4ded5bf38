package audit

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
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

func TestQuantizeAndPrune(t *testing.T) {
	m := model.NewMLP([]int{6, 8, 3}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	q := m.Clone()
	quantize8(q)
	for l := range q.NumLayers() {
		w, orig := q.W(l).Data, m.W(l).Data
		var mx float64
		for _, v := range orig {
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		levels := map[float32]bool{}
		for i, v := range w {
			levels[v] = true
			if d := math.Abs(float64(v - orig[i])); d > mx/127/2+1e-6 {
				t.Fatalf("layer %d weight %d moved by %g, more than half a step", l, i, d)
			}
		}
		if len(levels) > 255 {
			t.Errorf("layer %d has %d levels, want at most 255", l, len(levels))
		}
	}
	p := m.Clone()
	prune(p, 0.5)
	for l := range p.NumLayers() {
		zero := 0
		for _, v := range p.W(l).Data {
			if v == 0 {
				zero++
			}
		}
		if n := len(p.W(l).Data); zero < n/2-1 || zero > n/2+1 {
			t.Errorf("layer %d: %d of %d weights zero, want half", l, zero, n)
		}
	}
}
