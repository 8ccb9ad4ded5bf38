package watermark

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// DefaultDecoys is the number of decoy keys a Panel compares the real key
// with; the smallest p-value it can give is 1/(DefaultDecoys+1) = 0.0001.
const DefaultDecoys = 9999

// ErrShape is wrapped by errors about inputs of the wrong shape.
var ErrShape = errors.New("watermark: shape mismatch")

// ErrNonFinite is wrapped by errors about a NaN or infinite input (probe
// feature, normalisation, centring value or output) or a negative output.
// The test refuses them rather than give a p-value: a NaN statistic
// compares false with every decoy's, which would read as the smallest
// p-value there is.
var ErrNonFinite = errors.New("watermark: non-finite or negative value")

// Panel holds what the test needs about one probe set, computed once: for
// every probe the teacher's top-2 classes and, for the real key and each
// decoy, the tilt difference g_a − g_b. Testing a suspect is then a pass
// over the suspect's leans per key.
type Panel struct {
	top1, top2 []int
	diff       [][]float64 // [key][probe]; key 0 is the real one
}

// Result is the outcome of testing one suspect.
type Result struct {
	Stat   float64 `json:"stat"`   // S for the real key
	Mean   float64 `json:"mean"`   // mean S over the decoys
	SD     float64 `json:"sd"`     // their standard deviation
	Z      float64 `json:"z"`      // (Stat − Mean)/SD
	P      float64 `json:"p"`      // (1 + #{decoy S ≥ Stat}) / (1 + decoys)
	Probes int     `json:"probes"` // probes where the suspect leans to one of the teacher's top 2
	Decoys int     `json:"decoys"`
}

// NewPanel prepares the test of mark mk on probes x (rows of mk.Inputs raw
// features) whose teacher outputs are teacher (rows of mk.Classes
// probabilities), with decoys decoy keys (0 means DefaultDecoys).
func NewPanel(mk *Mark, x, teacher blas32.General, decoys int) (*Panel, error) {
	return NewPanelContext(context.Background(), mk, x, teacher, decoys)
}

// NewPanelContext is NewPanel stopping with ctx's error when ctx is done
// (the panel costs decoys × probes × inputs multiply-adds: seconds for a
// suite of thousands of watermark probes).
func NewPanelContext(ctx context.Context, mk *Mark, x, teacher blas32.General, decoys int) (*Panel, error) {
	if x.Cols != mk.Inputs || teacher.Cols != mk.Classes || x.Rows != teacher.Rows {
		return nil, fmt.Errorf("%w: probes %d×%d, teacher outputs %d×%d, mark %d inputs %d classes", ErrShape, x.Rows, x.Cols, teacher.Rows, teacher.Cols, mk.Inputs, mk.Classes)
	}
	if decoys <= 0 {
		decoys = DefaultDecoys
	}
	n, D := x.Rows, mk.Inputs
	p := &Panel{top1: make([]int, n), top2: make([]int, n), diff: make([][]float64, decoys+1)}
	xt := make([]float64, n*D)
	for i := 0; i < n; i++ {
		normalize(xt[i*D:(i+1)*D], x.Data[i*x.Stride:i*x.Stride+D], mk.Norm)
		for _, v := range xt[i*D : (i+1)*D] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: probe %d: normalised feature %v", ErrNonFinite, i, v)
			}
		}
		row := teacher.Data[i*teacher.Stride : i*teacher.Stride+mk.Classes]
		if err := checkRow(row); err != nil {
			return nil, fmt.Errorf("%w: teacher output on probe %d", err, i)
		}
		a := model.Argmax(row)
		b := -1
		for c, v := range row {
			if c != a && (b < 0 || v > row[b]) {
				b = c
			}
		}
		p.top1[i], p.top2[i] = a, b
	}
	buf := make([]float64, len(mk.w))
	for k := range p.diff {
		if k%256 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		w := mk.w
		if k > 0 {
			w = fill(buf, mk.Key.decoy(k), D)
		}
		d := make([]float64, n)
		for i := range d {
			a, b := p.top1[i], p.top2[i]
			if b < 0 {
				continue
			}
			wa, wb := w[a*D:(a+1)*D], w[b*D:(b+1)*D]
			var s float64
			for j, v := range xt[i*D : (i+1)*D] {
				s += (wa[j] - wb[j]) * v
			}
			d[i] = s
		}
		p.diff[k] = d
	}
	return p, nil
}

// Tilt returns the real key's tilt per probe, g_a − g_b for the
// teacher's top-2 classes a and b (0 where it has no runner-up): how far
// the marked API (Serve) moves the teacher's log-odds between them at
// ε = 1, so roughly how a student of its labels leans there more than the
// teacher does.
func (p *Panel) Tilt() []float64 { return slices.Clone(p.diff[0]) }

// Len returns the number of probes.
func (p *Panel) Len() int { return len(p.top1) }

// Decoys returns the number of decoy keys.
func (p *Panel) Decoys() int { return len(p.diff) - 1 }

// LeanClip bounds a probe's lean: a model's log-odds between the
// teacher's top-2 classes count up to ±LeanClip, so one confident answer
// cannot dominate the statistic.
const LeanClip = 1.0

// Lean returns the lean of a model whose outputs on the panel's probes are
// the rows of p: per probe log(p_a + 1e-6) − log(p_b + 1e-6), clipped to
// ±LeanClip, where a and b are the teacher's top-1 and top-2 classes. A
// one-hot (label-only) answer leans +LeanClip when it is a, −LeanClip when
// it is b and 0 otherwise. An output row with a NaN, infinite or negative
// entry gives an error wrapping ErrNonFinite.
func (p *Panel) Lean(out blas32.General) ([]float64, error) {
	if out.Rows != p.Len() || (p.Len() > 0 && out.Cols <= max(slices.Max(p.top1), slices.Max(p.top2))) {
		return nil, fmt.Errorf("%w: %d×%d outputs for %d probes", ErrShape, out.Rows, out.Cols, p.Len())
	}
	y := make([]float64, out.Rows)
	for i := range y {
		if p.top2[i] < 0 {
			continue // a one-class teacher has no runner-up to lean to
		}
		row := out.Data[i*out.Stride : i*out.Stride+out.Cols]
		if err := checkRow(row); err != nil {
			return nil, fmt.Errorf("%w: output on probe %d", err, i)
		}
		v := math.Log(float64(row[p.top1[i]])+1e-6) - math.Log(float64(row[p.top2[i]])+1e-6)
		y[i] = max(-LeanClip, min(LeanClip, v))
	}
	return y, nil
}

// checkRow returns an error wrapping ErrNonFinite when an output row has a
// NaN, infinite or negative entry.
func checkRow(row []float32) error {
	for c, v := range row {
		if !(v >= 0) || math.IsInf(float64(v), 1) {
			return fmt.Errorf("%w: class %d is %v", ErrNonFinite, c, v)
		}
	}
	return nil
}

// Test tests a suspect whose outputs on the panel's probes are the rows
// of out (probabilities, or one-hot labels). center, when non-nil, is subtracted from the suspect's lean
// before the statistic is computed: the mean lean of models known not to
// have seen the marked labels (independent controls), so that what the
// suspect shares with every independent model does not count. center must
// not depend on the key; then the p-value stays exact. A NaN or infinite
// centring value, or an output Lean refuses, gives an error wrapping
// ErrNonFinite, never a p-value.
func (p *Panel) Test(out blas32.General, center []float64) (Result, error) {
	return p.TestWeighted(out, center, nil)
}

// Weigher maps a centred lean to the vector the statistic is taken of,
// S = Σᵢ yᵢ dᵢ: a whitening that counts probes on which models' leans vary
// together less, say. It must not depend on the key (then the p-value
// stays exact) and must write only to dst.
type Weigher interface {
	Weigh(dst, y []float64)
}

// TestWeighted is Test with the centred lean passed through w before the
// statistic (nil w is Test). The statistic of key k is then Σᵢ wᵢ dᵢₖ
// with w the weighed lean: any fixed linear map of the lean keeps the
// real key's rank among the decoys uniform for a model that never saw the
// marked labels. A non-finite weighed value gives an error wrapping
// ErrNonFinite.
func (p *Panel) TestWeighted(out blas32.General, center []float64, w Weigher) (Result, error) {
	y, err := p.Lean(out)
	if err != nil {
		return Result{}, err
	}
	return p.TestLean(y, center, w)
}

// TestLean is TestWeighted for a suspect given by its lean (Lean), which
// it does not change; a lean of the wrong length gives an error wrapping
// ErrShape, a non-finite one an error wrapping ErrNonFinite.
func (p *Panel) TestLean(lean, center []float64, w Weigher) (Result, error) {
	if len(lean) != p.Len() {
		return Result{}, fmt.Errorf("%w: a lean of %d values for %d probes", ErrShape, len(lean), p.Len())
	}
	y := append([]float64(nil), lean...)
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Result{}, fmt.Errorf("%w: lean %d is %v", ErrNonFinite, i, v)
		}
	}
	if center != nil && len(center) != len(y) {
		return Result{}, fmt.Errorf("%w: %d centring values for %d probes", ErrShape, len(center), len(y))
	}
	for i, v := range center {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Result{}, fmt.Errorf("%w: centring value %d is %v", ErrNonFinite, i, v)
		}
	}
	r := Result{Decoys: len(p.diff) - 1}
	for i, v := range y {
		if v != 0 {
			r.Probes++
		}
		if center != nil {
			y[i] = v - center[i]
		}
	}
	if w != nil {
		wy := make([]float64, len(y))
		w.Weigh(wy, y)
		for i, v := range wy {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return Result{}, fmt.Errorf("%w: weighed lean %d is %v", ErrNonFinite, i, v)
			}
		}
		y = wy
	}
	stat := func(d []float64) float64 {
		var s float64
		for i, v := range y {
			s += v * d[i]
		}
		return s
	}
	r.Stat = stat(p.diff[0])
	if math.IsNaN(r.Stat) || math.IsInf(r.Stat, 0) {
		// Unreachable with the inputs checked above; kept so that no
		// future path can turn a NaN into the smallest p-value.
		return Result{}, fmt.Errorf("%w: statistic %v", ErrNonFinite, r.Stat)
	}
	ge := 1
	var sum, sum2 float64
	for _, d := range p.diff[1:] {
		s := stat(d)
		sum += s
		sum2 += s * s
		if !(s < r.Stat) { // a NaN decoy counts against the suspect
			ge++
		}
	}
	n := float64(r.Decoys)
	r.Mean = sum / n
	if r.Decoys > 1 {
		r.SD = math.Sqrt(max(0, (sum2-n*r.Mean*r.Mean)/(n-1)))
	}
	if r.SD > 0 {
		r.Z = (r.Stat - r.Mean) / r.SD
	}
	r.P = float64(ge) / (n + 1)
	return r, nil
}
