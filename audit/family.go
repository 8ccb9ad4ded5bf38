package audit

import (
	"math"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/stat/distuv"
)

// familyOf names a control's recipe family (the first word of its recipe;
// references form one family of their own).
func familyOf(c store.Control) string {
	if c.Role == store.RoleReference {
		return "reference"
	}
	if f := strings.Fields(c.Recipe); len(f) > 0 {
		return f[0]
	}
	return "unnamed"
}

// positiveFamilies returns the recipe families of r's positive controls,
// in the order calibration (calibrationReport, labelCalibration) lists
// their p-values.
func (r *reference) positiveFamilies() []string {
	var fams []string
	for _, c := range r.allCtl {
		if c.Role == store.RolePositive {
			fams = append(fams, familyOf(c))
		}
	}
	return fams
}

// missedFamilies returns, sorted and each once, the families fams[i] of
// the calibration positives whose p-value posP[i] is above alpha: the
// kinds of copy the suite failed to flag. It returns nil when the two do
// not line up (a report whose controls lineage cannot pair with its
// p-values).
func missedFamilies(posP []float64, fams []string, alpha float64) []string {
	if len(posP) != len(fams) {
		return nil
	}
	var out []string
	for i, p := range posP {
		if !(p <= alpha) && !slices.Contains(out, fams[i]) {
			out = append(out, fams[i])
		}
	}
	slices.Sort(out)
	return out
}

// Family names the family of the neighbour's control, as familyOf does
// for the control itself ("reference" for a reference).
func (n Neighbour) Family() string {
	return familyOf(store.Control{Recipe: n.Recipe, Role: n.Role})
}

// worstFamilyP returns the p-value of score x against the null family whose
// models score highest, under a one-way model of the null scores: family
// f's scores are Gaussian with mean μ_f and a common within-family spread
// σ (pooled over all families, N − F degrees of freedom),
//
//	p = max_f 1 − F_{t, N−F}((x − μ_f) / (σ·√(1 + 1/n_f))).
//
// The pooled null mixes easy independent models (other architectures,
// other data) with hard ones (the teacher's own recipe with another seed),
// so its p-value is too small for a suspect from the hardest family; this
// one holds for a suspect from any single family. ok is false when there
// are not at least two degrees of freedom.
func worstFamilyP(null []float64, fam []string, x float64) (p float64, worst string, ok bool) {
	sum := map[string]float64{}
	cnt := map[string]int{}
	for i, y := range null {
		if math.IsNaN(y) {
			continue
		}
		sum[fam[i]] += y
		cnt[fam[i]]++
	}
	n := 0
	for _, c := range cnt {
		n += c
	}
	df := n - len(cnt)
	if df < 2 {
		return 1, "", false
	}
	var ss float64
	for i, y := range null {
		if math.IsNaN(y) {
			continue
		}
		d := y - sum[fam[i]]/float64(cnt[fam[i]])
		ss += d * d
	}
	sd := math.Sqrt(ss / float64(df))
	if !(sd > 0) {
		return 1, "", false
	}
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}
	p = 0
	for f, c := range cnt {
		mu := sum[f] / float64(c)
		// The upper tail as the lower tail of the mirror image: 1 − CDF
		// loses every p-value below about 1e-16 to 0.
		pf := t.CDF(-(x - mu) / (sd * math.Sqrt(1+1/float64(c))))
		if pf > p || (pf == p && f < worst) {
			p, worst = pf, f
		}
	}
	return p, worst, true
}
