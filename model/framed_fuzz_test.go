package model

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"
)

// FuzzDecodeFramed fuzzes the JSON header and parameters behind a valid
// magic, version, length and checksum, which FuzzDecode cannot forge.
func FuzzDecodeFramed(f *testing.F) {
	good := encode(f, testModel())
	hlen := int(binary.LittleEndian.Uint32(good[12:]))
	f.Add(good[16:16+hlen], good[16+hlen:len(good)-sha256.Size])
	f.Add([]byte(`{"name":"","sizes":[1,1],"activation":"relu","labels":["0"],"normalization":{},"provenance":{},"params":2}`), make([]byte, 8))
	f.Fuzz(func(t *testing.T, hdr, vals []byte) {
		frame := []byte(Magic)
		frame = binary.LittleEndian.AppendUint32(frame, FormatVersion)
		frame = binary.LittleEndian.AppendUint32(frame, uint32(len(hdr)))
		frame = append(append(frame, hdr...), vals...)
		sum := sha256.Sum256(frame)
		m := checkDecode(t, append(frame, sum[:]...))
		if m == nil {
			return
		}
		if _, err := m.Predict(t.Context(), randMatrix(testRNG(1), 2, m.Sizes[0], 1)); err != nil && m.Sizes[0] < 1<<12 {
			t.Fatalf("Predict on a decoded model: %v", err)
		}
	})
}
