package distill

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
)

// OptimizerKind names an update rule.
type OptimizerKind string

// The optimizers.
const (
	// SGD is stochastic gradient descent with optional (heavy-ball or
	// Nesterov) momentum; WeightDecay adds the L2 term wd·θ to the gradient.
	SGD OptimizerKind = "sgd"
	// Adam is Kingma & Ba's Adam with bias correction; WeightDecay adds the
	// L2 term wd·θ to the gradient (coupled, as torch.optim.Adam).
	Adam OptimizerKind = "adam"
	// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter):
	// θ ← θ − lr·wd·θ before the Adam update.
	AdamW OptimizerKind = "adamw"
)

// ErrOptimizerState is wrapped when optimizer state cannot be restored.
var ErrOptimizerState = errors.New("bad optimizer state")

// OptimizerConfig chooses and tunes an optimizer. Zero fields mean the
// defaults: Kind Adam, Beta1 0.9, Beta2 0.999, Eps 1e-8. Momentum zero means
// plain SGD; Nesterov needs Momentum > 0. WeightDecay zero means none. The
// learning rate is passed to Step (it comes from a Schedule).
type OptimizerConfig struct {
	Kind        OptimizerKind `json:"kind"`
	Momentum    float64       `json:"momentum,omitempty"`
	Nesterov    bool          `json:"nesterov,omitempty"`
	Beta1       float64       `json:"beta1,omitempty"`
	Beta2       float64       `json:"beta2,omitempty"`
	Eps         float64       `json:"eps,omitempty"`
	WeightDecay float64       `json:"weight_decay,omitempty"`
}

// ParseOptimizer parses "sgd", "nesterov" (SGD with Nesterov momentum),
// "adam" or "adamw"; the empty string means "adam". Other fields keep their
// zero (default) values; "nesterov" sets Momentum to 0.9.
func ParseOptimizer(s string) (OptimizerConfig, error) {
	switch strings.TrimSpace(s) {
	case "", "adam":
		return OptimizerConfig{Kind: Adam}, nil
	case "adamw":
		return OptimizerConfig{Kind: AdamW}, nil
	case "sgd":
		return OptimizerConfig{Kind: SGD}, nil
	case "nesterov":
		return OptimizerConfig{Kind: SGD, Momentum: 0.9, Nesterov: true}, nil
	}
	return OptimizerConfig{}, fmt.Errorf("optimizer %q: want sgd, nesterov, adam or adamw", s)
}

func (c OptimizerConfig) withDefaults() OptimizerConfig {
	if c.Kind == "" {
		c.Kind = Adam
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.999
	}
	if c.Eps == 0 {
		c.Eps = 1e-8
	}
	return c
}

func (c OptimizerConfig) validate() error {
	c = c.withDefaults()
	switch c.Kind {
	case SGD, Adam, AdamW:
	default:
		return fmt.Errorf("optimizer %q: want sgd, adam or adamw", c.Kind)
	}
	// The conditions are written so that NaN fails them.
	switch {
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("optimizer: momentum %g must lie in [0,1)", c.Momentum)
	case c.Nesterov && (c.Kind != SGD || c.Momentum == 0):
		return fmt.Errorf("optimizer: nesterov needs sgd with momentum > 0")
	case !(c.Beta1 >= 0 && c.Beta1 < 1 && c.Beta2 >= 0 && c.Beta2 < 1):
		return fmt.Errorf("optimizer: betas %g, %g must lie in [0,1)", c.Beta1, c.Beta2)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("optimizer: weight decay %g must be a finite number ≥ 0", c.WeightDecay)
	case !(c.Eps > 0) || math.IsInf(c.Eps, 0):
		return fmt.Errorf("optimizer: eps %g must be a finite number > 0", c.Eps)
	}
	return nil
}

// Optimizer updates a flat parameter vector in place. Create one with
// NewOptimizer; its state (step count and moment vectors) round-trips
// through MarshalBinary / UnmarshalBinary for checkpoints.
type Optimizer struct {
	cfg  OptimizerConfig
	n    int
	step int64
	m, v []float32 // SGD: m is the velocity; Adam: first and second moments
}

// NewOptimizer returns an optimizer for n parameters; it panics if cfg is
// invalid (check with a Train config first) or n < 0.
func NewOptimizer(cfg OptimizerConfig, n int) *Optimizer {
	if err := cfg.validate(); err != nil {
		panic("distill: " + err.Error())
	}
	if n < 0 {
		panic("distill: NewOptimizer: negative size")
	}
	cfg = cfg.withDefaults()
	o := &Optimizer{cfg: cfg, n: n}
	if cfg.Kind != SGD || cfg.Momentum > 0 {
		o.m = make([]float32, n)
	}
	if cfg.Kind != SGD {
		o.v = make([]float32, n)
	}
	return o
}

// Steps returns the number of Step calls so far.
func (o *Optimizer) Steps() int64 { return o.step }

// Step applies one update θ ← update(θ, g, lr) to params (destination
// first) with gradient grad; both must have the optimizer's length. grad is
// not modified.
//
//	SGD:   g' = g + wd·θ;  v ← μv + g';  θ ← θ − lr·(Nesterov ? g' + μv : v)
//	Adam:  g' = g + wd·θ (AdamW: θ ← θ(1 − lr·wd), g' = g);
//	       m ← β1 m + (1−β1) g';  v ← β2 v + (1−β2) g'²;
//	       θ ← θ − lr·m̂/(√v̂ + ε),  m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ)
func (o *Optimizer) Step(params, grad []float32, lr float64) {
	if len(params) != o.n || len(grad) != o.n {
		panic(fmt.Sprintf("distill: Optimizer.Step: params %d, grad %d, want %d", len(params), len(grad), o.n))
	}
	o.step++
	c := o.cfg
	wd := float32(c.WeightDecay)
	lr32 := float32(lr)
	switch c.Kind {
	case SGD:
		mu := float32(c.Momentum)
		if o.m == nil {
			for i, g := range grad {
				params[i] -= lr32 * (g + wd*params[i])
			}
			return
		}
		for i, g := range grad {
			g += wd * params[i]
			v := mu*o.m[i] + g
			o.m[i] = v
			if c.Nesterov {
				params[i] -= lr32 * (g + mu*v)
			} else {
				params[i] -= lr32 * v
			}
		}
	case Adam, AdamW:
		b1, b2 := float32(c.Beta1), float32(c.Beta2)
		bc1 := 1 - math.Pow(c.Beta1, float64(o.step))
		bc2 := 1 - math.Pow(c.Beta2, float64(o.step))
		stepSize := float32(lr / bc1)
		invSqrtBC2 := float32(1 / math.Sqrt(bc2))
		eps := float32(c.Eps)
		decay := float32(1)
		if c.Kind == AdamW {
			decay = float32(1 - lr*c.WeightDecay)
			wd = 0
		}
		k := adamKernel{b1: b1, b2: b2, wd: wd, decay: decay, stepSize: stepSize, invSqrtBC2: invSqrtBC2, eps: eps}
		parallel(len(params), func(lo, hi int) {
			k.apply(params[lo:hi], grad[lo:hi], o.m[lo:hi], o.v[lo:hi])
		})
	}
}

// adamKernel holds one Adam step's constants.
type adamKernel struct {
	b1, b2, wd, decay, stepSize, invSqrtBC2, eps float32
}

// apply runs the Adam update on one slice of the parameters.
func (k adamKernel) apply(params, grad, m, v []float32) {
	m, v, grad = m[:len(params)], v[:len(params)], grad[:len(params)]
	for i, g := range grad {
		p := params[i] * k.decay
		g += k.wd * params[i]
		mi := k.b1*m[i] + (1-k.b1)*g
		vi := k.b2*v[i] + (1-k.b2)*g*g
		m[i], v[i] = mi, vi
		params[i] = p - k.stepSize*mi/(float32(math.Sqrt(float64(vi)))*k.invSqrtBC2+k.eps)
	}
}

// parallelMin is the slice length below which parallel runs on one
// goroutine: element-wise updates of small models are not worth a fork.
const parallelMin = 1 << 16

// parallel splits [0, n) into GOMAXPROCS contiguous chunks and runs fn on
// each concurrently. The update is element-wise, so the result does not
// depend on the split.
func parallel(n int, fn func(lo, hi int)) {
	w := runtime.GOMAXPROCS(0)
	if n < parallelMin || w < 2 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + w - 1) / w
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// ClipGlobalNorm scales grad in place so that its Euclidean norm is at most
// maxNorm and returns the norm before clipping. maxNorm ≤ 0 means no
// clipping.
func ClipGlobalNorm(grad []float32, maxNorm float64) float64 {
	var s float64
	for _, g := range grad {
		s += float64(g) * float64(g)
	}
	norm := math.Sqrt(s)
	if maxNorm > 0 && norm > maxNorm {
		f := float32(maxNorm / norm)
		for i := range grad {
			grad[i] *= f
		}
	}
	return norm
}

const optMagic = "LNOPT1\n\x00"

// MarshalBinary encodes the optimizer's kind, hyper-parameters, step count
// and state vectors.
func (o *Optimizer) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(optMagic)
	kind := []byte(o.cfg.Kind)
	hdr := []any{uint32(len(kind)), kind, o.cfg.Momentum, o.cfg.Nesterov, o.cfg.Beta1, o.cfg.Beta2,
		o.cfg.Eps, o.cfg.WeightDecay, uint64(o.n), o.step, o.m != nil, o.v != nil}
	for _, h := range hdr {
		binary.Write(&b, binary.LittleEndian, h) // writes to a bytes.Buffer cannot fail
	}
	for _, s := range [][]float32{o.m, o.v} {
		if s != nil {
			binary.Write(&b, binary.LittleEndian, s)
		}
	}
	return b.Bytes(), nil
}

// UnmarshalBinary restores state written by MarshalBinary, replacing o's
// configuration and state. Errors wrap ErrOptimizerState.
func (o *Optimizer) UnmarshalBinary(data []byte) error {
	bad := func(what string) error { return fmt.Errorf("optimizer state: %s: %w", what, ErrOptimizerState) }
	if !bytes.HasPrefix(data, []byte(optMagic)) {
		return bad("bad magic")
	}
	r := bytes.NewReader(data[len(optMagic):])
	var klen uint32
	if binary.Read(r, binary.LittleEndian, &klen) != nil || klen > 16 {
		return bad("bad kind")
	}
	kind := make([]byte, klen)
	var c OptimizerConfig
	var n uint64
	var step int64
	var hasM, hasV bool
	for _, f := range []any{kind, &c.Momentum, &c.Nesterov, &c.Beta1, &c.Beta2, &c.Eps, &c.WeightDecay, &n, &step, &hasM, &hasV} {
		if err := binary.Read(r, binary.LittleEndian, f); err != nil {
			return bad("truncated header")
		}
	}
	c.Kind = OptimizerKind(kind)
	if err := c.validate(); err != nil {
		return bad(err.Error())
	}
	want := 0
	if hasM {
		want++
	}
	if hasV {
		want++
	}
	if step < 0 || n > 1<<40 || uint64(r.Len()) != uint64(want)*4*n {
		return bad("state vectors have the wrong length")
	}
	c = c.withDefaults()
	if hasM != (c.Kind != SGD || c.Momentum > 0) || hasV != (c.Kind != SGD) {
		return bad("state vectors do not match the optimizer kind")
	}
	out := Optimizer{cfg: c, n: int(n), step: step}
	if hasM {
		out.m = make([]float32, n)
		binary.Read(r, binary.LittleEndian, out.m)
	}
	if hasV {
		out.v = make([]float32, n)
		binary.Read(r, binary.LittleEndian, out.v)
	}
	*o = out
	return nil
}
