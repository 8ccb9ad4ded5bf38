package report

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot"
)

// pngFace is the font PNG figures are drawn with (gonum/plot's default,
// Liberation Serif: Latin, Greek and Cyrillic).
var pngFace = plot.DefaultTextHandler.Cache().Lookup(plot.DefaultFont, 12).Face

// missingGlyph reports whether the PNG font has no glyph for r. Spaces and
// other characters drawn as nothing count as drawable.
func missingGlyph(r rune) bool {
	if r == ' ' || r == '\u00a0' {
		return false
	}
	var buf sfnt.Buffer
	i, err := pngFace.GlyphIndex(&buf, r)
	return err != nil || i == 0
}

// pngText replaces the characters of s the PNG font has no glyph for with
// '?' (drawn as nothing, they left a name blank).
func pngText(s string) string {
	return strings.Map(func(r rune) rune {
		if missingGlyph(r) {
			return '?'
		}
		return r
	}, s)
}

// pngTexts returns the function that WriteFigure applies to the texts of
// fig (see Figure.texts) for a PNG figure: pngText, with " #2", " #3", …
// appended where two texts would otherwise come out alike (names in
// Chinese of the same length all turn to question marks).
func pngTexts(fig Figure) func(string) string {
	byText := map[string]string{} // what a text is drawn as
	taken := map[string]bool{}    // what is drawn
	for _, s := range fig.texts() {
		if !strings.ContainsFunc(s, missingGlyph) {
			byText[s] = s
			taken[s] = true
		}
	}
	return func(s string) string {
		if t, ok := byText[s]; ok {
			return t
		}
		base := pngText(s)
		t := base
		for k := 2; taken[t]; k++ {
			t = fmt.Sprintf("%s #%d", base, k)
		}
		byText[s] = t
		taken[t] = true
		return t
	}
}

// Undrawable returns the texts of fig (its title, and the names of its
// teacher, suspects, rows and columns) that hold characters the font of
// PNG figures lacks (it covers Latin, Greek and Cyrillic): a PNG figure
// draws each such character as '?'. SVG figures leave the characters to
// the viewer's fonts and keep them. It returns nil when every text is
// drawable.
func Undrawable(fig Figure) []string {
	var out []string
	for _, s := range fig.texts() {
		if strings.ContainsFunc(s, missingGlyph) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// texts returns the figure's texts that come from its caller.
func (fig NullFigure) texts() []string {
	out := []string{fig.Teacher, fig.Statistic, fig.Higher}
	for _, s := range fig.Suspects {
		out = append(out, s.Name, s.Verdict, s.DecidedBy)
	}
	return out
}

// mapTexts returns fig with f applied to its caller's texts.
func (fig NullFigure) mapTexts(f func(string) string) Figure {
	fig.Teacher, fig.Statistic, fig.Higher = f(fig.Teacher), f(fig.Statistic), f(fig.Higher)
	fig.Suspects = slices.Clone(fig.Suspects)
	for i := range fig.Suspects {
		s := &fig.Suspects[i]
		s.Name, s.Verdict, s.DecidedBy = f(s.Name), f(s.Verdict), f(s.DecidedBy)
	}
	return fig
}

// texts returns the matrix's texts that come from its caller.
func (m Matrix) texts() []string {
	return slices.Concat([]string{m.Title, m.Statistic}, m.Rows, m.Cols)
}

// mapTexts returns m with f applied to its caller's texts.
func (m Matrix) mapTexts(f func(string) string) Figure {
	m.Title, m.Statistic = f(m.Title), f(m.Statistic)
	m.Rows, m.Cols = mapAll(m.Rows, f), mapAll(m.Cols, f)
	return m
}

func mapAll(s []string, f func(string) string) []string {
	if s == nil {
		return nil
	}
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}
