package audit

import (
	"context"
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/parallel"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/mat"
)

// StatScore is the name of the combined statistic an audit tests: a linear
// discriminant of several similarity features (see Discriminant).
const StatScore = "lineage_score"

// minKindProbes is the number of probes of a kind a suite needs before the
// per-kind features of that kind are used.
const minKindProbes = 5

// shrinkage pulls the discriminant's null covariance towards a multiple
// of the identity (Ledoit–Wolf style), which keeps it stable when there
// are few controls per feature.
const shrinkage = 0.3

// feature is one similarity feature of a suspect: a statistic restricted
// to a kind of probe, on Similarity's scale (bigger = more similar).
type feature struct {
	key       string     // compare key, or "logcorr/KIND"
	kind      probe.Kind // "" for all probes
	labelSafe bool       // meaningful for a label-only suspect
}

// features lists the features a suite supports: agreement on each kind with
// at least minKindProbes probes, log-probability correlation on data probes
// (the teacher's "dark knowledge"), and either the replica contrast and the
// replica residual, when the case has replicas (see contrastPanel and
// residualValue), or soft agreement on mixup and data probes and JS
// divergence after fitting the suspect's temperature. labelOnly keeps only
// the features a label-only suspect can have (agreement, and the replica
// contrast of its labels).
func features(c *Case, labelOnly bool) []feature {
	s := c.Suite
	counts := s.Counts()
	var fs []feature
	for _, k := range []probe.Kind{probe.Mixup, probe.Mistake, probe.Adversarial, probe.Boundary, probe.Conferrable, probe.Data} {
		if counts[k] >= minKindProbes {
			fs = append(fs, feature{key: compare.Key(compare.StatAgreement, k), kind: k, labelSafe: true})
		}
	}
	if len(fs) == 0 {
		fs = append(fs, feature{key: string(compare.StatAgreement), labelSafe: true})
	}
	if c.contrast() != nil {
		fs = append(fs, feature{key: featContrast, labelSafe: true})
	}
	if labelOnly {
		return fs
	}
	if counts[probe.Data] >= minKindProbes {
		fs = append(fs, feature{key: "logcorr/data", kind: probe.Data})
	}
	if c.contrast() != nil {
		fs = append(fs, feature{key: featResidual})
		// Measured against the teacher and its replicas alike, features
		// that fit the suspect's temperature would favour the teacher:
		// the temperature is fitted against the teacher alone.
		return fs
	}
	for _, k := range []probe.Kind{probe.Mixup, probe.Data} {
		if counts[k] >= minKindProbes {
			fs = append(fs, feature{key: compare.Key(compare.StatSoftAgreement, k), kind: k})
		}
	}
	fs = append(fs, feature{key: string(compare.StatJSTFit)})
	return fs
}

// featureVector returns the features of the fingerprint id, whose outputs
// on c's suite are suspect and whose statistics against the teacher are st
// (NaN where unmeasured). When the case has replicas of the teacher (see
// contrastPanel), every feature is relative: the suspect's similarity to
// the teacher minus its mean similarity to the replicas (all but itself),
// measured at the temperature fitted against the teacher. What any model
// of the teacher's architecture shares with the teacher then cancels, and
// what remains is what the suspect shares with this teacher in particular.
func featureVector(c *Case, fs []feature, st compare.Stats, id string, suspect blas32.General) ([]float64, error) {
	v := similarities(c, fs, c.Teacher.P, st, suspect)
	cp := c.contrast()
	if cp == nil {
		return v, nil
	}
	sum := make([]float64, len(fs))
	n := 0
	for _, r := range cp.replicas {
		if r.id == id {
			continue
		}
		rst, err := compare.ComputeAt(r.p, suspect, c.Suite.Kinds, st.Temperature)
		if err != nil {
			return nil, fmt.Errorf("against replica %s: %w", r.id, err)
		}
		for i, x := range similarities(c, fs, r.p, rst, suspect) {
			sum[i] += x
		}
		n++
	}
	for i, f := range fs {
		switch f.key {
		case featContrast:
			v[i] = cp.value(id, suspect)
			continue
		case featResidual:
			v[i] = cp.residualValue(id, c.Teacher.P, suspect)
			continue
		}
		v[i] -= sum[i] / float64(n)
	}
	return v, nil
}

// similarities returns the features of suspect against the reference
// model whose outputs are ref, st being their statistics; the replica
// contrast is left NaN (featureVector sets it).
func similarities(c *Case, fs []feature, ref blas32.General, st compare.Stats, suspect blas32.General) []float64 {
	v := make([]float64, len(fs))
	for i, f := range fs {
		switch f.key {
		case "logcorr/data":
			v[i] = logCorrSimilarity(ref, suspect, c.Suite.Kinds, f.kind)
			continue
		case featContrast, featResidual:
			v[i] = math.NaN()
			continue
		}
		s, err := st.Similarity(f.key)
		if err != nil {
			s = math.NaN()
		}
		v[i] = s
	}
	return v
}

// logCorrSimilarity is atanh of the mean compare.LogCorr over the probes of
// one kind (Fisher's z scale).
func logCorrSimilarity(t, s blas32.General, kinds []probe.Kind, k probe.Kind) float64 {
	var sum float64
	n := 0
	for i := 0; i < t.Rows; i++ {
		if kinds[i] != k {
			continue
		}
		sum += compare.LogCorr(t.Data[i*t.Stride:i*t.Stride+t.Cols], s.Data[i*s.Stride:i*s.Stride+s.Cols])
		n++
	}
	if n == 0 {
		return math.NaN()
	}
	return math.Atanh(math.Max(-0.999999, math.Min(sum/float64(n), 0.999999)))
}

// Discriminant turns a feature vector into one score: standardise each
// feature by the selection controls' mean and standard deviation, then
// project on W. It is fitted on the selection half only, so the
// calibration half and every suspect are scored by a rule they took no
// part in choosing — which is what keeps the p-value valid.
type Discriminant struct {
	Features []string  `json:"features"`
	Mean     []float64 `json:"mean"`
	SD       []float64 `json:"sd"`
	W        []float64 `json:"weights"`
	fs       []feature
}

// Score returns the discriminant score of a feature vector (NaN features
// count as the selection mean).
func (d *Discriminant) Score(v []float64) float64 {
	var s float64
	for j, w := range d.W {
		if math.IsNaN(v[j]) {
			continue
		}
		s += w * (v[j] - d.Mean[j]) / d.SD[j]
	}
	return s
}

// fitDiscriminant fits a linear discriminant, with shrinkage, of the
// selection half's positive against its negative controls: the weights
// solve Σ₀·w = μ₊ − μ₀ (restricted to w ≥ 0), where Σ₀ is the covariance
// of the negatives alone. Fisher's rule would pool the positives' spread
// into Σ₀; but the positives are a mix of recipes, and a feature that
// separates most of them from the null by a wide margin (the replica
// contrast) varies a lot among them, so pooling would shrink its weight
// for the wrong reason. The score is tested against the null, and the
// null's spread is what a weight should be measured against. It stops
// with ctx's error when ctx is done (each control's features fit a
// temperature, seconds of CPU in all for the demo's 72 selection
// controls, which parallel.ForEach spreads over the CPUs).
func fitDiscriminant(ctx context.Context, c *Case, labelOnly bool) (*Discriminant, error) {
	fs := features(c, labelOnly)
	var sel []int // the selection half's controls, in order
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Half == store.HalfSelection {
			sel = append(sel, i)
		}
	}
	vs, errs := make([][]float64, len(sel)), make([]error, len(sel))
	if err := parallel.ForEach(ctx, len(sel), func(k int) {
		vs[k], errs[k] = controlFeatures(c, fs, c.Controls[sel[k]], labelOnly)
	}); err != nil {
		return nil, err
	}
	var pos, neg [][]float64
	for k, i := range sel {
		ctl := c.Enrolment.Controls[i]
		v, err := vs[k], errs[k]
		if err != nil {
			return nil, fmt.Errorf("control %s: %w", ctl.FP, err)
		}
		for j, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, fmt.Errorf("control %s: feature %s is %g", ctl.FP, fs[j].key, x)
			}
		}
		if ctl.Role == store.RolePositive {
			pos = append(pos, v)
		} else if ctl.Role == store.RoleNegative {
			neg = append(neg, v)
		}
	}
	if len(pos) < 2 || len(neg) < 2 {
		return nil, fmt.Errorf("%w: the selection half has %d positive and %d negative controls, need 2 of each", ErrTooFewControls, len(pos), len(neg))
	}
	d := &Discriminant{fs: fs}
	p := len(fs)
	all := append(append([][]float64{}, pos...), neg...)
	d.Mean, d.SD = make([]float64, p), make([]float64, p)
	for j := range fs {
		d.Features = append(d.Features, fs[j].key)
		var m, ss float64
		for _, v := range all {
			m += v[j]
		}
		m /= float64(len(all))
		for _, v := range all {
			ss += (v[j] - m) * (v[j] - m)
		}
		d.Mean[j], d.SD[j] = m, math.Sqrt(ss/float64(len(all)-1))
		if !(d.SD[j] > 1e-9) {
			d.SD[j] = 1
		}
	}
	z := func(set [][]float64) ([][]float64, []float64) {
		out := make([][]float64, len(set))
		mean := make([]float64, p)
		for i, v := range set {
			out[i] = make([]float64, p)
			for j := range v {
				out[i][j] = (v[j] - d.Mean[j]) / d.SD[j]
				mean[j] += out[i][j] / float64(len(set))
			}
		}
		return out, mean
	}
	_, mp := z(pos)
	zn, mn := z(neg)
	S := mat.NewSymDense(p, nil)
	for _, v := range zn {
		for a := 0; a < p; a++ {
			for b := a; b < p; b++ {
				S.SetSym(a, b, S.At(a, b)+(v[a]-mn[a])*(v[b]-mn[b]))
			}
		}
	}
	var tr float64
	for a := 0; a < p; a++ {
		tr += S.At(a, a)
	}
	if !(tr > 1e-9) {
		// Identical independent controls: any direction would be fitted
		// to rounding noise.
		return nil, fmt.Errorf("fit discriminant: %w: the selection half's independent controls do not vary", ErrTooFewControls)
	}
	for a := 0; a < p; a++ {
		for b := a; b < p; b++ {
			v := (1 - shrinkage) * S.At(a, b)
			if a == b {
				v += shrinkage * tr / float64(p)
			}
			S.SetSym(a, b, v)
		}
	}
	diff := make([]float64, p)
	for j := 0; j < p; j++ {
		diff[j] = mp[j] - mn[j]
	}
	w, err := nonNegativeSolve(S, diff)
	if err != nil {
		return nil, fmt.Errorf("fit discriminant: %w", err)
	}
	d.W = w
	return d, nil
}

// controlFeatures computes a control's features; for a label-only audit
// the control's answers are reduced to labels first, as the suspect's were.
func controlFeatures(c *Case, fs []feature, fp *fingerprint.Fingerprint, labelOnly bool) ([]float64, error) {
	p := fp.P
	if labelOnly {
		p = oneHot(p)
	}
	st, err := compare.Compute(c.Teacher.P, p, c.Suite.Kinds)
	if err != nil {
		return nil, err
	}
	return featureVector(c, fs, st, fp.ID, p)
}

// labelsOf returns a copy of fp whose outputs are its labels alone (see
// oneHot), as an API that answers with labels would show them.
func labelsOf(fp *fingerprint.Fingerprint) *fingerprint.Fingerprint {
	labels := *fp
	labels.P = oneHot(fp.P)
	return &labels
}

// oneHot returns p with every row replaced by the one-hot of its argmax.
func oneHot(p blas32.General) blas32.General {
	out := blas32.General{Rows: p.Rows, Cols: p.Cols, Stride: p.Cols, Data: make([]float32, p.Rows*p.Cols)}
	for i := 0; i < p.Rows; i++ {
		out.Data[i*p.Cols+compare.Top1(p.Data[i*p.Stride:i*p.Stride+p.Cols])] = 1
	}
	return out
}

// nonNegativeSolve returns the solution w of S·w = b restricted to w ≥ 0:
// features whose weight would be negative are dropped (weight 0) and the
// system is solved again on the rest, until every weight is non-negative.
// Every feature is a similarity (bigger = closer to the teacher), so
// non-negative weights make the score monotone: a suspect that is less
// similar to the teacher on every feature can never score higher — an
// innocent model that is unusual in an unexpected direction cannot be
// pushed towards an accusation.
func nonNegativeSolve(S *mat.SymDense, b []float64) ([]float64, error) {
	p := len(b)
	active := make([]bool, p)
	for j := range active {
		active[j] = true
	}
	w := make([]float64, p)
	for {
		var idx []int
		for j, a := range active {
			if a {
				idx = append(idx, j)
			}
		}
		clear(w)
		if len(idx) == 0 {
			return w, nil
		}
		sub := mat.NewSymDense(len(idx), nil)
		rhs := mat.NewVecDense(len(idx), nil)
		for a, ja := range idx {
			rhs.SetVec(a, b[ja])
			for c := a; c < len(idx); c++ {
				sub.SetSym(a, c, S.At(ja, idx[c]))
			}
		}
		var x mat.VecDense
		if err := x.SolveVec(sub, rhs); err != nil {
			return nil, err
		}
		neg := false
		for a, ja := range idx {
			w[ja] = x.AtVec(a)
			if w[ja] < 0 {
				active[ja], neg = false, true
			}
		}
		if !neg {
			return w, nil
		}
	}
}
