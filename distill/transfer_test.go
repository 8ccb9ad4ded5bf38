package distill

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

func TestTransferGenerate(t *testing.T) {
	d := dataset.Digits().Subset([]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	lo, hi := d.Range()
	tests := []struct {
		spec        string
		queries     int
		wantRows    int
		wantLabeled int
	}{
		{"data", 0, 10, 10},
		{"data", 25, 25, 25},
		{"data", 4, 4, 4},
		{"noise", 0, 10, 0},
		{"jitter", 7, 7, 0},
		{"mixup", 0, 10, 0},
		{"data,mixup", 0, 20, 10},
		{"data,noise,jitter", 10, 10, 4},
	}
	for _, tt := range tests {
		tr, err := ParseTransfer(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		x, labels, err := tr.Generate(rand.New(rand.NewPCG(1, 1)), d, tt.queries)
		if err != nil {
			t.Fatalf("%s: %v", tt.spec, err)
		}
		labeled := 0
		for _, l := range labels {
			if l >= 0 {
				labeled++
			}
		}
		if x.Rows != tt.wantRows || len(labels) != tt.wantRows || labeled != tt.wantLabeled {
			t.Errorf("%s/%d: %d rows, %d labels, %d labelled; want %d, %d, %d", tt.spec, tt.queries, x.Rows, len(labels), labeled, tt.wantRows, tt.wantRows, tt.wantLabeled)
		}
		for _, v := range x.Data {
			if v < lo || v > hi {
				t.Errorf("%s: value %v outside data range [%v, %v]", tt.spec, v, lo, hi)
				break
			}
		}
		if tr.String() != tt.spec {
			t.Errorf("String() = %q, want %q", tr.String(), tt.spec)
		}
	}
	// Data rows keep their labels.
	tr, _ := ParseTransfer("data")
	x, labels, _ := tr.Generate(rand.New(rand.NewPCG(2, 2)), d, 0)
	for i := 0; i < x.Rows; i++ {
		row := x.Data[i*x.Cols : (i+1)*x.Cols]
		found := false
		for j := 0; j < d.Len(); j++ {
			if bytes.Equal(f32bytes(row), f32bytes(d.Row(j))) && d.Y[j] == labels[i] {
				found = true
			}
		}
		if !found {
			t.Errorf("data row %d is not a training row with its label", i)
		}
	}
}

func TestTransferGenerateErrors(t *testing.T) {
	digits := dataset.Digits()
	noFeatures, err := dataset.New("tiny", blas32.General{Rows: 2}, []int{0, 1}, []string{"a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		d       *dataset.Dataset
		queries int
		want    string
	}{
		{"no features", noFeatures, 0, "transfer data: training set has no features: bad transfer set"},
		{"too many", digits, 2e9, "transfer data: 2000000000 queries of 64 features exceed the limit of 1073741824 values: bad transfer set"},
		{"overflow", digits, 9e18, "transfer data: 9000000000000000000 queries of 64 features exceed the limit of 1073741824 values: bad transfer set"},
		{"negative", digits, -1, "transfer data: negative query budget -1: bad transfer set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Transfer{}.Generate(rand.New(rand.NewPCG(1, 1)), tt.d, tt.queries)
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrTransfer) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseTransferErrors(t *testing.T) {
	for _, s := range []string{"data,", "foo", "data,,mixup", "Data"} {
		if _, err := ParseTransfer(s); !errors.Is(err, ErrTransfer) {
			t.Errorf("ParseTransfer(%q) error %v, want ErrTransfer", s, err)
		}
	}
}

// TestCheckpointShapeOverflow writes a checkpoint (valid checksum) whose
// header claims 2⁶² transfer rows (2³⁰ on 32-bit platforms) of 4 features
// and 4 targets with no data: 4·2⁶² wraps to 0, which used to pass the
// shape check and reach make([]int, 2⁶²) in the training loop.
func TestCheckpointShapeOverflow(t *testing.T) {
	m := model.NewMLP([]int{4, 2, 4}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	ob, _ := NewOptimizer(OptimizerConfig{Kind: Adam}, len(m.Theta)).MarshalBinary()
	rng, _ := rand.NewPCG(1, 2).MarshalBinary()
	c := &ckptState{ConfigHash: "x", EpochRNG: rng, XRows: 1 << (strconv.IntSize - 2), XCols: 4, TCols: 4, student: m, opt: ob}
	var b bytes.Buffer
	if err := encodeCheckpoint(&b, c); err != nil {
		t.Fatal(err)
	}
	if _, err := decodeCheckpoint(b.Bytes()); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("decodeCheckpoint: error %v, want ErrCheckpoint", err)
	}
}

func FuzzCheckpoint(f *testing.F) {
	m := model.NewMLP([]int{3, 2, 2}, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	o := NewOptimizer(OptimizerConfig{Kind: Adam}, len(m.Theta))
	ob, _ := o.MarshalBinary()
	rng, _ := rand.NewPCG(1, 2).MarshalBinary()
	c := &ckptState{ConfigHash: "x", Epoch: 1, EpochRNG: rng, XRows: 2, XCols: 3, TCols: 2, Labels: []int{0, -1},
		History: []EpochStats{{Epoch: 1, TrainLoss: 0.5}},
		student: m, opt: ob, bestTheta: m.Theta, x: []float32{1, 2, 3, 4, 5, 6}, tgt: []float32{0.5, 0.5, 1, 0}}
	var b bytes.Buffer
	if err := encodeCheckpoint(&b, c); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	// And one recording its run's configuration.
	c.Config = &ckptConfig{Fields: []byte(`{"hidden":[2],"temperature":2,"seed":1}`), Train: "t", Teacher: &teacherID{"n", "s", "h"}}
	b.Reset()
	if err := encodeCheckpoint(&b, c); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		checkpointRoundTrip(t, data)
		// The trailing checksum stops nearly every mutation at the first
		// check (806,471 executions in 60 s found no new input): sealed
		// again, the rest of the decoder is fuzzed too.
		if len(data) >= sha256.Size {
			body := data[: len(data)-sha256.Size : len(data)-sha256.Size]
			sum := sha256.Sum256(body)
			checkpointRoundTrip(t, append(body, sum[:]...))
		}
	})
}

// checkpointRoundTrip checks that decodeCheckpoint refuses data with an
// ErrCheckpoint, or accepts a checkpoint that encodes to a fixpoint.
func checkpointRoundTrip(t *testing.T, data []byte) {
	t.Helper()
	c, err := decodeCheckpoint(data)
	if err != nil {
		if !errors.Is(err, ErrCheckpoint) {
			t.Fatalf("error %v does not wrap ErrCheckpoint", err)
		}
		return
	}
	var b1 bytes.Buffer
	if err := encodeCheckpoint(&b1, c); err != nil {
		t.Fatal(err)
	}
	c2, err := decodeCheckpoint(b1.Bytes())
	if err != nil {
		t.Fatalf("re-decode: %v", err)
	}
	var b2 bytes.Buffer
	encodeCheckpoint(&b2, c2)
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("checkpoint does not round-trip")
	}
}
