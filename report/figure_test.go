package report

import (
	"bytes"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

func sampleNull() NullFigure {
	rng := rand.New(rand.NewPCG(1, 2))
	fig := NullFigure{Teacher: "digits-mlp", Statistic: "top-1 agreement"}
	for range 40 {
		fig.Null = append(fig.Null, 0.3+0.1*rng.NormFloat64())
	}
	for range 8 {
		fig.Positives = append(fig.Positives, 0.9+0.03*rng.NormFloat64())
	}
	fig.Null = append(fig.Null, math.NaN(), math.Inf(1)) // dropped, not fatal
	fig.Suspects = []Marked{
		{Name: "student-kd", Value: 0.91, Verdict: "derived"},
		{Name: "indep", Value: 0.33, Verdict: "independent"},
		{Name: "broken", Value: math.NaN(), Verdict: "error"},
	}
	return fig
}

func sampleMatrix() Matrix {
	names := []string{"teacher", "student-kd", "indep", "ref-1"}
	m := Matrix{Title: "Pairwise agreement", Statistic: "top-1 agreement", Rows: names, Cols: names}
	for i := range names {
		row := make([]float64, len(names))
		for j := range row {
			row[j] = 1 / (1 + math.Abs(float64(i-j)))
		}
		m.Values = append(m.Values, row)
	}
	m.Values[2][3] = math.NaN()
	return m
}

func TestWriteFigure(t *testing.T) {
	figs := map[string]Figure{
		"null":        sampleNull(),
		"null-empty":  NullFigure{},
		"null-single": NullFigure{Null: []float64{0.5}},
		"matrix":      sampleMatrix(),
		"matrix-flat": Matrix{Rows: []string{"a"}, Cols: []string{"b"}, Values: [][]float64{{0.5}}},
	}
	for name, fig := range figs {
		for _, f := range ImageFormats() {
			t.Run(name+"/"+string(f), func(t *testing.T) {
				var a, b bytes.Buffer
				if err := WriteFigure(&a, fig, f); err != nil {
					t.Fatalf("WriteFigure: %v", err)
				}
				if err := WriteFigure(&b, fig, f); err != nil {
					t.Fatalf("WriteFigure (2nd): %v", err)
				}
				if !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Errorf("two renderings differ (%d vs %d bytes)", a.Len(), b.Len())
				}
				head := a.String()[:min(a.Len(), 200)]
				switch f {
				case ImagePNG:
					if !strings.HasPrefix(head, "\x89PNG\r\n\x1a\n") {
						t.Errorf("not a PNG: %q", head[:min(len(head), 16)])
					}
				case ImageSVG:
					if !strings.Contains(head, "<svg") {
						t.Errorf("not an SVG: %q", head)
					}
				}
				if minSize := map[bool]int{true: 5000, false: 500}[name == "null" || name == "matrix"]; a.Len() < minSize {
					t.Errorf("suspiciously small %s: %d bytes", f, a.Len())
				}
			})
		}
	}
}

func TestNullFigureContent(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFigure(&buf, sampleNull(), ImageSVG); err != nil {
		t.Fatal(err)
	}
	// The legend and labels are text in the SVG.
	for _, want := range []string{"digits-mlp", "top-1 agreement", "negative controls (n=40)",
		"positive controls (n=8)", "student-kd: derived (0.91)", "broken: error (NaN)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestFigureErrors(t *testing.T) {
	bad := []Matrix{
		{},
		{Rows: []string{"a", "b"}, Cols: []string{"a"}, Values: [][]float64{{1}}},
		{Rows: []string{"a"}, Cols: []string{"a", "b"}, Values: [][]float64{{1}}},
		{Rows: []string{"a"}, Cols: []string{"a", "b"}, Values: [][]float64{{1, math.Inf(1)}}},
	}
	for i, m := range bad {
		if err := WriteFigure(&bytes.Buffer{}, m, ImagePNG); err == nil {
			t.Errorf("matrix %d: no error for a bad shape", i)
		}
	}
	if err := WriteFigure(&bytes.Buffer{}, sampleNull(), ImageFormat("gif")); err == nil {
		t.Errorf("gif: no error")
	}
}

func TestSaveFigure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "null.svg")
	if err := SaveFigure(path, sampleNull()); err != nil {
		t.Fatalf("SaveFigure: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(data[:min(len(data), 200)], []byte("<svg")) {
		t.Fatalf("saved file: err=%v, %d bytes", err, len(data))
	}
	if err := SaveFigure(filepath.Join(dir, "x.bmp"), sampleNull()); err == nil {
		t.Errorf("SaveFigure .bmp: no error")
	}
	if err := SaveFigure(filepath.Join(dir, "bad.png"), Matrix{}); err == nil {
		t.Errorf("SaveFigure of a bad matrix: no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only null.svg (temp files left behind?)", names)
	}
}

func BenchmarkWriteNullPNG(b *testing.B) {
	fig := sampleNull()
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteFigure(&bytes.Buffer{}, fig, ImagePNG); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFigurePNGResolution(t *testing.T) {
	for _, format := range []ImageFormat{ImagePNG, "PNG", ".png"} {
		var buf bytes.Buffer
		if err := WriteFigure(&buf, sampleNull(), format); err != nil {
			t.Fatalf("%q: %v", format, err)
		}
		cfg, err := png.DecodeConfig(&buf)
		if err != nil {
			t.Fatalf("%q: decoding the PNG: %v", format, err)
		}
		_, w, h, err := sampleNull().build()
		if err != nil {
			t.Fatal(err)
		}
		wantW, wantH := int(math.Ceil(float64(w/vg.Inch)*FigureDPI)), int(math.Ceil(float64(h/vg.Inch)*FigureDPI))
		if abs(cfg.Width-wantW) > 1 || abs(cfg.Height-wantH) > 1 {
			t.Errorf("%q: PNG is %d×%d px, want %d×%d (%g dpi)", format, cfg.Width, cfg.Height, wantW, wantH, float64(FigureDPI))
		}
	}
}

func abs(n int) int { return max(n, -n) }
