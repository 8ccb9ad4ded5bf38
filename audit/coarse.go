package audit

import (
	"fmt"

	"github.com/lineage-audit/lineage/compare"
	"gonum.org/v1/gonum/blas/blas32"
)

// floorTrims are the shares of the suite's probes that the mixing-floor
// check leaves out, one check each (compare.MixFloorTrim with k the share
// of the probes, rounded down): with none left out, one probe served
// without the floor would hide it (an evasion hunt left the mix off 1 % of
// the inputs and the copy was INCONCLUSIVE again); each further share
// makes the floor show unless more of the inputs go unmixed, and each is
// held against the controls' floor with the same share left out, which
// grows faster for the label-smoothed ones.
var floorTrims = [...]float64{0, 0.01, 0.05, 0.1}

// floorTrim returns how many of each class's smallest probabilities the
// i-th mixing-floor check leaves out of rows: floorTrims[i] of them,
// rounded down.
func floorTrim(i, rows int) int { return int(floorTrims[i] * float64(rows)) }

// coarseOutputs says why a suspect with outputs p must be audited on its
// labels, or returns "" when its full outputs can be read as they are:
// rounded or flattened below the top class (the runner-up order and sizes
// the full-output features read are gone or made up; see CoarseMin), or
// held above a floor on every class, as if mixed with a fixed distribution
// (see FloorMin). No control answers like either; the labels are what such
// a suspect reveals for certain, so the audit compares like with like.
func coarseOutputs(c *Case, p blas32.General) string {
	if compare.LabelOnly(p) {
		return ""
	}
	if share := compare.CoarseShare(p); share >= CoarseMin {
		return fmt.Sprintf("the suspect's outputs are rounded or flattened below the top class (exact zeros or ties on %.0f%% of the probes), so it was audited on its labels", 100*share)
	}
	for i := range floorTrims {
		k := floorTrim(i, p.Rows)
		if f := compare.MixFloorTrim(p, k); f >= FloorMin && f > 2*c.controlFloor(i) {
			where := ""
			if k > 0 {
				where = fmt.Sprintf(" (each class's %d smallest probabilities left out)", k)
			}
			return fmt.Sprintf("the suspect's outputs never go below a floor that adds up to %.3g over the classes%s, as if mixed with a fixed distribution, so it was audited on its labels", f, where)
		}
	}
	return ""
}
