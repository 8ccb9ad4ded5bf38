package report

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// labelOnlyNull is sampleNull with a label-only suspect and the label-only
// strips it is read against, far below the null of the others.
func labelOnlyNull() NullFigure {
	fig := sampleNull()
	fig.LabelOnly = Strips{Null: []float64{-2.2, -2.1, -2.0, -1.9, -1.8}, References: []float64{-1.95},
		Positives: []float64{-1.0, -0.9}, UnderTrained: []float64{-1.7}}
	fig.Suspects = append(fig.Suspects, Marked{Name: "label-api", Value: -1.5, Verdict: "INCONCLUSIVE", LabelOnly: true})
	return fig
}

// TestNullFigureLabelOnly checks that a label-only suspect is drawn with
// the null its audit ranks it in (the controls' values from their labels,
// on strips of their own, which the x axis spans) and is said to be read
// against it; a figure without label-only suspects draws no such strips.
func TestNullFigureLabelOnly(t *testing.T) {
	tests := []struct {
		name       string
		fig        NullFigure
		wantLabels bool
	}{
		{"label-only suspect", labelOnlyNull(), true},
		{"no label-only suspect", func() NullFigure {
			f := labelOnlyNull()
			f.Suspects[len(f.Suspects)-1].LabelOnly = false
			return f
		}(), false},
		{"no label-only strips", func() NullFigure {
			f := labelOnlyNull()
			f.LabelOnly = Strips{}
			return f
		}(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, boxes := figureTexts(t, tt.fig)
			drawn := map[string]bool{}
			lowest := 0.0
			for _, b := range boxes {
				drawn[b.s] = true
				if v, err := strconv.ParseFloat(b.s, 64); err == nil {
					lowest = min(lowest, v)
				}
			}
			for _, want := range []string{"null, labels only", "positive controls, labels only", "label-api: INCONCLUSIVE (labels only)",
				"label-api: INCONCLUSIVE, top-1 agreement = -1.5000 from labels only (read against the labels-only strips)"} {
				if drawn[want] != tt.wantLabels {
					t.Errorf("%q drawn: %v, want %v", want, drawn[want], tt.wantLabels)
				}
			}
			// The axis spans the label-only null (-2.2 to -1.8) only when it
			// is drawn; the suspect's own mark is at -1.5.
			if got := lowest <= -2; got != tt.wantLabels {
				t.Errorf("lowest tick %g: at or below -2 %v, want %v", lowest, got, tt.wantLabels)
			}
			var svg bytes.Buffer
			if err := WriteFigure(&svg, tt.fig, ImageSVG); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(svg.String(), "labels only"); got != tt.wantLabels {
				t.Errorf("SVG mentions labels only: %v, want %v", got, tt.wantLabels)
			}
		})
	}
}

// scalesNull is sampleNull with a null of mean 0.3 (sd 0.09),
// MaxMarkedSuspects suspects with probabilities 2.4 to 3.5 sd above it,
// five label-only ones at 0.8, above them all on the axis, and one,
// labels-high, at 0.2; its label-only null is two groups of six, around
// 0.9 (sd 0.05) and -0.1 (sd 0.05), which the test takes apart or whole.
func scalesNull() NullFigure {
	fig := sampleNull()
	fig.Null = []float64{0.2, 0.3, 0.4, 0.3, 0.2, 0.4}
	fig.LabelOnly = Strips{Null: []float64{0.85, 0.9, 0.95, 0.9, 0.85, 0.95}}
	fig.Suspects = nil
	for i := range MaxMarkedSuspects {
		fig.Suspects = append(fig.Suspects, Marked{Name: fmt.Sprintf("prob-%02d", i), Value: 0.52 + 0.1*float64(i)/MaxMarkedSuspects, Verdict: "INCONCLUSIVE"})
	}
	for i := range 5 {
		fig.Suspects = append(fig.Suspects, Marked{Name: fmt.Sprintf("labels-%d", i), Value: 0.8, Verdict: "NOT_DERIVED", LabelOnly: true})
	}
	fig.LabelOnly.Null = append(fig.LabelOnly.Null, []float64{-0.15, -0.1, -0.05, -0.1, -0.15, -0.05}...)
	fig.Suspects = append(fig.Suspects, Marked{Name: "labels-high", Value: 0.2, Verdict: "INCONCLUSIVE", LabelOnly: true})
	return fig
}

// TestNullFigureMarkedScales checks which of more than MaxMarkedSuspects
// suspects a figure names when some answered with labels only: ranked by
// how far above their own null each stands, not by their values, which
// are on two scales (the five label-only suspects at 0.8, below their own
// null, were named for standing above every value of the others', and the
// label-only one furthest above its null was not), and the unnamed drawn
// on a strip of their kind (they shared one, on either scale).
func TestNullFigureMarkedScales(t *testing.T) {
	fig := scalesNull()
	lo := fig.LabelOnly.Null
	fig.LabelOnly.Null = lo[:6]
	// With a single label null at 0.9 the label-only suspects at 0.8 are
	// 2 sd below it, and labels-high at 0.2 far below: none is named.
	shown, others, othersLabels := fig.marked()
	if want := seq(0, MaxMarkedSuspects); !slices.Equal(shown, want) {
		t.Errorf("named %v, want the %d suspects with probabilities %v", shown, MaxMarkedSuspects, want)
	}
	if len(others) != 0 || len(othersLabels) != 6 {
		t.Errorf("unnamed: %v with probabilities, %v from labels; want none and 6", others, othersLabels)
	}
	// A label null centred at 0.4 (sd 0.5): labels-high (0.2) is below it,
	// the five at 0.8 under 1 sd above it; the suspects with probabilities
	// are 2 to 3 sd above theirs.
	fig.LabelOnly.Null = lo
	shown, _, othersLabels = fig.marked()
	if len(othersLabels) != 6 || slices.ContainsFunc(shown, func(i int) bool { return fig.Suspects[i].LabelOnly }) {
		t.Errorf("named %v, unnamed label-only %v; want every label-only suspect unnamed", shown, othersLabels)
	}
	// labels-high alone against a null at -0.1 (sd 0.05): 6 sd above it,
	// the furthest of all, so named before the lowest suspect with
	// probabilities.
	fig.LabelOnly.Null = lo[6:]
	for i := range fig.Suspects {
		if fig.Suspects[i].Value == 0.8 {
			fig.Suspects[i].Value = -0.2
		}
	}
	shown, others, othersLabels = fig.marked()
	if want := append(seq(1, MaxMarkedSuspects), len(fig.Suspects)-1); !slices.Equal(shown, want) {
		t.Errorf("named %v, want %v (labels-high for prob-00)", shown, want)
	}
	if len(others) != 1 || len(othersLabels) != 5 {
		t.Errorf("unnamed: %v with probabilities, %v from labels; want 1 and 5", others, othersLabels)
	}
	_, _, boxes := figureTexts(t, fig)
	drawn := map[string]bool{}
	for _, b := range boxes {
		drawn[b.s] = true
	}
	for _, want := range []string{"other suspects", "other suspects, labels only", "null, labels only",
		"5 other suspects from labels only, not named (read against the labels-only strips)"} {
		if !drawn[want] {
			t.Errorf("figure lacks %q", want)
		}
	}
}
