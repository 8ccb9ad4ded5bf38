package report

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Marked is a suspect model's statistic value with its audit verdict, drawn
// as a labelled vertical line on a [NullFigure].
type Marked struct {
	Name    string
	Value   float64
	Verdict string
}

// NullFigure shows where suspects fall relative to the null distribution of
// an audit statistic: Null (negative controls and references) and Positives
// (known derived models) as jittered dot strips along the statistic's axis,
// and one labelled vertical line per suspect. Non-finite values are left out
// of the strips; a suspect with a non-finite value still gets a legend entry.
// Empty slices are fine; the zero NullFigure draws empty axes.
type NullFigure struct {
	Teacher   string // shown in the title
	Statistic string // x axis label; "statistic" when empty
	Null      []float64
	Positives []float64
	Suspects  []Marked
}

// jitterSeed fixes the dot jitter so figures are reproducible.
const jitterSeed = 0x6c696e65616765

var (
	nullColor     = color.RGBA{R: 0x40, G: 0x60, B: 0xa0, A: 0xff}
	positiveColor = color.RGBA{R: 0xd0, G: 0x30, B: 0x20, A: 0xff}
)

func (fig NullFigure) build() (*plot.Plot, vg.Length, vg.Length, error) {
	p := plot.New()
	p.Title.Text = "Null distribution"
	if fig.Teacher != "" {
		p.Title.Text += " for teacher " + fig.Teacher
	}
	p.X.Label.Text = fig.Statistic
	if p.X.Label.Text == "" {
		p.X.Label.Text = "statistic"
	}
	p.Legend.Top = true
	p.Legend.Left = false

	rng := rand.New(rand.NewPCG(jitterSeed, 1))
	lo, hi := math.Inf(1), math.Inf(-1)
	strip := func(vals []float64, row float64) plotter.XYs {
		xys := make(plotter.XYs, 0, len(vals))
		for _, v := range vals {
			j := (rng.Float64() - 0.5) * 0.6 // drawn for every value so the jitter of one does not depend on others' finiteness
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			xys = append(xys, plotter.XY{X: v, Y: row + j})
			lo, hi = min(lo, v), max(hi, v)
		}
		return xys
	}
	nullXY := strip(fig.Null, 0)
	posXY := strip(fig.Positives, 1)

	rows := []string{"negative controls"}
	if len(fig.Positives) > 0 {
		rows = append(rows, "positive controls")
	}
	if len(nullXY) > 0 {
		s, err := plotter.NewScatter(nullXY)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("report: null figure: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: nullColor, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("negative controls (n=%d)", len(nullXY)), s)
	}
	if len(posXY) > 0 {
		s, err := plotter.NewScatter(posXY)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("report: null figure: %w", err)
		}
		s.GlyphStyle = draw.GlyphStyle{Color: positiveColor, Radius: vg.Points(3), Shape: draw.TriangleGlyph{}}
		p.Add(s)
		p.Legend.Add(fmt.Sprintf("positive controls (n=%d)", len(posXY)), s)
	}

	for _, m := range fig.Suspects {
		if !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) {
			lo, hi = min(lo, m.Value), max(hi, m.Value)
		}
	}
	if lo > hi { // nothing finite to show
		lo, hi = 0, 1
	}
	if lo == hi {
		lo, hi = lo-0.5, hi+0.5
	}
	pad := (hi - lo) * 0.05
	p.X.Min, p.X.Max = lo-pad, hi+pad
	// Room above the strips for suspect labels and the legend.
	top := float64(len(rows)) - 0.5 + 0.4 + 0.25*float64(min(len(fig.Suspects), 4)) + 0.3*float64(len(fig.Suspects)+2)
	p.Y.Min, p.Y.Max = -0.5, top

	var labels plotter.XYLabels
	for k, m := range fig.Suspects {
		ls := draw.LineStyle{Color: plotutil.Color(k + 2), Width: vg.Points(1.5), Dashes: plotutil.Dashes(k % 4)}
		text := m.Name
		if m.Verdict != "" {
			text += ": " + m.Verdict
		}
		text += " (" + fmtValue(m.Value) + ")"
		line := &plotter.Line{LineStyle: ls}
		if !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) {
			yl := float64(len(rows)) - 0.5 + 0.1 + 0.25*float64(k%4)
			line.XYs = plotter.XYs{{X: m.Value, Y: -0.5}, {X: m.Value, Y: yl + 0.15}}
			p.Add(line)
			labels.XYs = append(labels.XYs, plotter.XY{X: m.Value, Y: yl})
			labels.Labels = append(labels.Labels, m.Name)
		}
		p.Legend.Add(text, line)
	}
	if len(labels.XYs) > 0 {
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("report: null figure: %w", err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = draw.XCenter
		}
		p.Add(l)
	}

	p.NominalY(rows...)
	p.Add(plotter.NewGrid())
	return p, 7 * vg.Inch, vg.Length(3.5+0.15*float64(len(fig.Suspects))) * vg.Inch, nil
}

// fmtValue formats a statistic value for a legend.
func fmtValue(v float64) string {
	return Fmt(v, 'g', 4).String()
}
