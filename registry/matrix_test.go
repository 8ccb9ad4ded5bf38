package registry

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/report"
	"gonum.org/v1/gonum/blas/blas32"
)

// naiveAgreement is the top-1 agreement of a and b by its definition, an
// argmax per row per pair, as the matrix computed it before the labels
// were found once per fingerprint.
func naiveAgreement(a, b *fingerprint.Fingerprint) float64 {
	if a.P.Rows != b.P.Rows || a.P.Cols != b.P.Cols || a.P.Rows == 0 {
		return math.NaN()
	}
	var sum float64
	for i := 0; i < a.P.Rows; i++ {
		if compare.Top1(a.Row(i)) == compare.Top1(b.Row(i)) {
			sum++
		}
	}
	return sum / float64(a.P.Rows)
}

// TestSimilaritiesAgreement checks that the agreement matrix, built from
// each fingerprint's labels found once, holds exactly the values of the
// definition for every pair: ties (the lowest label wins), rows of NaNs,
// other shapes and empty fingerprints (NaN) included.
func TestSimilaritiesAgreement(t *testing.T) {
	nan := float32(math.NaN())
	tests := []struct {
		name string
		fps  []*fingerprint.Fingerprint
	}{
		{"distinct", []*fingerprint.Fingerprint{
			fpOf([]float32{0.9, 0.1}, []float32{0.2, 0.8}, []float32{0.6, 0.4}),
			fpOf([]float32{0.7, 0.3}, []float32{0.9, 0.1}, []float32{0.4, 0.6}),
			fpOf([]float32{0.1, 0.9}, []float32{0.3, 0.7}, []float32{0.6, 0.4}),
		}},
		{"ties and NaN rows", []*fingerprint.Fingerprint{
			fpOf([]float32{0.5, 0.5}, []float32{nan, nan}, []float32{nan, 1}),
			fpOf([]float32{0.6, 0.4}, []float32{nan, nan}, []float32{0, 1}),
		}},
		{"other shapes", []*fingerprint.Fingerprint{
			fpOf([]float32{0.9, 0.1}, []float32{0.2, 0.8}),
			fpOf([]float32{0.9, 0.1}),
			fpOf([]float32{0.8, 0.1, 0.1}, []float32{0.2, 0.7, 0.1}),
		}},
		{"empty", []*fingerprint.Fingerprint{
			{P: blas32.General{Cols: 2, Stride: 2}},
			{P: blas32.General{Cols: 2, Stride: 2}},
		}},
		{"random", randomFingerprints(12, 50, 10, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := similarities(tt.fps, StatAgreement, nil)
			for i, a := range tt.fps {
				for j, b := range tt.fps {
					want := naiveAgreement(a, b)
					if g := got[i][j]; g != want && !(math.IsNaN(g) && math.IsNaN(want)) {
						t.Errorf("agreement[%d][%d] = %v, want %v", i, j, g, want)
					}
					if p := pairStat(a, b, StatAgreement); p != want && !(math.IsNaN(p) && math.IsNaN(want)) {
						t.Errorf("pairStat(%d, %d) = %v, want %v", i, j, p, want)
					}
				}
			}
		})
	}
}

// randomFingerprints returns n fingerprints of rows random distributions
// over cols labels, drawn from seed.
func randomFingerprints(n, rows, cols int, seed uint64) []*fingerprint.Fingerprint {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]*fingerprint.Fingerprint, n)
	for k := range out {
		p := blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: make([]float32, rows*cols)}
		for i := 0; i < rows; i++ {
			row := p.Data[i*cols : (i+1)*cols]
			var sum float32
			for j := range row {
				row[j] = rng.Float32()
				sum += row[j]
			}
			for j := range row {
				row[j] /= sum
			}
		}
		out[k] = &fingerprint.Fingerprint{ID: fmt.Sprint("fp-", k), P: p}
	}
	return out
}

// BenchmarkSimilaritiesAgreement measures the agreement matrix of a
// registry's suite: 200 models on a 300-probe, 10-label suite.
func BenchmarkSimilaritiesAgreement(b *testing.B) {
	fps := randomFingerprints(200, 300, 10, 2)
	b.ReportAllocs()
	for b.Loop() {
		similarities(fps, StatAgreement, nil)
	}
}

// TestTablesForWideMatrix checks that the formats read on a screen show a
// similarity matrix of more than MaxMatrixColumns models with a row per
// model and the columns of its teachers and references only, saying so,
// while CSV and JSON (and Tables) keep it whole, and a matrix of
// MaxMatrixColumns models is whole everywhere.
func TestTablesForWideMatrix(t *testing.T) {
	matrix := func(suspects int) Matrix {
		m := Matrix{Teacher: "acme", Statistic: StatAgreement, Models: []ModelRole{
			{ID: "acme/teacher", Role: "teacher"}, {ID: "acme/ref-1", Role: "reference"}, {ID: "beta/teacher", Role: "teacher", Enrolment: "beta"}}}
		for i := range suspects {
			id := fmt.Sprintf("s%d", i)
			m.Models = append(m.Models, ModelRole{ID: id, Role: "suspect", Suspect: id})
		}
		n := len(m.Models)
		for i := range n {
			row := make([]float64, n)
			for j := range row {
				row[j] = float64(i*n+j) / float64(n*n)
			}
			m.Values = append(m.Values, row)
		}
		return m
	}
	tests := []struct {
		name     string
		models   int // suspects + 3
		format   report.Format
		wantCols []string // the matrix columns after #, model and role
	}{
		{"wide table", 40, report.FormatTable, []string{"1", "2", "3"}},
		{"wide markdown", 40, report.FormatMarkdown, []string{"1", "2", "3"}},
		{"wide csv", 40, report.FormatCSV, nil},
		{"wide json", 40, report.FormatJSON, nil},
		{"at the limit", MaxMatrixColumns, report.FormatTable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := matrix(tt.models - 3)
			s := &Summary{Matrices: []Matrix{m}}
			mt := s.TablesFor(tt.format)[1]
			want := tt.wantCols
			if want == nil {
				for j := range m.Models {
					want = append(want, strconv.Itoa(j+1))
				}
			}
			var got []string
			for _, c := range mt.Columns[3:] {
				got = append(got, c.Name)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("columns %v, want %v", got, want)
			}
			rows := mt.AllRows()
			if len(rows) != len(m.Models) {
				t.Errorf("%d rows, want one per model, %d", len(rows), len(m.Models))
			}
			// Each cell shown is the value of its row and column.
			for i, row := range rows {
				for k, c := range row[3:] {
					j, _ := strconv.Atoi(want[k])
					if w := report.Float(m.Values[i][j-1], 2); c != w {
						t.Fatalf("row %d column %s: %v, want %v", i+1, want[k], c, w)
					}
				}
			}
			noted := slices.ContainsFunc(mt.Notes, func(n string) bool { return strings.Contains(n, "too many columns") })
			if narrowed := tt.wantCols != nil; noted != narrowed {
				t.Errorf("note on the columns left out: %v, want %v (notes %q)", noted, narrowed, mt.Notes)
			}
			if whole := s.Tables()[1]; len(whole.Columns) != 3+len(m.Models) {
				t.Errorf("Tables: %d columns, want the whole matrix, %d", len(whole.Columns), 3+len(m.Models))
			}
		})
	}
}

// TestSimilaritiesKeep checks that a matrix computed for the columns keep
// keeps holds the whole matrix's values in those columns and their rows,
// and NaN elsewhere.
func TestSimilaritiesKeep(t *testing.T) {
	fps := randomFingerprints(6, 40, 5, 3)
	for _, stat := range []string{StatAgreement, StatJS} {
		whole := similarities(fps, stat, nil)
		kept := map[int]bool{0: true, 3: true}
		got := similarities(fps, stat, func(j int) bool { return kept[j] })
		for i := range fps {
			for j := range fps {
				want := math.NaN()
				if kept[i] || kept[j] {
					want = whole[i][j]
				}
				if g := got[i][j]; g != want && !(math.IsNaN(g) && math.IsNaN(want)) {
					t.Errorf("%s[%d][%d] = %v, want %v", stat, i, j, g, want)
				}
			}
		}
	}
}
