// Command datasplit writes the train, validation and test split lineage
// uses for a --data name (dataset.Split with the defaults: the split
// every lineage command uses) as CSV files, so that a model trained in
// another framework can train and be tested on exactly lineage's rows:
//
//	go run ./examples/datasplit --data digits --out split/
//
// It writes OUT/train.csv, OUT/val.csv and OUT/test.csv (one row per
// example: the features as lineage reads them, then the label's index, no
// header line) and OUT/labels.json (the label names in index order, the
// value a safetensors file's "labels" metadata takes). lineage's split is
// drawn with Go's PCG generator, which Python cannot redraw.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/lineage-audit/lineage/dataset"
)

func main() {
	data := flag.String("data", "digits", "dataset: a --data name of lineage's (digits, fashion-mnist-small, a .csv file, …)")
	out := flag.String("out", "split", "directory to write train.csv, val.csv, test.csv and labels.json in")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *data, *out); err != nil {
		fmt.Fprintln(os.Stderr, "datasplit:", err)
		os.Exit(1)
	}
}

// run writes the split of dataset name in directory out and says so on w.
func run(ctx context.Context, w io.Writer, name, out string) error {
	d, err := dataset.Load(ctx, name, dataset.LoadOptions{})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	s := d.Split(dataset.SplitOptions{})
	for _, part := range []struct {
		file string
		d    *dataset.Dataset
	}{{"train.csv", s.Train}, {"val.csv", s.Val}, {"test.csv", s.Test}} {
		if err := writeCSV(filepath.Join(out, part.file), part.d); err != nil {
			return err
		}
	}
	labels, err := json.Marshal(d.Labels)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "labels.json"), append(labels, '\n'), 0o644); err != nil {
		return fmt.Errorf("write labels: %w", err)
	}
	fmt.Fprintf(w, "%s: %d train, %d validation, %d test rows of %d features in %s\n", name, s.Train.Len(), s.Val.Len(), s.Test.Len(), d.Dim(), out)
	return nil
}

func writeCSV(path string, d *dataset.Dataset) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write split: %w", err)
	}
	w := csv.NewWriter(f)
	rec := make([]string, d.Dim()+1)
	for i := 0; i < d.Len(); i++ {
		for j, v := range d.Row(i) {
			rec[j] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		rec[d.Dim()] = strconv.Itoa(d.Y[i])
		if err := w.Write(rec); err != nil {
			break
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
