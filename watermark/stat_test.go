package watermark

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestPanelRunnerUpTie checks that the runner-up of a teacher row whose
// second place is tied is the lowest such class, as Argmax's top 1 is.
func TestPanelRunnerUpTie(t *testing.T) {
	x := blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{1, 2, 3, 4}}
	teacher := blas32.General{Rows: 2, Cols: 4, Stride: 4, Data: []float32{
		0.4, 0.2, 0.2, 0.2,
		0.1, 0.3, 0.3, 0.3,
	}}
	p, err := NewPanel(New(Key{4}, 2, 4, model.Normalization{}), x, teacher, 9)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range [][2]int{{0, 1}, {1, 2}} {
		if got := [2]int{p.top1[i], p.top2[i]}; got != want {
			t.Errorf("probe %d: top 2 classes %v, want %v", i, got, want)
		}
	}
}

// TestPanelResult checks TestLean's arithmetic against its definitions:
// the lean is centred before the statistic (a lean equal to the centre
// scores 0), Mean and SD are the decoy statistics' mean and sample
// standard deviation (n−1), Z is (Stat−Mean)/SD and P counts the decoys
// at or above Stat.
func TestPanelResult(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	x, teacher := near(rng, 40, 5, 4)
	p, err := NewPanel(New(Key{5}, 5, 4, model.Normalization{}), x, teacher, 29)
	if err != nil {
		t.Fatal(err)
	}
	lean := make([]float64, 40)
	center := make([]float64, 40)
	for i := range lean {
		lean[i] = rng.Float64()*2 - 1
		center[i] = rng.Float64()*0.4 - 0.2
	}
	r, err := p.TestLean(lean, lean, nil)
	if err != nil || r.Stat != 0 {
		t.Errorf("lean centred on itself: stat %v (err %v), want 0", r.Stat, err)
	}
	r, err = p.TestLean(lean, center, nil)
	if err != nil {
		t.Fatal(err)
	}
	stat := func(d []float64) float64 {
		var s float64
		for i, v := range lean {
			s += (v - center[i]) * d[i]
		}
		return s
	}
	want := stat(p.diff[0])
	var sum, sum2 float64
	ge := 1
	for _, d := range p.diff[1:] {
		s := stat(d)
		sum += s
		sum2 += s * s
		if s >= want {
			ge++
		}
	}
	n := float64(len(p.diff) - 1)
	mean := sum / n
	sd := math.Sqrt((sum2 - n*mean*mean) / (n - 1))
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"stat", r.Stat, want},
		{"mean", r.Mean, mean},
		{"sd", r.SD, sd},
		{"z", r.Z, (want - mean) / sd},
		{"p", r.P, float64(ge) / (n + 1)},
	} {
		if math.Abs(c.got-c.want) > 1e-9*max(1, math.Abs(c.want)) {
			t.Errorf("%s = %.12g, want %.12g", c.name, c.got, c.want)
		}
	}
}
