package dataset

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/internal/fifo"
)

func TestLoadBuiltins(t *testing.T) {
	ctx := context.Background()
	d, err := Load(ctx, "digits", LoadOptions{})
	if err != nil || d.Hash != Digits().Hash {
		t.Fatalf("Load(digits): got %v, want the embedded digits", err)
	}

	f, err := Load(ctx, "fashion-mnist-small", LoadOptions{})
	if err != nil {
		t.Fatalf("Load(fashion-mnist-small): %v", err)
	}
	if f.Len() != 2500 || f.Dim() != 784 || f.TestStart != 2000 || !slices.Equal(f.Labels, FashionLabels) {
		t.Fatalf("got %d×%d TestStart %d labels %q, want 2500×784, 2000, FashionLabels", f.Len(), f.Dim(), f.TestStart, f.Labels)
	}
	for i, v := range f.X.Data {
		if v != float32(int(v)) || v < 0 || v > 255 {
			t.Fatalf("value %d: got %g, want an integer in [0, 255]", i, v)
		}
	}
	s := f.Split(SplitOptions{})
	for c, n := range s.Test.ClassCounts() {
		if n != 50 {
			t.Errorf("official test class %d: %d images, want 50", c, n)
		}
	}
	for c, n := range s.Train.ClassCounts() {
		if n != 175 {
			t.Errorf("train class %d: %d images, want 175 (7/8 of 200)", c, n)
		}
	}
	want := f.Subset(seq(2000, 2500))
	if s.Test.Hash != want.Hash {
		t.Errorf("split test set is not the official test rows 2000..2499")
	}
}

func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func TestLoadFashionNotInstalled(t *testing.T) {
	_, err := Load(context.Background(), "fashion-mnist", LoadOptions{FashionDir: t.TempDir()})
	const want = `dataset "fashion-mnist": not installed (apt-get install dataset-fashion-mnist)`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	if !errors.Is(err, ErrNotInstalled) {
		t.Errorf("errors.Is(ErrNotInstalled): got false")
	}
}

func TestLoadFashionDir(t *testing.T) {
	dir := t.TempDir()
	writeMNIST(t, dir, "train", true, &IDX{Dims: []int{3, 1, 2}, Data: []byte{1, 2, 3, 4, 5, 6}}, &IDX{Dims: []int{3}, Data: []byte{9, 0, 1}})
	writeMNIST(t, dir, "t10k", true, &IDX{Dims: []int{1, 2, 1}, Data: []byte{7, 8}}, &IDX{Dims: []int{1}, Data: []byte{3}})
	d, err := Load(context.Background(), "fashion-mnist", LoadOptions{FashionDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d.Len() != 4 || d.Dim() != 2 || d.TestStart != 3 || !slices.Equal(d.Y, []int{9, 0, 1, 3}) {
		t.Errorf("got %d×%d TestStart %d Y %v, want 4×2, 3, [9 0 1 3]", d.Len(), d.Dim(), d.TestStart, d.Y)
	}
	if !slices.Equal(d.X.Data, []float32{1, 2, 3, 4, 5, 6, 7, 8}) || d.Labels[9] != "Ankle boot" {
		t.Errorf("got X %v labels %q", d.X.Data, d.Labels)
	}
	// A label beyond the ten classes is rejected, naming its file (the
	// test labels, not the training labels).
	writeMNIST(t, dir, "t10k", true, &IDX{Dims: []int{1, 2, 1}, Data: []byte{7, 8}}, &IDX{Dims: []int{1}, Data: []byte{10}})
	if _, err := Load(context.Background(), "fashion-mnist", LoadOptions{FashionDir: dir}); err == nil || !strings.Contains(err.Error(), "t10k-labels-idx1-ubyte.gz: label 10 of image 0 is not one of the 10 classes") {
		t.Errorf("label 10: got %v, want a class-out-of-range error naming t10k-labels-idx1-ubyte.gz", err)
	}
}

// TestFashionSmallIsSubset checks the committed subset against the
// installed official files (skipped when absent or with -short).
func TestFashionSmallIsSubset(t *testing.T) {
	if testing.Short() {
		t.Skip("reads the full Fashion-MNIST")
	}
	if _, err := os.Stat(filepath.Join(FashionMNISTDir, fashionFiles[0])); err != nil {
		t.Skip("dataset-fashion-mnist not installed")
	}
	small, err := FashionMNISTSmall(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	official := os.DirFS(FashionMNISTDir)
	for p, part := range []struct{ lo, hi int }{{0, 2000}, {2000, 2500}} {
		imgs, err := readIDXFile(ctx, official, fashionFiles[2*p])
		if err != nil {
			t.Fatal(err)
		}
		labs, err := readIDXFile(ctx, official, fashionFiles[2*p+1])
		if err != nil {
			t.Fatal(err)
		}
		if want := [][]int{{60000, 28, 28}, {10000, 28, 28}}[p]; !slices.Equal(imgs.Dims, want) {
			t.Fatalf("%s: dims %v, want %v", fashionFiles[2*p], imgs.Dims, want)
		}
		have := make(map[string]bool, imgs.Dims[0])
		for i := range imgs.Dims[0] {
			have[string(imgs.Data[i*784:(i+1)*784])+string(labs.Data[i])] = true
		}
		b := make([]byte, 785)
		for i := part.lo; i < part.hi; i++ {
			for j, v := range small.Row(i) {
				b[j] = byte(v)
			}
			b[784] = byte(small.Y[i])
			if !have[string(b)] {
				t.Fatalf("small row %d (class %d) is not in %s", i, small.Y[i], fashionFiles[2*p])
			}
		}
	}
}

func TestLoadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "iris.csv")
	if err := os.WriteFile(csvPath, []byte("a,b,species\n1,2,setosa\n3,4,virginica\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("1,2,0\n3,4,1\n"))
	zw.Close()
	gzPath := filepath.Join(dir, "plain.CSV.gz")
	if err := os.WriteFile(gzPath, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	imgs := &IDX{Dims: []int{2, 1, 1}, Data: []byte{10, 20}}
	labs := &IDX{Dims: []int{2}, Data: []byte{1, 0}}
	ip, lp := writeMNIST(t, dir, "my", true, imgs, labs)
	odd := filepath.Join(dir, "pixels.bin")
	other := filepath.Join(dir, "mylabels.bin")
	if err := errors.Join(os.WriteFile(odd, idxBytes(t, imgs, false), 0o644), os.WriteFile(other, idxBytes(t, labs, false), 0o644)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		opts   LoadOptions
		rows   int
		dname  string
		labels []string
	}{
		{csvPath, LoadOptions{}, 2, "iris.csv", []string{"setosa", "virginica"}},
		{gzPath, LoadOptions{}, 2, "plain.CSV.gz", []string{"0", "1"}},
		{csvPath, LoadOptions{CSV: CSVOptions{Name: "flowers"}}, 2, "flowers", []string{"setosa", "virginica"}},
		{ip, LoadOptions{}, 2, "my-images-idx3-ubyte.gz", []string{"0", "1"}},
		{odd, LoadOptions{LabelsPath: other}, 2, "pixels.bin", []string{"0", "1"}},
	}
	for _, tt := range tests {
		d, err := Load(ctx, tt.name, tt.opts)
		if err != nil {
			t.Errorf("Load(%s): %v", tt.name, err)
			continue
		}
		if d.Len() != tt.rows || d.Name != tt.dname || !slices.Equal(d.Labels, tt.labels) {
			t.Errorf("Load(%s): got %d rows name %q labels %q, want %d, %q, %q", tt.name, d.Len(), d.Name, d.Labels, tt.rows, tt.dname, tt.labels)
		}
	}

	errs := []struct {
		name string
		opts LoadOptions
		want string
		is   error
	}{
		{"mnist", LoadOptions{}, `dataset "mnist": unknown dataset (want digits, fashion-mnist, fashion-mnist-small, a .csv file or an IDX images file)`, ErrUnknown},
		{lp, LoadOptions{}, "unknown dataset", ErrUnknown}, // a labels file is not an images file
		{filepath.Join(dir, "missing.csv"), LoadOptions{}, "no such file", os.ErrNotExist},
		{odd, LoadOptions{}, "cannot derive a labels file name", nil},
	}
	for _, tt := range errs {
		_, err := Load(ctx, tt.name, tt.opts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%s): got %v, want an error containing %q", tt.name, err, tt.want)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("Load(%s): errors.Is(%v) false", tt.name, tt.is)
		}
	}

	os.Remove(lp)
	if _, err := Load(ctx, ip, LoadOptions{}); err == nil || !strings.Contains(err.Error(), "my-labels-idx1-ubyte.gz") {
		t.Errorf("labels removed: got %v, want an error naming the expected labels file", err)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, name := range []string{"digits", "fashion-mnist-small", csvPath} {
		if _, err := Load(cctx, name, LoadOptions{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Load(%s) cancelled: got %v, want context.Canceled", name, err)
		}
	}
}

func BenchmarkFashionMNISTSmall(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := FashionMNISTSmall(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestLoadNamedPipe checks that a dataset path that is a named pipe is
// refused at once, naming it: opening it blocked until a writer came, and
// an interrupt could not end the wait.
func TestLoadNamedPipe(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"data.csv", "train-images-idx3-ubyte"} {
		path := filepath.Join(dir, name)
		if err := fifo.Make(path, 0o600); err != nil {
			t.Skip("no named pipes:", err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := Load(context.Background(), path, LoadOptions{})
			done <- err
		}()
		select {
		case err := <-done:
			if want := `"` + path + `" is a named pipe, not a regular file`; err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s): %v, want %q", name, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Load(%s) still blocked after 10 s", name)
		}
	}
}

// TestFiles checks the files Files says Load reads.
func TestFiles(t *testing.T) {
	dir := t.TempDir()
	images := filepath.Join(dir, "t10k-images-idx3-ubyte.gz")
	labels := filepath.Join(dir, "t10k-labels-idx1-ubyte.gz")
	for _, f := range []string{images, labels} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		want []string
	}{
		{"digits", nil},
		{"data.csv", []string{"data.csv"}},
		{images, []string{images, labels}},
		{"nosuch", []string{"nosuch"}},
	}
	for _, tt := range tests {
		if got := Files(tt.name); !slices.Equal(got, tt.want) {
			t.Errorf("Files(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
}
