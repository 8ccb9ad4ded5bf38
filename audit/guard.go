package audit

import (
	"errors"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"

	"gonum.org/v1/gonum/blas/blas32"
)

// guardP returns the p-value of the suspect's value of the feature f
// against the trained null of r (its independent controls and full-output
// references; of the under-trained controls, only those join accepts, none
// for a nil join): the larger of the robust predictive p-value
// (compare.Test) and the hardest family's (worstFamilyP). ok is false when
// there are too few null models.
func (c *Case) guardP(r *reference, suspect *fingerprint.Fingerprint, f func(id string, p blas32.General) float64, join func(store.Control) bool) (p float64, ok bool, err error) {
	ids, ps, fam := c.guardNull(r, join)
	null := make([]float64, len(ids))
	for i := range ids {
		null[i] = f(ids[i], ps[i])
	}
	x := f(suspect.ID, suspect.P)
	rows := make([][]float64, len(null))
	for i, v := range null {
		rows[i] = []float64{v}
	}
	res, err := compare.Test(rows, []float64{x}, compare.Options{})
	if errors.Is(err, compare.ErrInsufficientNull) {
		return 1, false, nil
	}
	if err != nil {
		return 1, false, err
	}
	p = res.Stats[0].P
	if pf, _, okf := worstFamilyP(null, fam, x); okf && pf > p {
		p = pf
	}
	return p, true, nil
}

// guardNull returns the fingerprint IDs, outputs and recipe families of
// the null of r that guardP tests against.
func (c *Case) guardNull(r *reference, join func(store.Control) bool) (ids []string, ps []blas32.General, fam []string) {
	for i, ctl := range r.allCtl {
		if ctl.Role == store.RolePositive || (ctl.Half == store.HalfUnderTrained && (join == nil || !join(ctl))) {
			continue
		}
		p := c.Controls[r.allIdx[i]].P
		if compare.LabelOnly(p) {
			continue // a label-only reference has no order of runner-up classes
		}
		ids, ps, fam = append(ids, ctl.FP), append(ps, p), append(fam, familyOf(ctl))
	}
	return ids, ps, fam
}
