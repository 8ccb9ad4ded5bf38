package audit

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"github.com/lineage-audit/lineage/watermark"
	"gonum.org/v1/gonum/blas/blas32"
)

// markCase turns a synthetic case into one with nMark watermark probes
// (8 random features each) and a stored watermark key.
func markCase(t *testing.T, rng *rand.Rand, nMark int) (*Case, *watermark.Mark) {
	t.Helper()
	c := synthCase(t, rng, 6, 24)
	const d = 8
	s := c.Suite
	s.X = blas32.General{Rows: nProbes, Cols: d, Stride: d, Data: make([]float32, nProbes*d)}
	for i := range s.X.Data {
		s.X.Data[i] = float32(rng.NormFloat64())
	}
	for i := range nMark {
		s.Kinds[i] = probe.Watermark
	}
	s.Hash = probe.CanonicalHash(s.X, s.Kinds, s.Labels)
	c.Enrolment.Suite, c.Teacher.Suite = s.Hash, s.Hash
	for _, fp := range c.Controls {
		fp.Suite = s.Hash
	}
	mk := watermark.New(watermark.Key{7, 7, 7}, d, nClasses, model.Normalization{})
	text, _ := mk.Key.MarshalText()
	c.Enrolment.Watermark = &store.Watermark{Key: string(text)}
	return c, mk
}

// markLabels returns a copy of the answers p of markCase's case c with a
// share w of each of its first n (watermark) probes' mass moved to the
// label mk serves there: w = 1 gives the marked labels themselves.
func markLabels(c *Case, mk *watermark.Mark, p blas32.General, n int, w float32) blas32.General {
	out := blas32.General{Rows: p.Rows, Cols: p.Cols, Stride: p.Cols, Data: append([]float32(nil), p.Data...)}
	for i := range n {
		x := c.Suite.X.Data[i*8 : (i+1)*8]
		l := mk.Label(x, c.Teacher.P.Data[i*nClasses:(i+1)*nClasses], 5)
		row := out.Data[i*nClasses : (i+1)*nClasses]
		for j := range row {
			row[j] *= 1 - w
		}
		row[l] += w
	}
	return out
}

func TestAuditWatermark(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	c, mk := markCase(t, rng, 60)
	withReport(t, c)
	marked := func(p blas32.General) blas32.General { return markLabels(c, mk, p, 60, 1) }
	tests := []struct {
		name     string
		suspect  blas32.General
		want     Verdict
		wantBest string
	}{
		{"independent", follow(rng, c.Teacher.P, 0.4), NotDerived, StatScore},
		{"independent that learnt the marked labels", marked(follow(rng, c.Teacher.P, 0.4)), Derived, StatWatermark},
		{"copy", follow(rng, c.Teacher.P, 0.9), Derived, StatScore},
		{"label-only independent", oneHot(follow(rng, c.Teacher.P, 0.4)), NotDerived, StatScore},
		{"label-only model that learnt the marked labels", oneHot(marked(follow(rng, c.Teacher.P, 0.4))), Derived, StatWatermark},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := auditSuspect(t, c, tt.name, tt.suspect)
			if got.Verdict != tt.want || got.Best != tt.wantBest {
				t.Errorf("verdict %s by %s (p %.3g, reason %q), want %s by %s", got.Verdict, got.Best, got.PValue, got.Reason, tt.want, tt.wantBest)
			}
			wm, ok := got.Statistics[StatWatermark]
			if !ok {
				t.Fatalf("no %q statistic in %v", StatWatermark, got.Statistics)
			}
			if want := combineP(got.Statistics[StatScore].P, wm.P); got.PValue != want {
				t.Errorf("p_value %g, want the weighted Bonferroni combination %g", got.PValue, want)
			}
			if wm.NullN != watermark.DefaultDecoys {
				t.Errorf("watermark evidence over %d decoys, want %d", wm.NullN, watermark.DefaultDecoys)
			}
			// The method names the test that set p: a rank among the
			// decoys is on the 1/(decoys+1) grid.
			onGrid := math.Abs(wm.P*float64(wm.NullN+1)-math.Round(wm.P*float64(wm.NullN+1))) < 1e-6
			if wm.Method != MethodDecoyKeys && wm.Method != MethodControlsT || (wm.Method == MethodDecoyKeys) != onGrid && wm.P < 1 {
				t.Errorf("watermark p %g (on the decoys' grid: %v) by method %q, want %q on the grid, else %q", wm.P, onGrid, wm.Method, MethodDecoyKeys, MethodControlsT)
			}
		})
	}
	// The test's own record on the independent controls.
	mp, err := c.mark()
	if err != nil {
		t.Fatal(err)
	}
	results, err := markResults(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != len(c.Controls) {
		t.Fatalf("markResults returned %d results for %d controls", len(results), len(c.Controls))
	}
	for i, r := range results {
		again, err := c.markTest(context.Background(), c.Controls[i])
		if err != nil {
			t.Fatal(err)
		}
		if r == nil || *again != *r {
			t.Errorf("control %d: markResults result %v, markTest %+v", i, r, *again)
		}
	}
	rates := markRates(c, mp, results)
	if rates.Negatives != 48 || rates.Probes != 60 || rates.Decoys != watermark.DefaultDecoys || rates.Flagged > 2 || rates.Alpha != WatermarkWeight*DefaultAlpha {
		t.Errorf("watermark rates %+v, want 48 negatives on 60 probes, %d decoys, at most 2 flagged", *rates, watermark.DefaultDecoys)
	}
	// Without a stored key there is no watermark test.
	c.Enrolment.Watermark = nil
	c2 := &Case{Enrolment: c.Enrolment, Suite: c.Suite, Teacher: c.Teacher, Controls: c.Controls}
	fp := &fingerprint.Fingerprint{ID: "x", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.4)}
	res, err := Audit([]*Case{c2}, []*fingerprint.Fingerprint{fp}, "x", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Results[0].Statistics[StatWatermark]; ok {
		t.Errorf("watermark statistic reported for an enrolment without a key")
	}
	// A malformed key is an error naming the enrolment, not a panic.
	c3 := &Case{Enrolment: &store.Enrolment{Name: "bad", Suite: c.Suite.Hash, Controls: c.Enrolment.Controls, Watermark: &store.Watermark{Key: "zz"}}, Suite: c.Suite, Teacher: c.Teacher, Controls: c.Controls}
	if _, err := Audit([]*Case{c3}, []*fingerprint.Fingerprint{fp}, "x", Options{}); err == nil {
		t.Errorf("audit with a malformed watermark key: got nil error")
	}
}

func TestCombineP(t *testing.T) {
	const w = WatermarkWeight
	tests := []struct{ score, mark, want float64 }{
		{0.006, 0.5, 0.006 / (1 - w)},
		{0.5, w * 0.002, 0.002},
		{0.99, 0.99, 1},
		{0, 0.5, 0},
	}
	for _, tt := range tests {
		if got := combineP(tt.score, tt.mark); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("combineP(%g, %g) = %g, want %g", tt.score, tt.mark, got, tt.want)
		}
	}
}

// TestWatermarkSharedLean checks the watermark test against an enrolment
// whose independent controls lean together along the key: an eighth of
// them (like the models of one kind) follow the marked labels a little on
// every watermark probe. A new independent model of that kind must not be
// flagged for what its kind shares, though its decoy-key p-value alone is
// small (TestAuditWatermark checks that models that learnt the marked
// labels still are).
func TestWatermarkSharedLean(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	c, mk := markCase(t, rng, 60)
	markOn := func(p blas32.General, w float32) blas32.General { return markLabels(c, mk, p, 60, w) }
	const kindShare = 0.45
	k := 0
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role != store.RoleNegative {
			continue
		}
		if k%8 == 0 {
			c.Controls[i].P = markOn(c.Controls[i].P, kindShare)
		}
		k++
	}
	withReport(t, c)
	mp, err := c.mark()
	if err != nil {
		t.Fatal(err)
	}
	decoyP := func(p blas32.General) float64 {
		q := pick(p, mp.rows)
		r, err := mp.panel.Test(q, mp.kind(q).leans.center("s"))
		if err != nil {
			t.Fatal(err)
		}
		return r.P
	}
	kindLike := markOn(follow(rng, c.Teacher.P, 0.4), kindShare)
	if p := decoyP(kindLike); p > 0.001 {
		t.Fatalf("set-up: the decoy-key p-value of a model of the leaning kind is %g, want ≤ 0.001 (else this test shows nothing)", p)
	}
	got := auditSuspect(t, c, "kind-like", kindLike)
	wm := got.Statistics[StatWatermark]
	if wm.P <= 10*WatermarkWeight*DefaultAlpha || got.Verdict == Derived {
		t.Errorf("independent model of the leaning kind: watermark p %g, verdict %s; want p > %g and not DERIVED", wm.P, got.Verdict, 10*WatermarkWeight*DefaultAlpha)
	}
	// The controls' test set that p, not the decoys' rank: the row says so
	// (it said "decoy keys" whichever set it).
	if wm.Method != MethodControlsT {
		t.Errorf("independent model of the leaning kind: watermark p %g (decoy-key p %g) by method %q, want %q", wm.P, decoyP(kindLike), wm.Method, MethodControlsT)
	}
	// Its p empirical is still the rank among the decoys (it repeated p).
	if wm.PEmpirical > 0.001 || wm.PEmpirical >= wm.P {
		t.Errorf("independent model of the leaning kind: watermark p empirical %g (p %g), want the decoy rank p-value, ≤ 0.001", wm.PEmpirical, wm.P)
	}
}

// TestMarkNullLabelReference checks that a reference read through labels
// only joins the watermark's null of label-only suspects only, as it joins
// the lineage test's (compared): a one-hot model among soft ones is not
// drawn from the population a suspect with full outputs is.
func TestMarkNullLabelReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	base, _ := markCase(t, rng, 60)
	c := withRefs(rng, base)
	mp, err := c.mark()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		kind string
		set  *leanSet
		id   string
		want bool
	}{
		{"outputs", &mp.soft.leans, "soft-ref", true},
		{"outputs", &mp.soft.leans, "label-ref", false},
		{"labels", &mp.hard.leans, "soft-ref", true},
		{"labels", &mp.hard.leans, "label-ref", true},
	} {
		if _, got := tt.set.leans[tt.id]; got != tt.want {
			t.Errorf("watermark null of %s suspects holds %s: got %v, want %v", tt.kind, tt.id, got, tt.want)
		}
	}
}

// TestMarkTestLeavesOutByOutputs checks that the watermark test leaves a
// null model out of its own test by its answers (full or labels), not by
// the suspect's name.
func TestMarkTestLeavesOutByOutputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	c, _ := markCase(t, rng, 60)
	i := slices.IndexFunc(c.Enrolment.Controls, func(ctl store.Control) bool {
		return ctl.Role == store.RoleNegative && ctl.Half == store.HalfCalibration
	})
	ctl := c.Controls[i]
	other := follow(rng, c.Teacher.P, 0.4)
	test := func(id string, p blas32.General) watermark.Result {
		t.Helper()
		r, err := c.markTest(context.Background(), &fingerprint.Fingerprint{ID: id, Suite: c.Suite.Hash, P: p})
		if err != nil || r == nil {
			t.Fatalf("markTest(%s): %v, %v", id, r, err)
		}
		return *r
	}
	tests := []struct {
		name      string
		got, want watermark.Result
	}{
		{"a negative control under another name", test("renamed", ctl.P), test(ctl.ID, ctl.P)},
		{"its labels under another name", test("renamed", oneHot(ctl.P)), test(ctl.ID, oneHot(ctl.P))},
		{"another model under the control's name", test(ctl.ID, other), test("other", other)},
		{"other labels under the control's name", test(ctl.ID, oneHot(other)), test("other", oneHot(other))},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %+v, want %+v", tt.name, tt.got, tt.want)
		}
	}
	// A control answering the watermark probes with labels (and the rest
	// with probabilities) is tested as a label-only model, and is still
	// itself.
	hard := c.Controls[slices.IndexFunc(c.Enrolment.Controls, func(ctl store.Control) bool {
		return ctl.Role == store.RoleNegative && ctl.Half == store.HalfSelection
	})]
	hp := blas32.General{Rows: hard.P.Rows, Cols: hard.P.Cols, Stride: hard.P.Cols, Data: append([]float32(nil), hard.P.Data...)}
	oh := oneHot(hp)
	copy(hp.Data[:60*hp.Cols], oh.Data[:60*hp.Cols])
	hard.P = hp
	if got := c.markSelf(hard, true); got != hard.ID {
		t.Errorf("markSelf of a control with labels on the watermark probes: %q, want %q", got, hard.ID)
	}
	if a, b := test(ctl.ID, ctl.P), test(ctl.ID, other); a.P == b.P && a.Z == b.Z {
		t.Errorf("the control and another model got the same result %+v: the test cannot tell them apart", a)
	}
}
