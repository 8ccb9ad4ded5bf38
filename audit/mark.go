package audit

import (
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

// MethodDecoyKeys marks a p-value from the watermark's decoy-key test:
// the larger of the suspect's rank among the decoy keys and the p-value
// of its z-score over the decoys against the independent controls' own
// (markTest).
const MethodDecoyKeys compare.Method = "decoy keys"

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
	// soft and hard are the independent controls' and references' leans
	// (both halves) on their full outputs and on their top-1 labels alone:
	// a suspect is centred on the kind that matches its own outputs.
	soft, hard leanSet
	// softZ and hardZ are the same models' key statistics as z-scores over
	// the decoys (each centred, and whitened when chosen, leave-one-out),
	// in soft.ids order: the null of nullP.
	softZ, hardZ []float64
	// softW and hardW whiten a suspect's centred lean by the covariance of
	// all those models' leans, when chooseWeighing chose to (nil: the lean
	// is tested as it is).
	softW, hardW *whitener
}

// weigher returns the whitener for fp's outputs p on the watermark probes
// when the case whitens leans of p's kind (chooseWeighing): the
// covariance of the independent controls' and references' leans of that
// kind, without fp's own when it is one of them (a model must not weigh
// itself); nil otherwise.
func (mp *markPanel) weigher(fp *fingerprint.Fingerprint, p blas32.General) watermark.Weigher {
	set, w := &mp.soft, mp.softW
	if compare.LabelOnly(p) {
		set, w = &mp.hard, mp.hardW
	}
	if w == nil {
		return nil
	}
	if _, ok := set.leans[fp.ID]; ok {
		if w = newWhitener(set.others(fp.ID)); w == nil {
			return nil
		}
	}
	return w
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.markDone {
		return c.markP, c.markErr
	}
	c.markDone = true
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
	pan, err := watermark.NewPanel(mk, pick(c.Suite.X, rows), pick(c.Teacher.P, rows), 0)
	if err != nil {
		c.markErr = fmt.Errorf("enrolment %q: watermark: %w", c.Enrolment.Name, err)
		return nil, c.markErr
	}
	mp := &markPanel{panel: pan, rows: rows}
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive {
			continue
		}
		p := pick(c.Controls[i].P, rows)
		soft, err := pan.Lean(p)
		if err != nil {
			c.markErr = fmt.Errorf("enrolment %q: watermark: control %s: %w", c.Enrolment.Name, ctl.FP, err)
			return nil, c.markErr
		}
		hard, _ := pan.Lean(oneHot(p))
		mp.soft.add(ctl.FP, soft)
		mp.hard.add(ctl.FP, hard)
	}
	for _, k := range []struct {
		set   *leanSet
		zs    *[]float64
		whole **whitener
	}{{&mp.soft, &mp.softZ, &mp.softW}, {&mp.hard, &mp.hardZ, &mp.hardW}} {
		ch, err := chooseWeighing(pan, k.set)
		if err != nil {
			c.markErr = fmt.Errorf("enrolment %q: watermark: %w", c.Enrolment.Name, err)
			return nil, c.markErr
		}
		*k.zs, *k.whole = ch.z, ch.whole
	}
	c.markP = mp
	return c.markP, nil
}

// center returns the mean lean of the independent controls other than
// fp, on their labels when p (fp's outputs on the watermark probes) holds
// labels only (nil when there are none).
func (mp *markPanel) center(fp *fingerprint.Fingerprint, p blas32.General) []float64 {
	if compare.LabelOnly(p) {
		return mp.hard.center(fp.ID)
	}
	return mp.soft.center(fp.ID)
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
// mean lean of the enrolment's independent controls and references (their
// labels' lean for a label-only suspect); nil when the case has no
// watermark test. Its P is the larger of two p-values. The decoy-key one
// (watermark.Panel.Test) is exact for one model over the draw of the key,
// but an enrolment has one key for every model, and independent models'
// leans vary together: when the key follows a direction they share, many
// of them get small decoy p-values at once (16 of 128 negative controls
// at p ≤ 0.01 in one digits enrolment). The other (nullP) compares the
// suspect's z-score over the decoys with the controls' own under this key,
// which is what an independent model's is drawn from. Both test the lean
// whitened when the case chose to (chooseWeighing).
func (c *Case) markTest(fp *fingerprint.Fingerprint) (*watermark.Result, error) {
	mp, err := c.mark()
	if mp == nil || err != nil {
		return nil, err
	}
	p := pick(fp.P, mp.rows)
	r, err := mp.panel.TestWeighted(p, mp.center(fp, p), mp.weigher(fp, p))
	if err != nil {
		return nil, fmt.Errorf("watermark test of %s: %w", fp.ID, err)
	}
	r.P = max(r.P, mp.nullP(fp, p, r.Z))
	return &r, nil
}

// nullP is the p-value of a suspect's key statistic z (a z-score over the
// decoys) against the independent controls' and references' own (but
// fp's, when it is one of them): the Student-t predictive of their mean
// and spread, which under one key are not 0 and 1 when the models' leans
// vary together along a direction the key follows. The statistic is a
// sum over the watermark probes, so nearly Gaussian across models; 1 when
// there are too few of them.
func (mp *markPanel) nullP(fp *fingerprint.Fingerprint, p blas32.General, z float64) float64 {
	set, zs := &mp.soft, mp.softZ
	if compare.LabelOnly(p) {
		set, zs = &mp.hard, mp.hardZ
	}
	null := make([][]float64, 0, len(zs))
	for i, id := range set.ids {
		if id != fp.ID {
			null = append(null, []float64{zs[i]})
		}
	}
	res, err := compare.Test(null, []float64{z}, compare.Options{Predictive: compare.PredictiveGaussian})
	if err != nil {
		return 1
	}
	return res.P
}

// markEvidence turns a watermark result into a statistic's evidence.
func markEvidence(r *watermark.Result) StatEvidence {
	return StatEvidence{Value: r.Stat, N: r.Probes, Similarity: r.Stat, NullMean: r.Mean, NullSD: r.SD,
		NullN: r.Decoys, Z: r.Z, P: r.P, PEmpirical: r.P, Method: MethodDecoyKeys}
}

// controlIndex returns the index in c.Controls of the fingerprint id.
func controlIndex(c *Case, id string) int {
	for i, ctl := range c.Enrolment.Controls {
		if ctl.FP == id {
			return i
		}
	}
	panic("audit: control " + id + " not in its case")
}

// markResults tests every control of e for the watermark (each centred
// leave-one-out, see markTest), in e.Controls order; nil when e has no
// watermark test.
func markResults(e *Case) ([]*watermark.Result, error) {
	mp, err := e.mark()
	if mp == nil || err != nil {
		return nil, err
	}
	results := make([]*watermark.Result, len(e.Controls))
	for i, fp := range e.Controls {
		if results[i], err = e.markTest(fp); err != nil {
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
	if mp.softW != nil {
		r.Whitened = append(r.Whitened, "outputs")
	}
	if mp.hardW != nil {
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
