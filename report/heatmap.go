package report

import (
	"errors"
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Matrix is a heat map figure of a models × models similarity (or distance)
// matrix: Values[i][j] is the statistic between Rows[i] and Cols[j]. Row 0 is
// drawn at the top. Cells are annotated with their values when the matrix has
// at most 256 cells; NaN cells are drawn grey. Values must have len(Rows)
// rows of len(Cols) each, and both must be non-empty.
type Matrix struct {
	Title     string
	Statistic string // names the values, shown under the x axis labels
	Rows      []string
	Cols      []string
	Values    [][]float64
}

// errMatrixShape is wrapped when a Matrix's dimensions do not agree.
var errMatrixShape = errors.New("matrix shape mismatch")

// grid adapts Matrix to plotter.GridXYZ (column c, row r; row 0 at the top).
type grid struct{ m *Matrix }

func (g grid) Dims() (c, r int)   { return len(g.m.Cols), len(g.m.Rows) }
func (g grid) Z(c, r int) float64 { return g.m.Values[len(g.m.Rows)-1-r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

func (m Matrix) layout() (laidOut, error) {
	p, w, h, err := m.build()
	if err != nil {
		return laidOut{}, err
	}
	return laidOut{w: w - 2*figureMargin, h: h - 2*figureMargin, draw: plotDrawer(p)}, nil
}

func (m Matrix) build() (*plot.Plot, vg.Length, vg.Length, error) {
	if len(m.Rows) == 0 || len(m.Cols) == 0 || len(m.Values) != len(m.Rows) {
		return nil, 0, 0, fmt.Errorf("report: matrix %q: %d rows, %d columns, %d value rows: %w",
			m.Title, len(m.Rows), len(m.Cols), len(m.Values), errMatrixShape)
	}
	for i, r := range m.Values {
		if len(r) != len(m.Cols) {
			return nil, 0, 0, fmt.Errorf("report: matrix %q: value row %d has %d entries for %d columns: %w",
				m.Title, i, len(r), len(m.Cols), errMatrixShape)
		}
	}
	g := grid{&m}
	pal := moreland.SmoothBlueRed().Palette(64)
	h := plotter.NewHeatMap(g, pal)
	h.NaN = color.Gray{Y: 0xc0}
	switch {
	case h.Min > h.Max: // no finite value
		h.Min, h.Max = 0, 1
	case h.Min == h.Max:
		h.Min, h.Max = h.Min-0.5, h.Max+0.5
	}
	if math.IsInf(h.Min, 0) || math.IsInf(h.Max, 0) || math.IsInf(h.Max-h.Min, 0) {
		return nil, 0, 0, fmt.Errorf("report: matrix %q: infinite values, or a range too wide to colour", m.Title)
	}

	p := plot.New()
	p.Title.Text = m.Title
	p.X.Label.Text = m.Statistic
	p.Add(h)
	if len(m.Rows)*len(m.Cols) <= 256 {
		var labels plotter.XYLabels
		for r := range m.Rows {
			for c := range m.Cols {
				labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(len(m.Rows) - 1 - r)})
				labels.Labels = append(labels.Labels, Fmt(m.Values[r][c], 'g', 3).String())
			}
		}
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("report: matrix %q: %w", m.Title, err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].YAlign = draw.YCenter
		}
		p.Add(l)
	}
	p.NominalX(m.Cols...)
	rev := make([]string, len(m.Rows))
	for i, r := range m.Rows {
		rev[len(m.Rows)-1-i] = r
	}
	p.NominalY(rev...)
	p.X.Min, p.X.Max = -0.5, float64(len(m.Cols))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(m.Rows))-0.5
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter

	side := vg.Length(2+0.5*float64(max(len(m.Rows), len(m.Cols)))) * vg.Inch
	return p, min(side+vg.Inch, 14*vg.Inch), min(side, 13*vg.Inch), nil
}
