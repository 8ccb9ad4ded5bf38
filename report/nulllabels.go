package report

import (
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg/draw"
)

// Strips are the control models' values on a [NullFigure]'s statistic for
// one kind of suspect: the null's negative controls, references and
// under-trained controls, and the positive controls.
type Strips struct {
	Null, References, Positives, UnderTrained []float64
}

// empty reports whether s holds no value.
func (s Strips) empty() bool {
	return len(s.Null)+len(s.References)+len(s.Positives)+len(s.UnderTrained) == 0
}

// labelStrips reports whether fig draws its LabelOnly strips: when it
// has them and a label-only suspect, marked or drawn on the strip of
// unnamed label-only suspects. A label-only suspect's value comes from a
// discriminant fitted on the controls' labels, on another scale than the
// null of suspects with probabilities: drawn against that null, a
// label-only suspect that its own null puts at p = 0.82 looked more
// extreme than a suspect at p = 0.09.
func (fig NullFigure) labelStrips() bool {
	return slices.ContainsFunc(fig.Suspects, fig.readsLabels)
}

// addLabelStrips adds the label-only strips' dots to p, in the glyphs of
// the other strips (the rows' names tell the two kinds apart, and the
// legend's glyphs hold for both).
func addLabelStrips(p *plot.Plot, null, refs, under, pos plotter.XYs) error {
	for _, st := range []struct {
		xys   plotter.XYs
		glyph draw.GlyphStyle
	}{{null, nullGlyph}, {refs, refGlyph}, {under, underGlyph}, {pos, posGlyph}} {
		if len(st.xys) == 0 {
			continue
		}
		if _, err := addScatter(p, st.xys, st.glyph); err != nil {
			return err
		}
	}
	return nil
}
