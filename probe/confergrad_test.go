package probe

import (
	"context"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestConferrableStepAscends checks the conferrable attack's gradient
// against the objective it documents (conferrer.objective): one small step
// moves every feature the way a central finite difference of the
// objective says it rises. The weights of the hardest negative and the
// weakest positive, the 1/n averages and the ∂log(1−q) chain all enter the
// sign of the sum, so a gradient that drops or misweighs one of them moves
// some features the wrong way.
func TestConferrableStepAscends(t *testing.T) {
	f := getFixture(t)
	pos, neg := conferControls(t)
	opts := ConferrableOptions{Steps: 1, Eps: 1e-3, StepSize: 1e-3, HardNeg: 0.5, HardPos: 0.5, Teacher: 0.5}.withDefaults()
	lo, hi := bounds(f.test, false)
	c := newConferrer(f.teacher, pos, neg, opts, lo, hi)
	var pairs []conferPair
	for s := range 24 {
		pairs = append(pairs, conferPair{src: s, target: (s + 1) % c.k})
	}
	res, _, _ := c.attack(f.test, pairs, pos, neg)
	D := f.test.Dim()
	ps := make([]blas32.General, 1+len(pos)+len(neg))
	for j := range ps {
		ps[j] = newMatrix(1, c.k)
	}
	objective := func(x []float32, target int) float64 {
		return c.objective(blas32.General{Rows: 1, Cols: D, Stride: D, Data: x}, []int{target}, ps)
	}
	checked, wrong := 0, 0
	for i, p := range pairs {
		x0 := f.test.Row(p.src)
		x := append([]float32(nil), x0...)
		for j := range D {
			slope := func(frac float32) float64 {
				h := frac * (hi[j] - lo[j])
				x[j] = x0[j] + h
				up := objective(x, p.target)
				x[j] = x0[j] - h
				down := objective(x, p.target)
				x[j] = x0[j]
				return (up - down) / float64(2*h)
			}
			// Central differences at two scales that agree: the objective
			// is smooth there (no ReLU kink, no change of hardest model).
			g, g2 := slope(1e-3), slope(1e-4)
			if math.Abs(g) < 1e-2 || math.Abs(g-g2) > 0.1*math.Abs(g) {
				continue
			}
			checked++
			if moved := float64(res[i].x[j] - x0[j]); moved*g <= 0 {
				wrong++
				t.Logf("pair %d feature %d: moved %g, objective slope %g", i, j, moved, g)
			}
		}
	}
	if checked < 50 {
		t.Fatalf("only %d features with a clear slope; the test has no power", checked)
	}
	t.Logf("%d features checked", checked)
	if wrong > 0 {
		t.Errorf("%d of %d features moved against the objective's slope", wrong, checked)
	}
}

// TestDeal checks the round-robin folds: model i is in fold i mod folds,
// and !in gives every other fold's models.
func TestDeal(t *testing.T) {
	ms := make([]*model.MLP, 5)
	for i := range ms {
		ms[i] = &model.MLP{Name: strconv.Itoa(i)}
	}
	names := func(ms []*model.MLP) string {
		var s []string
		for _, m := range ms {
			s = append(s, m.Name)
		}
		return strings.Join(s, ",")
	}
	tests := []struct {
		folds, f int
		in       bool
		want     string
	}{
		{2, 0, true, "0,2,4"},
		{2, 0, false, "1,3"},
		{3, 1, true, "1,4"},
		{3, 1, false, "0,2,3"},
	}
	for _, tt := range tests {
		if got := names(deal(ms, tt.folds, tt.f, tt.in)); got != tt.want {
			t.Errorf("deal(5 models, %d folds, fold %d, in %v) = %s, want %s", tt.folds, tt.f, tt.in, got, tt.want)
		}
	}
}

// TestConferrableMinScoreZero checks that a zero MinScore drops probes
// scoring −1: with a positive control that always says class 0 and a
// negative that copies the teacher, every hit on another class scores −1,
// so only probes the teacher labels 0 may be kept; a negative MinScore
// keeps the others.
func TestConferrableMinScoreZero(t *testing.T) {
	f := getFixture(t)
	k := f.teacher.Sizes[len(f.teacher.Sizes)-1]
	zero := model.NewMLP(f.teacher.Sizes, model.ActReLU, f.teacher.Labels, rand.New(rand.NewPCG(1, 2)))
	clear(zero.Theta)
	zero.B(zero.NumLayers() - 1)[0] = 5
	pos, neg := []*model.MLP{zero}, []*model.MLP{f.teacher.Clone()}
	other := func(minScore float64) int {
		b, err := ConferrableProbes(context.Background(), f.teacher, pos, neg, f.test, 20, 5, ConferrableOptions{MinScore: minScore, Steps: 10})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range argmaxRows(predict(t, f.teacher, b.X)) {
			if c != 0 {
				n++
			}
		}
		return n
	}
	if n := other(0); n != 0 {
		t.Errorf("MinScore 0 kept %d probes the teacher labels other than 0 (score −1), want none", n)
	}
	if n := other(-1); n == 0 {
		t.Errorf("MinScore −1 kept no probe labelled other than 0; the test cannot tell the bound (k = %d)", k)
	}
}

// TestConferrableRankOrder checks the documented ranking of the kept
// probes: by conferrability score, ties by mean_pos p(t) − mean_neg p(t),
// t being the teacher's label for the probe (a kept probe is a hit).
func TestConferrableRankOrder(t *testing.T) {
	f := getFixture(t)
	pos, neg := conferControls(t)
	b, err := ConferrableProbes(context.Background(), f.teacher, pos, neg, f.test, 30, 9, ConferrableOptions{Folds: 1, PerSource: 3, Steps: 10, MinScore: -1})
	if err != nil {
		t.Fatal(err)
	}
	target := argmaxRows(predict(t, f.teacher, b.X))
	score, soft := make([]float64, b.X.Rows), make([]float64, b.X.Rows)
	for side, ms := range [][]*model.MLP{pos, neg} {
		w := 1 / float64(len(ms))
		if side == 1 {
			w = -w
		}
		for _, m := range ms {
			p := predict(t, m, b.X)
			for i, c := range argmaxRows(p) {
				if c == target[i] {
					score[i] += w
				}
				soft[i] += w * float64(row(p, i)[target[i]])
			}
		}
	}
	ties := 0
	for i := 1; i < b.X.Rows; i++ {
		switch {
		case math.Abs(score[i]-score[i-1]) > 1e-9:
			if score[i] > score[i-1] {
				t.Errorf("probe %d scores %.3f after %.3f", i, score[i], score[i-1])
			}
		default:
			ties++
			if soft[i] > soft[i-1]+1e-6 {
				t.Errorf("probe %d: tied score %.3f, soft %.6f after %.6f", i, score[i], soft[i], soft[i-1])
			}
		}
	}
	if ties < 5 {
		t.Errorf("%d tied scores among %d probes; the test cannot see the tie rule", ties, b.X.Rows)
	}
}
