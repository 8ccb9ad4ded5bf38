package report

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

// TestNullFigureUnderTrained checks that the under-trained controls are
// drawn, apart from the null, with a legend saying whose null they join:
// a suspect scored above every negative drawn could be INCONCLUSIVE
// against them with nothing in the figure to show why.
func TestNullFigureUnderTrained(t *testing.T) {
	const legend = "under-trained negative controls (n=2; in the null of suspects like them only)"
	fig := sampleNull()
	fig.UnderTrained = []float64{0.7, 0.75, math.NaN()}
	for _, tc := range []struct {
		fig  NullFigure
		want bool
	}{{fig, true}, {sampleNull(), false}} {
		var buf bytes.Buffer
		if err := WriteFigure(&buf, tc.fig, ImageSVG); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(buf.String(), legend); got != tc.want {
			t.Errorf("under-trained %v: legend %v, want %v", tc.fig.UnderTrained, got, tc.want)
		}
	}
}

// TestMatrixRange checks that a Matrix's Range sets its colour scale:
// agreement from 0 to 1 (the smallest value shown, 0.25 here, was drawn
// as the darkest colour, as if the two models agreed nowhere), and the
// values' own span when Range is zero.
func TestMatrixRange(t *testing.T) {
	for _, tc := range []struct {
		rng        [2]float64
		has, hasnt string
	}{
		{[2]float64{0, 1}, ">0.0<", ">0.75<"},
		{[2]float64{}, ">0.75<", ">0.0<"},
	} {
		m := sampleMatrix()
		m.Range = tc.rng
		var buf bytes.Buffer
		if err := WriteFigure(&buf, m, ImageSVG); err != nil {
			t.Fatal(err)
		}
		if s := buf.String(); !strings.Contains(s, tc.has) || strings.Contains(s, tc.hasnt) {
			t.Errorf("Range %v: scale ticks: want %q and not %q", tc.rng, tc.has, tc.hasnt)
		}
	}
}
