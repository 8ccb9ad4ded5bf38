package compare

import (
	"math"

	"gonum.org/v1/gonum/stat"
)

// Neighbour is the control nearest to a suspect (see Nearest). Index is -1
// and Name "" when there were no controls.
type Neighbour struct {
	Name     string  `json:"name"`
	Index    int     `json:"index"`
	Distance float64 `json:"distance"`
}

// Nearest returns the control whose similarity vector is closest to x in
// standardised Euclidean distance,
//
//	d(c, x) = sqrt( Σ_j ((c_j − x_j) / s_j)² ),
//
// where s_j is the sample standard deviation of coordinate j over the
// controls (1 when that is zero, NaN, or there are fewer than two
// controls), so statistics on different scales weigh alike. Coordinates
// where either value is NaN are skipped. Ties go to the lower index. names
// may be nil (Name is then ""); otherwise it must have one name per
// control. The report uses it to say "this suspect behaves most like
// control X" (for example a distilled positive or an independent negative).
// It panics if names or a control has the wrong length.
func Nearest(controls [][]float64, names []string, x []float64) Neighbour {
	if names != nil && len(names) != len(controls) {
		panic("compare: Nearest names and controls differ in length")
	}
	best := Neighbour{Index: -1, Distance: math.Inf(1)}
	if len(controls) == 0 {
		best.Distance = 0
		return best
	}
	m := len(x)
	scale := make([]float64, m)
	col := make([]float64, 0, len(controls))
	for j := 0; j < m; j++ {
		col = col[:0]
		for _, c := range controls {
			if len(c) != m {
				panic("compare: Nearest control length differs from x")
			}
			if !math.IsNaN(c[j]) {
				col = append(col, c[j])
			}
		}
		scale[j] = 1
		if len(col) >= 2 {
			if sd := stat.StdDev(col, nil); sd > 0 {
				scale[j] = sd
			}
		}
	}
	for i, c := range controls {
		var d float64
		for j := range x {
			if math.IsNaN(c[j]) || math.IsNaN(x[j]) {
				continue
			}
			u := (c[j] - x[j]) / scale[j]
			d += u * u
		}
		d = math.Sqrt(d)
		if d < best.Distance {
			best = Neighbour{Index: i, Distance: d}
			if names != nil {
				best.Name = names[i]
			}
		}
	}
	return best
}
