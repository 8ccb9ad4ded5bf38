package probe

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// planted builds a candidate suite of n probes (kinds cycling) with
// synthetic teacher, positive and negative outputs in which only the
// candidates in the returned planted set separate the two control groups.
func planted(t testing.TB, n, k int, plant []int) (cand *Suite, teacher blas32.General, pos, neg []blas32.General) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	x := newMatrix(n, 3)
	kinds := make([]Kind, n)
	for i := range kinds {
		kinds[i] = kindOrder[i%len(kindOrder)]
		for j := range row(x, i) {
			row(x, i)[j] = float32(i*10 + j)
		}
	}
	cand = &Suite{Name: "pool", Labels: []string{"a", "b", "c", "d"}[:k], X: x, Kinds: kinds}
	cand.Hash = CanonicalHash(cand.X, cand.Kinds, cand.Labels)
	isPlanted := map[int]bool{}
	for _, i := range plant {
		isPlanted[i] = true
	}
	teacher = newMatrix(n, k)
	top := make([]int, n)
	for i := 0; i < n; i++ {
		top[i] = rng.IntN(k)
		oneHotish(row(teacher, i), top[i])
	}
	control := func(agreeOff float64, plantedAgree bool) blas32.General {
		m := newMatrix(n, k)
		for i := 0; i < n; i++ {
			agree := rng.Float64() < agreeOff
			if isPlanted[i] {
				agree = plantedAgree
			}
			c := top[i]
			if !agree {
				c = (top[i] + 1 + rng.IntN(k-1)) % k
			}
			oneHotish(row(m, i), c)
		}
		return m
	}
	for range 3 {
		pos = append(pos, control(0.5, true))
	}
	for range 4 {
		neg = append(neg, control(0.8, false))
	}
	return cand, teacher, pos, neg
}

// oneHotish writes a distribution with 0.7 on class c and the rest spread.
func oneHotish(p []float32, c int) {
	for j := range p {
		p[j] = 0.3 / float32(len(p)-1)
	}
	p[c] = 0.7
}

func TestSelectPicksPlanted(t *testing.T) {
	plant := []int{3, 17, 18, 40, 41, 77, 90, 123, 150, 151, 160, 199}
	cand, teacher, pos, neg := planted(t, 200, 4, plant)
	s, idx, err := Select(cand, teacher, pos, neg, len(plant), SelectOptions{MinShare: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idx, plant) {
		t.Errorf("got %v, want the planted %v", idx, plant)
	}
	if err := Validate(s); err != nil {
		t.Errorf("Validate(selected) = %v", err)
	}
	for _, g := range s.Generators {
		if !g.Selected {
			t.Errorf("generator %q not marked Selected", g.Kind)
		}
	}
	for k, i := range idx {
		if s.Kinds[k] != cand.Kinds[i] || !slices.Equal(s.Row(k), cand.Row(i)) {
			t.Errorf("selected probe %d is not candidate %d", k, i)
		}
	}
	// Hard-only scoring finds them too.
	_, idx2, err := Select(cand, teacher, pos, neg, len(plant), SelectOptions{MinShare: -1, SoftWeight: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(idx2, plant) {
		t.Errorf("hard only: got %v, want %v", idx2, plant)
	}
}

func TestSelectQuotas(t *testing.T) {
	plant := []int{3, 17, 18, 40, 41, 77, 90, 123, 150, 151, 160, 199} // one mistake kind (199)
	cand, teacher, pos, neg := planted(t, 200, 4, plant)
	plantedMistakes := 0
	for _, i := range plant {
		if cand.Kinds[i] == Mistake {
			plantedMistakes++
		}
	}
	s, idx, err := Select(cand, teacher, pos, neg, 12, SelectOptions{Quota: map[Kind]int{Mistake: 5}, MinShare: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Counts()[Mistake]; got != 5 {
		t.Errorf("got %d mistake probes, want the quota 5", got)
	}
	inPlant := 0
	for _, i := range idx {
		if slices.Contains(plant, i) {
			inPlant++
		}
	}
	if want := 12 - (5 - plantedMistakes); inPlant != want {
		t.Errorf("got %d planted probes, want %d (quota displaces %d)", inPlant, want, 5-plantedMistakes)
	}
	// MinShare: every kind gets at least floor(0.1·20) = 2.
	s, _, err = Select(cand, teacher, pos, neg, 20, SelectOptions{MinShare: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kindOrder {
		if got := s.Counts()[k]; got < 2 {
			t.Errorf("MinShare 0.1 of 20: kind %s has %d probes, want ≥ 2", k, got)
		}
	}
}

func TestSelectTiesDeterministic(t *testing.T) {
	cand, teacher, pos, _ := planted(t, 30, 3, nil)
	_, idx, err := Select(cand, teacher, pos, pos, 5, SelectOptions{MinShare: -1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(idx, want) {
		t.Errorf("all-tied scores: got %v, want the lowest indices %v", idx, want)
	}
	_, idx, err = Select(cand, teacher, pos, pos, 100, SelectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 30 {
		t.Errorf("n > pool: got %d probes, want all 30", len(idx))
	}
}

func TestScores(t *testing.T) {
	m := func(rows ...[]float32) blas32.General {
		g := newMatrix(len(rows), len(rows[0]))
		for i, r := range rows {
			copy(row(g, i), r)
		}
		return g
	}
	teacher := m([]float32{0.9, 0.1}, []float32{0.2, 0.8})
	pos := []blas32.General{m([]float32{0.8, 0.2}, []float32{0.6, 0.4})}
	neg := []blas32.General{m([]float32{0.3, 0.7}, []float32{0.1, 0.9})}
	js := func(p, q [2]float64) float64 {
		kl := func(a, b [2]float64) float64 { return a[0]*math.Log(a[0]/b[0]) + a[1]*math.Log(a[1]/b[1]) }
		mid := [2]float64{(p[0] + q[0]) / 2, (p[1] + q[1]) / 2}
		return (kl(p, mid) + kl(q, mid)) / 2 / math.Ln2
	}
	f := func(v []float32) [2]float64 { return [2]float64{float64(v[0]), float64(v[1])} }
	tests := []struct {
		w    float64
		want []float64
	}{
		{-1, []float64{1, -1}},
		{1, []float64{
			1 + js(f(row(teacher, 0)), f(row(neg[0], 0))) - js(f(row(teacher, 0)), f(row(pos[0], 0))),
			-1 + js(f(row(teacher, 1)), f(row(neg[0], 1))) - js(f(row(teacher, 1)), f(row(pos[0], 1))),
		}},
	}
	for _, tt := range tests {
		got, err := Scores(teacher, pos, neg, SelectOptions{SoftWeight: tt.w})
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if math.Abs(got[i]-tt.want[i]) > 1e-6 {
				t.Errorf("w=%v: score %d = %.6f, want %.6f", tt.w, i, got[i], tt.want[i])
			}
		}
	}
	if _, err := Scores(teacher, nil, neg, SelectOptions{}); !errors.Is(err, ErrNoControls) {
		t.Errorf("no positives: got %v, want ErrNoControls", err)
	}
	if _, err := Scores(teacher, pos, []blas32.General{newMatrix(3, 2)}, SelectOptions{}); !errors.Is(err, ErrShape) {
		t.Errorf("wrong shape: got %v, want ErrShape", err)
	}
}
