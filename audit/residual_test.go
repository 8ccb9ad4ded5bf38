package audit

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat"
)

// TestResidualSeparates checks the replica residual on simulated answers:
// independent models centre near zero, and a student that keeps part of
// the teacher's quirks stands well above them at any serving temperature.
func TestResidualSeparates(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	w := newReplicaWorld(rng)
	tq := w.quirks()
	c := replicaCase(w, tq, 8)
	cp := c.contrast()
	if cp == nil {
		t.Fatal("contrast: got no panel, want one (8 replicas, 120 mixup probes)")
	}
	var indep []float64
	for range 40 {
		indep = append(indep, cp.residualValue("indep", c.Teacher.P, w.answers(1, []float64{1}, w.quirks())))
	}
	mean, sd := stat.MeanStdDev(indep, nil)
	// The replicas' mean is estimated from 8 models, so its error is in
	// every residual: independent models correlate weakly, not at all.
	if mean < -0.05 || mean > 0.25 {
		t.Errorf("independent models: mean residual got %.3f, want in [-0.05, 0.25]", mean)
	}
	for _, T := range []float64{1, 0.5, 2} {
		v := cp.residualValue("student", c.Teacher.P, w.answers(T, []float64{0.6, 0.6}, tq, w.quirks()))
		if z := (v - mean) / sd; z < 4 {
			t.Errorf("student served at T=%g: residual z got %.1f, want ≥ 4", T, z)
		}
	}
	if got := cp.residualValue("copy", c.Teacher.P, c.Teacher.P); math.Abs(got-1) > 1e-12 {
		t.Errorf("a copy of the teacher: got %.15f, want 1", got)
	}
}

// TestResidualLeaveOneOut checks that a replica is measured against the
// other replicas' mean only.
func TestResidualLeaveOneOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	w := newReplicaWorld(rng)
	c := replicaCase(w, w.quirks(), 4)
	cp := c.contrast()
	row := func(p blas32.General, i int) []float32 { return p.Data[i*p.Stride : i*p.Stride+p.Cols] }
	var tv, sv, mv []float64
	x := make([]float64, nClasses)
	for i := range nProbes {
		compare.CentredLog(x, row(c.Teacher.P, i))
		tv = append(tv, x...)
		compare.CentredLog(x, row(c.Controls[0].P, i))
		sv = append(sv, x...)
		m := make([]float64, nClasses)
		for r := 1; r < 4; r++ {
			compare.CentredLog(x, row(c.Controls[r].P, i))
			floats.AddScaled(m, 1.0/3, x)
		}
		mv = append(mv, m...)
	}
	mm := floats.Dot(mv, mv)
	floats.AddScaled(tv, -floats.Dot(tv, mv)/mm, mv)
	floats.AddScaled(sv, -floats.Dot(sv, mv)/mm, mv)
	want := compare.Spearman(tv, sv)
	if got := cp.residualValue(c.Controls[0].ID, c.Teacher.P, c.Controls[0].P); math.Abs(got-want) > 1e-9 {
		t.Errorf("replica: got %.12f, want %.12f (against the other replicas' mean)", got, want)
	}
}
