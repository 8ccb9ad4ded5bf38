package report

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot/vg"
)

// manySuspects returns sampleNull with n suspects, values spread over the
// null's range, the i-th DERIVED when derived says so.
func manySuspects(n int, derived func(i int) bool) NullFigure {
	fig := sampleNull()
	fig.Suspects = nil
	for i := range n {
		m := Marked{Name: fmt.Sprintf("suspect-%05d", i), Value: float64(i%97) / 100, Verdict: "NOT_DERIVED"}
		if derived(i) {
			m.Verdict = "DERIVED"
		}
		fig.Suspects = append(fig.Suspects, m)
	}
	return fig
}

func TestNullFigureMarked(t *testing.T) {
	none := func(int) bool { return false }
	tests := []struct {
		name       string
		fig        NullFigure
		wantShown  []int // nil: every suspect
		wantOthers int
	}{
		{"few", manySuspects(MaxMarkedSuspects, none), nil, 0},
		{"closest first", manySuspects(MaxMarkedSuspects+5, none),
			// values i%97/100: the 5 smallest (i = 0…4) are not named
			seq(5, MaxMarkedSuspects+5), 5},
		{"derived first", manySuspects(MaxMarkedSuspects+5, func(i int) bool { return i < 2 }),
			append([]int{0, 1}, seq(7, MaxMarkedSuspects+5)...), 5},
		{"no value last", func() NullFigure {
			f := manySuspects(MaxMarkedSuspects+1, none)
			f.Suspects[MaxMarkedSuspects].Value = math.NaN()
			return f
		}(), seq(0, MaxMarkedSuspects), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shown, others, othersLabels := tt.fig.marked()
			if len(othersLabels) > 0 {
				t.Errorf("%d label-only others, want none", len(othersLabels))
			}
			want := tt.wantShown
			if want == nil {
				want = seq(0, len(tt.fig.Suspects))
			}
			if !slices.Equal(shown, want) {
				t.Errorf("marked %v, want %v", shown, want)
			}
			if len(others) != tt.wantOthers {
				t.Errorf("%d others, want %d", len(others), tt.wantOthers)
			}
		})
	}
}

// seq returns lo, lo+1, …, hi-1.
func seq(lo, hi int) []int {
	var out []int
	for i := lo; i < hi; i++ {
		out = append(out, i)
	}
	return out
}

// TestNullFigureManySuspects checks the figure of a registry's hundreds of
// suspects: as tall as one of MaxMarkedSuspects (it was a legend line and
// a box per suspect, 68,000 pixels tall at 1,000), naming the others'
// number in the legend, its text not overlapping.
func TestNullFigureManySuspects(t *testing.T) {
	_, hFew, _ := figureTexts(t, manySuspects(MaxMarkedSuspects, func(int) bool { return false }))
	fig := manySuspects(1000, func(i int) bool { return i%50 == 0 })
	w, h, boxes := figureTexts(t, fig)
	if h > hFew+vg.Inch {
		t.Errorf("1,000 suspects: %v tall, want about the %v of %d", h, hFew, MaxMarkedSuspects)
	}
	named := 0
	for _, b := range boxes {
		if strings.HasPrefix(b.s, "suspect-") && strings.Contains(b.s, ": ") && !strings.Contains(b.s, "=") {
			named++
		}
	}
	if named != MaxMarkedSuspects {
		t.Errorf("%d suspects named in boxes, want %d", named, MaxMarkedSuspects)
	}
	for i, a := range boxes {
		if a.max.X > w+figureMargin {
			t.Errorf("%q runs off the %v-wide figure", a.s, w)
		}
		for _, b := range boxes[i+1:] {
			if a.min.X < b.max.X-0.5 && b.min.X < a.max.X-0.5 && a.min.Y < b.max.Y-0.5 && b.min.Y < a.max.Y-0.5 {
				t.Errorf("%q overlaps %q", a.s, b.s)
			}
		}
	}
	var buf bytes.Buffer
	if err := WriteFigure(&buf, fig, ImageSVG); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("%d other suspects, not named", 1000-MaxMarkedSuspects); !strings.Contains(buf.String(), want) {
		t.Errorf("SVG lacks %q", want)
	}
}

// TestNullFigureBoxNamesKeepEnds checks that suspects whose names differ
// only at the end (a run number) get name boxes that tell them apart, as
// their legend entries do: the boxes cut names at 32 runes and kept the
// start only, so "…-run-1" and "…-run-2" were drawn as the same box.
func TestNullFigureBoxNamesKeepEnds(t *testing.T) {
	fig := sampleNull()
	const stem = "acme-distilled-student-on-the-full-corpus-run-"
	fig.Suspects = []Marked{{Name: stem + "1", Value: 0.5, Verdict: "DERIVED"}, {Name: stem + "2", Value: 0.6, Verdict: "NOT_DERIVED"}}
	_, _, boxes := figureTexts(t, fig)
	var named []string
	for _, b := range boxes {
		if strings.HasPrefix(b.s, "acme-") && strings.HasSuffix(b.s, "DERIVED") && !strings.Contains(b.s, "=") {
			named = append(named, b.s)
		}
	}
	if len(named) != 2 {
		t.Fatalf("name boxes %q, want 2", named)
	}
	for i, suffix := range []string{"run-1: DERIVED", "run-2: NOT_DERIVED"} {
		if !strings.HasSuffix(named[i], suffix) {
			t.Errorf("box %q, want it to end in %q (the name's end kept)", named[i], suffix)
		}
	}
}
