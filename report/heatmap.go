package report

import (
	"cmp"
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Matrix is a heat map figure of a models × models similarity (or distance)
// matrix: Values[i][j] is the statistic between Rows[i] and Cols[j]. Row 0 is
// drawn at the top. Cells are annotated with their values when the matrix has
// at most 256 cells, in black or white, whichever stands out on the cell;
// NaN cells are drawn grey. Cells are outlined unless they are too small
// for it (they are then drawn as an image, a pixel each), and when the
// models are too many for every name to be read (a registry's hundreds of
// suspects) only every k-th is named on the axes. A colour scale under the
// map is labelled with Statistic. Values must have len(Rows) rows of
// len(Cols) each, and both must be non-empty.
type Matrix struct {
	Title     string
	Statistic string // names the values, shown under the x axis labels
	Rows      []string
	Cols      []string
	Values    [][]float64
	// Range is the span of values the colour scale covers, for a
	// statistic with natural bounds (agreement: 0 to 1), so that a
	// middling value is not drawn as the darkest colour because it is
	// the smallest shown; values outside it take the nearest end's
	// colour. The zero Range spans the values' own minimum to maximum.
	Range [2]float64
}

// errMatrixShape is wrapped when a Matrix's dimensions do not agree.
var errMatrixShape = errors.New("matrix shape mismatch")

// grid adapts Matrix to plotter.GridXYZ (column c, row r; row 0 at the top).
type grid struct{ m *Matrix }

func (g grid) Dims() (c, r int)   { return len(g.m.Cols), len(g.m.Rows) }
func (g grid) Z(c, r int) float64 { return g.m.Values[len(g.m.Rows)-1-r][c] }
func (g grid) X(c int) float64    { return float64(c) }
func (g grid) Y(r int) float64    { return float64(r) }

// heatmapBarHeight is the height of the colour scale under a heat map.
const heatmapBarHeight = 0.9 * vg.Inch

func (m Matrix) layout() (laidOut, error) {
	if len(m.Rows) == 0 || len(m.Cols) == 0 || len(m.Values) != len(m.Rows) {
		return laidOut{}, fmt.Errorf("report: matrix %q: %d rows, %d columns, %d value rows: %w",
			m.Title, len(m.Rows), len(m.Cols), len(m.Values), errMatrixShape)
	}
	for i, r := range m.Values {
		if len(r) != len(m.Cols) {
			return laidOut{}, fmt.Errorf("report: matrix %q: value row %d has %d entries for %d columns: %w",
				m.Title, i, len(r), len(m.Cols), errMatrixShape)
		}
	}
	g := grid{&m}
	// A sequential map whose luminance rises with the value, so the scale
	// reads the same in greyscale (a diverging blue–red map has both ends
	// equally dark).
	cmap := moreland.Kindlmann()
	pal := cmap.Palette(64)
	h := cornerGlyphs{plotter.NewHeatMap(g, pal)}
	h.NaN = color.Gray{Y: 0xc0}
	h.Underflow, h.Overflow = pal.Colors()[0], pal.Colors()[len(pal.Colors())-1] // outside Range
	switch {
	case m.Range[0] < m.Range[1]:
		h.Min, h.Max = m.Range[0], m.Range[1]
	case h.Min > h.Max: // no finite value
		h.Min, h.Max = 0, 1
	case h.Min == h.Max:
		h.Min, h.Max = h.Min-0.5, h.Max+0.5
	}
	if math.IsInf(h.Min, 0) || math.IsInf(h.Max, 0) || math.IsInf(h.Max-h.Min, 0) {
		return laidOut{}, fmt.Errorf("report: matrix %q: infinite values, or a range too wide to colour", m.Title)
	}
	cmap.SetMin(h.Min)
	cmap.SetMax(h.Max)

	// Room for the cells and for the longest axis label (about 0.08 in a
	// rune at the tick labels' size, on both axes: rotated by 45° under
	// the map, level beside it).
	cols, rows := axisLabels(m.Cols), axisLabels(m.Rows)
	longest := 0
	for _, l := range slices.Concat(cols, rows) {
		longest = max(longest, utf8.RuneCountInString(l))
	}
	n := max(len(m.Rows), len(m.Cols))
	side := vg.Length(2+0.5*float64(n)+0.08*float64(longest)) * vg.Inch
	w, mapH := min(side+vg.Inch, 14*vg.Inch), min(side, 13*vg.Inch)
	// A registry's matrix has a row per suspect, a thousand after a year:
	// the cells are then too small for borders, which would hide their
	// colours, and only every stride-th model is named, so that the names
	// do not run into each other.
	cell := (min(w, mapH) - vg.Length(0.08*float64(longest))*vg.Inch - vg.Inch) / vg.Length(n)
	stride := labelStride(cell)
	cols, rows = everyNth(cols, stride), everyNth(rows, stride)

	p := plot.New()
	p.Title.Text = shortenMiddle(m.Title, maxTitleRunes)
	p.Add(h)
	if cell >= minBorderedCell {
		p.Add(cellBorders{cols: len(m.Cols), rows: len(m.Rows)})
	} else {
		// A cell a path of its own: 9 million of them at 3,000 models, an
		// SVG of 820 MB that took 6 GB to write. Drawn as an image, one
		// pixel a cell, in the same colours.
		h.Rasterized = true
	}
	if len(m.Rows)*len(m.Cols) <= 256 {
		var labels plotter.XYLabels
		var colors []color.Color
		for r := range m.Rows {
			for c := range m.Cols {
				v := m.Values[r][c]
				labels.XYs = append(labels.XYs, plotter.XY{X: float64(c), Y: float64(len(m.Rows) - 1 - r)})
				labels.Labels = append(labels.Labels, Fmt(v, 'g', 3).String())
				colors = append(colors, cellTextColor(cmap, math.Min(math.Max(v, h.Min), h.Max)))
			}
		}
		l, err := plotter.NewLabels(labels)
		if err != nil {
			return laidOut{}, fmt.Errorf("report: matrix %q: %w", m.Title, err)
		}
		for i := range l.TextStyle {
			l.TextStyle[i].XAlign = draw.XCenter
			l.TextStyle[i].YAlign = draw.YCenter
			l.TextStyle[i].Color = colors[i]
		}
		p.Add(l)
	}
	p.NominalX(cols...)
	rev := make([]string, len(rows))
	for i, r := range rows {
		rev[len(rows)-1-i] = r
	}
	p.NominalY(rev...)
	p.X.Min, p.X.Max = -0.5, float64(len(m.Cols))-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(len(m.Rows))-0.5
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter

	// The colour scale, under the map and as wide as its cells, says what
	// the colours (and the statistic) are; grey marks cells with no value.
	bar := plot.New()
	bar.Add(&plotter.ColorBar{ColorMap: cmap, Colors: 64})
	bar.HideY()
	bar.X.Padding, bar.Y.Padding = 0, 0 // the scale spans exactly the cells
	bar.X.Min, bar.X.Max = h.Min, h.Max
	bar.X.Label.Text = cmp.Or(m.Statistic, "value")
	if hasNaN(m.Values) {
		bar.X.Label.Text += " (grey, NaN: no value)"
	}

	w = max(w, p.Title.TextStyle.Width(p.Title.Text)+vg.Inch/4)
	return laidOut{w: w, h: mapH + heatmapBarHeight, draw: func(c draw.Canvas) {
		mc := draw.Crop(c, 0, 0, heatmapBarHeight, 0)
		p.Draw(mc)
		dc := p.DataCanvas(mc)
		bc := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: dc.Min.X, Y: c.Min.Y},
			Max: vg.Point{X: dc.Max.X, Y: c.Min.Y + heatmapBarHeight - vg.Length(10)},
		}}
		bar.Draw(bc)
	}}, nil
}

// maxTitleRunes is the longest title a heat map shows, and
// maxTitleNameRunes the longest teacher name in a null figure's title or
// suspect name in its legend:
// names may be 1,024 bytes long, and the figure grew to the title's width
// or the title ran off it. Longer ones are shortened in the middle.
const maxTitleRunes, maxTitleNameRunes = 100, 60

// maxAxisRunes is the longest model name a heat map's axes show (its
// role, in parentheses after it, not counted: see shortenLabel); longer
// names are shortened in the middle (their start and their end tell
// models apart more often than their start alone). Full names are in the
// report's tables.
const maxAxisRunes = 24

// axisLabels returns names shortened to maxAxisRunes runes each (see
// shortenMiddle), numbering those that come out alike ("#2", "#3"…) so
// that no two models share an axis label unless their names are equal.
func axisLabels(names []string) []string {
	labels := make([]string, len(names))
	seen := make(map[string]string, len(names)) // label → the name it shows
	for i, n := range names {
		l := shortenLabel(n, maxAxisRunes)
		for k := 2; ; k++ {
			if other, ok := seen[l]; !ok || other == n {
				break
			}
			suffix := fmt.Sprintf(" #%d", k)
			l = shortenLabel(n, maxAxisRunes-len(suffix)) + suffix
		}
		seen[l] = n
		labels[i] = l
	}
	return labels
}

// shortenLabel is shortenMiddle for an axis label, which may end in a
// parenthesised note of at most maxNoteRunes runes, such as the model's
// role in "name (suspect)": the name before the note is shortened to n
// runes and the note kept whole, so that a 17-rune name is shown whole
// (it was cut with its role to "independent-mode…uspect)").
func shortenLabel(s string, n int) string {
	if i := strings.LastIndex(s, " ("); i > 0 && strings.HasSuffix(s, ")") && utf8.RuneCountInString(s[i:]) <= maxNoteRunes {
		return shortenMiddle(s[:i], n) + s[i:]
	}
	return shortenMiddle(s, n)
}

// maxNoteRunes is the longest note shortenLabel keeps whole after a name:
// " (reference)" and the other roles.
const maxNoteRunes = 12

// shortenMiddle returns s cut to at most n runes by replacing its middle
// with an ellipsis, keeping about two thirds of what remains from the
// start and a third from the end.
func shortenMiddle(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	tail := (n - 1) / 3
	head := n - 1 - tail
	return string(r[:head]) + "…" + string(r[len(r)-tail:])
}

// minBorderedCell is the smallest heat map cell drawn with a border: the
// half-point grey lines of smaller cells cover most of their colour.
const minBorderedCell = vg.Length(4)

// minLabelGap is the least distance between two axis labels' positions on a
// heat map: a label's height at the tick labels' size, 45° apart under
// the map (11 points square to the labels).
const minLabelGap = vg.Length(16)

// labelStride returns k such that naming every k-th model of a heat map
// whose cells are cell wide keeps the names minLabelGap apart (1: every
// model).
func labelStride(cell vg.Length) int {
	if cell <= 0 {
		return math.MaxInt
	}
	return max(1, int(math.Ceil(float64(minLabelGap/cell))))
}

// everyNth returns labels with all but every k-th (the first included)
// blanked.
func everyNth(labels []string, k int) []string {
	if k <= 1 {
		return labels
	}
	out := make([]string, len(labels))
	for i := 0; i < len(labels); i += k {
		out[i] = labels[i]
	}
	return out
}

// cornerGlyphs is a heat map whose glyph boxes are its corner cells'. The
// plot pads its axes for the outermost glyph boxes, which these are, every
// cell's box being alike, so the figure is the same; HeatMap.GlyphBoxes
// gives one per cell, 9 million at 3,000 models, which the plot asks for
// at every layout: 16 GB allocated to draw one figure, 2.9 GB resident.
type cornerGlyphs struct{ *plotter.HeatMap }

// GlyphBoxes implements plot.GlyphBoxer.
func (h cornerGlyphs) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	c, r := h.GridXYZ.Dims()
	var out []plot.GlyphBox
	for _, i := range []int{0, c - 1} {
		for _, j := range []int{0, r - 1} {
			out = append(out, plot.GlyphBox{X: p.X.Norm(h.GridXYZ.X(i)), Y: p.Y.Norm(h.GridXYZ.Y(j)),
				Rectangle: vg.Rectangle{Min: vg.Point{X: -5, Y: -5}, Max: vg.Point{X: 5, Y: 5}}})
		}
	}
	return out
}

// cellBorders outlines the cells of a cols×rows heat map, so a cell as
// light as the page still reads as a cell.
type cellBorders struct{ cols, rows int }

// Plot implements plot.Plotter.
func (b cellBorders) Plot(c draw.Canvas, p *plot.Plot) {
	trx, try := p.Transforms(&c)
	ls := draw.LineStyle{Color: color.Gray{Y: 0x80}, Width: vg.Points(0.5)}
	x0, x1 := trx(-0.5), trx(float64(b.cols)-0.5)
	y0, y1 := try(-0.5), try(float64(b.rows)-0.5)
	for i := range b.cols + 1 {
		x := trx(float64(i) - 0.5)
		c.StrokeLine2(ls, x, y0, x, y1)
	}
	for j := range b.rows + 1 {
		y := try(float64(j) - 0.5)
		c.StrokeLine2(ls, x0, y, x1, y)
	}
}

// cellTextColor returns black or white, whichever stands out more on the
// colour cmap gives v (black on the grey of a NaN cell).
func cellTextColor(cmap palette.ColorMap, v float64) color.Color {
	bg, err := cmap.At(v)
	if err != nil {
		return color.Black
	}
	r, g, b, _ := bg.RGBA()
	lum := (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 0xffff
	if lum < 0.45 {
		return color.White
	}
	return color.Black
}

// hasNaN reports whether some value is NaN.
func hasNaN(vals [][]float64) bool {
	for _, r := range vals {
		for _, v := range r {
			if math.IsNaN(v) {
				return true
			}
		}
	}
	return false
}
