package report

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/lineage-audit/lineage/internal/tmpfile"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// FigureDPI is the resolution of PNG figures, in dots per inch: enough to
// print a figure or zoom into it on a screen (gonum's default, 96, blurs
// tick labels and cell annotations).
const FigureDPI = 200

// Figure is a plot that [WriteFigure] and [SaveFigure] can draw:
// [NullFigure] and [Matrix]. It is implemented only by this package's types.
type Figure interface {
	// layout returns the figure's size inside the margin and the function
	// that draws it on a canvas of that size.
	layout() (laidOut, error)
	// texts returns the texts the caller gave the figure (names,
	// titles); mapTexts returns a copy with f applied to each.
	texts() []string
	mapTexts(f func(string) string) Figure
}

// laidOut is a figure ready to draw: its size without the margin and how to
// draw it.
type laidOut struct {
	w, h vg.Length
	draw func(c draw.Canvas)
}

// figureMargin is left blank around every figure, so no glyph touches the
// edge.
const figureMargin vg.Length = 6 // points

// WriteFigure draws fig and writes it to w as PNG or SVG. The output is
// deterministic for a given fig. A PNG figure draws the characters its
// font lacks as '?' (see [Undrawable]).
func WriteFigure(w io.Writer, fig Figure, format ImageFormat) error {
	format, err := ParseImageFormat(string(format))
	if err != nil {
		return err
	}
	if format == ImagePNG {
		fig = fig.mapTexts(pngTexts(fig))
	}
	l, err := fig.layout()
	if err != nil {
		return err
	}
	m := figureMargin
	width, height := l.w+2*m, l.h+2*m
	var c vg.CanvasWriterTo
	if format == ImagePNG {
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(FigureDPI))}
	} else {
		c, err = draw.NewFormattedCanvas(width, height, string(format))
		if err != nil {
			return fmt.Errorf("report: drawing figure: %w", err)
		}
	}
	l.draw(draw.Crop(draw.New(c), m, -m, m, -m))
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("report: writing %s figure: %w", format, err)
	}
	return nil
}

// SaveFigure draws fig into the file path, in the format named by its
// extension (.png or .svg). The file is written to a locked temporary file
// in the same directory and renamed into place (tmpfile.Write), so path is
// never left half-written.
func SaveFigure(path string, fig Figure) error {
	format, err := ParseImageFormat(filepath.Ext(path))
	if err != nil {
		return fmt.Errorf("report: saving figure %s: %w", path, err)
	}
	var drawErr error
	err = tmpfile.Write(path, 0o644, func(w io.Writer) error {
		drawErr = WriteFigure(w, fig, format)
		return drawErr
	})
	if err != nil && err != drawErr {
		return fmt.Errorf("report: saving figure %s: %w", path, err)
	}
	return err
}
