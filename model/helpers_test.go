package model

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/blas/blas32"
)

// testRNG returns the fixed-seed source used by the tests.
func testRNG(stream uint64) *rand.Rand { return rand.New(rand.NewPCG(42, stream)) }

// randMatrix returns an r×c matrix of N(0, s²) entries.
func randMatrix(rng *rand.Rand, r, c int, s float64) blas32.General {
	m := blas32.General{Rows: r, Cols: c, Stride: c, Data: make([]float32, r*c)}
	for i := range m.Data {
		m.Data[i] = float32(rng.NormFloat64() * s)
	}
	return m
}

// randomize fills m's parameters (biases included) and a non-trivial
// normalisation with random values.
func randomize(m *MLP, rng *rand.Rand) {
	for i := range m.Theta {
		m.Theta[i] = float32(rng.NormFloat64() * 0.5)
	}
	d := m.Sizes[0]
	m.Norm.Mean = make([]float32, d)
	m.Norm.Std = make([]float32, d)
	for i := 0; i < d; i++ {
		m.Norm.Mean[i] = float32(rng.NormFloat64())
		m.Norm.Std[i] = float32(0.5 + rng.Float64()*2)
	}
}

// refAct is the float64 reference activation.
func refAct(act Activation, z float64) float64 {
	switch act {
	case ActTanh:
		return math.Tanh(z)
	case ActGELU:
		return 0.5 * z * (1 + math.Erf(z/math.Sqrt2))
	}
	return math.Max(z, 0)
}

// refLogits is a naive float64 forward pass of one raw input row, with
// parameters theta (float64) laid out like m.Theta.
func refLogits(m *MLP, theta []float64, x []float64) []float64 {
	h := make([]float64, len(x))
	for j, v := range x {
		if m.Norm.Mean != nil {
			v -= float64(m.Norm.Mean[j])
		}
		if m.Norm.Std != nil {
			v /= float64(m.Norm.Std[j])
		}
		h[j] = v
	}
	off := 0
	for l := 0; l < m.NumLayers(); l++ {
		in, out := m.Sizes[l], m.Sizes[l+1]
		z := make([]float64, out)
		for o := 0; o < out; o++ {
			s := theta[off+out*in+o]
			for i := 0; i < in; i++ {
				s += theta[off+o*in+i] * h[i]
			}
			if l < m.NumLayers()-1 {
				s = refAct(m.Act, s)
			}
			z[o] = s
		}
		off += out*in + out
		h = z
	}
	return h
}

func toF64(s []float32) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = float64(v)
	}
	return out
}

// refSoftmax is a float64 softmax.
func refSoftmax(z []float64) []float64 {
	m := math.Inf(-1)
	for _, v := range z {
		m = math.Max(m, v)
	}
	s := 0.0
	p := make([]float64, len(z))
	for i, v := range z {
		p[i] = math.Exp(v - m)
		s += p[i]
	}
	for i := range p {
		p[i] /= s
	}
	return p
}
