package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

func TestLabelStride(t *testing.T) {
	tests := []struct {
		cell vg.Length
		want int
	}{
		{36, 1}, {16, 1}, {15.9, 2}, {8, 2}, {1, 16}, {0.9, 18},
	}
	for _, tt := range tests {
		if got := labelStride(tt.cell); got != tt.want {
			t.Errorf("labelStride(%v) = %d, want %d", tt.cell, got, tt.want)
		}
	}
	if got := everyNth([]string{"a", "b", "c", "d", "e"}, 2); strings.Join(got, ",") != "a,,c,,e" {
		t.Errorf("everyNth(a…e, 2) = %q, want [a  c  e]", got)
	}
}

// TestMatrixManyModels checks the heat map of a registry's matrix, a row
// and a column per suspect: with hundreds of models its names do not run
// into each other (every k-th is named, the first always) and the cells,
// a few points wide, are drawn without borders, whose grey covered their
// colours; a small matrix names every model and outlines every cell.
func TestMatrixManyModels(t *testing.T) {
	tests := []struct {
		models   int
		everyOne bool // every model named
		borders  bool
	}{
		{8, true, true},
		{20, true, true},
		{60, false, true},
		{120, false, true},
		{400, false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.models), func(t *testing.T) {
			names := make([]string, tt.models)
			m := Matrix{Title: "Similarity", Statistic: "top-1 agreement", Range: [2]float64{0, 1}}
			for i := range names {
				names[i] = fmt.Sprintf("suspect-%05d (suspect)", i)
				row := make([]float64, tt.models)
				for j := range row {
					row[j] = float64((i*7+j*3)%10) / 10
				}
				m.Values = append(m.Values, row)
			}
			m.Rows, m.Cols = names, names
			_, _, boxes := figureTexts(t, m)
			var named []textBox
			for _, b := range boxes {
				if strings.HasPrefix(b.s, "suspect-") {
					named = append(named, b)
				}
			}
			if len(named) == 0 || named[0].s != names[0] && named[len(named)-1].s != names[0] {
				t.Fatalf("the first model is not named (%d names drawn)", len(named))
			}
			if got := len(named) == tt.models; got != tt.everyOne {
				t.Errorf("%d of %d models named beside the map, want every one: %v", len(named), tt.models, tt.everyOne)
			}
			for i, a := range named {
				for _, b := range named[i+1:] {
					if a.min.Y < b.max.Y && b.min.Y < a.max.Y {
						t.Fatalf("%q (%v–%v) overlaps %q (%v–%v)", a.s, a.min.Y, a.max.Y, b.s, b.min.Y, b.max.Y)
					}
				}
			}
			l, err := m.layout()
			if err != nil {
				t.Fatal(err)
			}
			rec := &recorder.Canvas{}
			l.draw(draw.Canvas{Canvas: rec, Rectangle: vg.Rectangle{Max: vg.Point{X: l.w, Y: l.h}}})
			strokes := 0
			for _, a := range rec.Actions {
				if _, ok := a.(*recorder.Stroke); ok {
					strokes++
				}
			}
			// The borders are a line per row and column and one more each.
			if got := strokes >= 2*tt.models+2; got != tt.borders {
				t.Errorf("%d lines drawn for %d models: cell borders %v, want %v", strokes, tt.models, got, tt.borders)
			}
		})
	}
}

// TestMatrixManyModelsSVG checks that a heat map of cells too small for
// borders is one image in an SVG, not a path per cell: at 3,000 models the
// SVG was 820 MB and took 6 GB to write.
func TestMatrixManyModelsSVG(t *testing.T) {
	tests := []struct {
		models int
		image  bool
	}{
		{20, false},
		{400, true},
	}
	for _, tt := range tests {
		names := make([]string, tt.models)
		m := Matrix{Title: "Similarity", Statistic: "top-1 agreement", Range: [2]float64{0, 1}}
		for i := range names {
			names[i] = fmt.Sprint("m", i)
			row := make([]float64, tt.models)
			for j := range row {
				row[j] = float64((i*7+j*3)%10) / 10
			}
			m.Values = append(m.Values, row)
		}
		m.Rows, m.Cols = names, names
		var buf bytes.Buffer
		if err := WriteFigure(&buf, m, ImageSVG); err != nil {
			t.Fatal(err)
		}
		// The colour scale is an image of its own.
		if got := strings.Count(buf.String(), "<image") == 2; got != tt.image {
			t.Errorf("%d models: cells drawn as an image %v, want %v", tt.models, got, tt.image)
		}
		// 160,000 cells as paths are tens of megabytes.
		if tt.image && buf.Len() > 2<<20 {
			t.Errorf("%d models: SVG of %d bytes, want at most 2 MiB", tt.models, buf.Len())
		}
	}
}
