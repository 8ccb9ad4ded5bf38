package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"testing"

	"github.com/lineage-audit/lineage/internal/jsonnum"
	"github.com/lineage-audit/lineage/report"
)

// TestWriteJSON checks that WriteJSON writes what jsonnum.MarshalIndent
// makes of the summary, and a line feed, byte for byte: NaN and ±Inf as
// null, numbers in exponent form, empty and nil matrices and rows, names
// that JSON escapes, and the optional fields.
func TestWriteJSON(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	mr := []ModelRole{{ID: "acme/teacher", Role: "teacher"}, {ID: "<s>&\"1\"\n", Role: "suspect", Suspect: "\u2028é", Also: []string{"x"}}}
	tests := []struct {
		name string
		sum  Summary
	}{
		{"zero", Summary{}},
		{"empty", Summary{Teachers: []Teacher{}, Matrices: []Matrix{}, Verdicts: []Verdict{}}},
		{"nil values", Summary{Matrices: []Matrix{{Teacher: "acme", Models: mr}}}},
		{"empty values", Summary{Matrices: []Matrix{{Teacher: "acme", Values: [][]float64{}}}}},
		{"nil and empty rows", Summary{Matrices: []Matrix{{Teacher: "acme", Values: [][]float64{nil, {}, {0.5}}}}}},
		{"numbers", Summary{Matrices: []Matrix{{Teacher: "acme", Suite: "abc", Statistic: StatJS, Models: mr,
			Values: [][]float64{{1, nan, 1e-7, -2.5e-300}, {inf, math.Inf(-1), 1e21, 123456789012}, {0, math.Copysign(0, -1), 0.1 + 0.2, -math.MaxFloat64}}}}}},
		{"two matrices and the rest", Summary{
			Teachers: []Teacher{{Teacher: "acme", AUC: nan, Comp: map[string]int{"data": 3}}},
			Matrices: []Matrix{{Teacher: "acme", Models: mr, Values: [][]float64{{1, 0.25}, {0.25, 1}}}, {Teacher: "beta", Values: [][]float64{{nan}}}},
			Verdicts: []Verdict{{Suspect: "s", Teacher: "acme", PValue: nan, EffectSize: inf, NotRuledOut: []string{"a"}}},
			Unlisted: []Unlisted{{Suspect: "u", Teacher: "gone", PValue: 0.5, Why: "enrolment removed"}},
			Figures:  []string{"a.png", "<b>.svg"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := jsonnum.MarshalIndent(&tt.sum)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, '\n')
			var got bytes.Buffer
			if err := tt.sum.WriteJSON(&got); err != nil {
				t.Fatalf("WriteJSON: %v", err)
			}
			if !bytes.Equal(got.Bytes(), want) {
				t.Errorf("WriteJSON wrote\n%s\nwant (jsonnum.MarshalIndent)\n%s", got.Bytes(), want)
			}
		})
	}
}

// TestWriteJSONStreams checks that WriteJSON does not hold a matrix's
// text: writing a 500×500 matrix (about 5 MB of JSON) allocates less than
// a tenth of its size, where marshalling the summary whole allocates more
// than the text.
func TestWriteJSONStreams(t *testing.T) {
	const n = 500
	m := Matrix{Teacher: "acme", Statistic: StatJS}
	for i := range n {
		m.Models = append(m.Models, ModelRole{ID: fmt.Sprint("s", i), Role: "suspect"})
		row := make([]float64, n)
		for j := range row {
			row[j] = float64(i*n+j) / 3e5
		}
		row[(i*7)%n] = math.NaN()
		m.Values = append(m.Values, row)
	}
	sum := &Summary{Matrices: []Matrix{m}}
	var size int64
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := sum.WriteJSON(countWriter{&size})
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(size)/10 {
		t.Errorf("WriteJSON of %d bytes allocated %d bytes, want under a tenth of the output", size, alloc)
	}
}

// countWriter counts the bytes written to it.
type countWriter struct{ n *int64 }

func (c countWriter) Write(p []byte) (int, error) {
	*c.n += int64(len(p))
	return len(p), nil
}

// TestWriteJSONError checks that a write error is returned.
func TestWriteJSONError(t *testing.T) {
	sum := &Summary{Matrices: []Matrix{{Teacher: "acme", Values: [][]float64{make([]float64, 20000)}}}}
	want := errors.New("disk full")
	if err := sum.WriteJSON(failWriter{want}); !errors.Is(err, want) {
		t.Errorf("WriteJSON to a failing writer: %v, want %v", err, want)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }

// FuzzAppendJSONFloat checks appendJSONFloat against encoding/json for
// every finite float64, null for NaN and ±Inf, and the round trip.
func FuzzAppendJSONFloat(f *testing.F) {
	for _, v := range []float64{0, 1, -2.5, 1e-7, 1e-6, 9.99e-7, 1e20, 1e21, 1e-300, 5e-324, math.MaxFloat64, math.NaN(), math.Inf(-1)} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v float64) {
		got := appendJSONFloat(nil, v)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if string(got) != "null" {
				t.Errorf("appendJSONFloat(%v) = %s, want null", v, got)
			}
			return
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("appendJSONFloat(%v) = %s, want %s (encoding/json)", v, got, want)
		}
		var back float64
		if err := json.Unmarshal(got, &back); err != nil || back != v {
			t.Errorf("round trip of %v through %s: %v, %v", v, got, back, err)
		}
	})
}

// TestMatrixTableGenerated checks that a matrix table holds no cell: its
// rows are generated as they are written (report.RowSource), so that
// writing a registry's matrix as CSV does not hold its n² cells.
func TestMatrixTableGenerated(t *testing.T) {
	m := Matrix{Teacher: "acme", Statistic: StatAgreement, Models: []ModelRole{{ID: "acme/teacher", Role: "teacher"}, {ID: "s", Role: "suspect", Suspect: "s"}},
		Values: [][]float64{{1, 0.5}, {0.5, 1}}}
	for _, f := range report.Formats() {
		mt := (&Summary{Matrices: []Matrix{m}}).TablesFor(f)[1]
		if len(mt.Rows) != 0 || mt.More.N != len(m.Models) {
			t.Errorf("%s: %d rows held and %d generated, want 0 and %d", f, len(mt.Rows), mt.More.N, len(m.Models))
		}
	}
}

// BenchmarkWriteReport measures lineage report's CSV and JSON output of a
// registry of 1,000 suspects on one suite (a 1,001×1,001 matrix), from the
// summary to the text.
func BenchmarkWriteReport(b *testing.B) {
	sum := summarize(b, registryStore(b, []string{"acme"}, 100, 1000), Options{})
	b.Run("csv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := report.RenderAll(io.Discard, sum.TablesFor(report.FormatCSV), report.FormatCSV); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := sum.WriteJSON(io.Discard); err != nil {
				b.Fatal(err)
			}
		}
	})
}
