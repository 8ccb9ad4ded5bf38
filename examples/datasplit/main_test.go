package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
)

// TestRun checks that the CSV files hold lineage's own split of digits,
// row for row, and labels.json its labels.
func TestRun(t *testing.T) {
	out := t.TempDir()
	if err := run(t.Context(), io.Discard, "digits", out); err != nil {
		t.Fatal(err)
	}
	s := dataset.Digits().Split(dataset.SplitOptions{})
	for file, d := range map[string]*dataset.Dataset{"train.csv": s.Train, "val.csv": s.Val, "test.csv": s.Test} {
		f, err := os.Open(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != d.Len() {
			t.Fatalf("%s: %d rows (err %v), want %d", file, len(recs), err, d.Len())
		}
		for i, rec := range recs {
			row := make([]float32, len(rec)-1)
			for j := range row {
				v, err := strconv.ParseFloat(rec[j], 32)
				if err != nil {
					t.Fatalf("%s row %d: %v", file, i, err)
				}
				row[j] = float32(v)
			}
			if !slices.Equal(row, d.Row(i)) || rec[len(rec)-1] != strconv.Itoa(d.Y[i]) {
				t.Fatalf("%s row %d differs from lineage's split", file, i)
			}
		}
	}
	var labels []string
	b, err := os.ReadFile(filepath.Join(out, "labels.json"))
	if err != nil || json.Unmarshal(b, &labels) != nil || !slices.Equal(labels, dataset.DigitLabels) {
		t.Errorf("labels.json %q (err %v), want %q", b, err, dataset.DigitLabels)
	}
}

// Example writes the digits split and reads back its labels file.
func Example() {
	out, err := os.MkdirTemp("", "datasplit")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(out)
	if err := run(context.Background(), io.Discard, "digits", out); err != nil {
		panic(err)
	}
	b, _ := os.ReadFile(filepath.Join(out, "labels.json"))
	fmt.Print(string(b))
	// Output:
	// ["0","1","2","3","4","5","6","7","8","9"]
}
