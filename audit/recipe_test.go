package audit

import (
	"context"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
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

// TestRecipeTopKOfFewClasses checks that a top-K recipe trains on a
// teacher of K or fewer classes, learning from its full answers: the
// kd-top2-jitter control failed every two-class enrolment with "reveal
// topk:2 keeps every one of the teacher's 2 labels".
func TestRecipeTopKOfFewClasses(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	const rows, dim = 40, 3
	x := make([]float32, rows*dim)
	y := make([]int, rows)
	for i := range rows {
		y[i] = i % 2
		for j := range dim {
			x[i*dim+j] = float32(rng.NormFloat64()) + float32(2*y[i])
		}
	}
	d, err := dataset.New("two", blas32.General{Rows: rows, Cols: dim, Stride: dim, Data: x}, y, []string{"no", "yes"})
	if err != nil {
		t.Fatal(err)
	}
	teacher := model.NewMLP([]int{dim, 4, 2}, model.ActReLU, d.Labels, rand.New(rand.NewPCG(1, 1)))
	for _, tt := range []struct {
		reveal, want string
	}{
		{"topk:2", "reveal=full"},
		{"topk:5", "reveal=full"},
		{"topk:1", "reveal=topk:1"},
	} {
		r := Recipe{Family: "kd-top", Source: FromTeacher, Reveal: tt.reveal, Transfer: "data,jitter", Queries: 50, Temperature: 4, Alpha: 1, Hidden: []int{4}, Epochs: 1, Seed: 1}
		m, err := Make(context.Background(), r, Teachers{Teacher: teacher}, d, nil)
		if err != nil {
			t.Fatalf("reveal %s on 2 classes: %v", tt.reveal, err)
		}
		if got := m.Prov.Recipe; !strings.Contains(got, tt.want) {
			t.Errorf("reveal %s on 2 classes: trained recipe %q, want %q in it", tt.reveal, got, tt.want)
		}
	}
}
