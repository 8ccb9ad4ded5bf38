package audit

import (
	"context"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"github.com/lineage-audit/lineage/watermark"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/floats"
)

// StatWatermark names the label-watermark test in audit results.
const StatWatermark = "watermark"

// The methods a watermark row's p-value is named by: the larger of the
// suspect's rank among the decoy keys and the p-value of its z-score over
// the decoys against the independent controls' own (markTest), named by
// the one that set it.
const (
	// MethodDecoyKeys marks a watermark p-value set by the real key's rank
	// among the decoy keys (at least the controls' Student-t p-value).
	MethodDecoyKeys compare.Method = "decoy keys"
	// MethodControlsT marks a watermark p-value set by the independent
	// controls' Student-t under the real key, larger than the rank (audit
	// records before 7 December 2026 named it MethodDecoyKeys too).
	MethodControlsT compare.Method = "controls t"
)

// WatermarkWeight is the share of α given to the watermark test when an
// enrolment has one. The verdict's p-value is the weighted Bonferroni
// combination
//
//	p = min(1, p_score/(1−w), p_watermark/w),
//
// valid however the two tests depend on each other: a false DERIVED needs
// p_score ≤ (1−w)α or p_watermark ≤ wα, which together have chance at most α.
const WatermarkWeight = 0.1

// combineP returns the weighted Bonferroni combination of the lineage
// score's p-value and the watermark's.
func combineP(pScore, pMark float64) float64 {
	return min(1, pScore/(1-WatermarkWeight), pMark/WatermarkWeight)
}

// markPanel is a case's watermark test, prepared once.
type markPanel struct {
	panel *watermark.Panel
	rows  []int // suite rows of kind probe.Watermark
	// soft and hard test suspects with full outputs and label-only ones:
	// a suspect is tested against the kind that matches its own outputs.
	soft, hard markKind
}

// markKind is the watermark test of one kind of suspect (full outputs or
// labels only): the independent controls' and references' leans of that
// kind (both halves; on their full outputs, or on their top-1 labels
// alone) and the weighing chooseWeighing picked for them.
type markKind struct {
	leans leanSet
	weighing
}

// kind returns the test of suspects whose outputs on the watermark
// probes are p.
func (mp *markPanel) kind(p blas32.General) *markKind {
	if compare.LabelOnly(p) {
		return &mp.hard
	}
	return &mp.soft
}

// weigher returns the whitener for the model id when the kind's leans are
// whitened: the one of the others' leans when id is one of the
// independent models (a model must not weigh itself), else the one of
// all; nil when they are tested as they are.
func (k *markKind) weigher(id string) watermark.Weigher {
	if k.whole == nil {
		return nil
	}
	if w, ok := k.loo[id]; ok {
		return w
	}
	return k.whole
}

// leanSet is the summed lean of n models and each one's, by fingerprint
// ID, so that a control is tested against the others' mean
// (leave-one-out).
type leanSet struct {
	sum   []float64
	n     int
	leans map[string][]float64
	ids   []string // in the order added
}

func (l *leanSet) add(id string, y []float64) {
	if l.sum == nil {
		l.sum, l.leans = make([]float64, len(y)), map[string][]float64{}
	}
	floats.Add(l.sum, y)
	l.n++
	l.leans[id] = y
	l.ids = append(l.ids, id)
}

// others returns the leans of the set other than id's, in the order added.
func (l *leanSet) others(id string) [][]float64 {
	out := make([][]float64, 0, len(l.ids))
	for _, k := range l.ids {
		if k != id {
			out = append(out, l.leans[k])
		}
	}
	return out
}

// mark returns the case's watermark panel, or nil when the enrolment has
// no watermark or its suite no watermark probes.
func (c *Case) mark() (*markPanel, error) {
	return c.markContext(context.Background())
}

// markContext is mark, stopping with ctx's error (not kept: a later call
// prepares the panel again) when ctx is done while the panel is prepared.
func (c *Case) markContext(ctx context.Context) (mp *markPanel, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.markDone {
		return c.markP, c.markErr
	}
	c.markDone = true
	defer func() {
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			c.markDone, c.markErr = false, nil
		}
	}()
	w := c.Enrolment.Watermark
	if w == nil {
		return nil, nil
	}
	var key watermark.Key
	if err := key.UnmarshalText([]byte(w.Key)); err != nil {
		c.markErr = fmt.Errorf("enrolment %q: watermark: %w", c.Enrolment.Name, err)
		return nil, c.markErr
	}
	var rows []int
	for i, k := range c.Suite.Kinds {
		if k == probe.Watermark {
			rows = append(rows, i)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	D, C := c.Suite.Dim(), len(c.Suite.Labels)
	if (w.Mean != nil && len(w.Mean) != D) || (w.Std != nil && len(w.Std) != D) {
		c.markErr = fmt.Errorf("enrolment %q: watermark normalisation has %d/%d values, suite %d inputs", c.Enrolment.Name, len(w.Mean), len(w.Std), D)
		return nil, c.markErr
	}
	mk := watermark.New(key, D, C, model.Normalization{Mean: w.Mean, Std: w.Std})
	pan, err := watermark.NewPanelContext(ctx, mk, pick(c.Suite.X, rows), pick(c.Teacher.P, rows), 0)
	if err != nil {
		c.markErr = fmt.Errorf("enrolment %q: watermark: %w", c.Enrolment.Name, err)
		return nil, c.markErr
	}
	mp = &markPanel{panel: pan, rows: rows}
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive || ctl.Half == store.HalfUnderTrained {
			// The watermark's null is the trained controls' leans: the
			// under-trained ones answer near-ties with no settled lean.
			continue
		}
		p := pick(c.Controls[i].P, rows)
		soft, err := pan.Lean(p)
		if err != nil {
			c.markErr = fmt.Errorf("enrolment %q: watermark: control %s: %w", c.Enrolment.Name, ctl.FP, err)
			return nil, c.markErr
		}
		hard, _ := pan.Lean(oneHot(p))
		if ctl.Role != store.RoleReference || !compare.LabelOnly(c.Controls[i].P) {
			// A reference read through labels only joins the null of
			// label-only suspects only, as in the lineage test (compared).
			mp.soft.leans.add(ctl.FP, soft)
		}
		mp.hard.leans.add(ctl.FP, hard)
	}
	for _, k := range []*markKind{&mp.soft, &mp.hard} {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if k.weighing, err = chooseWeighing(ctx, pan, &k.leans); err != nil {
			c.markErr = fmt.Errorf("enrolment %q: watermark: %w", c.Enrolment.Name, err)
			return nil, c.markErr
		}
	}
	c.markP = mp
	return c.markP, nil
}

// center returns the mean lean of the set's models other than id's (nil
// when there are none).
func (l *leanSet) center(id string) []float64 {
	sum, n := l.sum, l.n
	if y, ok := l.leans[id]; ok {
		sum = append([]float64(nil), sum...)
		floats.Sub(sum, y)
		n--
	}
	if n == 0 {
		return nil
	}
	out := make([]float64, len(sum))
	floats.AddScaled(out, 1/float64(n), sum)
	return out
}

// pick returns the rows of m listed in rows, copied.
func pick(m blas32.General, rows []int) blas32.General {
	out := blas32.General{Rows: len(rows), Cols: m.Cols, Stride: m.Cols, Data: make([]float32, len(rows)*m.Cols)}
	for k, i := range rows {
		copy(out.Data[k*m.Cols:(k+1)*m.Cols], m.Data[i*m.Stride:i*m.Stride+m.Cols])
	}
	return out
}

// markTest tests fp's outputs on the watermark probes, centred on the
// mean lean of the enrolment's independent controls and references other
// than fp (their labels' lean for a label-only suspect); nil when the case has no
// watermark test. Its P is the larger of two p-values. The decoy-key one
// (watermark.Panel.Test) is exact for one model over the draw of the key,
// but an enrolment has one key for every model, and independent models'
// leans vary together: when the key follows a direction they share, many
// of them get small decoy p-values at once (16 of 128 negative controls
// at p ≤ 0.01 in one digits enrolment). The other (nullP) compares the
// suspect's z-score over the decoys with the controls' own under this key,
// which is what an independent model's is drawn from. Both test the lean
// whitened when the case chose to (chooseWeighing).
func (c *Case) markTest(ctx context.Context, fp *fingerprint.Fingerprint) (*watermark.Result, error) {
	r, _, err := c.markTestBy(ctx, fp)
	return r, err
}

// markSource says which test set a watermark result's P (MethodDecoyKeys,
// or MethodControlsT when the controls' p-value is the larger) and keeps
// the real key's rank p-value among the decoys, which P may exceed.
type markSource struct {
	Method compare.Method
	RankP  float64
}

// markTestBy is markTest, also returning which test set the result's P
// and the decoy rank p-value.
func (c *Case) markTestBy(ctx context.Context, fp *fingerprint.Fingerprint) (*watermark.Result, markSource, error) {
	mp, err := c.markContext(ctx)
	if mp == nil || err != nil {
		return nil, markSource{}, err
	}
	p := pick(fp.P, mp.rows)
	k := mp.kind(p)
	self := c.markSelf(fp, k == &mp.hard)
	r, err := mp.panel.TestWeighted(p, k.leans.center(self), k.weigher(self))
	if err != nil {
		return nil, markSource{}, fmt.Errorf("watermark test of %s: %w", fp.ID, err)
	}
	src, np := markSource{Method: MethodDecoyKeys, RankP: r.P}, k.nullP(self, r.Z)
	if np > r.P {
		src.Method = MethodControlsT
	}
	r.P = max(r.P, np)
	return &r, src, nil
}

// markSelf returns the ID of the model of the watermark's null (the
// trained independent controls and references) whose answers on the
// suite are fp's, or whose labels are when hard (fp answers the watermark
// probes with labels), or "" for none:
// the model a test of fp leaves out of the null's leans. fp's own ID is
// only a label, so a model audited under another name is left out, and
// another model audited under its name is not.
func (c *Case) markSelf(fp *fingerprint.Fingerprint, hard bool) string {
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive || ctl.Half == store.HalfUnderTrained {
			continue
		}
		q := c.Controls[i].P
		if sameP(fp.P, q) || hard && sameLabels(fp.P, q) {
			return ctl.FP
		}
	}
	return ""
}

// sameLabels reports whether the label-only outputs p (see
// compare.LabelOnly) name q's top class on every row, in the same shape.
func sameLabels(p, q blas32.General) bool {
	if p.Rows != q.Rows || p.Cols != q.Cols {
		return false
	}
	for i := 0; i < p.Rows; i++ {
		if compare.Top1(p.Data[i*p.Stride:i*p.Stride+p.Cols]) != compare.Top1(q.Data[i*q.Stride:i*q.Stride+q.Cols]) {
			return false
		}
	}
	return true
}

// nullP is the p-value of a suspect's key statistic z (a z-score over the
// decoys) against the kind's independent models' own (but id's, when it
// is one of them): the Student-t predictive of their mean and spread,
// which under one key are not 0 and 1 when the models' leans vary
// together along a direction the key follows. The statistic is a sum over
// the watermark probes, so nearly Gaussian across models; 1 when there
// are too few of them.
func (k *markKind) nullP(id string, z float64) float64 {
	null := make([][]float64, 0, len(k.z))
	for i, m := range k.leans.ids {
		if m != id {
			null = append(null, []float64{k.z[i]})
		}
	}
	res, err := compare.Test(null, []float64{z}, compare.Options{Predictive: compare.PredictiveGaussian})
	if err != nil {
		return 1
	}
	return res.P
}

// markEvidence turns a watermark result, whose P src's method set (see
// markTestBy), into a statistic's evidence, its PEmpirical the decoy rank
// p-value (the row's null is the decoy keys).
func markEvidence(r *watermark.Result, src markSource) StatEvidence {
	return StatEvidence{Value: r.Stat, N: r.Probes, Similarity: r.Stat, NullMean: r.Mean, NullSD: r.SD,
		NullN: r.Decoys, Z: r.Z, P: r.P, PEmpirical: src.RankP, Method: src.Method}
}

// markResults tests every control of e for the watermark (each centred
// leave-one-out, see markTest), in e.Controls order; nil when e has no
// watermark test. It stops with ctx's error between controls.
func markResults(ctx context.Context, e *Case) ([]*watermark.Result, error) {
	mp, err := e.mark()
	if mp == nil || err != nil {
		return nil, err
	}
	results := make([]*watermark.Result, len(e.Controls))
	for i, fp := range e.Controls {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if results[i], err = e.markTest(ctx, fp); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// markRates counts the independent controls of e (both halves) whose
// watermark results (markResults) are flagged at the test's share of
// α = 0.01.
func markRates(e *Case, mp *markPanel, results []*watermark.Result) *WatermarkRate {
	r := &WatermarkRate{Probes: len(mp.rows), Decoys: mp.panel.Decoys(), Alpha: WatermarkWeight * DefaultAlpha, MinP: 1}
	if mp.soft.whole != nil {
		r.Whitened = append(r.Whitened, "outputs")
	}
	if mp.hard.whole != nil {
		r.Whitened = append(r.Whitened, "labels")
	}
	for i, ctl := range e.Enrolment.Controls {
		if ctl.Role != store.RoleNegative {
			continue
		}
		res := results[i]
		r.Negatives++
		r.MinP = min(r.MinP, res.P)
		if res.P <= r.Alpha {
			r.Flagged++
		}
	}
	return r
}
