package main

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

func TestMarshalJSONNonFinite(t *testing.T) {
	type inner struct {
		X float64 `json:"x"`
	}
	type doc struct {
		A float64            `json:"a"`
		M map[string]inner   `json:"m"`
		S []float64          `json:"s"`
		P *inner             `json:"p"`
		K map[string]float64 `json:"k,omitempty"`
		F float32            `json:"f"`
		R [2]float64         `json:"r"`
		N string             `json:"n"`
	}
	tests := []struct {
		name string
		in   doc
		want []string
	}{
		{"finite", doc{A: 1.5, S: []float64{2}}, []string{`"a": 1.5`, `"s": [`, `2`}},
		{"nan", doc{A: math.NaN()}, []string{`"a": null`}},
		{"nested", doc{M: map[string]inner{"q": {X: math.Inf(1)}}, P: &inner{X: math.Inf(-1)}, S: []float64{math.NaN(), 3}},
			[]string{`"x": null`, `null,`, `3`}},
		{"float32", doc{F: float32(math.NaN())}, []string{`"f": null`}},
		{"array", doc{R: [2]float64{1, math.NaN()}}, []string{"1,\n    null"}},
		// A string that spells the sentinel stays a string.
		{"sentinel in a string", doc{A: math.NaN(), N: "-1.7976931348623157e+308"},
			[]string{`"a": null`, `"n": "-1.7976931348623157e+308"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			b, err := marshalJSON(in)
			if err != nil {
				t.Fatalf("marshalJSON: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("got %s, want it to contain %s", b, w)
				}
			}
			if tt.name == "nested" && !math.IsInf(in.P.X, -1) {
				t.Errorf("marshalJSON modified its input: P.X = %v", in.P.X)
			}
		})
	}
}

// TestDBPerCall checks that a long job's journal holds the database only
// while it reads or writes a batch: between batches another process's
// writer gets the lock at once.
func TestDBPerCall(t *testing.T) {
	path := filepath.Join(t.TempDir(), "case.db")
	d := &dbPerCall{g: &globalOptions{db: path}}
	ctx := context.Background()
	for b := range 3 {
		if err := d.PutAnswers(ctx, "job", b, []byte{byte(b)}); err != nil {
			t.Fatal(err)
		}
		other, err := store.Open(path, store.Options{Timeout: -1})
		if err != nil {
			t.Fatalf("after batch %d another writer could not open the store: %v", b, err)
		}
		other.Close()
	}
	got, err := d.Answers(ctx, "job")
	if err != nil || len(got) != 3 || got[2].Data[0] != 2 {
		t.Fatalf("Answers = %v, %v; want 3 batches", got, err)
	}
	if err := d.DeleteAnswers(ctx, "job"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Answers(ctx, "job"); len(got) != 0 {
		t.Errorf("after DeleteAnswers: %d batches left", len(got))
	}
}
