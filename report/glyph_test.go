package report

import (
	"bytes"
	"slices"
	"testing"
)

func TestUndrawable(t *testing.T) {
	fig := NullFigure{
		Teacher:   "acme",
		Statistic: "score",
		Suspects: []Marked{
			{Name: "Ωμέγα", Verdict: "DERIVED"},
			{Name: "Привет", Verdict: "NOT_DERIVED"},
			{Name: "模型甲", Verdict: "DERIVED"},
			{Name: "模型甲", Verdict: "DERIVED"},
			{Name: "café ☃", Verdict: "INCONCLUSIVE"},
		},
	}
	if got, want := Undrawable(fig), []string{"模型甲", "café ☃"}; !slices.Equal(got, want) {
		t.Errorf("Undrawable(null figure) = %q, want %q", got, want)
	}
	m := Matrix{Title: "similarity", Rows: []string{"a", "b c"}, Cols: []string{"a", "b c"}}
	if got := Undrawable(m); got != nil {
		t.Errorf("Undrawable(Latin matrix) = %q, want nil", got)
	}
}

func TestPNGTexts(t *testing.T) {
	m := Matrix{
		Title: "similarity (模型甲)",
		Rows:  []string{"模型甲", "模型乙", "??? #2", "abc"},
		Cols:  []string{"模型甲", "模型乙", "??? #2", "abc"},
	}
	got := m.mapTexts(pngTexts(m)).(Matrix)
	want := []string{"???", "??? #3", "??? #2", "abc"}
	if !slices.Equal(got.Rows, want) || !slices.Equal(got.Cols, want) {
		t.Errorf("PNG rows %q, columns %q; want both %q (distinct, the drawable name kept)", got.Rows, got.Cols, want)
	}
	if got.Title != "similarity (???)" {
		t.Errorf("PNG title %q, want %q", got.Title, "similarity (???)")
	}
	if m.Rows[0] != "模型甲" {
		t.Errorf("mapTexts changed the caller's matrix: rows %q", m.Rows)
	}
	fig := NullFigure{Suspects: []Marked{{Name: "模型甲"}}}
	if fig.mapTexts(pngTexts(fig)); fig.Suspects[0].Name != "模型甲" {
		t.Errorf("mapTexts changed the caller's figure: suspect %q", fig.Suspects[0].Name)
	}
}

// TestPNGOnlyMapsTexts: an SVG figure keeps the names as they are.
func TestPNGOnlyMapsTexts(t *testing.T) {
	m := Matrix{Rows: []string{"模型甲"}, Cols: []string{"模型甲"}, Values: [][]float64{{1}}}
	var svg bytes.Buffer
	if err := WriteFigure(&svg, m, ImageSVG); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg.Bytes(), []byte("模型甲")) {
		t.Errorf("SVG figure lost the name 模型甲")
	}
}
