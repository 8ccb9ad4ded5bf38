package probe

import (
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
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

// TestCanonicalHashShape checks that the suite hash covers the number of
// features: without it, a one-feature suite and a four-feature one whose
// extra values spell the first one's kind record (its length and name)
// would hash alike, the first suite's first label spelling the second's
// kind record.
func TestCanonicalHashShape(t *testing.T) {
	kind := "data"
	name := binary.LittleEndian.Uint32([]byte(kind))
	a := blas32.General{Rows: 1, Cols: 1, Stride: 1, Data: []float32{0.5}}
	b := blas32.General{Rows: 1, Cols: 4, Stride: 4, Data: []float32{0.5, math.Float32frombits(uint32(len(kind))), 0, math.Float32frombits(name)}}
	ha := CanonicalHash(a, []Kind{Data}, []string{kind, "x", "y"})
	hb := CanonicalHash(b, []Kind{Data}, []string{"x", "y"})
	if ha == hb {
		t.Errorf("a 1×1 and a 1×4 suite hash alike (%s)", ha)
	}
}
