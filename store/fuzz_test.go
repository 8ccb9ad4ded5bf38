package store

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

func FuzzDecodeSuite(f *testing.F) {
	for _, n := range []int{0, 1, 5} {
		b, err := EncodeSuite(newTestSuite("s", n, 3, uint64(n)))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("LNST\x01\x00\x00\x00\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSuite(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		b1, err := EncodeSuite(s)
		if err != nil {
			t.Fatalf("decoded suite does not encode: %v", err)
		}
		s2, err := DecodeSuite(b1)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if s2.X.Rows != s.X.Rows || !slices.Equal(bitsOf(s2.X.Data), bitsOf(s.X.Data)) {
			t.Fatal("X changed in round trip")
		}
		if b2, _ := EncodeSuite(s2); !bytes.Equal(b1, b2) {
			t.Fatal("encoding is not a fixpoint")
		}
	})
}

func bitsOf(x []float32) []uint32 {
	out := make([]uint32, len(x))
	for i, v := range x {
		out[i] = float32bits(v)
	}
	return out
}
