package probe

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// The generators document the PCG stream each draws from, so that a suite
// rebuilt from its seed by another version of lineage has the same
// probes. These tests pin the draws to those streams.

// TestDataProbesDraw checks that unlabelled data probes are the first n of
// a permutation drawn with rand.NewPCG(seed, 1), in ascending order, and
// that stratified ones come in ascending order too.
func TestDataProbesDraw(t *testing.T) {
	f := getFixture(t)
	u, err := dataset.New("unlabelled", f.test.X, nil, f.test.Labels)
	if err != nil {
		t.Fatal(err)
	}
	for _, seed := range []uint64{1, 77} {
		b := DataProbes(u, 25, seed)
		want := rand.New(rand.NewPCG(seed, 1)).Perm(u.Len())[:25]
		slices.Sort(want)
		if !slices.Equal(b.Source, want) {
			t.Errorf("seed %d: sources %v, want %v", seed, b.Source, want)
		}
		if s := DataProbes(f.test, 25, seed).Source; !slices.IsSorted(s) {
			t.Errorf("seed %d: stratified sources %v, want ascending", seed, s)
		}
	}
}

// TestAdversarialProbesDraw checks that adversarial probes attack rows in
// the order of a permutation drawn with rand.NewPCG(seed, 4): with a keep
// margin above any margin every attacked row is kept, in that order.
func TestAdversarialProbesDraw(t *testing.T) {
	f := getFixture(t)
	b, err := AdversarialProbes(context.Background(), f.teacher, f.test, 12, 5, AdversarialOptions{Steps: 2, KeepMargin: 2})
	if err != nil {
		t.Fatal(err)
	}
	if want := rand.New(rand.NewPCG(5, 4)).Perm(f.test.Len())[:12]; !slices.Equal(b.Source, want) {
		t.Errorf("sources %v, want %v", b.Source, want)
	}
}

// TestBoundaryProbesDraw checks boundary probes against the pairs drawn
// with rand.NewPCG(seed, 3) as BoundaryProbes documents (a uniform row a,
// then the k-th row, in row order, among those whose teacher label differs
// from a's): with a margin every bisection reaches at once, the probes are
// the first pairs' points, Source holds each pair's first endpoint, and
// each point lies on the segment between the pair's rows.
func TestBoundaryProbesDraw(t *testing.T) {
	f := getFixture(t)
	const n, seed = 10, 21
	b, err := BoundaryProbes(context.Background(), f.teacher, f.test, n, seed, BoundaryOptions{Margin: 1})
	if err != nil {
		t.Fatal(err)
	}
	if b.X.Rows != n {
		t.Fatalf("got %d probes, want %d (note %q)", b.X.Rows, n, b.Gen.Note)
	}
	top := argmaxRows(predict(t, f.teacher, f.test.X))
	rng := rand.New(rand.NewPCG(seed, 3))
	for i := range n {
		a := rng.IntN(len(top))
		var others []int
		for r, c := range top {
			if c != top[a] {
				others = append(others, r)
			}
		}
		other := others[rng.IntN(len(others))]
		if b.Source[i] != a {
			t.Errorf("probe %d: source %d, want %d", i, b.Source[i], a)
			continue
		}
		// x = a + t·(b−a): solve t on the widest coordinate, check the rest.
		xa, xb, x := f.test.Row(a), f.test.Row(other), row(b.X, i)
		w := 0
		for j := range xa {
			if math.Abs(float64(xb[j]-xa[j])) > math.Abs(float64(xb[w]-xa[w])) {
				w = j
			}
		}
		tt := float64(x[w]-xa[w]) / float64(xb[w]-xa[w])
		if !(tt > 0 && tt < 1) {
			t.Errorf("probe %d: t = %v, want inside (0, 1)", i, tt)
		}
		for j := range xa {
			if want := float64(xa[j]) + tt*float64(xb[j]-xa[j]); math.Abs(float64(x[j])-want) > 1e-4 {
				t.Errorf("probe %d feature %d = %v, want %v on the segment from row %d to row %d", i, j, x[j], want, a, other)
				break
			}
		}
	}
}

// TestMistakeProbesDraw checks that mistake probes are drawn with
// rand.NewPCG(seed, 5) among the teacher's mistakes, in ascending order,
// and that mistakes are read through the labels' names: the same data
// with its classes listed in another order gives the same probes.
func TestMistakeProbesDraw(t *testing.T) {
	f := getFixture(t)
	wrong := teacherMistakes(t, f)
	const n, seed = 3, 12
	if len(wrong) <= n {
		t.Fatalf("fixture teacher makes %d mistakes, the test needs more than %d", len(wrong), n)
	}
	var want []int
	for _, q := range rand.New(rand.NewPCG(seed, 5)).Perm(len(wrong))[:n] {
		want = append(want, wrong[q])
	}
	slices.Sort(want)
	k := len(f.test.Labels)
	rev := make([]string, k)
	y := make([]int, len(f.test.Y))
	for c, l := range f.test.Labels {
		rev[k-1-c] = l
	}
	for i, c := range f.test.Y {
		y[i] = k - 1 - c
	}
	relabelled, err := dataset.New("relabelled", f.test.X, y, rev)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []*dataset.Dataset{f.test, relabelled} {
		b, err := MistakeProbes(context.Background(), f.teacher, d, n, seed)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b.Source, want) {
			t.Errorf("%s: sources %v, want %v", d.Name, b.Source, want)
		}
	}
}

// TestDataProbesLargestRemainder checks the stratified quotas exactly:
// floor(n·share) per class, the remaining probes to the largest fractional
// parts, ties to the lower class.
func TestDataProbesLargestRemainder(t *testing.T) {
	tests := []struct {
		sizes []int
		n     int
		want  []int
	}{
		// Sizes of a power-of-two total keep the fractional parts exact.
		{[]int{5, 2, 1}, 4, []int{3, 1, 0}}, // exact 2.5, 1, 0.5: the .5s first, class 0 before 2
		{[]int{5, 2, 1}, 6, []int{4, 1, 1}}, // exact 3.75, 1.5, 0.75
		{[]int{1, 2, 5}, 4, []int{1, 1, 2}}, // exact 0.5, 1, 2.5
		{[]int{2, 2, 2, 2}, 3, []int{1, 1, 1, 0}},
	}
	for _, tt := range tests {
		var y []int
		for c, s := range tt.sizes {
			for range s {
				y = append(y, c)
			}
		}
		x := newMatrix(len(y), 1)
		d, err := dataset.New("classes", x, y, model.DefaultLabels(len(tt.sizes)))
		if err != nil {
			t.Fatal(err)
		}
		got := make([]int, len(tt.sizes))
		for _, s := range DataProbes(d, tt.n, 3).Source {
			got[y[s]]++
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("classes %v, n=%d: per-class probes %v, want %v", tt.sizes, tt.n, got, tt.want)
		}
	}
}

// TestMixupProbesBetweenRows checks that mixup probes mix their source
// row with a second one: a probe equals its source only when the second
// draw repeats the first, so nearly all differ from it.
func TestMixupProbesBetweenRows(t *testing.T) {
	f := getFixture(t)
	b := MixupProbes(f.test, 40, 4)
	same := 0
	for i := range b.X.Rows {
		if slices.Equal(row(b.X, i), f.test.Row(b.Source[i])) {
			same++
		}
	}
	if same > 2 {
		t.Errorf("%d of %d probes equal their source row, want at most 2", same, b.X.Rows)
	}
}
