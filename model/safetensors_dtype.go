package model

import (
	"encoding/binary"
	"fmt"
	"math"
)

// appendTensor converts tensor t's bytes in buf (checked by checkTensor)
// to float32 and appends them.
func appendTensor(dst []float32, t *stTensor, buf []byte) ([]float32, error) {
	if err := checkTensor(t, int64(len(buf))); err != nil {
		return nil, err
	}
	width := map[string]int64{"F32": 4, "F64": 8, "F16": 2, "BF16": 2}[t.Dtype]
	b := buf[t.Offsets[0]:t.Offsets[1]]
	n := int64(len(b)) / width
	for i := int64(0); i < n; i++ {
		var v float32
		switch t.Dtype {
		case "F32":
			v = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		case "F64":
			f := math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
			if math.Abs(f) > math.MaxFloat32 && !math.IsInf(f, 0) {
				// float32(f) would be an infinity the file does not hold.
				return nil, fmt.Errorf("value %d is %g, beyond float32's range (3.4e38), in which lineage computes", i, f)
			}
			v = float32(f)
		case "BF16":
			v = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
		case "F16":
			v = HalfToFloat32(binary.LittleEndian.Uint16(b[2*i:]))
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// HalfToFloat32 converts an IEEE 754 half-precision value to float32,
// exactly (every half-precision value is a float32): subnormals as
// frac·2⁻²⁴, infinities and NaNs kept.
func HalfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	frac := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf, NaN
		return math.Float32frombits(sign | 0xff<<23 | frac<<13)
	case exp == 0: // zero, subnormal
		v := float32(frac) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | frac<<13)
}
