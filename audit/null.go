package audit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/parallel"
	"github.com/lineage-audit/lineage/store"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/stat"
)

// reference is what audits against one case share for one kind of suspect
// (label-only or not): the discriminant, the informational keys and the
// calibration controls' vectors. Case.reference computes it once.
type reference struct {
	disc    *Discriminant
	info    []string
	null    [][]float64 // informational similarities of the null models
	nullFam []string    // the recipe family of each null model
	agree   []float64   // each null model's top-1 agreement with the teacher (agreementSimilarity)
	cond    []bool      // each null model's: an under-trained control (store.HalfUnderTrained; see nullFor)
	allF    [][]float64 // features of every calibration control and reference
	allCtl  []store.Control
	allIdx  []int          // each allCtl entry's index in Case.Controls
	ds      []decisionStat // the statistics the lineage test decides on
	dnull   [][]float64    // the null models' decision values
	allD    [][]float64    // every calibration control's and reference's
	// firstRule makes controlTest test as lineage of 5 December 2026
	// 10:35–10:59 did (Case.firstRule): only Case.Recheck sets it.
	firstRule bool
}

// reference returns the case's cached reference for label-only or full
// suspects, computing it on first use. It stops with ctx's error when ctx
// is done while it is computed (between controls), and what it then
// computed is not kept: a later call computes it anew, in full.
func (c *Case) reference(ctx context.Context, labelOnly bool) (*reference, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.refs[labelOnly]; r != nil {
		return r, nil
	}
	// Audits' reference is fitted once and cached, only when fitted to
	// the end: an error (ctx's among them) is never cached. The
	// recomputation (calibrationReport) fits its own.
	r, err := c.newReference(ctx, labelOnly)
	if err != nil {
		return nil, err
	}
	if c.refs == nil {
		c.refs = map[bool]*reference{}
	}
	c.refs[labelOnly] = r
	return r, nil
}

// newReference computes what reference caches, each control's features
// on its own goroutine (parallel.ForEach). It stops with ctx's error when ctx is
// done.
func (c *Case) newReference(ctx context.Context, labelOnly bool) (*reference, error) {
	disc, err := fitDiscriminant(ctx, c, labelOnly)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
			return nil, err
		}
		return nil, fmt.Errorf("enrolment %q: %w", c.Enrolment.Name, err)
	}
	r := &reference{disc: disc, info: InformationalKeys(c.Suite, labelOnly), ds: decisionStats(disc), firstRule: c.firstRule}
	var cmp []int // the controls compared with, in order
	for i := range c.Enrolment.Controls {
		if c.compared(i, labelOnly) {
			cmp = append(cmp, i)
		}
	}
	fs, vs, errs := make([][]float64, len(cmp)), make([][]float64, len(cmp)), make([]error, len(cmp))
	if err := parallel.ForEach(ctx, len(cmp), func(k int) {
		fs[k], vs[k], errs[k] = c.vector(c.Controls[cmp[k]], disc, r.info, labelOnly)
	}); err != nil {
		return nil, err
	}
	for k, i := range cmp {
		ctl := c.Enrolment.Controls[i]
		f, v, err := fs[k], vs[k], errs[k]
		if err != nil {
			return nil, fmt.Errorf("control %s: %w", ctl.FP, err)
		}
		d := decisionValues(disc, r.ds, f)
		r.allF = append(r.allF, f)
		r.allD = append(r.allD, d)
		r.allCtl = append(r.allCtl, ctl)
		r.allIdx = append(r.allIdx, i)
		if ctl.Role != store.RolePositive {
			r.null = append(r.null, v)
			r.dnull = append(r.dnull, d)
			r.nullFam = append(r.nullFam, familyOf(ctl))
			r.agree = append(r.agree, agreementSimilarity(c.Teacher.P, c.Controls[i].P))
			r.cond = append(r.cond, ctl.Half == store.HalfUnderTrained)
		}
	}
	return r, nil
}

// compared reports whether control i of the case is one that audits of
// suspects with label-only (or full) outputs compare with: a calibration
// control or a reference. A reference fingerprinted through a label-only
// endpoint has no probabilities to compare with a full-output suspect's:
// as a one-hot model among soft ones it would stand for a population the
// suspect is not drawn from, so it joins the label-only null only. The
// under-trained controls (store.HalfUnderTrained) are compared with too,
// but an audit leaves them out of the null of a suspect that agrees with
// the teacher more than they do (see nullFor).
func (c *Case) compared(i int, labelOnly bool) bool {
	ctl := c.Enrolment.Controls[i]
	if ctl.Role == store.RoleReference {
		return labelOnly || !compare.LabelOnly(c.Controls[i].P)
	}
	return ctl.Half == store.HalfCalibration || ctl.Half == store.HalfUnderTrained
}

// vector returns a fingerprint's features and its informational
// similarities (info order), the vector for compare.Test.
func (c *Case) vector(fp *fingerprint.Fingerprint, disc *Discriminant, info []string, labelOnly bool) ([]float64, []float64, error) {
	p := fp.P
	if labelOnly {
		p = oneHot(p)
	}
	cst, err := compare.Compute(c.Teacher.P, p, c.Suite.Kinds)
	if err != nil {
		return nil, nil, err
	}
	f, err := featureVector(c, disc.fs, cst, fp.ID, p)
	if err != nil {
		return nil, nil, err
	}
	iv, err := cst.Vector(info)
	if err != nil {
		return nil, nil, err
	}
	return f, iv, nil
}

// without returns r without the calibration models and references that are
// the suspect itself (outputs identical to its own, as a stored reference
// audited by its ID has), and their IDs; r itself when there are none. The
// suspect's name alone decides nothing: `audit MODEL --name X` only labels
// the model, whatever X is. They are left out of the nearest control's
// candidates too. Positive controls stay: a suspect that is one
// is nearest to it, and told so.
func (r *reference) without(c *Case, suspect *fingerprint.Fingerprint) (*reference, []string) {
	var ids []string
	out := r.filter(func(i, _ int) bool {
		if r.allCtl[i].Role != store.RolePositive && sameModel(c.Controls[r.allIdx[i]], suspect) {
			ids = append(ids, r.allCtl[i].FP)
			return true
		}
		return false
	})
	return out, ids
}

// nullFor returns r as the audit of a model whose top-1 agreement with the
// teacher (agreementSimilarity) is a sees it: without the null model whose
// fingerprint ID is self (a leave-one-out audit of a control; "" for
// none), and without the under-trained controls (store.HalfUnderTrained)
// when a is above the highest of their agreements by more than their
// standard deviation (on the logit scale, as outsideNull). r itself when
// nothing is left out.
//
// Why: the under-trained controls stand for models that have learnt no
// more than they have, and such models follow the teacher's top answer
// less often than trained ones (in the zoo of the 256-256 seed-1 teacher:
// the controls on 51–61 % of the probes, 32-32-32 networks trained for 2
// epochs on 45–56 %, students of the teacher with full outputs on
// 57–79 %). A suspect that follows it more often than every one of them is
// held to the trained null alone, as before they existed; one that does
// not is held to them too (reference.test takes the larger p-value), and
// by the worst-family rule to the hardest of their two families. Without
// the condition the zoo's four T = 4 students
// served as labels went from p = 0.004–0.076 to 0.07–0.76.
func (r *reference) nullFor(a float64, self string) *reference {
	var ua []float64 // the under-trained controls' agreements
	k := 0
	for _, ctl := range r.allCtl {
		if ctl.Role == store.RolePositive {
			continue
		}
		if r.cond[k] && ctl.FP != self {
			ua = append(ua, r.agree[k])
		}
		k++
	}
	dropCond := false
	if len(ua) > 0 {
		sd := 0.0
		if len(ua) > 1 {
			sd = stat.StdDev(ua, nil)
		}
		dropCond = a > slices.Max(ua)+sd
	}
	return r.filter(func(i, k int) bool {
		return k >= 0 && ((dropCond && r.cond[k]) || r.allCtl[i].FP == self)
	})
}

// controlTest returns the lineage test of model i of r (allCtl order), whose
// top-1 agreement with the teacher is a, as an audit of it would give it
// (test), leaving a null model itself out; outside reports whether that
// audit puts it outside the null (p = 1).
func (r *reference) controlTest(i int, a float64) (d decision, outside bool, err error) {
	self := ""
	if r.allCtl[i].Role != store.RolePositive {
		self = r.allCtl[i].FP
	}
	if r.firstRule {
		// The under-trained controls in the null whenever nullFor keeps
		// them, and the outside rule against that null.
		rr := r.nullFor(a, self)
		if d, err = decide(rr.ds, rr.dnull, rr.nullFam, r.allD[i]); err != nil {
			return d, false, err
		}
		_, outside = outsideNull(rr.agree, a)
		return d, outside, nil
	}
	return r.test(r.allD[i], a, self)
}

// test returns the lineage test of a model with decision values x and
// top-1 agreement a, without the null model self ("" for none): against
// the trained null (r without its under-trained controls) and, when
// nullFor keeps them for a, against the null with them too, whichever
// p-value is larger. outside reports whether the model is outside the
// trained null (outsideNull).
//
// Why the larger: adding the under-trained controls to the null can lower
// a p-value as well as raise it (they add degrees of freedom, and a family
// that scores tightly shrinks the pooled within-family spread the
// worst-family rule divides by), and their low agreements would widen the
// outside rule's margin; they are there to hold a suspect like them to its
// own kind, never to make anyone look more derived.
func (r *reference) test(x []float64, a float64, self string) (d decision, outside bool, err error) {
	d, why, err := r.testWhy(x, a, self)
	return d, why != "", err
}

// testWhy is test with outsideNull's sentence for a model outside the
// trained null ("" inside it). Like decide, its error wraps
// compare.ErrInsufficientNull (with P = 1) when no statistic has a usable
// null.
func (r *reference) testWhy(x []float64, a float64, self string) (d decision, why string, err error) {
	trained := r.nullFor(math.Inf(1), self)
	d, err = decide(trained.ds, trained.dnull, trained.nullFam, x)
	if err != nil && !errors.Is(err, compare.ErrInsufficientNull) {
		return d, "", err
	}
	why, _ = outsideNull(trained.agree, a)
	if with := r.nullFor(a, self); len(with.null) > len(trained.null) {
		dw, errw := decide(with.ds, with.dnull, with.nullFam, x)
		if errw != nil && !errors.Is(errw, compare.ErrInsufficientNull) {
			return d, why, errw
		}
		if dw.P > d.P {
			d, err = dw, errw
		}
	}
	return d, why, err
}

// filter returns r without the models for which drop(i, k) is true, i
// being the model's index in allCtl and k its null row (−1 for a positive
// control); r itself when drop is true for none.
func (r *reference) filter(drop func(i, k int) bool) *reference {
	dropped := make([]bool, len(r.allCtl))
	some := false
	k := 0
	for i, ctl := range r.allCtl {
		row := -1
		if ctl.Role != store.RolePositive {
			row = k
			k++
		}
		if drop(i, row) {
			dropped[i], some = true, true
		}
	}
	if !some {
		return r
	}
	out := &reference{disc: r.disc, info: r.info, ds: r.ds}
	k = 0 // index into the null rows (the non-positive models, in order)
	for i, ctl := range r.allCtl {
		isNull := ctl.Role != store.RolePositive
		if !dropped[i] {
			out.allF = append(out.allF, r.allF[i])
			out.allD = append(out.allD, r.allD[i])
			out.allCtl = append(out.allCtl, ctl)
			out.allIdx = append(out.allIdx, r.allIdx[i])
			if isNull {
				out.null = append(out.null, r.null[k])
				out.dnull = append(out.dnull, r.dnull[k])
				out.nullFam = append(out.nullFam, r.nullFam[k])
				out.agree = append(out.agree, r.agree[k])
				out.cond = append(out.cond, r.cond[k])
			}
		}
		if isNull {
			k++
		}
	}
	return out
}

// sameOutputs reports whether two fingerprints hold the same outputs on
// the same probes.
func sameOutputs(a, b *fingerprint.Fingerprint) bool {
	return a != nil && b != nil && sameP(a.P, b.P)
}

// sameModel reports whether the suspect's outputs are the control's, or,
// for a label-only suspect, the control's labels.
func sameModel(control, suspect *fingerprint.Fingerprint) bool {
	return sameOutputs(control, suspect) || suspect != nil && control != nil &&
		compare.LabelOnly(suspect.P) && sameLabels(suspect.P, control.P)
}

// sameP reports whether a and b hold the same values in the same shape.
func sameP(a, b blas32.General) bool {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		return false
	}
	for i := 0; i < a.Rows; i++ {
		if !slices.Equal(a.Data[i*a.Stride:i*a.Stride+a.Cols], b.Data[i*b.Stride:i*b.Stride+b.Cols]) {
			return false
		}
	}
	return true
}

// replicaOf returns the ID of the teacher's replica (see contrastPanel)
// whose outputs on the suite are suspect's (or, for a label-only suspect,
// whose labels are), or "" when there is none or
// suspect is nil: a replica audited as a suspect, under any name, is
// measured against the other replicas only, as enrolment measured it, and
// a suspect named as a replica is not.
func (c *Case) replicaOf(suspect *fingerprint.Fingerprint) string {
	if suspect == nil || suspect.Suite != c.Suite.Hash {
		return ""
	}
	cp := c.contrast()
	if cp == nil {
		return ""
	}
	labels := compare.LabelOnly(suspect.P)
	for _, r := range cp.replicas {
		if sameP(r.p, suspect.P) || labels && sameLabels(suspect.P, r.p) {
			return r.id
		}
	}
	return ""
}
