package audit

import (
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/watermark"
)

// Defaults of EnrollOptions.
const (
	DefaultControls  = 16    // positive controls; NegativesPerPositive times as many negatives
	DefaultSuiteSize = 300   // probes kept by conferrable selection
	DefaultWorkers   = 2     // controls trained at once
	DefaultMixup     = 10000 // mixup candidates in the probe pool
	// DefaultConferrable is the share of the suite reserved for
	// conferrable adversarial probes.
	DefaultConferrable = 0.25
	// DefaultContrast is the share of the suite reserved for mixup probes
	// drawn at random, unselected, for the replica contrast.
	DefaultContrast = 0.25
	// DefaultWatermark is the share of the suite reserved for watermark
	// probes (probe.WatermarkProbes), where audits test for the teacher's
	// label watermark. A label-only extraction's trace is faint, and the
	// test's z-score grows with the square root of the probes: at 90
	// probes (and watermark.DefaultEpsilon) most 3,000-query extractions
	// reach the z ≈ 3.1 an audit needs at α = 0.01, at 60 about half did.
	DefaultWatermark = 0.3
)

// DefaultAlphas are the significance levels at which enrolment measures
// TPR and FPR.
var DefaultAlphas = []float64{0.01, 0.05}

// EnrollOptions configures Enroll. The zero value means the defaults.
type EnrollOptions struct {
	// Controls is the number of positive controls (negatives:
	// NegativesPerPositive times as many); 0 means DefaultControls.
	Controls int
	// SuiteSize is the number of probes kept; 0 means DefaultSuiteSize.
	SuiteSize int
	// Seed drives every control's training and the probe generators.
	Seed uint64
	// Recipes, when non-nil, replaces ControlRecipes' recipes.
	Recipes []Recipe
	// Workers bounds the controls trained at once; 0 means DefaultWorkers.
	Workers int
	// Candidates configures the candidate probe pool; its zero value means
	// probe.Build's defaults.
	Candidates probe.BuildOptions
	// Mixup is the number of mixup candidates added to the pool; 0 means
	// DefaultMixup, negative means none.
	Mixup int
	// Conferrable is the number of conferrable adversarial probes
	// (probe.ConferrableProbes, crafted against the selection half's
	// controls) added to the pool and reserved in the suite; 0 means
	// DefaultConferrable·SuiteSize (rounded down), negative means none.
	Conferrable int
	// Watermark is the number of watermark probes, on which audits test
	// for the label watermark lineage serve puts on the teacher's labels
	// (package watermark, key watermark.DeriveKey(teacher) unless
	// WatermarkKey is set); 0 means DefaultWatermark·SuiteSize (rounded
	// down), negative means no watermark test and no key stored.
	Watermark int
	// Contrast is the number of mixup probes drawn at random between
	// held-out samples and kept without selection, for the replica
	// contrast (see ReplicaFamily); 0 means DefaultContrast·SuiteSize
	// (rounded down), negative means none.
	Contrast int
	// WatermarkKey, when non-nil, replaces the key derived from the
	// teacher's weights.
	WatermarkKey *watermark.Key
	// Progress, when set, is called once with done 0 as the work starts
	// (the first unit, training the independent teacher, takes minutes on
	// a large dataset), then as work completes with a short description,
	// the units done and the total. Calls come from several goroutines but
	// one at a time, with done increasing by one each.
	Progress func(desc string, done, total int)
}

// Bounds of EnrollOptions. MinControls positives give the selection half
// the two positives (and the negatives) a discriminant needs; the upper
// bounds, far beyond any useful enrolment, keep a mistyped flag from asking
// for more memory or time than a machine has. MaxSuiteSize is about the
// candidate pool's size (DefaultMixup mixtures and the held-out data),
// which the selected part of a suite cannot exceed anyway; at 100,000 an
// enrolment of a 64-input teacher ran for over ten minutes in 7 GB, most
// of it in the watermark panel of 30,000 probes.
const (
	MinControls  = 3
	MaxControls  = 256   // positive controls
	MaxSuiteSize = 10000 // probes
	MaxWorkers   = 1024  // controls trained at once
)

// ErrOptions is wrapped by errors about EnrollOptions out of range.
var ErrOptions = errors.New("bad enrolment options")

// OptionError is the error of one EnrollOptions field out of range, for
// a command to name its flag. It wraps ErrOptions.
type OptionError struct {
	Option string // the field: "controls", "suite size" or "workers"
	Value  int    // the value refused
	Want   string // the values allowed, as "0 (the default) or 3 to 256"
	Why    string // why those, when there is more to say ("" for nothing)
}

// Error names the option, the value refused and the values allowed, as
// "bad enrolment options: controls 2, want 0 (the default) or 3 to 256".
func (e *OptionError) Error() string {
	s := fmt.Sprintf("%v: %s %d, want %s", ErrOptions, e.Option, e.Value, e.Want)
	if e.Why != "" {
		s += ": " + e.Why
	}
	return s
}

// Unwrap returns ErrOptions.
func (e *OptionError) Unwrap() error { return ErrOptions }

// Check reports options out of range (negative, Controls below
// MinControls, SuiteSize below DefaultMinProbes, which audits need, or
// above MaxControls, MaxSuiteSize or MaxWorkers) as an *OptionError;
// Enroll calls it first, and a command can call it before any other work.
func (o EnrollOptions) Check() error {
	for _, c := range []struct {
		name        string
		v, min, max int
		why         string
	}{
		{"controls", o.Controls, MinControls, MaxControls, ""},
		// Below the minimum every audit would refuse the suite as too
		// small, after the enrolment had trained its controls and printed
		// rates for a test that never runs.
		{"suite size", o.SuiteSize, DefaultMinProbes, MaxSuiteSize, fmt.Sprintf("audits need at least %d probes", DefaultMinProbes)},
		{"workers", o.Workers, 1, MaxWorkers, ""},
	} {
		if c.v == 0 || c.v >= c.min && c.v <= c.max {
			continue
		}
		e := &OptionError{Option: c.name, Value: c.v, Want: fmt.Sprintf("0 (the default) or %d to %d", c.min, c.max)}
		if c.min == 1 {
			e.Want = fmt.Sprintf("0 (the default) to %d", c.max)
		}
		if c.v > 0 && c.v < c.min {
			e.Why = c.why
		}
		return e
	}
	for _, r := range o.Recipes {
		if r.UnderTrained && r.Derived() {
			return fmt.Errorf("%w: recipe %s is derived from the teacher and marked under-trained; only independent controls can be", ErrOptions, r.Family)
		}
	}
	return nil
}
