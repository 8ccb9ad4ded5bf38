package probe

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
)

func TestDataProbesStratified(t *testing.T) {
	d := blobs(t, 400, 4, 3, 5) // 100 rows per class
	tests := []struct {
		n         int
		wantCount int
		wantClass int // rows per class
	}{
		{40, 40, 10},
		{8, 8, 2},
		{400, 400, 100},
		{1000, 400, 100},
		{0, 0, 0},
	}
	for _, tt := range tests {
		b := DataProbes(d, tt.n, 11)
		if b.X.Rows != tt.wantCount || b.Gen.Count != tt.wantCount {
			t.Errorf("n=%d: got %d rows (count %d), want %d", tt.n, b.X.Rows, b.Gen.Count, tt.wantCount)
		}
		per := make([]int, 4)
		seen := map[int]bool{}
		for i, s := range b.Source {
			per[d.Y[s]]++
			if seen[s] {
				t.Errorf("n=%d: row %d drawn twice", tt.n, s)
			}
			seen[s] = true
			if got, want := row(b.X, i)[0], d.Row(s)[0]; got != want {
				t.Errorf("n=%d: probe %d = %v, want source row value %v", tt.n, i, got, want)
			}
		}
		for c, got := range per {
			if got != tt.wantClass {
				t.Errorf("n=%d: class %d has %d probes, want %d", tt.n, c, got, tt.wantClass)
			}
		}
	}
	a, b, c := DataProbes(d, 30, 1), DataProbes(d, 30, 1), DataProbes(d, 30, 2)
	if !slices.Equal(a.Source, b.Source) {
		t.Errorf("same seed: got sources %v and %v, want equal", a.Source, b.Source)
	}
	if slices.Equal(a.Source, c.Source) {
		t.Errorf("different seeds gave the same sources %v", a.Source)
	}
}

func TestDataProbesUnevenClasses(t *testing.T) {
	d := blobs(t, 400, 4, 3, 5)
	d = d.Subset(append(seq(0, 300), seq(300, 310)...)) // classes of 78, 78, 77 and 77 rows
	counts := d.ClassCounts()
	b := DataProbes(d, 31, 3)
	per := make([]int, len(counts))
	for _, s := range b.Source {
		per[d.Y[s]]++
	}
	for c := range counts {
		exact := 31 * float64(counts[c]) / float64(d.Len())
		if math.Abs(float64(per[c])-exact) >= 1 {
			t.Errorf("class %d: got %d probes, want within 1 of %.2f", c, per[c], exact)
		}
	}
}

func TestNoiseProbesRange(t *testing.T) {
	d := blobs(t, 200, 3, 5, 8)
	for _, per := range []bool{false, true} {
		b := NoiseProbes(d, 500, 4, NoiseOptions{PerFeature: per})
		lo, hi := bounds(d, per)
		for i := 0; i < b.X.Rows; i++ {
			for j, v := range row(b.X, i) {
				if v < lo[j] || v > hi[j] {
					t.Fatalf("per-feature %v: probe %d feature %d = %v outside [%v, %v]", per, i, j, v, lo[j], hi[j])
				}
			}
		}
		// Uniform draws should cover most of the range.
		var mn, mx float32 = hi[0], lo[0]
		for i := 0; i < b.X.Rows; i++ {
			mn, mx = min(mn, row(b.X, i)[0]), max(mx, row(b.X, i)[0])
		}
		if span := (mx - mn) / (hi[0] - lo[0]); span < 0.95 {
			t.Errorf("per-feature %v: noise spans %.2f of the range, want ≥ 0.95", per, span)
		}
	}
}

func TestBoundaryProbesMargin(t *testing.T) {
	f := getFixture(t)
	for _, margin := range []float64{0.1, 0.02} {
		b, err := BoundaryProbes(context.Background(), f.teacher, f.test, 40, 9, BoundaryOptions{Margin: margin})
		if err != nil {
			t.Fatal(err)
		}
		if b.X.Rows != 40 {
			t.Fatalf("margin %v: got %d boundary probes, want 40 (note %q)", margin, b.X.Rows, b.Gen.Note)
		}
		p := predict(t, f.teacher, b.X)
		for i := 0; i < p.Rows; i++ {
			_, p1, p2 := top2(row(p, i))
			if float64(p1-p2) >= margin {
				t.Errorf("margin %v: probe %d has teacher margin %.4f, want < %v", margin, i, p1-p2, margin)
			}
		}
		if got := b.Gen.Settings["margin"]; got != margin {
			t.Errorf("recorded margin %v, want %v", got, margin)
		}
	}
}

func TestWatermarkProbes(t *testing.T) {
	f := getFixture(t)
	b, err := WatermarkProbes(context.Background(), f.teacher, f.train, 30, 4)
	if err != nil {
		t.Fatal(err)
	}
	if b.X.Rows != 30 || b.Gen.Kind != Watermark || b.Gen.Settings["training_data"] != 1 || b.Gen.Settings["margin"] != WatermarkMargin {
		t.Fatalf("got %d probes of kind %q, settings %v; want 30 watermark probes on training data with margin %v", b.X.Rows, b.Gen.Kind, b.Gen.Settings, WatermarkMargin)
	}
	p := predict(t, f.teacher, b.X)
	for i := 0; i < p.Rows; i++ {
		if _, p1, p2 := top2(row(p, i)); float64(p1-p2) >= WatermarkMargin {
			t.Errorf("probe %d: teacher margin %.4f, want a near-tie below %v", i, p1-p2, WatermarkMargin)
		}
	}
	if !Watermark.Known() {
		t.Errorf("kind %q is not Known", Watermark)
	}
}

func TestBoundaryProbesOneLabel(t *testing.T) {
	f := getFixture(t)
	top := argmaxRows(predict(t, f.teacher, f.test.X))
	var same []int
	for i, c := range top {
		if c == top[0] {
			same = append(same, i)
		}
	}
	b, err := BoundaryProbes(context.Background(), f.teacher, f.test.Subset(same), 10, 1, BoundaryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if b.X.Rows != 0 || b.Gen.Note == "" {
		t.Errorf("one teacher label: got %d probes and note %q, want 0 and a note", b.X.Rows, b.Gen.Note)
	}
}

func TestAdversarialProbesIncreaseLoss(t *testing.T) {
	f := getFixture(t)
	lo, hi := f.test.Range()
	tests := []struct {
		name string
		opts AdversarialOptions
	}{
		{"fgsm-untargeted", AdversarialOptions{Steps: 1, Eps: 0.15, Mode: AttackUntargeted, KeepMargin: 2}},
		{"pgd-untargeted", AdversarialOptions{Mode: AttackUntargeted, KeepMargin: 2}},
		{"pgd-targeted", AdversarialOptions{Mode: AttackTargeted, KeepMargin: 2}},
		{"pgd-both", AdversarialOptions{KeepMargin: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := AdversarialProbes(context.Background(), f.teacher, f.test, 60, 3, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if b.X.Rows != 60 {
				t.Fatalf("got %d probes, want 60 (KeepMargin 2 keeps all)", b.X.Rows)
			}
			clean := predict(t, f.teacher, gather(f.test.X, b.Source))
			adv := predict(t, f.teacher, b.X)
			eps := float32(b.Gen.Settings["eps"]) * (hi - lo)
			increased, flips := 0, 0
			var sumClean, sumAdv float64
			for i := 0; i < b.X.Rows; i++ {
				y, _, _ := top2(row(clean, i))
				lc, la := ce(row(clean, i), y), ce(row(adv, i), y)
				sumClean += lc
				sumAdv += la
				if la > lc {
					increased++
				}
				if a, _, _ := top2(row(adv, i)); a != y {
					flips++
				}
				for j, v := range row(b.X, i) {
					x0 := f.test.Row(b.Source[i])[j]
					if d := float32(math.Abs(float64(v - x0))); d > eps*1.0001 || v < lo || v > hi {
						t.Fatalf("probe %d feature %d = %v: |Δ| %v > eps %v or outside [%v, %v]", i, j, v, d, eps, lo, hi)
					}
				}
			}
			if increased < b.X.Rows*9/10 {
				t.Errorf("teacher loss rose on %d of %d probes, want ≥ 90%%", increased, b.X.Rows)
			}
			if sumAdv < 2*sumClean {
				t.Errorf("mean teacher loss %.3f → %.3f, want at least doubled", sumClean/60, sumAdv/60)
			}
			if flips < b.X.Rows/4 {
				t.Errorf("labels flipped on %d of %d probes, want ≥ 25%%", flips, b.X.Rows)
			}
			t.Logf("loss %.3f → %.3f, flips %d/%d", sumClean/60, sumAdv/60, flips, b.X.Rows)
		})
	}
}

func TestAdversarialProbesKeepOnlyNearFlips(t *testing.T) {
	f := getFixture(t)
	b, err := AdversarialProbes(context.Background(), f.teacher, f.test, 50, 3, AdversarialOptions{Eps: 0.03})
	if err != nil {
		t.Fatal(err)
	}
	clean := predict(t, f.teacher, gather(f.test.X, b.Source))
	adv := predict(t, f.teacher, b.X)
	for i := 0; i < b.X.Rows; i++ {
		y, _, _ := top2(row(clean, i))
		p := row(adv, i)
		if m := p[y] - p[argmaxExcept(p, y)]; m >= 0.2 {
			t.Errorf("probe %d kept with margin %.3f, want < 0.2", i, m)
		}
	}
	if tried := b.Gen.Settings["tried"]; tried > 150 {
		t.Errorf("tried %v sources, want ≤ Oversample·n = 150", tried)
	}
}

// teacherMistakes returns the rows of the fixture's test data its
// teacher gets wrong, in order.
func teacherMistakes(t *testing.T, f *fixture) []int {
	t.Helper()
	top := argmaxRows(predict(t, f.teacher, f.test.X))
	var wrong []int
	for i, c := range f.test.Y {
		if top[i] != c {
			wrong = append(wrong, i)
		}
	}
	return wrong
}

func TestMistakeProbes(t *testing.T) {
	f := getFixture(t)
	want := teacherMistakes(t, f)
	if len(want) < 4 {
		t.Fatalf("fixture teacher makes %d mistakes, the test needs ≥ 4", len(want))
	}
	b, err := MistakeProbes(context.Background(), f.teacher, f.test, 1000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Source, want) {
		t.Errorf("got mistake rows %v, want %v", b.Source, want)
	}
	if got := b.Gen.Settings["available"]; got != float64(len(want)) {
		t.Errorf("available = %v, want %d", got, len(want))
	}
	b, err = MistakeProbes(context.Background(), f.teacher, f.test, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	if b.X.Rows != 3 || b.Gen.Settings["available"] != float64(len(want)) {
		t.Errorf("n=3: got %d rows, available %v; want 3, %d", b.X.Rows, b.Gen.Settings["available"], len(want))
	}
	for _, s := range b.Source {
		if !slices.Contains(want, s) { // want: every row the teacher gets wrong
			t.Errorf("row %d is not a teacher mistake", s)
		}
	}
	unl := *f.test
	unl.Y = nil
	if _, err := MistakeProbes(context.Background(), f.teacher, &unl, 3, 1); !errors.Is(err, ErrUnlabelled) {
		t.Errorf("unlabelled: got %v, want ErrUnlabelled", err)
	}
}

func TestClassMap(t *testing.T) {
	tests := []struct {
		teacher, data []string
		want          []int
		wantErr       bool
	}{
		{[]string{"a", "b", "c"}, []string{"c", "a"}, []int{2, 0}, false},
		{[]string{"0", "1"}, []string{"x", "y"}, []int{0, 1}, false},
		{[]string{"0", "1"}, []string{"0", "y"}, nil, true},
		{[]string{"0", "1"}, []string{"x", "y", "z"}, nil, true},
	}
	for _, tt := range tests {
		got, err := classMap(tt.teacher, tt.data)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("classMap(%q, %q) = %v, %v; want %v, error %v", tt.teacher, tt.data, got, err, tt.want, tt.wantErr)
		}
		if err != nil && !errors.Is(err, ErrLabels) {
			t.Errorf("classMap error %v does not wrap ErrLabels", err)
		}
	}
}

func seq(a, b int) []int {
	out := make([]int, 0, b-a)
	for i := a; i < b; i++ {
		out = append(out, i)
	}
	return out
}

// TestMixedScales checks which data MixedScales calls mixed: images and
// blobs of one scale are not (the digits' enrolments keep the global
// range, so their suites are unchanged), a dataset with one feature in
// thousands beside features in tenths is, as are the shapes in between
// either side of MixedScaleRatio.
func TestMixedScales(t *testing.T) {
	scaled := func(d *dataset.Dataset, col int, by float32) *dataset.Dataset {
		x := newMatrix(d.Len(), d.Dim())
		copy(x.Data, d.X.Data)
		for i := 0; i < x.Rows; i++ {
			row(x, i)[col] *= by
		}
		s, err := dataset.New("scaled", x, d.Y, d.Labels)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	b := blobs(t, 200, 3, 5, 8)
	constant := func(d *dataset.Dataset) *dataset.Dataset {
		x := newMatrix(d.Len(), d.Dim())
		copy(x.Data, d.X.Data)
		for i := 0; i < x.Rows; i++ {
			row(x, i)[2] = 7
		}
		s, err := dataset.New("constant", x, d.Y, d.Labels)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tt := range []struct {
		name string
		d    *dataset.Dataset
		want bool
	}{
		{"digits", dataset.Digits(), false},
		{"blobs", b, false},
		{"a constant feature", constant(b), false},
		{"one feature ×3", scaled(b, 0, 3), false},
		{"one feature ×1000", scaled(b, 0, 1000), true},
		{"one feature ÷1000", scaled(scaled(scaled(scaled(b, 1, 1e-3), 2, 1e-3), 3, 1e-3), 4, 1e-3), true},
	} {
		if got := MixedScales(tt.d); got != tt.want {
			lo, hi := tt.d.Range()
			t.Errorf("%s (range %g to %g): MixedScales = %v, want %v", tt.name, lo, hi, got, tt.want)
		}
	}
}
