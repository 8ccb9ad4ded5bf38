package model

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/blas/blas32"
)

// Activation names the hidden-layer non-linearity of an MLP. The empty
// Activation means ActReLU.
type Activation string

// The activations an MLP supports.
const (
	// ActReLU is max(0, x).
	ActReLU Activation = "relu"
	// ActTanh is the hyperbolic tangent.
	ActTanh Activation = "tanh"
	// ActGELU is the exact Gaussian error linear unit x·Φ(x) =
	// ½x(1+erf(x/√2)), the default form of PyTorch's nn.GELU (not the
	// tanh approximation).
	ActGELU Activation = "gelu"
)

// ParseActivation returns the Activation named s ("relu", "tanh" or
// "gelu"); the empty string means relu.
func ParseActivation(s string) (Activation, error) {
	switch Activation(s) {
	case "", ActReLU:
		return ActReLU, nil
	case ActTanh, ActGELU:
		return Activation(s), nil
	}
	return "", fmt.Errorf("activation %q: want relu, tanh or gelu", s)
}

// Normalization maps raw inputs x to (x-Mean[i])/Std[i] before layer 0.
// A nil Mean means zero means and a nil Std means unit deviations, so the
// zero Normalization is the identity.
type Normalization struct {
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
}

// Provenance records how a model was made. Every field is optional; it is
// stored in the .lnm header and so takes part in the model's Hash. Created
// is empty by default so that encodings stay deterministic.
type Provenance struct {
	Dataset        string  `json:"dataset,omitempty"`
	DatasetHash    string  `json:"dataset_hash,omitempty"`
	Teacher        string  `json:"teacher,omitempty"`
	TeacherHash    string  `json:"teacher_hash,omitempty"`
	Seed           uint64  `json:"seed,omitempty"`
	Loss           string  `json:"loss,omitempty"`
	Temperature    float64 `json:"temperature,omitempty"`
	Alpha          float64 `json:"alpha,omitempty"`
	Reveal         string  `json:"reveal,omitempty"`
	Transfer       string  `json:"transfer,omitempty"`
	Queries        int     `json:"queries,omitempty"`
	Epochs         int     `json:"epochs,omitempty"`
	Recipe         string  `json:"recipe,omitempty"`
	LineageVersion string  `json:"lineage_version,omitempty"`
	Created        string  `json:"created,omitempty"`
}

// MLP is a fully connected network with a softmax output. All parameters
// live in the one flat slice Theta: layer l's weight W(l) is a
// Sizes[l+1]×Sizes[l] row-major view (out×in, PyTorch nn.Linear layout)
// followed by its bias B(l) of length Sizes[l+1], in the order W0, B0, W1,
// B1, ... Hidden layers apply Act; the last layer's outputs are logits.
//
// The zero MLP is not usable; build one with NewMLP, Load or
// LoadSafetensors, or fill in every field consistently (Validate checks).
// An MLP is safe for concurrent Predict calls as long as nobody writes to
// it meanwhile.
type MLP struct {
	Name   string
	Sizes  []int // input, hidden..., output (len(Labels))
	Act    Activation
	Labels []string
	Norm   Normalization
	Prov   Provenance
	Theta  []float32

	source string // file the model was loaded from, for Info().Source
	// defaulted lists the lineage metadata keys a safetensors file
	// lacked, whose defaults were used (see DefaultedMetadata).
	defaulted []string
}

// ErrShape is wrapped by errors about matrices of the wrong shape.
var ErrShape = errors.New("shape mismatch")

// MaxLayers is the most layers (weight matrices) an MLP may have; Validate
// and the decoders refuse deeper ones. No MLP is trained that deep, and
// each layer costs a fixed overhead per batch whatever its width: a 10 MB
// .lnm file of a million layers of one unit took 27 s to evaluate on the
// digits test split and 200 MB of memory, and the format allows 30 times
// that.
const MaxLayers = 4096

// MaxNameBytes is the longest model name and the longest label, in bytes,
// Validate accepts (as package remote accepts from a server). A name
// comes with the file, from whoever made it, and goes into every
// fingerprint, whose encoded metadata is bounded: a safetensors file
// named by 20 MB of metadata made audit --save store a fingerprint that
// no command could read back, and report then failed on the database.
const MaxNameBytes = 1024

// NumParams returns the number of parameters of an MLP with the given
// layer sizes, or -1 if sizes has fewer than two entries, a non-positive
// entry, or would overflow.
func NumParams(sizes []int) int {
	if len(sizes) < 2 {
		return -1
	}
	n := 0
	for l := 0; l+1 < len(sizes); l++ {
		in, out := sizes[l], sizes[l+1]
		if in <= 0 || out <= 0 || in > math.MaxInt32 || out > math.MaxInt32 {
			return -1
		}
		p := out*in + out
		if p/out != in+1 || n > math.MaxInt-p {
			return -1
		}
		n += p
	}
	return n
}

// NewMLP returns an MLP with the given layer sizes (input, hidden...,
// output) and activation, weights drawn from rng with He initialisation
// (relu, gelu) or Xavier/Glorot (tanh), zero biases. Nil labels mean "0",
// "1", ... It panics if sizes are invalid, len(labels) differs from the
// output size, act is unknown or rng is nil.
func NewMLP(sizes []int, act Activation, labels []string, rng *rand.Rand) *MLP {
	n := NumParams(sizes)
	if n < 0 {
		panic(fmt.Sprintf("model: invalid layer sizes %v", sizes))
	}
	act, err := ParseActivation(string(act))
	if err != nil {
		panic("model: " + err.Error())
	}
	k := sizes[len(sizes)-1]
	if labels == nil {
		labels = DefaultLabels(k)
	}
	if len(labels) != k {
		panic(fmt.Sprintf("model: %d labels for %d outputs", len(labels), k))
	}
	if rng == nil {
		panic("model: NewMLP needs a random source")
	}
	m := &MLP{
		Sizes:  append([]int(nil), sizes...),
		Act:    act,
		Labels: append([]string(nil), labels...),
		Theta:  make([]float32, n),
	}
	for l := 0; l < m.NumLayers(); l++ {
		in, out := float64(sizes[l]), float64(sizes[l+1])
		std := math.Sqrt(2 / in) // He
		if act == ActTanh {
			std = math.Sqrt(2 / (in + out)) // Xavier
		}
		w := m.W(l).Data
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
	}
	return m
}

// ShortLabels returns labels cut for an error message of one bounded line:
// at most the first 12, each cut to 32 characters, then "… (N labels)"
// when there are more. A model may have thousands of labels, or one of a
// megabyte.
func ShortLabels(labels []string) []string {
	const most, width = 12, 32
	parts := make([]string, 0, min(len(labels), most)+1)
	for i, l := range labels {
		if i == most {
			parts = append(parts, fmt.Sprintf("… (%d labels)", len(labels)))
			break
		}
		if r := []rune(l); len(r) > width {
			l = string(r[:width]) + "…"
		}
		parts = append(parts, l)
	}
	return parts
}

// LabelDiff says where label lists a and b first differ, for an error
// whose shortened lists (ShortLabels) may look alike: "5000 vs 4999
// labels", or `label 537 is "x" vs "y"` (each cut as ShortLabels cuts);
// "" when they are equal.
func LabelDiff(a, b []string) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d vs %d labels", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			s := ShortLabels([]string{a[i], b[i]})
			return fmt.Sprintf("label %d is %q vs %q", i, s[0], s[1])
		}
	}
	return ""
}

// LabelList formats labels as "[a b c]", shortened as ShortLabels says.
func LabelList(labels []string) string {
	return "[" + strings.Join(ShortLabels(labels), " ") + "]"
}

// DefaultLabels returns the labels "0", "1", ..., strconv.Itoa(k-1).
func DefaultLabels(k int) []string {
	labels := make([]string, k)
	for i := range labels {
		labels[i] = strconv.Itoa(i)
	}
	return labels
}

// NumLayers returns the number of linear layers, len(Sizes)-1.
func (m *MLP) NumLayers() int { return len(m.Sizes) - 1 }

// offset returns the index in Theta where layer l's weight starts.
func (m *MLP) offset(l int) int {
	off := 0
	for i := 0; i < l; i++ {
		off += m.Sizes[i+1]*m.Sizes[i] + m.Sizes[i+1]
	}
	return off
}

// W returns layer l's weight, a Sizes[l+1]×Sizes[l] view into Theta.
func (m *MLP) W(l int) blas32.General {
	w, _ := layerAt(m.Theta, m.offset(l), m.Sizes[l], m.Sizes[l+1])
	return w
}

// B returns layer l's bias, a view of length Sizes[l+1] into Theta.
func (m *MLP) B(l int) []float32 {
	_, b := layerAt(m.Theta, m.offset(l), m.Sizes[l], m.Sizes[l+1])
	return b
}

// layerAt returns the weight (out×in) and bias (out) views of the layer
// of in inputs and out outputs whose parameters start at off in theta
// (Theta, or a gradient laid out as Theta). A pass over the layers keeps
// a running off (each layer's is the last one's plus out·in + out), where
// W and B sum the layers before l on every call.
func layerAt(theta []float32, off, in, out int) (w blas32.General, b []float32) {
	end := off + out*in
	return blas32.General{Rows: out, Cols: in, Stride: in, Data: theta[off:end:end]}, theta[end : end+out : end+out]
}

// Validate reports whether m's fields are consistent: valid sizes (at most
// MaxLayers layers), a known activation, a name and labels of at most
// MaxNameBytes, one distinct label per output, len(Theta) matching the
// sizes and finite, and a normalisation of the input size with finite
// means and positive finite deviations whose reciprocals are finite in
// float32. Loading a model file runs it; errors about shapes wrap
// ErrShape.
func (m *MLP) Validate() error {
	if err := m.validateShape(); err != nil {
		return err
	}
	if len(m.Name) > MaxNameBytes {
		return fmt.Errorf("name is %d bytes long, at most %d allowed", len(m.Name), MaxNameBytes)
	}
	seen := make(map[string]int, len(m.Labels))
	for i, l := range m.Labels {
		if len(l) > MaxNameBytes {
			return fmt.Errorf("label %d is %d bytes long, at most %d allowed", i, len(l), MaxNameBytes)
		}
		if j, ok := seen[l]; ok {
			return fmt.Errorf("label %q repeated (outputs %d and %d)", l, j, i)
		}
		seen[l] = i
	}
	for i, v := range m.Theta {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("parameter %d is %v, want a finite number", i, v)
		}
	}
	return nil
}

// validateShape is the part of Validate that costs O(inputs + outputs +
// layers), not O(parameters): Predict runs it on every call.
func (m *MLP) validateShape() error {
	if l := len(m.Sizes) - 1; l > MaxLayers {
		return fmt.Errorf("%d layers, at most %d allowed: %w", l, MaxLayers, ErrShape)
	}
	n := NumParams(m.Sizes)
	if n < 0 {
		return fmt.Errorf("invalid layer sizes %v: %w", m.Sizes, ErrShape)
	}
	if _, err := ParseActivation(string(m.Act)); err != nil {
		return err
	}
	if k := m.Sizes[len(m.Sizes)-1]; len(m.Labels) != k {
		return fmt.Errorf("%d labels for %d outputs: %w", len(m.Labels), k, ErrShape)
	}
	if len(m.Theta) != n {
		return fmt.Errorf("%d parameters, sizes %v need %d: %w", len(m.Theta), m.Sizes, n, ErrShape)
	}
	d := m.Sizes[0]
	if m.Norm.Mean != nil && len(m.Norm.Mean) != d {
		return fmt.Errorf("normalisation has %d means for %d inputs: %w", len(m.Norm.Mean), d, ErrShape)
	}
	if m.Norm.Std != nil && len(m.Norm.Std) != d {
		return fmt.Errorf("normalisation has %d deviations for %d inputs: %w", len(m.Norm.Std), d, ErrShape)
	}
	for i, v := range m.Norm.Mean {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("normalisation mean %d is %v", i, v)
		}
	}
	for i, v := range m.Norm.Std {
		if v == 0 {
			return fmt.Errorf("normalisation deviation %d is 0, want a positive number (a feature constant in the training data, such as a blank pixel: give it 1, as lineage does)", i)
		}
		if !(v > 0) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("normalisation deviation %d is %v, want a positive number", i, v)
		}
		if !StdUsable(v) {
			return fmt.Errorf("normalisation deviation %d is %v, too small: dividing by it overflows float32", i, v)
		}
	}
	return nil
}

// StdUsable reports whether v can be a normalisation's standard
// deviation: positive and finite, with a reciprocal finite in float32
// (what Validate asks of a model's, and package store of a watermark's).
func StdUsable(v float32) bool {
	f := float64(v)
	return f > 0 && !math.IsInf(f, 0) && !math.IsInf(float64(float32(1/f)), 0)
}

// Info returns m's metadata: Params is len(Theta) and Hash the hex SHA-256
// of m's canonical .lnm encoding (empty if m cannot be encoded); Name is
// m.Name or, when that is empty for a model read from a file, the file's
// base name without its extension. Each call
// encodes the model into the hash, so callers on hot paths should keep
// the result.
func (m *MLP) Info() Info {
	info := Info{
		Name:   m.Name,
		Kind:   Classifier,
		Labels: m.Labels,
		Params: len(m.Theta),
		Source: m.source,
	}
	if info.Name == "" && m.source != "" {
		// A file without a name in its header is named by its file, not
		// `model ""` in every error and table.
		info.Name = strings.TrimSuffix(filepath.Base(m.source), filepath.Ext(m.source))
	}
	if len(m.Sizes) > 0 {
		info.InputSize = m.Sizes[0]
	}
	h := sha256.New()
	if err := Encode(h, m); err == nil {
		info.Hash = hex.EncodeToString(h.Sum(nil))
	}
	return info
}

// Clone returns a deep copy of m.
func (m *MLP) Clone() *MLP {
	c := *m
	c.Sizes = append([]int(nil), m.Sizes...)
	c.Labels = append([]string(nil), m.Labels...)
	c.Theta = append([]float32(nil), m.Theta...)
	if m.Norm.Mean != nil {
		c.Norm.Mean = append([]float32{}, m.Norm.Mean...)
	}
	if m.Norm.Std != nil {
		c.Norm.Std = append([]float32{}, m.Norm.Std...)
	}
	return &c
}

// tapes recycles the tapes of Predict calls; a Tape works for any MLP.
var tapes = sync.Pool{New: func() any { return new(Tape) }}

// predictChunk is how many rows Predict runs between context checks.
const predictChunk = 512

// predictTapeBudget bounds the float32 values of the Tape one chunk of
// Predict fills (64 MiB): a model whose layers are wider than
// predictTapeBudget/predictChunk values a row in all runs fewer rows at a
// time (see chunkRows).
const predictTapeBudget = 1 << 24

// chunkRows is how many rows Predict runs at once on a model of these
// layer sizes and activation: predictChunk, or fewer (at least one) when
// that many rows' activations would take more than predictTapeBudget
// values. A row's activations are bounded by the parameters, which the
// file holds, but a chunk's are not: a 25 MB safetensors file with a
// hidden layer of 2²² units (fed by one unit, feeding one) made an audit
// ask for 4 GiB at once and crash out of memory.
func chunkRows(sizes []int, act Activation) int {
	perRow := 0
	for l, n := range sizes {
		perRow += n
		if act == ActGELU && l > 0 && l < len(sizes)-1 {
			perRow += n // the activations, kept apart from the pre-activations
		}
	}
	return max(1, min(predictChunk, predictTapeBudget/max(perRow, 1)))
}

// Predict normalises x (raw features, x.Cols == Sizes[0]), runs the
// network and returns a new x.Rows×len(Labels) matrix of softmax
// probabilities. It is safe for concurrent use, checks ctx between chunks
// of rows (see chunkRows: a chunk's activations take at most 64 MiB,
// whatever the batch) and returns an error wrapping ErrShape for a wrong
// x.Cols, and one wrapping ErrNotFinite for an output row that is NaN.
func (m *MLP) Predict(ctx context.Context, x blas32.General) (blas32.General, error) {
	if err := m.validateShape(); err != nil {
		return blas32.General{}, fmt.Errorf("model %q: %w", m.Name, err)
	}
	if x.Cols != m.Sizes[0] {
		return blas32.General{}, fmt.Errorf("model %q: input has %d features, want %d: %w", m.Name, x.Cols, m.Sizes[0], ErrShape)
	}
	k := m.Sizes[len(m.Sizes)-1]
	out := blas32.General{Rows: x.Rows, Cols: k, Stride: k, Data: make([]float32, x.Rows*k)}
	t := tapes.Get().(*Tape)
	defer tapes.Put(t)
	chunk := chunkRows(m.Sizes, m.Act)
	for r := 0; r < x.Rows; r += chunk {
		if err := ctx.Err(); err != nil {
			return blas32.General{}, err
		}
		n := min(chunk, x.Rows-r)
		logits := m.Forward(t, rowsView(x, r, n))
		SoftmaxRows(rowsView(out, r, n), logits)
		if err := m.checkOutputs(x, rowsView(out, r, n), r); err != nil {
			return blas32.General{}, err
		}
	}
	return out, nil
}

// rowsView returns rows [r, r+n) of a.
func rowsView(a blas32.General, r, n int) blas32.General {
	if n == 0 {
		return blas32.General{Cols: a.Cols, Stride: a.Stride}
	}
	start := r * a.Stride
	end := start + (n-1)*a.Stride + a.Cols
	return blas32.General{Rows: n, Cols: a.Cols, Stride: a.Stride, Data: a.Data[start:end]}
}
