package report

import (
	"bytes"
	"cmp"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"
)

func sampleNull() NullFigure {
	rng := rand.New(rand.NewPCG(1, 2))
	fig := NullFigure{Teacher: "digits-mlp", Statistic: "top-1 agreement", Higher: "closer to the teacher", Alpha: 0.01}
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
		{Name: "marked", Value: 0.35, Verdict: "derived", DecidedBy: "watermark"},
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
	for _, want := range []string{"top-1 agreement of suspects against the null of teacher digits-mlp (verdicts at α = 0.01)",
		"top-1 agreement (higher = closer to the teacher)", "negative controls (n=40)",
		"positive controls (n=8)", "student-kd: derived, top-1 agreement = 0.9100", "broken: error, no top-1 agreement value",
		"marked: derived, top-1 agreement = 0.3500 (verdict decided by watermark)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestNullFigureReferences(t *testing.T) {
	fig := sampleNull()
	fig.References = []float64{0.55, 0.6, math.NaN()}
	var buf bytes.Buffer
	if err := WriteFigure(&buf, fig, ImageSVG); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"references (n=2)", "null (negatives, references)", "negative controls (n=40)"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("SVG with references lacks %q", want)
		}
	}
	buf.Reset()
	if err := WriteFigure(&buf, sampleNull(), ImageSVG); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); strings.Contains(s, "references") {
		t.Errorf("SVG without references mentions them")
	}
}

func TestMatrixContent(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteFigure(&buf, sampleMatrix(), ImageSVG); err != nil {
		t.Fatal(err)
	}
	// The colour scale is labelled with the statistic, and says what grey is.
	for _, want := range []string{"Pairwise agreement", ">top-1 agreement (grey, NaN: no value)<", ">NaN<", ">student-kd<"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
	m := sampleMatrix()
	m.Values[2][3] = 0.4
	buf.Reset()
	if err := WriteFigure(&buf, m, ImageSVG); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); !strings.Contains(s, ">top-1 agreement<") || strings.Contains(s, "grey") {
		t.Errorf("without NaN cells the scale should read just %q", "top-1 agreement")
	}
}

func TestCellTextColor(t *testing.T) {
	cmap := moreland.Kindlmann()
	cmap.SetMin(0)
	cmap.SetMax(1)
	for v, want := range map[float64]color.Color{0: color.White, 0.1: color.White, 0.95: color.Black, 1: color.Black, math.NaN(): color.Black} {
		if got := cellTextColor(cmap, v); got != want {
			t.Errorf("text on the colour of %v: %v, want %v", v, got, want)
		}
	}
}

func TestNullFigureTitle(t *testing.T) {
	for _, tc := range []struct {
		fig  NullFigure
		want string
	}{
		{NullFigure{}, "Statistic of suspects against the null"},
		{NullFigure{Teacher: "acme", Statistic: "lineage_score"}, "lineage_score of suspects against the null of teacher acme"},
		{NullFigure{Teacher: "acme", Statistic: "lineage_score", Alpha: 0.05}, "lineage_score of suspects against the null of teacher acme (verdicts at α = 0.05)"},
		{NullFigure{Statistic: "s", Alpha: math.NaN()}, "s of suspects against the null"},
	} {
		if got := tc.fig.title(); got != tc.want {
			t.Errorf("title of %+v: %q, want %q", tc.fig, got, tc.want)
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
		l, err := sampleNull().layout()
		if err != nil {
			t.Fatal(err)
		}
		w, h := l.w+2*figureMargin, l.h+2*figureMargin
		wantW, wantH := int(math.Ceil(float64(w/vg.Inch)*FigureDPI)), int(math.Ceil(float64(h/vg.Inch)*FigureDPI))
		if abs(cfg.Width-wantW) > 1 || abs(cfg.Height-wantH) > 1 {
			t.Errorf("%q: PNG is %d×%d px, want %d×%d (%g dpi)", format, cfg.Width, cfg.Height, wantW, wantH, float64(FigureDPI))
		}
	}
}

func abs(n int) int { return max(n, -n) }

// crowdedNull is sampleNull with suspects whose values nearly coincide, a
// long name and one at the right edge of the axis.
func crowdedNull() NullFigure {
	fig := sampleNull()
	fig.Suspects = append(fig.Suspects,
		Marked{Name: "a-very-long-suspect-name-that-goes-on-and-on-v2", Value: 0.905, Verdict: "derived"},
		Marked{Name: "s5", Value: 0.91, Verdict: "derived"},
		Marked{Name: "edge-right-model", Value: 0.98, Verdict: "derived"},
		Marked{Name: "low", Value: 0.05, Verdict: "independent"},
		Marked{Name: "same-as-indep", Value: 0.33, Verdict: "independent"})
	return fig
}

// textBox is the extent of a string a figure draws, in canvas units.
type textBox struct {
	s   string
	min vg.Point
	max vg.Point
}

// figureTexts draws fig on a recording canvas and returns the figure's size
// and the boxes of its unrotated strings (rotated tick labels are left out).
func figureTexts(t *testing.T, fig Figure) (w, h vg.Length, boxes []textBox) {
	t.Helper()
	l, err := fig.layout()
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder.Canvas{}
	l.draw(draw.Canvas{Canvas: rec, Rectangle: vg.Rectangle{Max: vg.Point{X: l.w, Y: l.h}}})
	var rotated []bool // a stack: is the text drawn now rotated?
	for _, a := range rec.Actions {
		switch a := a.(type) {
		case *recorder.Push:
			rotated = append(rotated, len(rotated) > 0 && rotated[len(rotated)-1])
		case *recorder.Pop:
			rotated = rotated[:len(rotated)-1]
		case *recorder.Rotate:
			if a.Angle != 0 && len(rotated) > 0 {
				rotated[len(rotated)-1] = true
			}
		case *recorder.FillString:
			if len(rotated) > 0 && rotated[len(rotated)-1] {
				continue
			}
			face := font.DefaultCache.Lookup(a.Font, a.Size)
			ext := face.Extents()
			boxes = append(boxes, textBox{s: a.String,
				min: vg.Point{X: a.Point.X, Y: a.Point.Y - ext.Descent},
				max: vg.Point{X: a.Point.X + face.Width(a.String), Y: a.Point.Y + ext.Ascent}})
		}
	}
	return l.w, l.h, boxes
}

func TestFigureTextDoesNotOverlap(t *testing.T) {
	figs := map[string]Figure{
		"null":         sampleNull(),
		"null-crowded": crowdedNull(),
		"null-labels":  labelOnlyNull(),
		"null-long-title": NullFigure{Teacher: "acme-production-classifier-2026-03-retrained-on-the-full-corpus",
			Statistic: "mean Jensen-Shannon divergence after temperature fit", Alpha: 0.001, Null: []float64{0.1, 0.2}},
		"matrix": sampleMatrix(),
		// Names may be 1,024 bytes: titles are shortened, not as wide
		// as the name or running off the figure.
		"null-1000-rune-teacher": NullFigure{Teacher: strings.Repeat("T", 1000), Statistic: "s", Alpha: 0.01, Null: []float64{0.1, 0.2}},
		"matrix-1000-rune-title": func() Matrix { m := sampleMatrix(); m.Title = strings.Repeat("T", 1000); return m }(),
		"null-1000-rune-suspect": func() NullFigure {
			f := sampleNull()
			f.Suspects[1].Name = strings.Repeat("S", 1000)
			return f
		}(),
	}
	const slack = 0.5 // points: font extents include some blank
	for name, fig := range figs {
		w, h, boxes := figureTexts(t, fig)
		if w > 16*vg.Inch {
			t.Errorf("%s: %v wide, want at most 16 in", name, w)
		}
		if len(boxes) < 5 {
			t.Fatalf("%s: only %d strings drawn", name, len(boxes))
		}
		for i, a := range boxes {
			// gonum draws a title's top a descent above its canvas: the
			// figure's margin is room for that, not for more.
			const out = figureMargin / 2
			if a.min.X < -out || a.min.Y < -out || a.max.X > w+out || a.max.Y > h+out {
				t.Errorf("%s: %q at %v–%v is outside the %v×%v figure", name, a.s, a.min, a.max, w, h)
			}
			for _, b := range boxes[i+1:] {
				if a.min.X < b.max.X-slack && b.min.X < a.max.X-slack && a.min.Y < b.max.Y-slack && b.min.Y < a.max.Y-slack {
					t.Errorf("%s: %q (%v–%v) overlaps %q (%v–%v)", name, a.s, a.min, a.max, b.s, b.min, b.max)
				}
			}
		}
	}
}

func TestNullFigureNamesEverySuspect(t *testing.T) {
	fig := crowdedNull()
	_, _, boxes := figureTexts(t, fig)
	drawn := map[string]bool{}
	for _, b := range boxes {
		drawn[b.s] = true
	}
	for _, m := range fig.Suspects {
		box := shortenMiddle(m.Name, maxMarkRunes) + ": " + m.Verdict
		if finite(m.Value) != drawn[box] {
			t.Errorf("suspect %s (value %v): box drawn %v", m.Name, m.Value, drawn[box])
		}
	}
}

func TestDenseTicks(t *testing.T) {
	labels := func(lo, hi float64) []string {
		var out []string
		ts := (denseTicks{}).Ticks(lo, hi)
		slices.SortFunc(ts, func(a, b plot.Tick) int { return cmp.Compare(a.Value, b.Value) })
		for _, tk := range ts {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	// The demo's lineage_score axis: gonum labels only 0.00 and 2.50.
	if got, want := labels(-0.2, 2.6), []string{"0.0", "0.5", "1.0", "1.5", "2.0", "2.5"}; !slices.Equal(got, want) {
		t.Errorf("ticks on [-0.2, 2.6]: %q, want %q", got, want)
	}
	if got := labels(0, 1); len(got) < 3 {
		t.Errorf("ticks on [0, 1]: %q", got)
	}
}

func TestStackLabels(t *testing.T) {
	xs := []vg.Length{50, 52, 10, 200, 51, 99}
	ws := []vg.Length{30, 10, 40, 60, 30, 20}
	left, level := stackLabels(xs, ws, 0, 220, 3)
	for i := range xs {
		if left[i] < 0 || left[i]+ws[i] > 220 {
			t.Errorf("box %d at [%v, %v] is outside [0, 220]", i, left[i], left[i]+ws[i])
		}
		if xs[i] >= ws[i]/2 && xs[i]+ws[i]/2 <= 220 && left[i] != xs[i]-ws[i]/2 {
			t.Errorf("box %d is not centred on %v: left edge %v", i, xs[i], left[i])
		}
		for j := range i {
			if level[i] == level[j] && left[i] < left[j]+ws[j]+3 && left[j] < left[i]+ws[i]+3 {
				t.Errorf("boxes %d and %d overlap on level %d", i, j, level[i])
			}
		}
	}
	if want := []int{1, 0, 0, 0, 2, 0}; !slices.Equal(level, want) {
		t.Errorf("levels %v, want %v", level, want)
	}
}

// TestMatrixLongNames: models with long names keep a heat map readable.
// The full names were the axis labels, and from about 45 runes on they
// squeezed the map into a corner (the colour scale got a negative width).
func TestMatrixLongNames(t *testing.T) {
	for _, n := range []int{45, 120, 1000} {
		m := sampleMatrix()
		long := strings.Repeat("x", n-4) + "-end"
		m.Rows[1], m.Cols[1] = long, long
		var buf bytes.Buffer
		if err := WriteFigure(&buf, m, ImageSVG); err != nil {
			t.Fatal(err)
		}
		svg := buf.String()
		fig := regexp.MustCompile(`<svg width="([0-9.]+)pt"`).FindStringSubmatch(svg)
		bar := regexp.MustCompile(`<image x="[^"]*" y="[^"]*" width="([-0-9.e]+)"`).FindStringSubmatch(svg)
		if fig == nil || bar == nil {
			t.Fatalf("%d runes: SVG without a width or a colour scale", n)
		}
		figW, _ := strconv.ParseFloat(fig[1], 64)
		barW, _ := strconv.ParseFloat(bar[1], 64)
		if barW < 0.4*figW {
			t.Errorf("%d runes: the map is %.0f pt wide in a %.0f pt figure, want at least 40%%", n, barW, figW)
		}
		if want := ">" + shortenMiddle(long, maxAxisRunes) + "<"; !strings.Contains(svg, want) || !strings.HasSuffix(want, "-end<") {
			t.Errorf("%d runes: SVG lacks the shortened label %q", n, want)
		}
	}
}

func TestAxisLabels(t *testing.T) {
	long := func(mid string) string {
		return "model-" + strings.Repeat("·", 15) + mid + strings.Repeat("·", 15) + "tail"
	}
	for _, tt := range []struct {
		names, want []string
	}{
		{[]string{"a", "b"}, []string{"a", "b"}},
		{[]string{strings.Repeat("a", 24)}, []string{strings.Repeat("a", 24)}},
		{[]string{strings.Repeat("a", 25)}, []string{strings.Repeat("a", 16) + "…" + strings.Repeat("a", 7)}},
		{[]string{long("a"), long("a"), long("b")},
			[]string{"model-··········…···tail", "model-··········…···tail", "model-········…··tail #2"}},
		// A role note is kept whole, after the name shortened on its
		// own: the label read "independent-mode…uspect)".
		{[]string{"independent-model (suspect)", "label-only-extraction-through-mixup (suspect)", "ref (a note longer than twelve)"},
			[]string{"independent-model (suspect)", "label-only-extra…h-mixup (suspect)", "ref (a note long…twelve)"}},
		{[]string{long("a") + " (suspect)", long("a") + " (suspect)", long("b") + " (suspect)"},
			[]string{"model-··········…···tail (suspect)", "model-··········…···tail (suspect)", "model-········…··tail (suspect) #2"}},
	} {
		got := axisLabels(tt.names)
		if !slices.Equal(got, tt.want) {
			t.Errorf("axisLabels(%q) = %q, want %q", tt.names, got, tt.want)
		}
		for _, l := range got {
			name, _, _ := strings.Cut(l, " (suspect)") // the role is not counted
			if n := utf8.RuneCountInString(name); n > maxAxisRunes {
				t.Errorf("axisLabels: %q has %d runes, want at most %d", l, n, maxAxisRunes)
			}
		}
	}
}
