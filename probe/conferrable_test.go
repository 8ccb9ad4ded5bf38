package probe

import (
	"context"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// conferControls returns derived models (copies of the teacher with small
// weight noise) and independent models (trained from other seeds) for the
// shared fixture.
func conferControls(t testing.TB) (pos, neg []*model.MLP) {
	t.Helper()
	f := getFixture(t)
	for i := range 4 {
		m := f.teacher.Clone()
		rng := rand.New(rand.NewPCG(uint64(i), 31))
		for j := range m.Theta {
			m.Theta[j] += float32(0.05 * rng.NormFloat64())
		}
		pos = append(pos, m)
		neg = append(neg, train(t, f.train, 16, 300, uint64(100+i)))
	}
	return pos, neg
}

func TestConferrableProbes(t *testing.T) {
	f := getFixture(t)
	pos, neg := conferControls(t)
	ctx := context.Background()
	lo, hi := f.test.Range()
	tests := []struct {
		name string
		opts ConferrableOptions
	}{
		{"defaults", ConferrableOptions{}},
		{"runner-up, no folds", ConferrableOptions{Target: TargetRunnerUp, Folds: 1, Eps: 0.1, Steps: 10}},
		{"random, per-feature", ConferrableOptions{Target: TargetRandom, PerFeature: true, Eps: 0.2}},
		{"hard negatives, two per source", ConferrableOptions{HardNeg: 1, PerSource: 2, Batch: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 40
			b, err := ConferrableProbes(ctx, f.teacher, pos, neg, f.test, n, 3, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			o := tt.opts.withDefaults()
			s := b.Gen.Settings
			if b.Gen.Kind != Conferrable || b.Gen.Count != b.X.Rows || len(b.Source) != b.X.Rows {
				t.Fatalf("got kind %q, count %d, %d sources for %d rows; want conferrable and consistent", b.Gen.Kind, b.Gen.Count, len(b.Source), b.X.Rows)
			}
			if b.X.Rows < n/2 || b.X.Rows > n {
				t.Errorf("got %d probes, want between %d and %d (note %q)", b.X.Rows, n/2, n, b.Gen.Note)
			}
			if !(s["objective_end"] > s["objective_start"]+0.5) {
				t.Errorf("objective went from %.3f to %.3f, want an increase of at least 0.5", s["objective_start"], s["objective_end"])
			}
			perSrc := map[int]int{}
			for i, src := range b.Source {
				perSrc[src]++
				p, x0 := row(b.X, i), f.test.Row(src)
				for j := range p {
					var r float32
					if o.PerFeature {
						r = featureRange(f.test, j)
					} else {
						r = hi - lo
					}
					if d := math.Abs(float64(p[j] - x0[j])); d > o.Eps*float64(r)+1e-4 {
						t.Fatalf("probe %d feature %d moved %g, want at most eps·range = %g", i, j, d, o.Eps*float64(r))
					}
					if p[j] < lo-1e-6 || p[j] > hi+1e-6 {
						t.Fatalf("probe %d feature %d = %g outside [%g, %g]", i, j, p[j], lo, hi)
					}
				}
			}
			for src, c := range perSrc {
				if c > o.PerSource {
					t.Errorf("source %d has %d probes, want at most %d", src, c, o.PerSource)
				}
			}
			// The teacher's label changed, and its students follow it more
			// often than the independent models do.
			tp := argmaxRows(predict(t, f.teacher, b.X))
			t0 := argmaxRows(predict(t, f.teacher, gather(f.test.X, b.Source)))
			for i := range tp {
				if tp[i] == t0[i] {
					t.Errorf("probe %d: teacher label %d equals its label on the clean source", i, tp[i])
				}
			}
			agree := func(ms []*model.MLP) float64 {
				var a float64
				for _, m := range ms {
					for i, c := range argmaxRows(predict(t, m, b.X)) {
						if c == tp[i] {
							a++
						}
					}
				}
				return a / float64(len(ms)*len(tp))
			}
			if pa, na := agree(pos), agree(neg); pa < na+0.5 {
				t.Errorf("agreement with the teacher: derived %.3f, independent %.3f; want derived ahead by 0.5", pa, na)
			}
		})
	}
}

// featureRange returns the range of column j of d.
func featureRange(d *dataset.Dataset, j int) float32 {
	lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
	for i := 0; i < d.Len(); i++ {
		lo, hi = min(lo, d.Row(i)[j]), max(hi, d.Row(i)[j])
	}
	return hi - lo
}

func TestConferrableProbesDeterministic(t *testing.T) {
	f := getFixture(t)
	pos, neg := conferControls(t)
	ctx := context.Background()
	opts := ConferrableOptions{Steps: 10}
	a, err := ConferrableProbes(ctx, f.teacher, pos, neg, f.test, 20, 7, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := ConferrableProbes(ctx, f.teacher, pos, neg, f.test, 20, 7, opts)
	c, _ := ConferrableProbes(ctx, f.teacher, pos, neg, f.test, 20, 8, opts)
	if !slices.Equal(a.X.Data, b.X.Data) || !slices.Equal(a.Source, b.Source) {
		t.Errorf("same seed gave different probes")
	}
	if slices.Equal(a.X.Data, c.X.Data) {
		t.Errorf("seeds 7 and 8 gave the same probes")
	}
	s, err := Finalize("conf", f.teacher.Labels, a)
	if err != nil {
		t.Fatalf("Finalize: %v", err)
	}
	if got := s.Counts()[Conferrable]; got != a.X.Rows {
		t.Errorf("suite has %d conferrable probes, want %d", got, a.X.Rows)
	}
}

// TestConferrableProbesGOMAXPROCS checks that the probes, their sources
// and the settings recorded (the objective summed over the attacks among
// them) do not depend on how many batches of pairs are attacked at once:
// GOMAXPROCS 1 and 4, with batches of 7 pairs so that many are in flight,
// and one, two or three folds. A suite's hash, which an owner publishes,
// covers all three.
func TestConferrableProbesGOMAXPROCS(t *testing.T) {
	f := getFixture(t)
	pos, neg := conferControls(t)
	run := func(procs, folds int) Batch {
		t.Helper()
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		b, err := ConferrableProbes(context.Background(), f.teacher, pos, neg, f.test, 20, 7, ConferrableOptions{Steps: 5, Batch: 7, Folds: folds})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, folds := range []int{1, 2, 3} {
		a, b := run(1, folds), run(4, folds)
		if a.X.Rows == 0 {
			t.Fatalf("folds %d: no probe kept, nothing compared", folds)
		}
		if !slices.Equal(a.X.Data, b.X.Data) || !slices.Equal(a.Source, b.Source) {
			t.Errorf("folds %d: probes or sources differ between GOMAXPROCS 1 (sources %v) and 4 (%v)", folds, a.Source, b.Source)
		}
		if !maps.Equal(a.Gen.Settings, b.Gen.Settings) {
			t.Errorf("folds %d: settings under GOMAXPROCS 4 are %v, want %v as under 1", folds, b.Gen.Settings, a.Gen.Settings)
		}
	}
}

func TestConferrableProbesErrors(t *testing.T) {
	f := getFixture(t)
	pos, neg := conferControls(t)
	wide := model.NewMLP([]int{7, 4, 4}, model.ActReLU, model.DefaultLabels(4), rand.New(rand.NewPCG(1, 1)))
	ctx := context.Background()
	tests := []struct {
		name     string
		pos, neg []*model.MLP
		opts     ConferrableOptions
		want     error
	}{
		{"no positives", nil, neg, ConferrableOptions{}, ErrNoControls},
		{"no negatives", pos, nil, ConferrableOptions{}, ErrNoControls},
		{"wrong input size", pos, append([]*model.MLP{wide}, neg...), ConferrableOptions{}, ErrShape},
		{"unknown target", pos, neg, ConferrableOptions{Target: "sideways"}, nil},
	}
	for _, tt := range tests {
		_, err := ConferrableProbes(ctx, f.teacher, tt.pos, tt.neg, f.test, 5, 1, tt.opts)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("%s: got error %v, want %v", tt.name, err, tt.want)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ConferrableProbes(ctx, f.teacher, pos, neg, f.test, 5, 1, ConferrableOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}
}

func BenchmarkConferrableProbes(b *testing.B) {
	f := getFixture(b)
	pos, neg := conferControls(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ConferrableProbes(ctx, f.teacher, pos, neg, f.test, 50, 1, ConferrableOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
