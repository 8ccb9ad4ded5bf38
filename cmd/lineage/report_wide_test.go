package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/registry"
	"github.com/lineage-audit/lineage/store"
)

// TestReportWideMatrix checks report on a suite of more models than a
// screen shows as columns: table and markdown print the teacher's column
// only (the rest is not computed), with a note; CSV and JSON, and the
// table with --plot-matrix, which draws the rest, hold the whole matrix.
func TestReportWideMatrix(t *testing.T) {
	path := tinyEnrolments(t, 4, "acme")
	ctx := context.Background()
	g := &globalOptions{db: path}
	models := registry.MaxMatrixColumns + 3 // the teacher and its suspects
	if err := updateDB(ctx, g, func(tx *store.Tx) error {
		teacher, err := tx.Fingerprint("acme/teacher")
		if err != nil {
			return err
		}
		for i := 1; i < models; i++ {
			fp := teacher.Clone()
			fp.ID = fmt.Sprintf("s%02d", i)
			fp.Model.Hash = "h-" + fp.ID
			// Outputs of its own, still distributions (a store refuses
			// others): one entry raised, its row scaled back to sum 1.
			at := i % len(fp.P.Data)
			fp.P.Data[at] += 1
			row := fp.Row(at / fp.P.Stride)
			var sum float32
			for _, v := range row {
				sum += v
			}
			for j := range row {
				row[j] /= sum
			}
			fp.Hash = fp.ComputeHash()
			if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	report := func(args ...string) string {
		t.Helper()
		var out bytes.Buffer
		root := newRootCommand()
		root.SetOut(&out)
		root.SetArgs(append([]string{"--db", path, "report"}, args...))
		if err := root.ExecuteContext(ctx); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	for _, format := range []string{"table", "markdown"} {
		t.Run(format, func(t *testing.T) {
			out := report("--format", format)
			if !strings.Contains(out, "too many columns to read") {
				t.Errorf("no note on the columns left out\n%s", out)
			}
			// The matrix's header: #, model, role and the teacher's column.
			_, matrix, _ := strings.Cut(out, "Similarity on")
			for line := range strings.Lines(matrix) {
				if strings.Contains(line, "| model") {
					if n := strings.Count(line, "|"); n != 5 {
						t.Errorf("header %q has %d columns, want 4", line, n-1)
					}
					break
				}
			}
			if strings.Contains(out, "NaN") {
				t.Errorf("a value left out is shown as NaN\n%s", out)
			}
		})
	}
	t.Run("plot-matrix", func(t *testing.T) {
		// The heat map draws every pair, so every pair is computed (a cell
		// without a value would be drawn grey, and the scale say so).
		fig := t.TempDir() + "/m.svg"
		report("--plot-matrix", fig)
		b, err := os.ReadFile(fig)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("NaN: no value")) {
			t.Errorf("the heat map has cells without a value")
		}
	})
	t.Run("unlocked", func(t *testing.T) {
		// The matrices, n² pairs of a registry's n suspects, are computed
		// with the store closed: a writer (a probe storing what it took)
		// gets the lock at once, and the report is the one it prints
		// without a writer.
		want := report("--format", "json")
		calls := 0
		reportRead = func() {
			calls++
			db, err := store.Open(path, store.Options{Timeout: 200 * time.Millisecond})
			if err != nil {
				t.Errorf("writer while report computes its matrices: %v", err)
				return
			}
			db.Close()
		}
		defer func() { reportRead = nil }()
		if got := report("--format", "json"); calls != 1 || got != want {
			t.Errorf("report with a writer between read and matrices (%d calls) differs from the plain one", calls)
		}
	})
	t.Run("json", func(t *testing.T) {
		var doc struct {
			Similarity []struct {
				Values [][]*float64 `json:"values"`
			} `json:"similarity"`
		}
		if err := json.Unmarshal([]byte(report("--format", "json")), &doc); err != nil {
			t.Fatal(err)
		}
		if len(doc.Similarity) != 1 || len(doc.Similarity[0].Values) != models {
			t.Fatalf("similarity %+v, want one %d×%d matrix", doc.Similarity, models, models)
		}
		for i, row := range doc.Similarity[0].Values {
			for j, v := range row {
				if v == nil {
					t.Errorf("values[%d][%d] = null, want a value", i, j)
				}
			}
			if len(row) != models {
				t.Errorf("row %d has %d values, want %d", i, len(row), models)
			}
		}
	})
	t.Run("csv", func(t *testing.T) {
		blocks := strings.Split(report("--format", "csv"), "\n\n")
		r := csv.NewReader(strings.NewReader(blocks[1]))
		r.Comment = '#'
		recs, err := r.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != models+1 || len(recs[0]) != 3+models {
			t.Errorf("matrix block: %d records of %d fields, want %d of %d", len(recs), len(recs[0]), models+1, 3+models)
		}
	})
}
