package probe

import (
	"context"
	"math"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
)

// TestAdversarialProbesStayInRange attacks rows whose every feature sits at
// an end of the data's range, so that about half of each first step points
// outside it: the probes must be clipped back into [lo, hi], globally or
// per feature.
func TestAdversarialProbesStayInRange(t *testing.T) {
	f := getFixture(t)
	lo, hi := f.test.Range()
	x := newMatrix(f.test.Len(), f.test.Dim())
	for i := range x.Rows {
		for j, v := range f.test.Row(i) {
			row(x, i)[j] = lo
			if v > (lo+hi)/2 {
				row(x, i)[j] = hi
			}
		}
	}
	d, err := dataset.New("corners", x, f.test.Y, f.test.Labels)
	if err != nil {
		t.Fatal(err)
	}
	for _, per := range []bool{false, true} {
		b, err := AdversarialProbes(context.Background(), f.teacher, d, 30, 3, AdversarialOptions{Eps: 0.2, KeepMargin: 2, PerFeature: per})
		if err != nil {
			t.Fatal(err)
		}
		flo, fhi := bounds(d, per)
		moved := 0
		for i := range b.X.Rows {
			for j, v := range row(b.X, i) {
				if v < flo[j] || v > fhi[j] {
					t.Fatalf("per-feature %v: probe %d feature %d = %v outside [%v, %v]", per, i, j, v, flo[j], fhi[j])
				}
				if v != d.Row(b.Source[i])[j] {
					moved++
				}
			}
		}
		if moved == 0 {
			t.Errorf("per-feature %v: no feature moved; the attack did nothing", per)
		}
	}
}

// TestAdversarialProbesBatchInvariant checks that the probes do not depend
// on how many rows are attacked together: with AttackBoth, every other
// source in the drawn order is targeted, counted across batches, so odd
// batch sizes give the same probes as one batch.
func TestAdversarialProbesBatchInvariant(t *testing.T) {
	f := getFixture(t)
	opts := AdversarialOptions{Steps: 3, KeepMargin: 2}
	one, err := AdversarialProbes(context.Background(), f.teacher, f.test, 21, 8, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 5} {
		opts.Batch = batch
		b, err := AdversarialProbes(context.Background(), f.teacher, f.test, 21, 8, opts)
		if err != nil {
			t.Fatal(err)
		}
		if b.X.Rows != one.X.Rows {
			t.Fatalf("batch %d: %d probes, want %d", batch, b.X.Rows, one.X.Rows)
		}
		for i := range b.X.Rows {
			for j, v := range row(b.X, i) {
				if w := row(one.X, i)[j]; math.Abs(float64(v-w)) > 1e-5 {
					t.Fatalf("batch %d: probe %d feature %d = %v, want %v as in one batch", batch, i, j, v, w)
				}
			}
		}
	}
}

// TestAdversarialDefaults pins the documented defaults of the zero
// AdversarialOptions, among them Madry's step size 2.5·Eps/Steps.
func TestAdversarialDefaults(t *testing.T) {
	tests := []struct {
		in, want AdversarialOptions
	}{
		{AdversarialOptions{}, AdversarialOptions{Eps: 0.1, Steps: 10, StepSize: 0.025, Mode: AttackBoth, KeepMargin: 0.2, Oversample: 3, Batch: 256}},
		{AdversarialOptions{Eps: 0.2, Steps: 4}, AdversarialOptions{Eps: 0.2, Steps: 4, StepSize: 0.125, Mode: AttackBoth, KeepMargin: 0.2, Oversample: 3, Batch: 256}},
		{AdversarialOptions{Eps: 0.3, Steps: 1}, AdversarialOptions{Eps: 0.3, Steps: 1, StepSize: 0.3, Mode: AttackBoth, KeepMargin: 0.2, Oversample: 3, Batch: 256}},
	}
	for _, tt := range tests {
		got := tt.in.withDefaults()
		if math.Abs(got.StepSize-tt.want.StepSize) < 1e-12 {
			got.StepSize = tt.want.StepSize
		}
		if got != tt.want {
			t.Errorf("%+v with defaults = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
