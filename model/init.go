package model

import (
	"math"
	"math/rand/v2"
)

// InitUniform redraws every weight and bias of m from the uniform
// distribution on (−b, b) with b = 1/√fan_in, fan_in being the layer's
// input size: the default of PyTorch's nn.Linear (Kaiming-uniform with
// a = √5, and its bias rule). NewMLP's own initialisation is Gaussian
// (He or Xavier) with zero biases; lineage uses this one to train
// independent models the way most other training code starts them. It
// panics if rng is nil.
func InitUniform(m *MLP, rng *rand.Rand) {
	if rng == nil {
		panic("model: InitUniform needs a random source")
	}
	for l := 0; l < m.NumLayers(); l++ {
		w := m.W(l)
		b := 1 / math.Sqrt(float64(w.Cols))
		for i := range w.Data {
			w.Data[i] = float32((2*rng.Float64() - 1) * b)
		}
		bias := m.B(l)
		for i := range bias {
			bias[i] = float32((2*rng.Float64() - 1) * b)
		}
	}
}
