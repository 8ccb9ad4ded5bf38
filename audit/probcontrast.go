package audit

import (
	"slices"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"

	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/stat"
)

// probValue returns the probability contrast of the outputs p of the
// fingerprint id over every probe of the suite: with T the teacher's
// outputs and R̄ the mean of its replicas' (a replica's own left out),
//
//	L(S) = (1/n) Σ_i ⟨S_i, T_i − R̄_i⟩.
//
// Like the replica contrast, it asks whether the suspect sides with the
// teacher rather than with a replica of it; unlike it, L is linear in the
// suspect's probabilities: a copy blended with another model,
// S = w·C + (1−w)·W, keeps w times the copy's contrast plus W's, where the
// order of runner-up classes that the rank contrast reads becomes W's. It
// is read over the whole suite, the conferrable probes included, which
// carry most of it: since those were chosen with the replicas, the
// independent models' values centre above zero, and audits read L only
// against them (probContrastP).
func (cp *contrastPanel) probValue(teacher blas32.General, id string, p blas32.General) float64 {
	n := float64(len(cp.replicas))
	var own *blas32.General
	for i := range cp.replicas {
		if cp.replicas[i].id == id {
			own = &cp.replicas[i].p
			n--
		}
	}
	if n <= 0 || p.Rows == 0 {
		return 0
	}
	sum := cp.replicaSum(p.Rows, p.Cols)
	var total float64
	for i := range p.Rows {
		t := teacher.Data[i*teacher.Stride : i*teacher.Stride+teacher.Cols]
		for j, v := range p.Data[i*p.Stride : i*p.Stride+p.Cols] {
			mean := sum[i*p.Cols+j]
			if own != nil {
				mean -= float64(own.Data[i*own.Stride+j])
			}
			total += float64(v) * (float64(t[j]) - mean/n)
		}
	}
	return total / float64(p.Rows)
}

// replicaSum returns the replicas' outputs summed probe by probe and class
// by class over the whole suite (rows × cols, row-major), built on first
// use.
func (cp *contrastPanel) replicaSum(rows, cols int) []float64 {
	cp.probOnce.Do(func() {
		cp.probSum = make([]float64, rows*cols)
		for _, r := range cp.replicas {
			for i := range rows {
				for j := range cols {
					cp.probSum[i*cols+j] += float64(r.p.Data[i*r.p.Stride+j])
				}
			}
		}
	})
	return cp.probSum
}

// probContrastP returns the p-value of the suspect's probability contrast
// (probValue) against the trained null of r, as dataContrastP does for the
// data probes: the larger of the robust predictive and the hardest
// family's p-values; and, when the suspect agrees with the teacher no more
// than some family of under-trained controls does (resembledUnderTrained),
// the larger of that and the p-value against the null with those
// families. ok is false when the case has no replica contrast or too few
// null models. Audits read it before clearing a suspect with full outputs
// (see TeacherResult.ProbP), never to find one derived.
//
// Why: a copy blended with a weaker model of one's own (70 % copy, 30 % of
// a 91 %-accurate 3-epoch network, at 0.6 points of accuracy) was cleared
// (p 0.21 and 0.48): the weak model's spread-out mass outweighs the copy's
// small probabilities and sets the order of the runner-up classes, but its
// probabilities still side with the teacher. Under-trained models side
// with the teacher's probabilities on its suite too, whence the join.
func (c *Case) probContrastP(r *reference, suspect *fingerprint.Fingerprint, agree float64) (p float64, ok bool, err error) {
	cp := c.contrast()
	if cp == nil {
		return 1, false, nil
	}
	f := func(id string, p blas32.General) float64 { return cp.probValue(c.Teacher.P, id, p) }
	p, ok, err = c.guardP(r, suspect, f, nil)
	if err != nil || !ok {
		return p, ok, err
	}
	joined := resembledUnderTrained(r, agree)
	if len(joined) == 0 {
		return p, ok, nil
	}
	pu, oku, err := c.guardP(r, suspect, f, func(ctl store.Control) bool { return joined[familyOf(ctl)] })
	if err != nil {
		return 1, false, err
	}
	if oku && pu > p {
		p = pu
	}
	return p, ok, nil
}

// resembledUnderTrained returns the recipe families of r's under-trained
// controls whose top-1 agreement with the teacher (reference.agree) a
// suspect agreeing a (agreementSimilarity) does not exceed by more than
// the family's own spread: a family's largest agreement plus its standard
// deviation. It is the lineage test's rule (reference.nullFor) applied
// family by family, so that a suspect is held to the kind of weak model it
// resembles, not to the best-agreeing of all.
func resembledUnderTrained(r *reference, a float64) map[string]bool {
	agree := map[string][]float64{}
	k := 0
	for _, ctl := range r.allCtl {
		if ctl.Role == store.RolePositive {
			continue
		}
		if r.cond[k] {
			agree[familyOf(ctl)] = append(agree[familyOf(ctl)], r.agree[k])
		}
		k++
	}
	joined := map[string]bool{}
	for fam, v := range agree {
		sd := 0.0
		if len(v) > 1 {
			sd = stat.StdDev(v, nil)
		}
		if a <= slices.Max(v)+sd {
			joined[fam] = true
		}
	}
	return joined
}
