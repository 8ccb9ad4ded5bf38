package compare

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/blas/blas32"

	"github.com/lineage-audit/lineage/probe"
)

// Stat names a statistic computed by Compute.
type Stat string

// The statistics Compute measures. Agreement-like statistics are fractions
// in [0, 1] (bigger = more similar); divergence-like ones are mean JS
// divergences in bits, in [0, 1] (smaller = more similar). Similarity
// orients and transforms them all so that bigger means more similar.
const (
	// StatAgreement is the fraction of probes on which the suspect's top-1
	// label equals the teacher's.
	StatAgreement Stat = "agreement"
	// StatJS is the mean Jensen–Shannon divergence between teacher and
	// suspect rows.
	StatJS Stat = "js"
	// StatJSTFit is the mean JS divergence after rescaling the suspect to
	// the temperature found by FitTemperature on all probes.
	StatJSTFit Stat = "js_tfit"
	// StatMistakeAgreement is the fraction of teacher-mistake probes
	// (probe.Mistake) on which the suspect's top-1 equals the teacher's
	// wrong top-1: the QuRD/AKH baseline. It equals agreement/mistake.
	StatMistakeAgreement Stat = "mistake_agreement"
	// StatSoftAgreement is the mean probability the suspect, rescaled to
	// the temperature FitTemperature found, gives to the teacher's top-1
	// label: a graded agreement that counts how firmly the suspect follows
	// the teacher, not only whether it does. For a label-only suspect it
	// equals agreement.
	StatSoftAgreement Stat = "soft_agreement"
)

// AgreementLike reports whether s is a fraction of agreeing probes (as
// opposed to a divergence).
func (s Stat) AgreementLike() bool {
	return s == StatAgreement || s == StatMistakeAgreement || s == StatSoftAgreement
}

// ErrShape is wrapped by errors about mismatched matrix or vector shapes.
var ErrShape = errors.New("shape mismatch")

// ErrMissing is wrapped when a requested statistic was not computed (for
// example mistake_agreement on a suite without mistake probes).
var ErrMissing = errors.New("statistic not computed")

// Key returns the name under which Stats.Values stores stat restricted to
// probes of the given kind: "agreement" for all probes (kind ""),
// "agreement/boundary" for boundary probes only.
func Key(stat Stat, kind probe.Kind) string {
	if kind == "" {
		return string(stat)
	}
	return string(stat) + "/" + string(kind)
}

// ParseKey splits a key made by Key into its statistic and probe kind
// (kind "" means all probes).
func ParseKey(key string) (Stat, probe.Kind) {
	s, k, _ := strings.Cut(key, "/")
	return Stat(s), probe.Kind(k)
}

// Value is one statistic and the number of probes N it was measured on.
type Value struct {
	Value float64 `json:"value"`
	N     int     `json:"n"`
}

// Stats is what Compute measured for one teacher–suspect pair. Values maps
// keys made by Key to values: every Stat over all probes and per probe kind
// present, except that StatMistakeAgreement appears only over all probes and
// only when the suite has mistake probes. The zero Stats has no values.
type Stats struct {
	Probes      int              `json:"probes"`
	Classes     int              `json:"classes"`
	Temperature float64          `json:"temperature"`          // fitted suspect temperature used by js_tfit
	LabelOnly   bool             `json:"label_only"`           // suspect rows are all one-hot (see LabelOnly)
	Degenerate  string           `json:"degenerate,omitempty"` // a CheckDegenerate reason for the suspect, "" when fine
	Values      map[string]Value `json:"values"`
}

// Keys returns the keys of s.Values in sorted order.
func (s Stats) Keys() []string {
	keys := make([]string, 0, len(s.Values))
	for k := range s.Values {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Similarity returns Similarity(stat, value) for the value stored under key.
// It returns an error wrapping ErrMissing if key is absent.
func (s Stats) Similarity(key string) (float64, error) {
	v, ok := s.Values[key]
	if !ok {
		return 0, fmt.Errorf("compare: %q: %w", key, ErrMissing)
	}
	st, _ := ParseKey(key)
	return Similarity(st, v), nil
}

// Vector returns the similarities of the given keys, in order: the vector
// Test compares against the null. It fails with ErrMissing on an absent key.
func (s Stats) Vector(keys []string) ([]float64, error) {
	out := make([]float64, len(keys))
	for i, k := range keys {
		v, err := s.Similarity(k)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// JSFloor is added to a divergence before taking its log in Similarity, so a
// perfect copy (JS = 0) gives a finite similarity of −log(1e-6) ≈ 13.8.
const JSFloor = 1e-6

// Similarity maps a statistic to a similarity score where bigger always
// means more similar, on a scale where the null distribution (independent
// models) is closer to Gaussian:
//
//   - agreement-like (k = round(v.Value·v.N) agreeing probes out of N):
//     the logit of the continuity-corrected fraction,
//     log(p̃/(1−p̃)) with p̃ = (k+½)/(N+1), finite even for k = 0 or k = N;
//   - divergence-like: −log(v.Value + JSFloor).
//
// It returns NaN for an unknown stat, N ≤ 0 on an agreement-like stat, or a
// NaN value.
func Similarity(stat Stat, v Value) float64 {
	switch {
	case stat.AgreementLike():
		if v.N <= 0 || math.IsNaN(v.Value) {
			return math.NaN()
		}
		k := math.Min(1, math.Max(0, v.Value)) * float64(v.N)
		if stat != StatSoftAgreement {
			k = math.Round(k)
		}
		p := (k + 0.5) / (float64(v.N) + 1)
		return math.Log(p / (1 - p))
	case stat == StatJS || stat == StatJSTFit:
		return -math.Log(math.Max(0, v.Value) + JSFloor)
	}
	return math.NaN()
}

// Compute measures how closely suspect's outputs follow teacher's on one
// probe suite. teacher and suspect hold one probability row per probe (same
// order, same labels); kinds gives each probe's kind. Statistics are
// reported over all probes and per kind (see Stats); js_tfit uses one
// temperature fitted on all probes, since a suspect serves one temperature.
//
// Shape mismatches give errors wrapping ErrShape; an empty suite or a row
// with NaN, ±Inf, negative entries or zero sum in either matrix gives a
// *DegenerateError. A suspect that is degenerate in a milder way (identical
// rows, constant prediction) is still measured, with Stats.Degenerate set so
// the caller can decline a verdict.
func Compute(teacher, suspect blas32.General, kinds []probe.Kind) (Stats, error) {
	return ComputeAt(teacher, suspect, kinds, 0)
}

// ComputeAt is Compute with the suspect's temperature given instead of
// fitted: T > 0 rescales the suspect by T for js_tfit and soft agreement
// (Stats.Temperature is T); T ≤ 0 fits it, as Compute does. Comparing one
// suspect with several references at the temperature fitted against the
// teacher measures all of them on the same rescaled outputs, and skips the
// fit, which is most of Compute's cost.
func ComputeAt(teacher, suspect blas32.General, kinds []probe.Kind, T float64) (Stats, error) {
	if teacher.Rows != suspect.Rows || teacher.Cols != suspect.Cols {
		return Stats{}, fmt.Errorf("compare: teacher is %d×%d, suspect %d×%d: %w",
			teacher.Rows, teacher.Cols, suspect.Rows, suspect.Cols, ErrShape)
	}
	if len(kinds) != teacher.Rows {
		return Stats{}, fmt.Errorf("compare: %d probe kinds for %d probes: %w", len(kinds), teacher.Rows, ErrShape)
	}
	if teacher.Rows == 0 || teacher.Cols == 0 {
		return Stats{}, fmt.Errorf("compare: %w", &DegenerateError{Reason: ReasonEmpty, Row: -1})
	}
	for i := 0; i < teacher.Rows; i++ {
		if _, ok := rowSum(row(teacher, i)); !ok {
			return Stats{}, fmt.Errorf("compare: teacher: %w", &DegenerateError{Reason: ReasonInvalid, Row: i})
		}
		if _, ok := rowSum(row(suspect, i)); !ok {
			return Stats{}, fmt.Errorf("compare: suspect: %w", &DegenerateError{Reason: ReasonInvalid, Row: i})
		}
	}
	st := Stats{Probes: teacher.Rows, Classes: teacher.Cols, LabelOnly: LabelOnly(suspect), Values: map[string]Value{}}
	var de *DegenerateError
	if err := CheckDegenerate(suspect); errors.As(err, &de) {
		st.Degenerate = de.Reason
	}

	f, _ := newTempObjective(teacher, suspect) // rows validated above
	if !(T > 0) {
		T, _ = f.fit()
	}
	st.Temperature = T
	inv := 1 / T

	type acc struct {
		n, agree         int
		js, jsTfit, soft float64
	}
	resc := make([]float32, suspect.Cols)
	all := acc{}
	byKind := map[probe.Kind]*acc{}
	for i := 0; i < teacher.Rows; i++ {
		top := Top1(row(teacher, i))
		agree := top == Top1(row(suspect, i))
		Rescale(resc, row(suspect, i), T)
		soft := float64(resc[top])
		js := f.rowJS(i, 1)
		jsT := f.rowJS(i, inv)
		a := byKind[kinds[i]]
		if a == nil {
			a = &acc{}
			byKind[kinds[i]] = a
		}
		for _, a := range [...]*acc{&all, a} {
			a.n++
			a.js += js
			a.jsTfit += jsT
			a.soft += soft
			if agree {
				a.agree++
			}
		}
	}
	put := func(kind probe.Kind, a *acc) {
		n := float64(a.n)
		st.Values[Key(StatAgreement, kind)] = Value{float64(a.agree) / n, a.n}
		st.Values[Key(StatJS, kind)] = Value{a.js / n, a.n}
		st.Values[Key(StatJSTFit, kind)] = Value{a.jsTfit / n, a.n}
		st.Values[Key(StatSoftAgreement, kind)] = Value{a.soft / n, a.n}
	}
	put("", &all)
	for k, a := range byKind {
		if k == "" {
			continue // an unnamed kind is already covered by the overall values
		}
		put(k, a)
	}
	if m := byKind[probe.Mistake]; m != nil {
		st.Values[Key(StatMistakeAgreement, "")] = Value{float64(m.agree) / float64(m.n), m.n}
	}
	return st, nil
}
