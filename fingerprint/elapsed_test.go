package fingerprint

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"
)

// reheader returns data with its JSON metadata replaced by meta.
func reheader(data, meta []byte) []byte {
	n := binary.LittleEndian.Uint32(data[8:])
	out := binary.LittleEndian.AppendUint32(bytes.Clone(data[:8]), uint32(len(meta)))
	out = append(out, meta...)
	return append(out, data[headerLen+int(n):]...)
}

func TestSameButElapsed(t *testing.T) {
	labels := []string{"0", "1", "2", "3"}
	base := takeTest(t, 12, 5, labels, 0)
	enc := func(t *testing.T, edit func(fp *Fingerprint)) []byte {
		t.Helper()
		fp := base.Clone()
		edit(fp)
		b, err := Encode(fp)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a := enc(t, func(*Fingerprint) {})
	meta, err := metadata(a)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		b    []byte
		want bool
	}{
		{"the same bytes", bytes.Clone(a), true},
		{"another elapsed", enc(t, func(fp *Fingerprint) { fp.Elapsed = 3*time.Second + 7 }), true},
		{"another query count", enc(t, func(fp *Fingerprint) { fp.Queries++ }), false},
		{"another unhashed meta value", enc(t, func(fp *Fingerprint) { fp.Meta["endpoint"] = "remote" }), false},
		{"another model name", enc(t, func(fp *Fingerprint) { fp.Model.Name = "y" }), false},
		{"another answer", enc(t, func(fp *Fingerprint) { fp.P.Data[0], fp.P.Data[1] = fp.P.Data[1], fp.P.Data[0] }), false},
		{"top-k form", enc(t, func(fp *Fingerprint) { *fp = *fp.Compact(2) }), false},
		// The same fields, written otherwise: not as Encode writes them.
		{"metadata with a space", reheader(a, append([]byte(" "), meta...)), false},
		{"metadata with an unknown field", reheader(a, append([]byte(`{"colour":"red",`), meta[1:]...)), false},
		{"truncated", a[:len(a)-1], false},
		{"not a fingerprint", []byte("LNFP"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := SameButElapsed(a, tc.b); got != tc.want {
				t.Errorf("SameButElapsed(a, b) = %v, want %v", got, tc.want)
			}
			if got := SameButElapsed(tc.b, a); got != tc.want {
				t.Errorf("SameButElapsed(b, a) = %v, want %v", got, tc.want)
			}
		})
	}
}
