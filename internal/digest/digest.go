// Package digest writes numeric data into hashes in lineage's canonical
// byte order, so that every content hash (suites, fingerprints, journal
// batches) encodes a matrix the same way.
package digest

import (
	"encoding/binary"
	"hash"
	"math"

	"gonum.org/v1/gonum/blas/blas32"
)

// Matrix writes the Rows×Cols entries of x to h, row by row, each as its
// float32 bits in little-endian order. Stride padding is not written; an
// empty matrix writes nothing.
func Matrix(h hash.Hash, x blas32.General) {
	row := make([]byte, 4*x.Cols)
	for i := 0; i < x.Rows; i++ {
		Float32s(h, row, x.Data[i*x.Stride:i*x.Stride+x.Cols])
	}
}

// Float32s writes v to h as Matrix writes a row: each value's float32
// bits in little-endian order. buf, of at least 4·len(v) bytes, holds
// them on the way (it panics when shorter), so that a caller writing
// rows one by one allocates nothing per row.
func Float32s(h hash.Hash, buf []byte, v []float32) {
	buf = buf[:4*len(v)]
	for j, f := range v {
		binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(f))
	}
	h.Write(buf)
}

// Uint64 writes v to h as 8 little-endian bytes.
func Uint64(h hash.Hash, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	h.Write(b[:])
}
