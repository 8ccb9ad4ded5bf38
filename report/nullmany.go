package report

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// MaxMarkedSuspects is the most suspects a [NullFigure] marks with a line,
// a name box and a legend entry. A registry's figure has a suspect per
// audit, a thousand after a year: marked one by one they made a figure
// 68,000 pixels tall (a legend line each, boxes stacked hundreds high)
// that took most of a gigabyte to draw. Beyond it the figure marks the
// DERIVED suspects first, then those closest to the teacher, and draws the
// others as dots on a strip of their own.
const MaxMarkedSuspects = 30

// marked splits fig's suspects into those marked one by one (indices into
// fig.Suspects, in its order) and the values of the others (see
// MaxMarkedSuspects).
func (fig NullFigure) marked() (shown []int, others []float64) {
	order := make([]int, len(fig.Suspects))
	for i := range order {
		order[i] = i
	}
	if len(order) <= MaxMarkedSuspects {
		return order, nil
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := fig.Suspects[a], fig.Suspects[b]
		return cmp.Or(-cmp.Compare(derived(x), derived(y)), -cmp.Compare(nanLow(x.Value), nanLow(y.Value)))
	})
	shown = slices.Clone(order[:MaxMarkedSuspects])
	slices.Sort(shown)
	for _, i := range order[MaxMarkedSuspects:] {
		others = append(others, fig.Suspects[i].Value)
	}
	return shown, others
}

// derived is 1 for a suspect whose verdict is DERIVED, else 0.
func derived(m Marked) int {
	if strings.EqualFold(m.Verdict, "derived") {
		return 1
	}
	return 0
}

// nanLow is v, or -∞ for NaN, so that a suspect without a value is the
// last marked.
func nanLow(v float64) float64 {
	if math.IsNaN(v) {
		return math.Inf(-1)
	}
	return v
}
