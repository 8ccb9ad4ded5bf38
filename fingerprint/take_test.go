package fingerprint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/blas/blas32"
)

// fakeModel answers with fn(x); calls counts Predict calls.
type fakeModel struct {
	info  model.Info
	fn    func(x blas32.General) blas32.General
	calls int
}

func (f *fakeModel) Info() model.Info { return f.info }
func (f *fakeModel) Predict(_ context.Context, x blas32.General) (blas32.General, error) {
	f.calls++
	return f.fn(x), nil
}

// softmaxModel returns softmax(W x) for a fixed random W: deterministic and
// input dependent.
func softmaxModel(name string, d int, labels []string, seed uint64) *fakeModel {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := len(labels)
	w := make([]float64, c*d)
	for i := range w {
		w[i] = rng.NormFloat64()
	}
	return &fakeModel{
		info: model.Info{Name: name, Kind: model.Classifier, InputSize: d, Labels: labels, Hash: "m-" + name},
		fn: func(x blas32.General) blas32.General {
			y := blas32.General{Rows: x.Rows, Cols: c, Stride: c, Data: make([]float32, x.Rows*c)}
			z := make([]float64, c)
			for i := 0; i < x.Rows; i++ {
				var sum float64
				for k := 0; k < c; k++ {
					var s float64
					for j := 0; j < d; j++ {
						s += w[k*d+j] * float64(x.Data[i*x.Stride+j])
					}
					z[k] = math.Exp(s)
					sum += z[k]
				}
				for k := range z {
					y.Data[i*c+k] = float32(z[k] / sum)
				}
			}
			return y
		},
	}
}

func testSuite(n, d int, labels []string, seed uint64) *probe.Suite {
	rng := rand.New(rand.NewPCG(seed, 2))
	x := blas32.General{Rows: n, Cols: d, Stride: d, Data: make([]float32, n*d)}
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	kinds := make([]probe.Kind, n)
	for i := range kinds {
		kinds[i] = probe.Noise
	}
	return &probe.Suite{Name: "acme", Labels: labels, X: x, Kinds: kinds, Hash: probe.CanonicalHash(x, kinds, labels)}
}

var abc = []string{"a", "b", "c", "d"}

func TestTake(t *testing.T) {
	s := testSuite(10, 5, abc, 1)
	m := softmaxModel("x", 5, abc, 7)
	var progress [][2]int
	fp, err := Take(context.Background(), m, s, Options{ID: "t", BatchSize: 3, Progress: func(d, n int) {
		progress = append(progress, [2]int{d, n})
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.calls, 4; got != want {
		t.Errorf("Predict calls = %d, want %d", got, want)
	}
	if got, want := fp.Queries, 10; got != want {
		t.Errorf("Queries = %d, want %d", got, want)
	}
	if got, want := len(progress), 4; got != want || progress[3] != [2]int{10, 10} {
		t.Errorf("progress = %v, want 4 calls ending at 10/10", progress)
	}
	whole := m.fn(s.X)
	for i := range whole.Data {
		if fp.P.Data[i] != whole.Data[i] {
			t.Fatalf("P[%d] = %v, want %v (batched differs from whole)", i, fp.P.Data[i], whole.Data[i])
		}
	}
	if fp.Suite != s.Hash || fp.ID != "t" || fp.Model.Hash != "m-x" {
		t.Errorf("identity = %q %q %q, want %q t m-x", fp.Suite, fp.ID, fp.Model.Hash, s.Hash)
	}
	if err := fp.Verify(); err != nil {
		t.Error(err)
	}
	// The hash depends on content: another model gives another hash.
	fp2, err := Take(context.Background(), softmaxModel("x", 5, abc, 8), s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if fp2.Hash == fp.Hash {
		t.Error("different models gave the same hash")
	}
	fp.P.Data[3] += 1e-6
	if err := fp.Verify(); !errors.Is(err, ErrHash) {
		t.Errorf("Verify after edit = %v, want ErrHash", err)
	}
}

func TestTakeErrors(t *testing.T) {
	s := testSuite(6, 4, abc, 1)
	constant := func(row []float32) func(x blas32.General) blas32.General {
		return func(x blas32.General) blas32.General {
			y := blas32.General{Rows: x.Rows, Cols: len(row), Stride: len(row), Data: make([]float32, x.Rows*len(row))}
			for i := 0; i < x.Rows; i++ {
				copy(y.Data[i*len(row):], row)
			}
			if x.Rows > 2 { // poison the third probe of the first batch
				copy(y.Data[2*len(row):], row)
			}
			return y
		}
	}
	bad := func(r3 []float32) func(x blas32.General) blas32.General {
		return func(x blas32.General) blas32.General {
			y := constant([]float32{.25, .25, .25, .25})(x)
			if x.Rows > 2 {
				copy(y.Data[2*4:], r3)
			}
			return y
		}
	}
	info := model.Info{Name: "x", InputSize: 4, Labels: abc}
	tests := []struct {
		name     string
		info     model.Info
		fn       func(x blas32.General) blas32.General
		want     string
		sentinel error
	}{
		{"inputs", model.Info{Name: "x", InputSize: 784, Labels: abc}, nil,
			`model "x" has 784 inputs, suite "acme" has 4`, ErrMismatch},
		{"labels", model.Info{Name: "x", InputSize: 4, Labels: []string{"a", "b"}}, nil,
			`model "x" has labels [a,b], suite "acme" has [a,b,c,d] (2 vs 4 labels)`, ErrMismatch},
		// Lists of one length name the label missing (the order may differ).
		{"labels past the shown ones", model.Info{Name: "x", InputSize: 4, Labels: []string{"a", "b", "c", "e"}}, nil,
			`model "x" has labels [a,b,c,e], suite "acme" has [a,b,c,d] (no label "d")`, ErrMismatch},
		// The same names in another order are aligned (TestTakeReordered);
		// a label listed twice is not a reordering.
		{"label twice", model.Info{Name: "x", InputSize: 4, Labels: []string{"b", "a", "c", "c"}}, nil,
			`model "x" has labels [b,a,c,c], suite "acme" has [a,b,c,d] (label "c" listed twice, no label "d")`, ErrMismatch},
		{"nan", info, bad([]float32{float32(math.NaN()), .5, .25, .25}),
			`model "x", probe 2: entry 0 is NaN`, ErrBadAnswer},
		{"negative", info, bad([]float32{-.5, .5, .5, .5}),
			`model "x", probe 2: entry 0 is negative (-0.5)`, ErrBadAnswer},
		{"sum", info, bad([]float32{.5, .5, .5, .5}),
			`model "x", probe 2: row sums to 2, want 1 ± 0.001`, ErrBadAnswer},
		{"shape", info, constant([]float32{.5, .5}),
			`model "x", probe 0: answer is 6×2 for a batch of 6 probes, want 6×4`, ErrBadAnswer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Take(context.Background(), &fakeModel{info: tc.info, fn: tc.fn}, s, Options{})
			if err == nil || err.Error() != tc.want {
				t.Fatalf("error = %v, want %s", err, tc.want)
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tc.sentinel)
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Take(ctx, softmaxModel("x", 4, abc, 1), s, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Take error = %v, want context.Canceled", err)
	}
}

// TestTakeReordered checks that a model listing the suite's labels in
// another order is fingerprinted with its answers aligned by label name:
// the same outputs as the same model answering in the suite's order,
// with the model's own order kept in Model.Labels (and so in its hash).
func TestTakeReordered(t *testing.T) {
	s := testSuite(20, 4, abc, 3)
	base := softmaxModel("x", 4, abc, 5)
	order := []int{2, 0, 3, 1} // the model's column j answers for abc[order[j]]
	labels := make([]string, len(order))
	for j, k := range order {
		labels[j] = abc[k]
	}
	shuffled := &fakeModel{info: base.info, fn: func(x blas32.General) blas32.General {
		y := base.fn(x)
		out := blas32.General{Rows: y.Rows, Cols: y.Cols, Stride: y.Cols, Data: make([]float32, len(y.Data))}
		for i := 0; i < y.Rows; i++ {
			for j, k := range order {
				out.Data[i*y.Cols+j] = y.Data[i*y.Stride+k]
			}
		}
		return out
	}}
	shuffled.info.Labels = labels
	want, err := Take(context.Background(), base, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, bs := range []int{1, 7, 0} {
		got, err := Take(context.Background(), shuffled, s, Options{BatchSize: bs})
		if err != nil {
			t.Fatalf("batch %d: %v", bs, err)
		}
		if !slices.Equal(got.P.Data, want.P.Data) || !got.SameAnswers(want) || !got.SameOutputs(want) {
			t.Errorf("batch %d: reordered model's outputs differ from the model's in the suite's order", bs)
		}
		// Its hash covers the model's own order (HashRuleHeader).
		if got.Hash == want.Hash {
			t.Errorf("batch %d: reordered model's hash %s is the model's in the suite's order", bs, got.Hash)
		}
		if !slices.Equal(got.Model.Labels, labels) || !got.Reordered(abc) {
			t.Errorf("batch %d: Model.Labels %v, Reordered %v; want %v and true", bs, got.Model.Labels, got.Reordered(abc), labels)
		}
	}
	if want.Reordered(abc) {
		t.Error("a model in the suite's order: Reordered = true, want false")
	}
}

func TestCompactAndTop1(t *testing.T) {
	fp := &Fingerprint{P: blas32.General{Rows: 2, Cols: 4, Stride: 4, Data: []float32{
		.5, .1, .3, .1,
		.2, .2, .4, .2,
	}}}
	c := fp.Compact(2)
	want := []float32{.5, .1, .3, .1, .2, .2, .4, .2}
	for i, v := range want {
		if math.Abs(float64(c.P.Data[i]-v)) > 1e-7 {
			t.Errorf("compact P[%d] = %v, want %v", i, c.P.Data[i], v)
		}
	}
	if c.TopK != 2 || c.Hash != c.ComputeHash() || fp.TopK != 0 {
		t.Errorf("compact TopK = %d (orig %d), hash ok %v", c.TopK, fp.TopK, c.Hash == c.ComputeHash())
	}
	c1 := fp.Compact(1)
	want1 := []float32{.5, float32(.5 / 3), float32(.5 / 3), float32(.5 / 3), .2, .2, .4, .2}
	for i, v := range want1 {
		if math.Abs(float64(c1.P.Data[i]-v)) > 1e-7 {
			t.Errorf("compact(1) P[%d] = %v, want %v", i, c1.P.Data[i], v)
		}
	}
	if got := Top1(fp); got[0] != 0 || got[1] != 2 {
		t.Errorf("Top1 = %v, want [0 2]", got)
	}
	if got := Top1(nil); len(got) != 0 {
		t.Errorf("Top1(nil) = %v, want []", got)
	}
}

// numberedModel is a BatchPredictor that checks each batch number k gets
// the rows of batch k, and records the numbers it saw.
type numberedModel struct {
	*fakeModel
	s  *probe.Suite
	bs int
	mu sync.Mutex
	ks []int
}

func (m *numberedModel) Predict(context.Context, blas32.General) (blas32.General, error) {
	panic("Predict called on a BatchPredictor")
}

func (m *numberedModel) PredictBatch(_ context.Context, k int, x blas32.General) (blas32.General, error) {
	time.Sleep(time.Millisecond) // let batches overlap
	if got, want := x.Data[0], m.s.X.Data[k*m.bs*m.s.X.Stride]; got != want {
		return blas32.General{}, fmt.Errorf("batch %d starts with %v, want %v", k, got, want)
	}
	m.mu.Lock()
	m.ks = append(m.ks, k)
	m.mu.Unlock()
	return m.fn(x), nil
}

func TestTakeInFlight(t *testing.T) {
	s := testSuite(23, 5, abc, 3)
	want, err := Take(context.Background(), softmaxModel("x", 5, abc, 9), s, Options{BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, inFlight := range []int{2, 5} {
		m := &numberedModel{fakeModel: softmaxModel("x", 5, abc, 9), s: s, bs: 4}
		last := 0
		got, err := Take(context.Background(), m, s, Options{BatchSize: 4, InFlight: inFlight, Progress: func(d, n int) {
			if d <= last || n != 23 {
				t.Errorf("in flight %d: progress %d/%d after %d", inFlight, d, n, last)
			}
			last = d
		}})
		if err != nil {
			t.Fatal(err)
		}
		if got.Hash != want.Hash {
			t.Errorf("in flight %d: hash %s, want %s (sequential)", inFlight, got.Hash, want.Hash)
		}
		slices.Sort(m.ks)
		if !slices.Equal(m.ks, []int{0, 1, 2, 3, 4, 5}) || last != 23 {
			t.Errorf("in flight %d: batch numbers %v, progress ended at %d; want 0..5 once each, 23", inFlight, m.ks, last)
		}
	}
}

// rowError is an answer error naming a row of the batch, as remote's
// ProbeError does.
type rowError struct{ row int }

func (e *rowError) Error() string { return fmt.Sprintf("answer row %d: negative probability", e.row) }
func (e *rowError) BatchRow() int { return e.row }

// rowFailing fails the batch holding probe bad with a rowError.
type rowFailing struct {
	fakeModel
	bad int
}

func (m *rowFailing) PredictBatch(_ context.Context, b int, x blas32.General) (blas32.General, error) {
	lo := b * 4
	if m.bad >= lo && m.bad < lo+x.Rows {
		return blas32.General{}, &rowError{m.bad - lo}
	}
	return m.fn(x), nil
}

// TestTakeNamesTheProbe checks that an answer error naming a row of a
// batch is reported with the probe's number in the suite, not the row's
// in its batch (a helper read "probes 256-299: … probe 3" for probe 259).
func TestTakeNamesTheProbe(t *testing.T) {
	s := testSuite(12, 4, abc, 1)
	m := &rowFailing{fakeModel: *softmaxModel("x", 4, abc, 1), bad: 9}
	_, err := Take(context.Background(), m, s, Options{BatchSize: 4})
	if want := `fingerprint of model "x", probe 9 (in probes 8-11): answer row 1: negative probability`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func TestVariation(t *testing.T) {
	for _, tt := range []struct {
		meta map[string]string
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{map[string]string{"remote": "exec"}, 0, false},
		{map[string]string{MetaVariation: "0"}, 0, true},
		{map[string]string{MetaVariation: "0.25"}, 0.25, true},
		// Anything else reads as the most two answers can differ.
		{map[string]string{MetaVariation: VariationUnmeasured}, 1, true},
		{map[string]string{MetaVariation: "NaN"}, 1, true},
		{map[string]string{MetaVariation: "1.5"}, 1, true},
		{map[string]string{MetaVariation: "-0.1"}, 1, true},
		{map[string]string{MetaVariation: ""}, 1, true},
	} {
		fp := &Fingerprint{Meta: tt.meta}
		if got, ok := fp.Variation(); got != tt.want || ok != tt.ok {
			t.Errorf("Variation of meta %v = %v, %v; want %v, %v", tt.meta, got, ok, tt.want, tt.ok)
		}
		// Nearby reads its own key the same way, and not Variation's.
		near := map[string]string{}
		for k, v := range tt.meta {
			if k == MetaVariation {
				k = MetaNearby
			}
			near[k] = v
		}
		fp = &Fingerprint{Meta: near}
		if got, ok := fp.Nearby(); got != tt.want || ok != tt.ok {
			t.Errorf("Nearby of meta %v = %v, %v; want %v, %v", near, got, ok, tt.want, tt.ok)
		}
		if _, ok := fp.Variation(); ok {
			t.Errorf("Variation of meta %v: recorded; want nothing", near)
		}
	}
}

// TestTakeNotFinite checks that a model whose activations overflow
// float32 on a probe is named once, with the probe's number in the
// suite: audit said `fingerprint of model "big", probes 0-255: model
// "big": output is NaN for input row 241: …`. The error still wraps
// model.ErrNotFinite.
func TestTakeNotFinite(t *testing.T) {
	m := model.NewMLP([]int{4, 8, len(abc)}, model.ActReLU, abc, rand.New(rand.NewPCG(1, 2)))
	m.Name = "big"
	for l := range m.NumLayers() {
		clear(m.B(l))
	}
	// Probe 9, all ones, sends the hidden units to +Inf and the logits to
	// +Inf − Inf; the other probes, all zeros, give finite logits.
	for i := range m.W(0).Data {
		m.W(0).Data[i] = 3e38
	}
	for i := range m.W(1).Data {
		m.W(1).Data[i] = 3e38 * float32(1-2*(i%2))
	}
	s := testSuite(12, 4, abc, 1)
	clear(s.X.Data)
	for j := range 4 {
		s.X.Data[9*4+j] = 1
	}
	s.Hash = probe.CanonicalHash(s.X, s.Kinds, s.Labels)
	_, err := Take(context.Background(), m, s, Options{BatchSize: 4})
	want := `fingerprint of model "big", probe 9 (in probes 8-11): output is NaN: its activations overflow float32 (largest |input| 1, largest |weight| 3e+38)`
	if err == nil || err.Error() != want || !errors.Is(err, model.ErrNotFinite) {
		t.Errorf("error %v, want %s, wrapping model.ErrNotFinite", err, want)
	}
}
