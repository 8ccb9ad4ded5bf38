package report

import (
	"bytes"
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
