package audit

import (
	"github.com/lineage-audit/lineage/compare"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/floats"
)

// StatResidual names the replica residual (see residualValue) in audit
// results, where it is tested on its own beside the discriminant score.
const StatResidual = "replica_residual"

// featResidual names the replica-residual feature.
const featResidual = StatResidual

// residualPanel holds what the replica residual needs, prepared once: the
// teacher's centred log-probabilities (compare.CentredLog) on the contrast
// probes, and the replicas' own and summed.
type residualPanel struct {
	teacher [][]float64
	sum     [][]float64
	own     map[string][][]float64
}

// centredLogs returns the centred log-probabilities of p's rows.
func centredLogs(p blas32.General, rows []int) [][]float64 {
	return perRow(p, rows, compare.CentredLog)
}

// residual returns the panel's residual data, built on first use.
func (cp *contrastPanel) residual(teacher blas32.General) *residualPanel {
	cp.residualOnce.Do(func() {
		rp := &residualPanel{teacher: centredLogs(teacher, cp.rows), own: map[string][][]float64{}}
		rp.sum = make([][]float64, len(cp.rows))
		for i := range rp.sum {
			rp.sum[i] = make([]float64, teacher.Cols)
		}
		for _, r := range cp.replicas {
			cl := centredLogs(r.p, cp.rows)
			rp.own[r.id] = cl
			for i, v := range cl {
				floats.Add(rp.sum[i], v)
			}
		}
		cp.res = rp
	})
	return cp.res
}

// residualValue returns the replica residual R of the suspect whose
// outputs are p. With x_ij the centred log-probability
// (compare.CentredLog) of class j on contrast probe i, m_ij the replicas'
// mean of it (a replica's own left out), and for each model the part of
// its x that the replicas' mean does not explain,
//
//	e(X) = x(X) − c_X·m,   c_X = ⟨x(X), m⟩ / ⟨m, m⟩   (over all i, j),
//
// R(S) is Spearman's correlation of e(S) with e(T): whether the suspect
// departs from what the teacher's recipe does in the same directions, and
// by the same order of amounts, as the teacher itself. Where the replica
// contrast reads only each probe's order of classes, R reads how far apart
// the classes are, across probes as well as within them. The fitted c
// absorbs a serving-time temperature, which multiplies x by 1/T.
func (cp *contrastPanel) residualValue(id string, teacher, p blas32.General) float64 {
	rp := cp.residual(teacher)
	own := rp.own[id]
	n := float64(len(cp.replicas))
	if own != nil {
		n--
	}
	k := p.Cols
	size := len(cp.rows) * k
	t, s, m := make([]float64, 0, size), make([]float64, 0, size), make([]float64, 0, size)
	row := make([]float64, k)
	for i, r := range cp.rows {
		compare.CentredLog(row, p.Data[r*p.Stride:r*p.Stride+k])
		s = append(s, row...)
		t = append(t, rp.teacher[i]...)
		for j := range row {
			v := rp.sum[i][j]
			if own != nil {
				v -= own[i][j]
			}
			m = append(m, v/n)
		}
	}
	mm := floats.Dot(m, m)
	if !(mm > 0) {
		return 0
	}
	floats.AddScaled(t, -floats.Dot(t, m)/mm, m)
	floats.AddScaled(s, -floats.Dot(s, m)/mm, m)
	return compare.Spearman(t, s)
}
