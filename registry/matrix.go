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
}

// Figure draws m as a heat map, its models named as in the tables, with
// their roles.
func (m Matrix) Figure() report.Matrix {
	names := make([]string, len(m.Models))
	for i, mr := range m.Models {
		names[i] = mr.Name(m.Teacher)
		if r := mr.RoleText(); names[i] != r {
			names[i] += " (" + r + ")"
		}
	}
	stat := "top-1 agreement"
	if m.Statistic == StatJS {
		stat = "mean JS divergence (bits)"
	}
	return report.Matrix{Title: "Similarity on the suite of " + m.Teacher, Statistic: stat,
		Rows: names, Cols: names, Values: m.Values}
}

// similarities returns the symmetric matrix of stat between every pair of
// fps.
func similarities(fps []*fingerprint.Fingerprint, stat string) [][]float64 {
	n := len(fps)
	vals := make([][]float64, n)
	for i := range vals {
		vals[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := pairStat(fps[i], fps[j], stat)
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
	if a.P.Rows != b.P.Rows || a.P.Cols != b.P.Cols || a.P.Rows == 0 {
		return math.NaN()
	}
	var sum float64
	for i := 0; i < a.P.Rows; i++ {
		if stat == StatJS {
			sum += compare.JSDivergence(a.Row(i), b.Row(i))
		} else if compare.Top1(a.Row(i)) == compare.Top1(b.Row(i)) {
			sum++
		}
	}
	return sum / float64(a.P.Rows)
}
