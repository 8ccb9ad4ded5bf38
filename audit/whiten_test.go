package audit

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestShrunkCov checks the Ledoit–Wolf estimate against its formula
// written out directly, on few and on many rows, and that it refuses rows
// that do not vary.
func TestShrunkCov(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, tt := range []struct{ n, p int }{{4, 6}, {30, 5}, {200, 3}} {
		x := make([][]float64, tt.n)
		for k := range x {
			x[k] = make([]float64, tt.p)
			shared := rng.NormFloat64()
			for i := range x[k] {
				x[k][i] = shared + 0.5*float64(i)*rng.NormFloat64()
			}
		}
		got := mat.NewSymDense(tt.p, nil)
		lambda := shrunkCov(got, x)

		// The formula, term by term.
		n, p := float64(tt.n), tt.p
		mean := make([]float64, p)
		for _, r := range x {
			for i, v := range r {
				mean[i] += v / n
			}
		}
		S := mat.NewDense(p, p, nil)
		for _, r := range x {
			c := mat.NewVecDense(p, nil)
			for i, v := range r {
				c.SetVec(i, v-mean[i])
			}
			var o mat.Dense
			o.Outer(1/n, c, c)
			S.Add(S, &o)
		}
		m := mat.Trace(S) / float64(p)
		var dm mat.Dense
		dm.Sub(S, scaledEye(p, m))
		d2 := math.Pow(mat.Norm(&dm, 2), 2)
		var b2 float64
		for _, r := range x {
			c := mat.NewVecDense(p, nil)
			for i, v := range r {
				c.SetVec(i, v-mean[i])
			}
			var o mat.Dense
			o.Outer(1, c, c)
			o.Sub(&o, S)
			b2 += math.Pow(mat.Norm(&o, 2), 2) / (n * n)
		}
		wantL := min(1, max(minShrink, b2/d2))
		if math.Abs(lambda-wantL) > 1e-9 {
			t.Errorf("n=%d p=%d: λ = %v, want %v", tt.n, tt.p, lambda, wantL)
		}
		var want mat.Dense
		want.Scale(1-wantL, S)
		want.Add(&want, scaledEye(p, wantL*m))
		if !mat.EqualApprox(got, &want, 1e-9) {
			t.Errorf("n=%d p=%d: Σ* = %v, want %v", tt.n, tt.p, mat.Formatted(got), mat.Formatted(&want))
		}
		var chol mat.Cholesky
		if !chol.Factorize(got) {
			t.Errorf("n=%d p=%d: Σ* not positive definite", tt.n, tt.p)
		}
	}
	same := [][]float64{{1, 2}, {1, 2}, {1, 2}}
	if l := shrunkCov(mat.NewSymDense(2, nil), same); l != -1 {
		t.Errorf("rows that do not vary: λ = %v, want -1", l)
	}
	if w := newWhitener(same[:2]); w != nil {
		t.Errorf("newWhitener of %d rows: got a whitener, want nil (fewer than %d)", 2, minWhiten)
	}
}

func scaledEye(p int, v float64) *mat.Dense {
	e := mat.NewDense(p, p, nil)
	for i := range p {
		e.Set(i, i, v)
	}
	return e
}

// TestWhitener checks that a whitener solves Σ*·dst = y.
func TestWhitener(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	x := make([][]float64, 20)
	for k := range x {
		x[k] = []float64{rng.NormFloat64(), rng.NormFloat64() * 3, rng.NormFloat64()}
		x[k][2] += x[k][0]
	}
	w := newWhitener(x)
	if w == nil {
		t.Fatal("newWhitener: nil")
	}
	cov := mat.NewSymDense(3, nil)
	shrunkCov(cov, x)
	y := []float64{1, -2, 0.5}
	dst := make([]float64, 3)
	w.Weigh(dst, y)
	var back mat.VecDense
	back.MulVec(cov, mat.NewVecDense(3, dst))
	for i, v := range y {
		if math.Abs(back.AtVec(i)-v) > 1e-9 {
			t.Errorf("Σ*·Weigh(y)[%d] = %v, want %v", i, back.AtVec(i), v)
		}
	}
}

// leaningModels returns markCase's watermark panel and a source of
// independent models' leans that vary together along a direction at about
// 45° to the key's tilt (sd 3 along it, 0.2 elsewhere, clipped like
// leans): the controls of an enrolment whose key follows a direction they
// share.
func leaningModels(t *testing.T, seed uint64) (*markPanel, func() []float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, seed+1))
	c, _ := markCase(t, rng, 60)
	mp, err := c.mark()
	if err != nil {
		t.Fatal(err)
	}
	tilt := mp.panel.Tilt()
	n := len(tilt)
	u := make([]float64, n)
	var tn, un float64
	for _, v := range tilt {
		tn += v * v
	}
	for i := range u {
		u[i] = tilt[i]/math.Sqrt(tn) + rng.NormFloat64()/math.Sqrt(float64(n))
		un += u[i] * u[i]
	}
	return mp, func() []float64 {
		a := 3 * rng.NormFloat64() / math.Sqrt(un)
		y := make([]float64, n)
		for i := range y {
			y[i] = max(-1, min(1, 0.3+0.2*rng.NormFloat64()+a*u[i]))
		}
		return y
	}
}

// leaningControls draws n controls from leaningModels and returns the
// weighing chooseWeighing picks for them, failing the test unless it
// whitens (as it must where controls lean together near the key).
func leaningControls(t *testing.T, seed uint64, n int) (*markPanel, *leanSet, weighing, func() []float64) {
	t.Helper()
	mp, draw := leaningModels(t, seed)
	set := &leanSet{}
	for k := range n {
		set.add(fmt.Sprintf("m%d", k), draw())
	}
	ch, err := chooseWeighing(context.Background(), mp.panel, set)
	if err != nil {
		t.Fatal(err)
	}
	if ch.whole == nil {
		t.Fatalf("controls leaning together near the key: the unweighed test was chosen, want whitening")
	}
	return mp, set, ch, draw
}

// TestChooseWeighing checks the choice on independent controls whose
// leans vary together along a direction close to the key's tilt: there
// whitening is chosen, and it narrows the spread of the controls' own
// z-scores under the key, which a suspect's must stand out from.
func TestChooseWeighing(t *testing.T) {
	mp, set, ch, _ := leaningControls(t, 31, 120)
	zsd := func(z []float64) float64 {
		var s, ss float64
		for _, v := range z {
			s += v
			ss += v * v
		}
		m := s / float64(len(z))
		return math.Sqrt(ss/float64(len(z)) - m*m)
	}
	var unw weighing
	for _, id := range set.ids {
		r, err := mp.panel.TestLean(set.leans[id], set.center(id), nil)
		if err != nil {
			t.Fatal(err)
		}
		unw.z = append(unw.z, r.Z)
	}
	if got, was := zsd(ch.z), zsd(unw.z); !(got < was) {
		t.Errorf("controls' z-scores: sd %.2f whitened, %.2f unweighed; want narrower whitened", got, was)
	}
}

// TestWhitenedNull checks the whitened watermark test's validity where it
// is chosen: fresh independent suspects drawn like the controls (leaning
// together along a direction near the key's tilt) get p ≤ α at most a
// fraction α of the time, within binomial slack, for α ∈ {0.001, 0.01,
// 0.05} (the watermark's shares of the levels an audit uses). Here the
// unweighed decoy test alone flags 31 % of them at α = 0.001.
func TestWhitenedNull(t *testing.T) {
	mp, set, ch, draw := leaningControls(t, 41, 128)
	k := &markKind{leans: *set, weighing: ch}
	const trials = 1000
	flagged := map[float64]int{0.001: 0, 0.01: 0, 0.05: 0}
	for range trials {
		r, err := mp.panel.TestLean(draw(), k.leans.center("fresh"), k.weigher("fresh"))
		if err != nil {
			t.Fatal(err)
		}
		p := max(r.P, k.nullP("fresh", r.Z))
		for a := range flagged {
			if p <= a {
				flagged[a]++
			}
		}
	}
	for a, got := range flagged {
		slack := trials*a + 3*math.Sqrt(trials*a*(1-a))
		if float64(got) > slack {
			t.Errorf("α=%g: %d of %d fresh independent suspects flagged, want ≤ %.1f", a, got, trials, slack)
		}
	}
	t.Logf("fresh independent suspects flagged at α = 0.001 / 0.01 / 0.05: %d / %d / %d of %d", flagged[0.001], flagged[0.01], flagged[0.05], trials)
}
