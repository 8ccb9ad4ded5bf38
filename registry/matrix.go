package registry

import (
	"math"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/report"
)

// Matrix is the similarity matrix of the models fingerprinted on a
// teacher's suite: Values[i][j] is Statistic between Models[i] and
// Models[j] (symmetric; NaN for fingerprints of different shapes).
type Matrix struct {
	Teacher   string      `json:"teacher"`
	Suite     string      `json:"suite"`
	Statistic string      `json:"statistic"`
	Models    []ModelRole `json:"models"`
	Values    [][]float64 `json:"values"`
	// fps are the models' fingerprints and keep the columns to compute
	// (nil: all), until Summary.ComputeMatrices fills Values.
	fps  []*fingerprint.Fingerprint
	keep func(int) bool
}

// Figure draws m as a heat map, its models named as in the tables, with
// their roles; agreement is coloured on its whole 0-to-1 scale, so that
// the least similar pair shown is not drawn as if it agreed nowhere.
func (m Matrix) Figure() report.Matrix {
	names := make([]string, len(m.Models))
	for i, mr := range m.Models {
		names[i] = mr.Name(m.Teacher)
		if r := mr.RoleText(); names[i] != r {
			names[i] += " (" + r + ")"
		}
	}
	f := report.Matrix{Title: "Similarity on the suite of " + m.Teacher, Statistic: "top-1 agreement",
		Rows: names, Cols: names, Values: m.Values, Range: [2]float64{0, 1}}
	if m.Statistic == StatJS {
		// Divergences between models on one task are a small part of
		// their 0-to-1-bit range: the values' own span shows them apart.
		f.Statistic, f.Range = "mean JS divergence (bits)", [2]float64{}
	}
	return f
}

// similarities returns the symmetric matrix of stat between every pair of
// fps of which keep keeps one (every pair, for a nil keep), the others
// NaN. For agreement each fingerprint's top-1 labels are found once, not
// once per pair: on a registry of n suspects that is n argmaxes per probe
// instead of n², the difference between seconds and minutes at n = 1,000.
func similarities(fps []*fingerprint.Fingerprint, stat string, keep func(int) bool) [][]float64 {
	n := len(fps)
	vals := make([][]float64, n)
	for i := range vals {
		vals[i] = make([]float64, n)
	}
	var labels [][]int32
	if stat != StatJS {
		labels = make([][]int32, n)
		for i, fp := range fps {
			labels[i] = topLabels(fp)
		}
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := math.NaN()
			switch {
			case keep != nil && !keep(i) && !keep(j):
			case labels != nil:
				v = agreement(fps[i], fps[j], labels[i], labels[j])
			default:
				v = pairStat(fps[i], fps[j], stat)
			}
			vals[i][j], vals[j][i] = v, v
		}
	}
	return vals
}

// pairStat is the top-1 agreement (StatAgreement) or mean JS divergence
// (StatJS) between two fingerprints on the same suite:
//
//	agreement = (1/n) Σ_i [argmax a_i = argmax b_i],  js = (1/n) Σ_i JS(a_i, b_i),
//
// NaN when their shapes differ or they are empty.
func pairStat(a, b *fingerprint.Fingerprint, stat string) float64 {
	if stat != StatJS {
		return agreement(a, b, topLabels(a), topLabels(b))
	}
	if !sameShape(a, b) {
		return math.NaN()
	}
	var sum float64
	for i := 0; i < a.P.Rows; i++ {
		sum += compare.JSDivergence(a.Row(i), b.Row(i))
	}
	return sum / float64(a.P.Rows)
}

// agreement is pairStat's agreement of a and b, whose top-1 labels (see
// topLabels) are la and lb.
func agreement(a, b *fingerprint.Fingerprint, la, lb []int32) float64 {
	if !sameShape(a, b) {
		return math.NaN()
	}
	lb = lb[:len(la)]
	n := 0
	for i, l := range la {
		if l == lb[i] {
			n++
		}
	}
	// n counts whole probes: as a float64 it is the sum of ones exactly.
	return float64(n) / float64(a.P.Rows)
}

// sameShape reports whether a and b have outputs of one shape, not empty.
func sameShape(a, b *fingerprint.Fingerprint) bool {
	return a.P.Rows == b.P.Rows && a.P.Cols == b.P.Cols && a.P.Rows > 0
}

// topLabels returns fp's top-1 label on every probe (compare.Top1: -1 for
// a row of NaNs).
func topLabels(fp *fingerprint.Fingerprint) []int32 {
	out := make([]int32, fp.P.Rows)
	for i := range out {
		out[i] = int32(compare.Top1(fp.Row(i)))
	}
	return out
}
