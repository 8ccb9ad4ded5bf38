package fingerprint

import (
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// rowsFP returns a fingerprint of the given rows with top-k k.
func rowsFP(k int, rows ...[]float32) *Fingerprint {
	c := len(rows[0])
	p := blas32.General{Rows: len(rows), Cols: c, Stride: c, Data: make([]float32, 0, len(rows)*c)}
	for _, r := range rows {
		p.Data = append(p.Data, r...)
	}
	return &Fingerprint{ID: "fp", Suite: "s", P: p, TopK: k}
}

// TestEncodeFormsRoundTrip checks that every row survives Encode and
// Decode bit for bit whatever form Encode picks: a top-k fingerprint is
// stored sparse only when every entry outside the k largest equals the
// fill, the last of them included, and 65536 labels still take 16-bit
// indices (the decoder wants them there), 65537 32-bit ones.
func TestEncodeFormsRoundTrip(t *testing.T) {
	wide := func(cols int) []float32 {
		r := make([]float32, cols)
		r[cols-1] = 1
		return r
	}
	tests := []struct {
		name     string
		fp       *Fingerprint
		wantForm byte
	}{
		{"top-k shaped", rowsFP(2, []float32{0.5, 0.1, 0.3, 0.1}), formSparse16},
		{"top-k of all labels but one", rowsFP(3, []float32{0.4, 0.3, 0.2, 0.1}), formSparse16},
		{"smallest tail entry differs", rowsFP(2, []float32{0.5, 0.1, 0.3, 0.1, 0}), formDense},
		{"tail entries differ", rowsFP(2, []float32{0.4, 0.12, 0.3, 0.08, 0.1}), formDense},
		{"second row differs last", rowsFP(1, []float32{0.7, 0.1, 0.1, 0.1}, []float32{0.7, 0.1, 0.12, 0.08}), formDense},
		{"65536 labels", rowsFP(1, wide(1<<16)), formSparse16},
		{"65537 labels", rowsFP(1, wide(1<<16+1)), formSparse32},
	}
	for _, tt := range tests {
		data, err := Encode(tt.fp)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if data[6] != tt.wantForm {
			t.Errorf("%s: form %d, want %d", tt.name, data[6], tt.wantForm)
		}
		got, err := Decode(data)
		if err != nil {
			t.Fatalf("%s: decode: %v", tt.name, err)
		}
		if !samePBits(got.P, tt.fp.P) {
			t.Errorf("%s: decoded rows %v, want %v", tt.name, got.P.Data[:min(8, len(got.P.Data))], tt.fp.P.Data[:min(8, len(tt.fp.P.Data))])
		}
	}
}

// TestDecodeNonCanonical checks that Decode refuses payloads Encode never
// writes, even well-formed ones: trailing bytes after a dense matrix, a
// sparse row naming a label twice, and a sparse form whose top-k is every
// label.
func TestDecodeNonCanonical(t *testing.T) {
	dense, err := Encode(rowsFP(0, []float32{0.5, 0.25, 0.25}))
	if err != nil {
		t.Fatal(err)
	}
	sparse, err := Encode(rowsFP(2, []float32{0.5, 0.3, 0.1, 0.1}))
	if err != nil || sparse[6] != formSparse16 {
		t.Fatalf("sparse set-up: form %d, err %v", sparse[6], err)
	}
	payload := func(b []byte) int { return headerLen + int(binary.LittleEndian.Uint32(b[8:])) }
	// The same row with top-k 3 of 3 labels: three (index, value) pairs
	// and the fill, under a header that says top_k 3.
	allK := func() []byte {
		p := payload(dense)
		meta := strings.Replace(string(dense[headerLen:p]), `"rows":1`, `"top_k":3,"rows":1`, 1)
		b := append([]byte(nil), dense[:headerLen]...)
		b[6] = formSparse16
		binary.LittleEndian.PutUint32(b[8:], uint32(len(meta)))
		b = append(b, meta...)
		for j := range 3 {
			b = binary.LittleEndian.AppendUint16(b, uint16(j))
			b = append(b, dense[p+4*j:p+4*j+4]...)
		}
		return append(b, 0, 0, 0, 0)
	}()
	if !strings.Contains(string(allK), `"top_k":3`) {
		t.Fatalf("set-up: no top_k in %s", allK[headerLen:])
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"dense trailing byte", append(append([]byte(nil), dense...), 0)},
		{"dense trailing value", append(append([]byte(nil), dense...), 0, 0, 0, 0)},
		{"sparse index repeated", func() []byte {
			b := append([]byte(nil), sparse...)
			p := payload(b)
			copy(b[p+6:p+8], b[p:p+2]) // the second index is the first's
			return b
		}()},
		{"sparse top-k of every label", allK},
	}
	for _, tt := range tests {
		if _, err := Decode(tt.data); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Decode error = %v, want ErrFormat", tt.name, err)
		}
	}
}

// TestCompactEveryLabel checks that compacting to k ≥ the number of labels
// keeps the fingerprint as it was, top-k included.
func TestCompactEveryLabel(t *testing.T) {
	fp := rowsFP(0, []float32{0.5, 0.3, 0.2}, []float32{0.1, 0.6, 0.3})
	fp.Hash = fp.ComputeHash()
	for _, k := range []int{3, 4} {
		c := fp.Compact(k)
		if c.TopK != 0 || c.Hash != fp.Hash || !samePBits(c.P, fp.P) {
			t.Errorf("Compact(%d): top-k %d hash %.12s rows %v, want top-k 0 hash %.12s rows %v", k, c.TopK, c.Hash, c.P.Data, fp.Hash, fp.P.Data)
		}
	}
}

// TestCheckRowSum checks that rows summing to more or to less than 1
// (beyond RowSumTolerance) are refused.
func TestCheckRowSum(t *testing.T) {
	tests := []struct {
		row  []float32
		want bool // a problem
	}{
		{[]float32{0.5, 0.5}, false},
		{[]float32{0.25, 0.25}, true},
		{[]float32{0.75, 0.75}, true},
		{[]float32{1, -0.5, 0.5}, true},
	}
	for _, tt := range tests {
		if got := CheckRow(tt.row); (got != "") != tt.want {
			t.Errorf("CheckRow(%v) = %q, want a problem %v", tt.row, got, tt.want)
		}
	}
}

// TestSameOutputsMetaPresence checks that SameOutputs tells a label map
// recorded empty from none recorded: the hash covers the key's presence.
func TestSameOutputsMetaPresence(t *testing.T) {
	none := rowsFP(0, []float32{0.5, 0.3, 0.2})
	none.Hash = none.ComputeHash()
	empty := rowsFP(0, []float32{0.5, 0.3, 0.2})
	empty.Meta = map[string]string{MetaLabelMap: ""}
	empty.Hash = empty.ComputeHash()
	if empty.Hash == none.Hash {
		t.Fatalf("set-up: an empty label map hashes as none")
	}
	for _, tt := range []struct {
		name string
		a, b *Fingerprint
	}{{"empty vs none", empty, none}, {"none vs empty", none, empty}} {
		if tt.a.SameOutputs(tt.b) {
			t.Errorf("%s: SameOutputs = true, want false", tt.name)
		}
	}
	if !none.SameOutputs(none) || !empty.SameOutputs(empty) {
		t.Errorf("a fingerprint is not SameOutputs as itself")
	}
}

// TestTop1Ties checks that Top1 gives ties to the lowest index.
func TestTop1Ties(t *testing.T) {
	fp := rowsFP(0, []float32{0.4, 0.4, 0.2}, []float32{0.2, 0.4, 0.4}, []float32{0.3, 0.3, 0.3})
	if got, want := Top1(fp), []int{0, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("Top1 = %v, want %v", got, want)
	}
}
