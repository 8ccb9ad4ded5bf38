package audit

import (
	"sync"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// ReplicaFamily is the recipe family of the negative controls that
// replicate the teacher: its own architecture and training recipe with
// other seeds. Those of the selection half are the replicas of the
// replica contrast.
const ReplicaFamily = "teacher-recipe"

// MinReplicas is the number of replicas an enrolment needs before audits
// use the replica contrast.
const MinReplicas = 2

// featContrast names the replica-contrast feature.
const featContrast = "replica_contrast"

// contrastKinds are the probe kinds the replica contrast is measured on:
// inputs on or between data points, where models of the task are unsure
// enough for the order of their runner-up classes to carry a model's own
// "dark knowledge", and which adversarial search did not tailor to
// particular models.
var contrastKinds = []probe.Kind{probe.Mixup, probe.Data, probe.Watermark, probe.Boundary}

// contrastPanel is a case's replica contrast, prepared once: for every
// contrast probe i the teacher's rank profile ρ(T_i) and the sum of the
// replicas' profiles, so that
//
//	C(S) = (1/n) Σ_i ⟨ρ(S_i), ρ(T_i) − ρ̄_i⟩,   ρ̄_i = mean over replicas of ρ(R_i),
//
// the suspect's weighted rank correlation with the teacher minus its mean
// correlation with the replicas. An independent suspect has no reason to
// side with the teacher rather than with a replica of it, whatever its own
// architecture, so C centres near zero for every kind of independent
// model, while a model distilled from the teacher inherits the teacher's
// own order of runner-up classes. A replica is measured against the other
// replicas only (leave-one-out).
type contrastPanel struct {
	rows     []int
	all      []int       // 0, 1, …, len(rows)−1: every contrast probe (see value)
	data     []int       // the indices in rows of the held-out data probes (see dataValue)
	teacher  [][]float64 // ρ(T_i)
	sum      [][]float64 // Σ_r ρ(R_i)
	replicas []replica

	residualOnce sync.Once
	res          *residualPanel // see residual

	probOnce sync.Once
	probSum  []float64 // Σ_r R_ij over every probe i of the suite, row-major (see probValue)
}

// replica is one replica of the teacher: its fingerprint ID, its outputs
// on the whole suite and its rank profiles on the contrast probes.
type replica struct {
	id   string
	p    blas32.General
	prof [][]float64
}

// contrast returns the case's replica-contrast panel, or nil when the
// enrolment has fewer than MinReplicas replicas or its suite fewer than
// minKindProbes contrast probes.
func (c *Case) contrast() *contrastPanel {
	c.contrastOnce.Do(func() {
		var rows []int
		for i, k := range c.Suite.Kinds {
			for _, ck := range contrastKinds {
				if k == ck {
					rows = append(rows, i)
					break
				}
			}
		}
		if len(rows) < minKindProbes {
			return
		}
		var reps []int
		for i, ctl := range c.Enrolment.Controls {
			if ctl.Role == store.RoleNegative && ctl.Half == store.HalfSelection && familyOf(ctl) == ReplicaFamily {
				reps = append(reps, i)
			}
		}
		if len(reps) < MinReplicas {
			return
		}
		cp := &contrastPanel{rows: rows, all: make([]int, len(rows))}
		for i, r := range rows {
			cp.all[i] = i
			if c.Suite.Kinds[r] == probe.Data {
				cp.data = append(cp.data, i)
			}
		}
		cp.teacher = profiles(c.Teacher.P, rows)
		cp.sum = make([][]float64, len(rows))
		for i := range cp.sum {
			cp.sum[i] = make([]float64, c.Teacher.P.Cols)
		}
		for _, r := range reps {
			pr := profiles(c.Controls[r].P, rows)
			for i, v := range pr {
				for j, x := range v {
					cp.sum[i][j] += x
				}
			}
			cp.replicas = append(cp.replicas, replica{id: c.Enrolment.Controls[r].FP, p: c.Controls[r].P, prof: pr})
		}
		c.contrastP = cp
	})
	return c.contrastP
}

// profiles returns the rank profiles (compare.RankProfile) of p's rows.
func profiles(p blas32.General, rows []int) [][]float64 {
	return perRow(p, rows, compare.RankProfile)
}

// perRow returns f applied to each of p's rows listed in rows, f writing
// its result into a fresh slice of p.Cols values.
func perRow(p blas32.General, rows []int, f func(dst []float64, row []float32)) [][]float64 {
	out := make([][]float64, len(rows))
	for i, r := range rows {
		out[i] = make([]float64, p.Cols)
		f(out[i], p.Data[r*p.Stride:r*p.Stride+p.Cols])
	}
	return out
}

// value returns C for the outputs p of the fingerprint id (see
// contrastPanel); a replica is contrasted with the others only.
func (cp *contrastPanel) value(id string, p blas32.General) float64 {
	return cp.valueOn(id, p, cp.all)
}

// dataValue returns C over the held-out data probes alone: the inputs a
// model of the task is sure of, which a server routing the inputs its copy
// is unsure of to another model (the suite's other probes, chosen near the
// teacher's boundaries) still answers with the copy; a student keeps the
// teacher's order of runner-up classes there too (see dataContrastP).
func (cp *contrastPanel) dataValue(id string, p blas32.General) float64 {
	return cp.valueOn(id, p, cp.data)
}

// valueOn returns C over the contrast probes rows[i] for i in idx (0 for
// none).
func (cp *contrastPanel) valueOn(id string, p blas32.General, idx []int) float64 {
	if len(idx) == 0 {
		return 0
	}
	var own [][]float64
	for _, r := range cp.replicas {
		if r.id == id {
			own = r.prof
		}
	}
	n := float64(len(cp.replicas))
	if own != nil {
		n--
	}
	prof := make([]float64, p.Cols)
	var total float64
	for _, i := range idx {
		r := cp.rows[i]
		compare.RankProfile(prof, p.Data[r*p.Stride:r*p.Stride+p.Cols])
		for j, s := range prof {
			m := cp.sum[i][j]
			if own != nil {
				m -= own[i][j]
			}
			total += s * (cp.teacher[i][j] - m/n)
		}
	}
	return total / float64(len(idx))
}
