package watermark

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"

	"github.com/lineage-audit/lineage/model"
)

// Key is the secret of a label watermark. The zero Key is a valid key but
// a public one; use DeriveKey or random bytes.
type Key [32]byte

// ErrKey is wrapped by errors about a malformed key.
var ErrKey = errors.New("bad watermark key")

// DeriveKey returns the key lineage uses for a native model unless told
// otherwise: SHA-256 of a domain string, the layer sizes, the input
// normalisation and the float32 parameters. It is as secret as the
// weights: anybody holding the model file can compute it, nobody who only
// queries the model can. It panics if m is nil.
func DeriveKey(m *model.MLP) Key {
	if m == nil {
		panic("watermark: DeriveKey of a nil model")
	}
	h := sha256.New()
	h.Write([]byte("lineage label watermark v1\x00"))
	var b [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	put(uint64(len(m.Sizes)))
	for _, s := range m.Sizes {
		put(uint64(s))
	}
	for _, v := range [][]float32{m.Norm.Mean, m.Norm.Std, m.Theta} {
		put(uint64(len(v)))
		for _, f := range v {
			binary.LittleEndian.PutUint32(b[:4], math.Float32bits(f))
			h.Write(b[:4])
		}
	}
	var k Key
	h.Sum(k[:0])
	return k
}

// MarshalText encodes k as 64 lower-case hex digits.
func (k Key) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(k[:])), nil
}

// UnmarshalText decodes 64 hex digits into k.
func (k *Key) UnmarshalText(b []byte) error {
	if len(b) != 2*len(k) {
		return fmt.Errorf("%w: want %d hex digits, got %d characters", ErrKey, 2*len(k), len(b))
	}
	var d Key
	if _, err := hex.Decode(d[:], b); err != nil {
		return fmt.Errorf("%w: not hexadecimal", ErrKey) // the detail would show a character of the key
	}
	*k = d
	return nil
}

// decoy returns the i-th decoy key of k: SHA-256(k ‖ "decoy" ‖ i).
func (k Key) decoy(i int) Key {
	h := sha256.New()
	h.Write(k[:])
	h.Write([]byte("decoy"))
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	h.Write(b[:])
	var d Key
	h.Sum(d[:0])
	return d
}
