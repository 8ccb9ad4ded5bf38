package audit

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestEnrollMixedScales checks that an enrolment on features of different
// scales bounds its noise, adversarial and conferrable probes by each
// feature's own range: with the global range (one feature in thousands,
// the others in units, as in load_breast_cancer), the conferrable probes
// lay thousands of a small feature's spreads from any data, every control
// answered exact zeros there, and every suspect with full outputs was
// audited on its labels alone. On data of one scale the generators keep
// the global range, so the digits' suites are unchanged.
func TestEnrollMixedScales(t *testing.T) {
	const rows, dim, k = 300, 5, 3
	blobs := func(scale float32) *dataset.Dataset {
		rng := rand.New(rand.NewPCG(4, 4))
		x := make([]float32, rows*dim)
		y := make([]int, rows)
		for i := range rows {
			y[i] = i % k
			for j := range dim {
				x[i*dim+j] = float32(y[i]) + float32(rng.NormFloat64())
			}
			x[i*dim] *= scale
		}
		d, err := dataset.New("blobs", blas32.General{Rows: rows, Cols: dim, Stride: dim, Data: x}, y, model.DefaultLabels(k))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tt := range []struct {
		name  string
		scale float32
		want  float64 // the generators' per_feature setting
	}{
		{"one scale", 1, 0},
		{"one feature in thousands", 1000, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := blobs(tt.scale)
			recipes := ControlRecipes(MinControls, 1, []int{8}, model.ActReLU)
			for i := range recipes {
				recipes[i].Hidden, recipes[i].Epochs = []int{8}, 3
			}
			teacher := model.NewMLP([]int{dim, 8, k}, model.ActReLU, d.Labels, rand.New(rand.NewPCG(1, 1)))
			mean, std := dataset.Standardizer(d)
			teacher.Norm = model.Normalization{Mean: mean, Std: std}
			e, err := Enroll(context.Background(), "mixed", teacher, d, EnrollOptions{Recipes: recipes, SuiteSize: DefaultMinProbes, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			lo, hi := make([]float32, dim), make([]float32, dim)
			for j := range dim {
				lo[j], hi[j] = d.X.Data[j], d.X.Data[j]
			}
			for i := range rows {
				for j := range dim {
					lo[j], hi[j] = min(lo[j], d.X.Data[i*dim+j]), max(hi[j], d.X.Data[i*dim+j])
				}
			}
			seen := 0
			for _, g := range e.Suite.Generators {
				if g.Kind != probe.Conferrable && g.Kind != probe.Noise && g.Kind != probe.Adversarial {
					continue
				}
				seen++
				if got := g.Settings["per_feature"]; got != tt.want {
					t.Errorf("%s generator: per_feature %v, want %v", g.Kind, got, tt.want)
				}
			}
			if seen == 0 {
				t.Fatalf("no noise, adversarial or conferrable generator in the suite: %+v", e.Suite.Generators)
			}
			if tt.want == 0 {
				return
			}
			for i, kind := range e.Suite.Kinds {
				if kind != probe.Conferrable && kind != probe.Noise {
					continue
				}
				for j := range dim {
					// Within the feature's own range, up to the held-out
					// rows' spread beyond the training rows'.
					v := e.Suite.X.Data[i*dim+j]
					if span := hi[j] - lo[j]; v < lo[j]-span/2 || v > hi[j]+span/2 {
						t.Fatalf("%s probe %d feature %d = %g, far outside its range [%g, %g]", kind, i, j, v, lo[j], hi[j])
					}
				}
			}
		})
	}
}
