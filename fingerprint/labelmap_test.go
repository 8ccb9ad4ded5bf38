package fingerprint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestTakeLabelMap checks Options.LabelMap: a model whose labels are the
// suite's under other names, in another order, read with the map stating
// which is which, gives the fingerprint of the model answering under the
// suite's names in its order, with the map recorded under MetaLabelMap
// and the model's own labels kept; a map that does not fit is refused
// with a *MismatchError saying how, and no map at all with one naming the
// labels.
func TestTakeLabelMap(t *testing.T) {
	s := testSuite(20, 4, abc, 3)
	base := softmaxModel("x", 4, abc, 5)
	order := []int{2, 0, 3, 1} // the model's column j answers for abc[order[j]]
	names := map[string]string{"a": "alpha", "b": "beta", "c": "gamma", "d": "delta"}
	labels := make([]string, len(order))
	for j, k := range order {
		labels[j] = names[abc[k]]
	}
	renamed := &fakeModel{info: base.info, fn: func(x blas32.General) blas32.General {
		y := base.fn(x)
		out := blas32.General{Rows: y.Rows, Cols: y.Cols, Stride: y.Cols, Data: make([]float32, len(y.Data))}
		for i := 0; i < y.Rows; i++ {
			for j, k := range order {
				out.Data[i*y.Cols+j] = y.Data[i*y.Stride+k]
			}
		}
		return out
	}}
	renamed.info.Labels = labels
	want, err := Take(context.Background(), base, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	right := mustLabelMap(t, "alpha=a, beta=b,gamma=c\ndelta=d")
	for _, bs := range []int{1, 7, 0} {
		got, err := Take(context.Background(), renamed, s, Options{BatchSize: bs, LabelMap: right})
		if err != nil {
			t.Fatalf("batch %d: %v", bs, err)
		}
		if !slices.Equal(got.P.Data, want.P.Data) {
			t.Errorf("batch %d: relabelled model's outputs differ from the model's under the suite's names", bs)
		}
		// The hash covers the recorded map: the outputs' hash with it,
		// and the model's own labels.
		mapped := want.Clone()
		mapped.Meta = map[string]string{MetaLabelMap: got.LabelMap(), MetaHashRule: HashRuleHeader}
		mapped.Model.Labels = labels
		if h := mapped.ComputeHash(); got.Hash != h || h == want.Hash {
			t.Errorf("batch %d: hash %s, want %s (the model's under the suite's names %s, with the map)", bs, got.Hash, h, want.Hash)
		}
		if !slices.Equal(got.Model.Labels, labels) {
			t.Errorf("batch %d: Model.Labels %v, want the model's own %v", bs, got.Model.Labels, labels)
		}
		if lm, w := got.LabelMap(), "gamma=c,alpha=a,delta=d,beta=b"; lm != w {
			t.Errorf("batch %d: LabelMap() = %q, want %q (the model's order)", bs, lm, w)
		}
	}
	if want.LabelMap() != "" || len(want.Meta) != 1 || want.Meta[MetaHashRule] != HashRuleHeader {
		t.Errorf("no map: LabelMap() = %q, Meta %v; want %s alone", want.LabelMap(), want.Meta, MetaHashRule)
	}
	tests := []struct {
		name, lm string // "" for no map
		want     string
	}{
		{"no map", "", `model "x" has labels [gamma,alpha,delta,beta], suite "acme" has [a,b,c,d] (no label "a")`},
		{"a label unmapped", "alpha=a,beta=b,gamma=c", `it does not say which label the model's label "delta" stands for`},
		{"a label the model lacks", "alpha=a,beta=b,gamma=c,delta=d,eps=e", `it maps "eps", which the model does not list`},
		{"onto other labels", "alpha=a,beta=b,gamma=c,delta=e", `read by the label map as [c,a,e,b], suite "acme" has [a,b,c,d] (no label "d")`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lm model.LabelMap
			if tt.lm != "" {
				lm = mustLabelMap(t, tt.lm)
			}
			_, err := Take(context.Background(), renamed, s, Options{LabelMap: lm})
			var mm *MismatchError
			if !errors.As(err, &mm) || mm.What != "labels" || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want a labels *MismatchError containing %q", err, tt.want)
			}
			if mm.GotN != 4 || mm.WantN != 4 {
				t.Errorf("GotN, WantN = %d, %d; want 4, 4", mm.GotN, mm.WantN)
			}
		})
	}
}

func mustLabelMap(t *testing.T, s string) model.LabelMap {
	t.Helper()
	lm, err := model.ParseLabelMap(s)
	if err != nil {
		t.Fatal(err)
	}
	return lm
}

// TestMismatchLabelNames checks that a *MismatchError matches
// model.ErrLabelNames for labels alone, and only when the model lists as
// many as the suite: commands then suggest --label-map.
func TestMismatchLabelNames(t *testing.T) {
	for _, tt := range []struct {
		name string
		e    *MismatchError
		want bool
	}{
		{"same count", &MismatchError{What: "labels", GotN: 3, WantN: 3}, true},
		{"other count", &MismatchError{What: "labels", GotN: 2, WantN: 3}, false},
		{"inputs", &MismatchError{What: "inputs", GotN: 3, WantN: 3}, false},
	} {
		err := fmt.Errorf("wrapped: %w", tt.e)
		if got := errors.Is(err, model.ErrLabelNames); got != tt.want {
			t.Errorf("%s: errors.Is(%v, model.ErrLabelNames) = %v, want %v", tt.name, err, got, tt.want)
		}
		if !errors.Is(err, ErrMismatch) {
			t.Errorf("%s: %v does not wrap ErrMismatch", tt.name, err)
		}
	}
}
