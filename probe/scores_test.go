package probe

import (
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// rows returns a matrix of the given rows.
func rows(rs ...[]float32) blas32.General {
	g := newMatrix(len(rs), len(rs[0]))
	for i, r := range rs {
		copy(row(g, i), r)
	}
	return g
}

// TestScoresUnequalControls checks that each side's agreement is a share
// of its own controls: one positive and two negatives weigh each side
// alike.
func TestScoresUnequalControls(t *testing.T) {
	teacher := rows([]float32{0.9, 0.1}, []float32{0.2, 0.8})
	pos := []blas32.General{rows([]float32{0.7, 0.3}, []float32{0.4, 0.6})}
	neg := []blas32.General{
		rows([]float32{0.6, 0.4}, []float32{0.7, 0.3}),
		rows([]float32{0.3, 0.7}, []float32{0.6, 0.4}),
	}
	got, err := Scores(teacher, pos, neg, SelectOptions{SoftWeight: -1})
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{1 - 0.5, 1 - 0}; !slices.EqualFunc(got, want, func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }) {
		t.Errorf("scores %v, want %v", got, want)
	}
}

// TestIdiosyncrasyScores checks the score: the share of independent
// models voting for their most popular label minus the share voting for
// the teacher's.
func TestIdiosyncrasyScores(t *testing.T) {
	teacher := rows([]float32{0.6, 0.3, 0.1}, []float32{0.1, 0.2, 0.7})
	neg := []blas32.General{
		rows([]float32{0.2, 0.7, 0.1}, []float32{0.1, 0.2, 0.7}),
		rows([]float32{0.1, 0.8, 0.1}, []float32{0.1, 0.2, 0.7}),
		rows([]float32{0.5, 0.4, 0.1}, []float32{0.6, 0.2, 0.2}),
	}
	got, err := IdiosyncrasyScores(teacher, neg)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{2.0/3 - 1.0/3, 0}; !slices.EqualFunc(got, want, func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }) {
		t.Errorf("scores %v, want %v", got, want)
	}
}

// TestSelectDefaultShare checks that a zero MinShare means 0.1: the
// selection equals MinShare 0.1's, and differs from reserving nothing.
func TestSelectDefaultShare(t *testing.T) {
	var plant []int // every data candidate: the best scores are all data
	for i := 0; i < 200; i += len(kindOrder) {
		plant = append(plant, i)
	}
	cand, teacher, pos, neg := planted(t, 200, 4, plant)
	sel := func(share float64) []int {
		_, idx, err := Select(cand, teacher, pos, neg, 20, SelectOptions{MinShare: share})
		if err != nil {
			t.Fatal(err)
		}
		return idx
	}
	def, tenth, none := sel(0), sel(0.1), sel(-1)
	if !slices.Equal(def, tenth) {
		t.Errorf("MinShare 0 selected %v, want MinShare 0.1's %v", def, tenth)
	}
	if slices.Equal(tenth, none) {
		t.Errorf("MinShare 0.1 and -1 select alike (%v); the test cannot tell the default", tenth)
	}
}
