package audit

import (
	"context"
	"fmt"
	"slices"

	"github.com/lineage-audit/lineage/internal/parallel"
	"github.com/lineage-audit/lineage/watermark"
	"gonum.org/v1/gonum/stat"
)

// markWhitenGain is how much more trace chooseWeighing's stand-in
// copies must keep whitened than unweighed for whitening to be chosen.
// Stand-ins carry a trace exactly along the key's tilt, which whitening
// serves best; label-only extraction students' traces are not: in a digits
// enrolment whose key follows no shared direction (256-256 seed 1), six
// such students' z-scores over the decoys fell by a fifth when whitened
// (median 3.8 → 3.2) while the stand-ins' trace rose by a tenth.
const markWhitenGain = 1.25

// markCopyShare is how much of the key's tilt chooseWeighing's stand-in
// copies add to an independent control's lean (a student of the marked
// labels that learnt a fifth of the tilt). In the five enrolments measured
// (digits 256-256 seeds 1–3 and 128 seed 1, Fashion-MNIST seed 4) every
// share from 0.1 to 0.8 made the same choices; 0.05 flipped one.
const markCopyShare = 0.2

// weighing is one way of testing one kind of lean (soft or label-only):
// whole is the whitener of all the set's leans (nil: leans are tested as
// they are) and loo, by ID, each model's whitener of the others' leans;
// z is the set's own key statistics under it as z-scores over the decoys
// (each centred, and whitened, leave-one-out), in set.ids order, and
// power the median standardised trace of chooseWeighing's stand-in copies.
type weighing struct {
	whole *whitener
	loo   map[string]*whitener
	z     []float64
	power float64
}

// maxWhitenProbes is the most watermark probes chooseWeighing considers
// whitening for: a whitener is a Cholesky factorisation of a p×p
// covariance, one per independent control (leave-one-out) and kind, so
// its cost grows as p³ times the controls (measured for 2 × 129
// whiteners of 127 leans each: 0.17 s at 90 probes, 3.3 s at 400, 32 s
// at 1,000). The default suite has 90; 400 is reached by suites of about
// 1,300 probes.
const maxWhitenProbes = 400

// chooseWeighing decides whether the watermark test whitens leans of the
// set's kind, and returns the weighing chosen. Whitening (whitener) counts
// less what independent models vary on together, which is what lets many
// of them score high under a key that follows a direction they share; but
// where the key follows no such direction, it costs a copy part of its
// trace. The choice is made on the independent controls alone, before
// any suspect: each control's lean plus markCopyShare times the key's
// tilt (Panel.Tilt), clipped like a lean, stands in for a copy, and its
// trace is the smaller of its z-score over the decoys and its standing
// among the controls' own z-scores ((z − mean)/sd: the two tests markTest
// takes the larger p-value of). Whitening is chosen when the stand-ins'
// median trace is positive and at least markWhitenGain times the
// unweighed test's;
// never with fewer than minWhiten+1 controls, more than maxWhitenProbes
// watermark probes, or when the leans of the controls but one do not vary. The choice depends on no suspect,
// so the controls' test is as valid as for a fixed weighing; it does look
// at the real key's tilt, so over random keys the decoy test is exact for
// each weighing but, taken after the choice between two, only within a
// factor of two (markTest takes the larger of the two p-values, so the
// controls' test calibrates it). It stops with ctx's error when ctx is
// done.
func chooseWeighing(ctx context.Context, pan *watermark.Panel, set *leanSet) (weighing, error) {
	var best weighing
	tilt := pan.Tilt()
	for _, whiten := range []bool{false, true} {
		var wg weighing
		if whiten {
			if set.n <= minWhiten || len(tilt) > maxWhitenProbes {
				break
			}
			if wg.whole = newWhitener(set.others("")); wg.whole == nil {
				break
			}
			wg.loo = make(map[string]*whitener, set.n)
		}
		// Each model's tests, leave-one-out, are independent of the
		// others' (a whitener is a Cholesky factorisation: most of the
		// time); they are read in set.ids order.
		tests := make([]looTest, len(set.ids))
		if err := parallel.ForEach(ctx, len(set.ids), func(k int) {
			tests[k] = testLeaveOneOut(pan, set, set.ids[k], tilt, whiten)
		}); err != nil {
			return weighing{}, err
		}
		copies := make([]float64, 0, set.n)
		for k, id := range set.ids {
			t := tests[k]
			if whiten && t.w == nil {
				return best, nil // the others' leans do not vary
			}
			if t.err != nil {
				return weighing{}, t.err
			}
			if whiten {
				wg.loo[id] = t.w
			}
			wg.z = append(wg.z, t.z)
			copies = append(copies, t.copyZ)
		}
		m, sd := stat.MeanStdDev(wg.z, nil)
		for j, z := range copies {
			if sd > 0 {
				copies[j] = min(z, (z-m)/sd)
			}
		}
		slices.Sort(copies)
		wg.power = stat.Quantile(0.5, stat.Empirical, copies, nil)
		if !whiten || wg.power > 0 && wg.power >= markWhitenGain*max(best.power, 0) {
			best = wg
		}
	}
	return best, nil
}

// looTest is one model's part of chooseWeighing: w, its whitener of the
// others' leans (nil unweighed, or when the others' leans do not vary),
// z its key statistic as a z-score over the decoys and copyZ that of its
// stand-in copy, err the error of either test.
type looTest struct {
	w        *whitener
	z, copyZ float64
	err      error
}

// testLeaveOneOut tests the lean of set's model id, and that of its
// stand-in copy (the lean plus markCopyShare of the key's tilt), centred
// on the others' mean lean and, when whiten, whitened by their spread.
func testLeaveOneOut(pan *watermark.Panel, set *leanSet, id string, tilt []float64, whiten bool) looTest {
	var t looTest
	center := set.center(id)
	var w watermark.Weigher
	if whiten {
		if t.w = newWhitener(set.others(id)); t.w == nil {
			return t
		}
		w = t.w
	}
	lean := set.leans[id]
	r, err := pan.TestLean(lean, center, w)
	if err != nil {
		t.err = fmt.Errorf("control %s: %w", id, err)
		return t
	}
	t.z = r.Z
	stand := make([]float64, len(tilt))
	for i, v := range lean {
		stand[i] = max(-watermark.LeanClip, min(watermark.LeanClip, v+markCopyShare*tilt[i]))
	}
	rc, err := pan.TestLean(stand, center, w)
	if err != nil {
		t.err = fmt.Errorf("control %s as a copy: %w", id, err)
		return t
	}
	t.copyZ = rc.Z
	return t
}
