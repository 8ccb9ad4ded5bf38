package model

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// Tape holds the activations of one forward pass so that Backward can run.
// Reuse one Tape across batches: its buffers grow as needed and are not
// reallocated in steady state. The zero Tape is ready to use. A Tape may
// be used with any MLP, but Backward must follow a Forward of the same MLP
// on the same Tape, and a Tape must not be used by two goroutines at once.
type Tape struct {
	n     int         // rows of the last forward pass
	sizes []int       // layer sizes of the last forward pass
	act   Activation  // activation of the last forward pass
	x0    []float32   // normalised input, n×sizes[0]
	z     [][]float32 // per layer, n×sizes[l+1]: pre-activations (relu/tanh: activations in place)
	a     [][]float32 // per hidden layer for gelu only: activations
	d     [2][]float32
}

// grow returns s resized to n elements, reallocating only when needed.
func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

func (t *Tape) reset(m *MLP, n int) {
	t.n = n
	t.sizes = append(t.sizes[:0], m.Sizes...)
	t.act = m.Act
	if t.act == "" {
		t.act = ActReLU
	}
	L := m.NumLayers()
	for len(t.z) < L {
		t.z = append(t.z, nil)
		t.a = append(t.a, nil)
	}
	t.x0 = grow(t.x0, n*m.Sizes[0])
	for l := 0; l < L; l++ {
		t.z[l] = grow(t.z[l], n*m.Sizes[l+1])
		if t.act == ActGELU && l < L-1 {
			t.a[l] = grow(t.a[l], n*m.Sizes[l+1])
		}
	}
	t.d[0] = t.d[0][:0]
	t.d[1] = t.d[1][:0]
}

// mat wraps a dense row-major n×c slice.
func mat(data []float32, n, c int) blas32.General {
	return blas32.General{Rows: n, Cols: c, Stride: c, Data: data}
}

// input returns the input of layer l from the last forward pass.
func (t *Tape) input(l int) blas32.General {
	if l == 0 {
		return mat(t.x0, t.n, t.sizes[0])
	}
	if t.act == ActGELU {
		return mat(t.a[l-1], t.n, t.sizes[l])
	}
	return mat(t.z[l-1], t.n, t.sizes[l])
}

// Forward normalises the raw inputs x (x.Cols == Sizes[0]), runs the
// network and returns the x.Rows×len(Labels) logits, a view owned by t
// that stays valid until t's next Forward. It panics if x has the wrong
// number of columns.
func (m *MLP) Forward(t *Tape, x blas32.General) blas32.General {
	d := m.Sizes[0]
	if x.Cols != d {
		panic(fmt.Sprintf("model: Forward: input has %d columns, want %d", x.Cols, d))
	}
	n := x.Rows
	t.reset(m, n)
	mean, std := m.Norm.Mean, m.Norm.Std
	for i := 0; i < n; i++ {
		src := x.Data[i*x.Stride : i*x.Stride+d]
		dst := t.x0[i*d : (i+1)*d]
		switch {
		case mean == nil && std == nil:
			copy(dst, src)
		case std == nil:
			for j, v := range src {
				dst[j] = v - mean[j]
			}
		case mean == nil:
			for j, v := range src {
				dst[j] = v / std[j]
			}
		default:
			for j, v := range src {
				dst[j] = (v - mean[j]) / std[j]
				if dst[j] > math.MaxFloat32 || dst[j] < -math.MaxFloat32 {
					dst[j] = standardizeWide(v, mean[j], std[j])
				}
			}
		}
	}
	L := m.NumLayers()
	off := 0 // of layer l's parameters in Theta (see layerAt)
	for l := 0; l < L; l++ {
		in, out := m.Sizes[l], m.Sizes[l+1]
		w, b := layerAt(m.Theta, off, in, out)
		off += out*in + out
		z := mat(t.z[l], n, out)
		for i := 0; i < n; i++ {
			copy(z.Data[i*out:(i+1)*out], b)
		}
		if n > 0 {
			gemm(blas.NoTrans, blas.Trans, 1, t.input(l), w, 1, z)
		}
		if l == L-1 {
			break
		}
		switch t.act {
		case ActReLU:
			reluForward(z.Data)
		case ActTanh:
			tanhForward(z.Data)
		case ActGELU:
			geluForward(t.a[l], z.Data)
		}
	}
	return mat(t.z[L-1], n, m.Sizes[L])
}

// Backward back-propagates dLogits (the gradient of the loss with respect
// to the logits of t's last Forward, x.Rows×len(Labels)) through m. It
// adds dL/dTheta into dTheta (len(Theta)) unless dTheta is nil (callers
// that want only input gradients skip the weight products) and, when
// dX.Data is not nil, writes dL/dx for the raw, un-normalised inputs into
// dX (x.Rows×Sizes[0]). It panics on mismatched shapes.
func (m *MLP) Backward(t *Tape, dLogits blas32.General, dTheta []float32, dX blas32.General) {
	L := m.NumLayers()
	n := t.n
	if len(t.sizes) != len(m.Sizes) || dLogits.Rows != n || dLogits.Cols != m.Sizes[L] {
		panic(fmt.Sprintf("model: Backward: dLogits is %d×%d, want %d×%d after the tape's forward pass", dLogits.Rows, dLogits.Cols, n, m.Sizes[L]))
	}
	wantDTheta := dTheta != nil
	if wantDTheta && len(dTheta) != len(m.Theta) {
		panic(fmt.Sprintf("model: Backward: dTheta has %d entries, want %d", len(dTheta), len(m.Theta)))
	}
	wantDX := dX.Data != nil
	if wantDX && (dX.Rows != n || dX.Cols != m.Sizes[0]) {
		panic(fmt.Sprintf("model: Backward: dX is %d×%d, want %d×%d", dX.Rows, dX.Cols, n, m.Sizes[0]))
	}
	if n == 0 {
		return
	}
	g := dLogits
	buf := 0
	off := len(m.Theta)
	for l := L - 1; l >= 0; l-- {
		in, out := m.Sizes[l], m.Sizes[l+1]
		off -= out*in + out
		w, _ := layerAt(m.Theta, off, in, out)
		if wantDTheta {
			dW, dB := layerAt(dTheta, off, in, out)
			// dW += gᵀ·A_in, dB += Σ_rows g.
			gemm(blas.Trans, blas.NoTrans, 1, g, t.input(l), 1, dW)
			for i := 0; i < n; i++ {
				row := g.Data[i*g.Stride : i*g.Stride+out]
				for j, v := range row {
					dB[j] += v
				}
			}
		}
		if l == 0 && !wantDX {
			break
		}
		// dA_in = g·W.
		t.d[buf] = grow(t.d[buf], n*in)
		dA := mat(t.d[buf], n, in)
		gemm(blas.NoTrans, blas.NoTrans, 1, g, w, 0, dA)
		if l > 0 {
			switch t.act {
			case ActReLU:
				reluBackward(dA.Data, t.z[l-1][:n*in])
			case ActTanh:
				tanhBackward(dA.Data, t.z[l-1][:n*in])
			case ActGELU:
				geluBackward(dA.Data, t.z[l-1][:n*in])
			}
			g = dA
			buf ^= 1
			continue
		}
		// Chain through the normalisation: x0 = (x-mean)/std.
		std := m.Norm.Std
		for i := 0; i < n; i++ {
			dst := dX.Data[i*dX.Stride : i*dX.Stride+in]
			src := dA.Data[i*in : (i+1)*in]
			if std == nil {
				copy(dst, src)
				continue
			}
			for j, v := range src {
				dst[j] = v / std[j]
			}
		}
	}
}

// standardizeWide returns (v−mean)/std computed in float64, for a finite
// input whose float32 difference v−mean overflowed (features near
// float32's limit of both signs: ±3.4e38 less a mean of −1e37 is beyond
// it), where the quotient fits. The float32 expression is kept for every
// other input, so that outputs stay bit for bit as they were.
func standardizeWide(v, mean, std float32) float32 {
	return float32((float64(v) - float64(mean)) / float64(std))
}
