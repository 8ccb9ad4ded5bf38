package report

import (
	"cmp"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"
)

// MaxMarkedSuspects is the most suspects a [NullFigure] marks with a line,
// a name box and a legend entry. A registry's figure has a suspect per
// audit, a thousand after a year: marked one by one they made a figure
// 68,000 pixels tall (a legend line each, boxes stacked hundreds high)
// that took most of a gigabyte to draw. Beyond it the figure marks the
// DERIVED suspects first, then those furthest above the mean of the null
// each is read against, in that null's standard deviations (a label-only
// suspect's is the LabelOnly strips' null, on another scale than the
// others': ranked by their values, label-only suspects were named or
// left out for their scale), and draws the others as dots on a strip of
// their own, the label-only ones on another.
const MaxMarkedSuspects = 30

// marked splits fig's suspects into those marked one by one (indices into
// fig.Suspects, in its order) and the values of the others, read against
// the null (others) or against the LabelOnly strips (othersLabels; see
// MaxMarkedSuspects).
func (fig NullFigure) marked() (shown []int, others, othersLabels []float64) {
	order := make([]int, len(fig.Suspects))
	for i := range order {
		order[i] = i
	}
	if len(order) <= MaxMarkedSuspects {
		return order, nil, nil
	}
	main := newNullScale(fig.Null, fig.References)
	labels := newNullScale(fig.LabelOnly.Null, fig.LabelOnly.References)
	z := make([]float64, len(fig.Suspects))
	for i, m := range fig.Suspects {
		if fig.readsLabels(m) {
			z[i] = labels.z(m.Value)
		} else {
			z[i] = main.z(m.Value)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int {
		x, y := fig.Suspects[a], fig.Suspects[b]
		return cmp.Or(-cmp.Compare(derived(x), derived(y)), -cmp.Compare(nanLow(z[a]), nanLow(z[b])))
	})
	shown = slices.Clone(order[:MaxMarkedSuspects])
	slices.Sort(shown)
	for _, i := range order[MaxMarkedSuspects:] {
		if m := fig.Suspects[i]; fig.readsLabels(m) {
			othersLabels = append(othersLabels, m.Value)
		} else {
			others = append(others, m.Value)
		}
	}
	return shown, others, othersLabels
}

// readsLabels reports whether fig draws m against its LabelOnly strips:
// m is label-only and fig has them.
func (fig NullFigure) readsLabels(m Marked) bool {
	return m.LabelOnly && !fig.LabelOnly.empty()
}

// nullScale is the mean and standard deviation of a null's finite values.
type nullScale struct {
	mean, sd float64
	n        int
}

// newNullScale returns the scale of the finite values of the sets given.
func newNullScale(sets ...[]float64) nullScale {
	var vals []float64
	for _, s := range sets {
		for _, v := range s {
			if finite(v) {
				vals = append(vals, v)
			}
		}
	}
	s := nullScale{n: len(vals)}
	if s.n > 0 {
		s.mean = stat.Mean(vals, nil)
	}
	if s.n > 1 {
		s.sd = stat.StdDev(vals, nil)
	}
	return s
}

// z returns v in standard deviations above the null's mean: v less the
// mean when the null has no spread, v itself when it has no value; NaN for
// a NaN v.
func (s nullScale) z(v float64) float64 {
	if s.sd > 0 {
		return (v - s.mean) / s.sd
	}
	return v - s.mean
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
