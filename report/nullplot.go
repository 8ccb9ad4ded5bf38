package report

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

// Marked is a suspect model's statistic value with its audit verdict, drawn
// as a labelled vertical line on a [NullFigure].
type Marked struct {
	Name    string
	Value   float64
	Verdict string
	// DecidedBy, when set, names the statistic the verdict came from if it
	// is not the one plotted (the legend says so).
	DecidedBy string
	// LabelOnly is set for a suspect that answered with labels only: its
	// value is measured as label-only audits measure it and is read
	// against the figure's LabelOnly strips (its box and legend say so).
	LabelOnly bool
}

// NullFigure shows where suspects fall relative to the null distribution of
// an audit statistic: Null (negative controls) and References (independent
// models the owner added to the null), drawn together in the null's strip
// with different glyphs, and Positives (known derived models) as jittered
// dot strips along the statistic's axis,
// and one vertical line per suspect, its name and verdict in a box above
// the strips (boxes are stacked so that no two overlap); of more than
// MaxMarkedSuspects suspects, that many are marked so (chosen by how far
// above its own null each stands) and the others are dots on a strip of
// their own, label-only ones on another. The legend, under the plot,
// gives each suspect's verdict and value. Non-finite values are left out of
// the strips; a suspect with a non-finite value still gets a legend entry.
// Each legend entry names the statistic with the suspect's value, so that
// the value is not mistaken for the verdict's p-value.
// Empty slices are fine; the zero NullFigure draws empty axes.
//
// The title names the statistic, the teacher and α; the x axis label says
// what a higher value means when Higher is set.
type NullFigure struct {
	Teacher    string  // shown in the title
	Statistic  string  // named in the title and on the x axis; "statistic" when empty
	Higher     string  // what a higher value means, e.g. "closer to the teacher"; shown on the x axis
	Alpha      float64 // the significance level of the suspects' verdicts, shown in the title; 0 when unknown
	Null       []float64
	References []float64
	Positives  []float64
	// UnderTrained are the under-trained negative controls, drawn on the
	// null's strip apart from it: they join the null only of a suspect
	// like them, whose p-value they can set (nil: none).
	UnderTrained []float64
	// LabelOnly holds the controls' values as an audit of a label-only
	// suspect measures them, which its value is read against: drawn on
	// strips of their own when a suspect is LabelOnly.
	LabelOnly Strips
	Suspects  []Marked
}

// jitterSeed fixes the dot jitter so figures are reproducible.
const jitterSeed = 0x6c696e65616765

// The null figure's geometry.
const (
	nullWidth       = 7 * vg.Inch // the figure's width, unless the legend needs more
	nullStripHeight = 0.8 * vg.Inch
	markFontSize    = 9  // points, suspect names above the strips
	legendFontSize  = 10 // points
	markPad         = vg.Length(2)
	markGap         = vg.Length(3)
	maxMarkRunes    = 32 // longer suspect names are shortened in the middle in the boxes (to maxTitleNameRunes in the legend)
)

var (
	nullColor     = color.RGBA{R: 0x40, G: 0x60, B: 0xa0, A: 0xff}
	positiveColor = color.RGBA{R: 0xd0, G: 0x30, B: 0x20, A: 0xff}
	refColor      = color.RGBA{R: 0x20, G: 0x80, B: 0x40, A: 0xff}
)

// The strips' glyphs: a shape for each kind of model, so that the figure
// reads without colour.
var (
	nullGlyph  = draw.GlyphStyle{Color: nullColor, Radius: vg.Points(2.5), Shape: draw.CircleGlyph{}}
	refGlyph   = draw.GlyphStyle{Color: refColor, Radius: vg.Points(3), Shape: draw.BoxGlyph{}}
	underGlyph = draw.GlyphStyle{Color: nullColor, Radius: vg.Points(2.5), Shape: draw.RingGlyph{}}
	posGlyph   = draw.GlyphStyle{Color: positiveColor, Radius: vg.Points(3), Shape: draw.TriangleGlyph{}}
	otherGlyph = draw.GlyphStyle{Color: color.Gray{Y: 0x60}, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
)

// addScatter adds xys to p as dots drawn in glyph and returns them (for
// a legend entry).
func addScatter(p *plot.Plot, xys plotter.XYs, glyph draw.GlyphStyle) (*plotter.Scatter, error) {
	s, err := plotter.NewScatter(xys)
	if err != nil {
		return nil, fmt.Errorf("report: null figure: %w", err)
	}
	s.GlyphStyle = glyph
	p.Add(s)
	return s, nil
}

func (fig NullFigure) layout() (laidOut, error) {
	p := plot.New()
	p.Title.Text = fig.title()
	p.X.Tick.Marker = denseTicks{}
	p.X.Label.Text = cmp.Or(fig.Statistic, "statistic")
	if fig.Higher != "" {
		p.X.Label.Text += " (higher = " + fig.Higher + ")"
	}
	leg := plot.NewLegend()
	leg.TextStyle.Font.Size = legendFontSize
	leg.Top, leg.Left = true, true
	leg.Padding = vg.Points(3) // entries a font's height apart, so descenders do not touch the next line

	rng := rand.New(rand.NewPCG(jitterSeed, 1))
	lo, hi := math.Inf(1), math.Inf(-1)
	strip := func(vals []float64, row float64) plotter.XYs {
		xys := make(plotter.XYs, 0, len(vals))
		for _, v := range vals {
			j := (rng.Float64() - 0.5) * 0.6 // drawn for every value so the jitter of one does not depend on others' finiteness
			if !finite(v) {
				continue
			}
			xys = append(xys, plotter.XY{X: v, Y: row + j})
			lo, hi = min(lo, v), max(hi, v)
		}
		return xys
	}
	nullXY := strip(fig.Null, 0)
	refXY := strip(fig.References, 0)
	posXY := strip(fig.Positives, 1)
	underXY := strip(fig.UnderTrained, 0)
	labels := fig.labelStrips()
	var labelNullXY, labelRefXY, labelUnderXY, labelPosXY plotter.XYs

	rows := []string{"negative controls"}
	if len(fig.References) > 0 {
		rows[0] = "null (negatives, references)"
	}
	if len(fig.Positives) > 0 {
		rows = append(rows, "positive controls")
	}
	if labels {
		// The null and positives of label-only suspects, above those of
		// the others (the same glyphs; the rows' names tell them apart).
		y := float64(len(rows))
		labelNullXY, labelRefXY, labelUnderXY = strip(fig.LabelOnly.Null, y), strip(fig.LabelOnly.References, y), strip(fig.LabelOnly.UnderTrained, y)
		rows = append(rows, "null, labels only")
		if len(fig.LabelOnly.Positives) > 0 {
			labelPosXY = strip(fig.LabelOnly.Positives, y+1)
			rows = append(rows, "positive controls, labels only")
		}
	}
	shown, others, othersLabels := fig.marked()
	var othersXY, othersLabelsXY plotter.XYs
	if len(others) > 0 {
		othersXY = strip(others, float64(len(rows)))
		rows = append(rows, "other suspects")
	}
	if len(othersLabels) > 0 {
		othersLabelsXY = strip(othersLabels, float64(len(rows)))
		rows = append(rows, "other suspects, labels only")
	}
	p.Add(plotter.NewGrid())
	for _, st := range []struct {
		xys    plotter.XYs
		glyph  draw.GlyphStyle
		legend string
	}{
		{nullXY, nullGlyph, "negative controls (n=%d)"},
		{refXY, refGlyph, "references (n=%d)"},
		{underXY, underGlyph, "under-trained negative controls (n=%d; in the null of suspects like them only)"},
		{posXY, posGlyph, "positive controls (n=%d)"},
	} {
		if len(st.xys) == 0 {
			continue
		}
		s, err := addScatter(p, st.xys, st.glyph)
		if err != nil {
			return laidOut{}, err
		}
		leg.Add(fmt.Sprintf(st.legend, len(st.xys)), s)
	}
	if labels {
		if err := addLabelStrips(p, labelNullXY, labelRefXY, labelUnderXY, labelPosXY); err != nil {
			return laidOut{}, err
		}
	}
	for _, o := range []struct {
		xys  plotter.XYs
		n    int
		text string
	}{
		{othersXY, len(others), "%d other suspects, not named (named: DERIVED first, then the furthest above their own null's mean, in its standard deviations)"},
		{othersLabelsXY, len(othersLabels), "%d other suspects from labels only, not named (read against the labels-only strips)"},
	} {
		if o.n == 0 {
			continue
		}
		s, err := addScatter(p, o.xys, otherGlyph)
		if err != nil {
			return laidOut{}, err
		}
		leg.Add(fmt.Sprintf(o.text, o.n), s)
	}

	marks := &suspectMarks{top: float64(len(rows)) - 0.5, style: p.X.Tick.Label}
	marks.style.Rotation = 0
	marks.style.Font.Size = markFontSize
	marks.style.XAlign, marks.style.YAlign = draw.XLeft, draw.YBottom
	for k, i := range shown {
		m := fig.Suspects[i]
		ls := draw.LineStyle{Color: plotutil.Color(k + 2), Width: vg.Points(1.5), Dashes: plotutil.Dashes(k % 4)}
		text := shortenMiddle(m.Name, maxTitleNameRunes)
		if m.Verdict != "" {
			text += ": " + m.Verdict
		}
		// The value is named by its statistic, so that it is not read as
		// the verdict's p-value.
		stat := cmp.Or(fig.Statistic, "statistic")
		if math.IsNaN(m.Value) {
			text += ", no " + stat + " value"
		} else {
			text += ", " + stat + " = " + fmtValue(m.Value)
		}
		if m.LabelOnly && labels {
			text += " from labels only (read against the labels-only strips)"
		}
		if m.DecidedBy != "" {
			text += " (verdict decided by " + m.DecidedBy + ")"
		}
		leg.Add(text, &plotter.Line{LineStyle: ls})
		if finite(m.Value) {
			lo, hi = min(lo, m.Value), max(hi, m.Value)
			marks.x = append(marks.x, m.Value)
			// Cut in the middle, as in the legend: names that differ only at
			// the end (a run number, a version) keep their difference.
			name := shortenMiddle(m.Name, maxMarkRunes)
			if m.Verdict != "" {
				name += ": " + m.Verdict
			}
			if m.LabelOnly && labels {
				name += " (labels only)"
			}
			marks.name = append(marks.name, name)
			marks.line = append(marks.line, ls)
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
	p.Y.Min, p.Y.Max = -0.5, marks.top
	p.NominalY(rows...)
	p.Add(marks)

	// The legend goes under the plot, where it covers nothing; the figure
	// widens for a legend or a title wider than it.
	probe := measureCanvas(nullWidth, 4*vg.Inch)
	legW := leg.Rectangle(probe).Size().X
	dc := p.DataCanvas(probe)
	width := max(nullWidth, dc.Min.X+legW, p.Title.TextStyle.Width(p.Title.Text))
	if width != nullWidth {
		probe = measureCanvas(width, 4*vg.Inch)
		dc = p.DataCanvas(probe)
	}
	// The data area is the strips and, above them, the band the suspects'
	// name boxes are stacked in; x positions do not depend on its height.
	band := marks.band(marks.layout(dc, p))
	overhead := probe.Rectangle.Size().Y - dc.Rectangle.Size().Y
	stripsH := nullStripHeight * vg.Length(len(rows))
	p.Y.Max = marks.top + float64(band/stripsH)*float64(len(rows))
	legH := leg.Rectangle(probe).Size().Y + leg.TextStyle.FontExtents().Descent // the last entry's descent is drawn below the rectangle
	legGap := vg.Length(legendFontSize)
	plotH := overhead + stripsH + band
	return laidOut{w: width, h: plotH + legGap + legH, draw: func(c draw.Canvas) {
		pc := draw.Crop(c, 0, 0, legH+legGap, 0)
		p.Draw(pc)
		lc := draw.Crop(c, p.DataCanvas(pc).Min.X-c.Min.X, 0, 0, -(plotH + legGap))
		leg.Draw(lc)
	}}, nil
}

// title says what the figure shows: the statistic of the suspects against
// the null of the teacher, and the verdicts' α.
func (fig NullFigure) title() string {
	t := cmp.Or(fig.Statistic, "Statistic") + " of suspects against the null"
	if fig.Teacher != "" {
		t += " of teacher " + shortenMiddle(fig.Teacher, maxTitleNameRunes)
	}
	if fig.Alpha > 0 && fig.Alpha < 1 {
		t += fmt.Sprintf(" (verdicts at α = %g)", fig.Alpha)
	}
	return t
}

// suspectMarks draws a vertical line per suspect from the bottom of the
// data area up to a box with the suspect's name, the boxes stacked in the
// band above the strips (whose top is at y = top) so that none overlaps
// another. Boxes are drawn after every line, so a line passes behind
// another suspect's box rather than through its text.
type suspectMarks struct {
	x     []float64
	name  []string
	line  []draw.LineStyle
	style draw.TextStyle
	top   float64 // data y of the strips' top
}

// markBox is where one suspect's name box is drawn, in canvas units.
type markBox struct {
	x      vg.Length // the suspect's line
	left   vg.Length // the box's left edge
	w      vg.Length
	level  int // 0 just above the strips
	levels int // the number of levels in use
}

// layout places the name boxes on the data canvas c.
func (s *suspectMarks) layout(c draw.Canvas, p *plot.Plot) []markBox {
	trx, _ := p.Transforms(&c)
	xs := make([]vg.Length, len(s.x))
	ws := make([]vg.Length, len(s.x))
	for i, v := range s.x {
		xs[i] = trx(v)
		ws[i] = s.style.Width(s.name[i]) + 2*markPad
	}
	left, level := stackLabels(xs, ws, c.Min.X, c.Max.X, markGap)
	n := 0
	for _, l := range level {
		n = max(n, l+1)
	}
	boxes := make([]markBox, len(xs))
	for i := range xs {
		boxes[i] = markBox{x: xs[i], left: left[i], w: ws[i], level: level[i], levels: n}
	}
	return boxes
}

// boxHeight is the height of a name box.
func (s *suspectMarks) boxHeight() vg.Length { return s.style.Height("Xg") + 2*markPad }

// band is the height the boxes need above the strips.
func (s *suspectMarks) band(boxes []markBox) vg.Length {
	if len(boxes) == 0 {
		return markGap
	}
	return vg.Length(boxes[0].levels)*(s.boxHeight()+markGap) + markGap
}

// Plot implements plot.Plotter.
func (s *suspectMarks) Plot(c draw.Canvas, p *plot.Plot) {
	boxes := s.layout(c, p)
	_, try := p.Transforms(&c)
	base := try(s.top) + markGap
	bh := s.boxHeight()
	bottom := func(b markBox) vg.Length { return base + vg.Length(b.level)*(bh+markGap) }
	for i, b := range boxes {
		c.StrokeLines(s.line[i], []vg.Point{{X: b.x, Y: c.Min.Y}, {X: b.x, Y: bottom(b)}})
	}
	for i, b := range boxes {
		r := vg.Rectangle{Min: vg.Point{X: b.left, Y: bottom(b)}, Max: vg.Point{X: b.left + b.w, Y: bottom(b) + bh}}
		c.SetColor(color.White)
		c.Fill(r.Path())
		border := s.line[i]
		border.Width, border.Dashes = vg.Points(0.75), nil
		c.StrokeLines(border, []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}, r.Min})
		c.FillText(s.style, vg.Point{X: b.left + markPad, Y: r.Min.Y + markPad - s.style.FontExtents().Descent/2}, s.name[i])
	}
}

// stackLabels places boxes of widths ws over the positions xs: each box is
// centred on its x where it fits between lo and hi, else moved inside, and
// put on the lowest level at which it is at least gap from every box already
// placed there (in the order of x). It returns each box's left edge and
// level.
func stackLabels(xs, ws []vg.Length, lo, hi, gap vg.Length) (left []vg.Length, level []int) {
	left = make([]vg.Length, len(xs))
	level = make([]int, len(xs))
	order := make([]int, len(xs))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	var placed [][]int // per level, the boxes on it
	for _, i := range order {
		left[i] = max(lo, min(xs[i]-ws[i]/2, hi-ws[i]))
		l := 0
		for ; l < len(placed); l++ {
			free := true
			for _, j := range placed[l] {
				if left[i] < left[j]+ws[j]+gap && left[j] < left[i]+ws[i]+gap {
					free = false
					break
				}
			}
			if free {
				break
			}
		}
		if l == len(placed) {
			placed = append(placed, nil)
		}
		placed[l] = append(placed[l], i)
		level[i] = l
	}
	return left, level
}

// denseTicks is gonum's default ticker, except that when it would label
// fewer than four ticks (0.00 and 2.50 alone on an axis from -0.2 to 2.6)
// it labels every tick, with as many decimals as they need.
type denseTicks struct{}

// Ticks implements plot.Ticker.
func (denseTicks) Ticks(lo, hi float64) []plot.Tick {
	ts := plot.DefaultTicks{}.Ticks(lo, hi)
	labelled := 0
	for _, t := range ts {
		if t.Label != "" {
			labelled++
		}
	}
	if labelled >= 4 || len(ts) > 12 {
		return ts
	}
	prec := 0
	for ; prec < 6; prec++ {
		exact := true
		for _, t := range ts {
			r, err := strconv.ParseFloat(strconv.FormatFloat(t.Value, 'f', prec, 64), 64)
			if err != nil || math.Abs(r-t.Value) > 1e-9*max(1, math.Abs(t.Value)) {
				exact = false
				break
			}
		}
		if exact {
			break
		}
	}
	for i := range ts {
		ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', prec, 64)
		if ts[i].Label == "-"+strconv.FormatFloat(0, 'f', prec, 64) {
			ts[i].Label = ts[i].Label[1:]
		}
	}
	return ts
}

// measureCanvas is a canvas of size w×h that draws nothing, to measure a
// plot's layout on.
func measureCanvas(w, h vg.Length) draw.Canvas {
	return draw.Canvas{Canvas: &recorder.Canvas{}, Rectangle: vg.Rectangle{Max: vg.Point{X: w, Y: h}}}
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fmtValue formats a statistic value for a legend, with the four decimals
// of the audit's statistics table, so that the two show the same number.
func fmtValue(v float64) string {
	return Fmt(v, 'f', 4).String()
}
