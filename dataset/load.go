package dataset

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/internal/regfile"
)

// Names lists the built-in dataset names Load accepts.
var Names = []string{"digits", "fashion-mnist", "fashion-mnist-small"}

// ErrUnknown means Load was given a name that is neither a built-in dataset
// nor a readable CSV or IDX file.
var ErrUnknown = errors.New("unknown dataset")

// LoadOptions configures Load. The zero value means the defaults.
type LoadOptions struct {
	// FashionDir is the directory with the Fashion-MNIST files; "" means
	// FashionMNISTDir.
	FashionDir string
	// LabelsPath is the IDX labels file for an IDX images path; "" means
	// the file beside it whose name has "images-idx3" replaced by
	// "labels-idx1" (or "images" by "labels").
	LabelsPath string
	// CSV configures reading a .csv path; an empty CSV.Name means the
	// file's base name.
	CSV CSVOptions
}

// Load returns the dataset called name:
//
//   - "digits": the embedded digits (see Digits);
//   - "fashion-mnist": the Debian package dataset-fashion-mnist's files
//     (see FashionMNIST), an error wrapping ErrNotInstalled when absent;
//   - "fashion-mnist-small": the embedded subset (see FashionMNISTSmall);
//   - a path ending in .csv or .csv.gz: read with ReadCSV and opts.CSV;
//   - a path to an IDX images file (gzipped or not): read with its labels
//     file (see LoadOptions.LabelsPath).
//
// Anything else gives an error wrapping ErrUnknown that lists the valid
// names.
func Load(ctx context.Context, name string, opts LoadOptions) (*Dataset, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch name {
	case "digits":
		return Digits(), nil
	case "fashion-mnist":
		return FashionMNIST(ctx, opts.FashionDir)
	case "fashion-mnist-small":
		return FashionMNISTSmall(ctx)
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz") {
		return loadCSVFile(ctx, name, opts.CSV)
	}
	if st, err := os.Stat(name); err == nil && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("dataset: %w", &regfile.Error{Path: name, Mode: st.Mode()})
	}
	if isIDXImages(name) {
		labels := opts.LabelsPath
		if labels == "" {
			var err error
			if labels, err = labelsBeside(name); err != nil {
				return nil, fmt.Errorf("dataset %q: %w", name, err)
			}
		}
		return LoadIDX(ctx, name, labels)
	}
	if looksLikeIDX(name) {
		// Named like an IDX file but not one: say what is wrong with it.
		_, err := readIDXFile(ctx, nil, name)
		if err == nil {
			err = fmt.Errorf("not an IDX images file (magic 0x%08x wanted)", IDXImages)
		}
		return nil, fmt.Errorf("dataset %q: %w: %w", name, ErrUnknown, err)
	}
	return nil, fmt.Errorf("dataset %q: %w (want %s, a .csv file or an IDX images file)",
		name, ErrUnknown, strings.Join(Names, ", "))
}

// looksLikeIDX reports whether path names an existing file whose name
// suggests the IDX format ("idx" in the name, or ".gz"/".idx" endings).
func looksLikeIDX(path string) bool {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	lower := strings.ToLower(filepath.Base(path))
	return strings.Contains(lower, "idx") || strings.HasSuffix(lower, ".gz") || strings.HasSuffix(lower, ".idx")
}

// Files returns the files Load(name, LoadOptions{}) reads: none for a
// built-in dataset's name, the file for a CSV file, the images file and the
// labels file beside it for IDX images. A name that names no file gives
// the name itself (Load will say what is wrong with it).
func Files(name string) []string {
	if slices.Contains(Names, name) {
		return nil
	}
	lower := strings.ToLower(name)
	if strings.HasSuffix(lower, ".csv") || strings.HasSuffix(lower, ".csv.gz") {
		return []string{name}
	}
	if labels, err := labelsBeside(name); err == nil {
		return []string{name, labels}
	}
	return []string{name}
}

// loadCSVFile reads a CSV file, gunzipping it when it starts with the gzip
// magic bytes.
func loadCSVFile(ctx context.Context, path string, opts CSVOptions) (*Dataset, error) {
	f, err := regfile.Open(path) // a named pipe would block the open
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	r, closeR, err := maybeGunzip(ctxReader{ctx, f})
	if err != nil {
		return nil, fmt.Errorf("dataset %q: %w", path, err)
	}
	defer closeR()
	if opts.Name == "" {
		opts.Name = filepath.Base(path)
	}
	d, err := ReadCSV(r, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return d, nil
}

// maybeGunzip returns a reader over r's contents, decompressed when r starts
// with the gzip magic bytes, and a function releasing it.
func maybeGunzip(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReader(r)
	if b, err := br.Peek(2); err == nil && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	}
	return br, func() {}, nil
}

// isIDXImages reports whether path is a readable file starting (after
// optional gzip) with the IDX images magic number.
func isIDXImages(path string) bool {
	f, err := regfile.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	r, closeR, err := maybeGunzip(f)
	if err != nil {
		return false
	}
	defer closeR()
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return false
	}
	return binary.BigEndian.Uint32(b[:]) == IDXImages
}

// labelsBeside finds the labels file next to an IDX images file by the
// MNIST naming convention.
func labelsBeside(images string) (string, error) {
	dir, base := filepath.Split(images)
	var tried []string
	for _, r := range [][2]string{{"images-idx3", "labels-idx1"}, {"images", "labels"}, {"idx3", "idx1"}} {
		i := strings.LastIndex(base, r[0])
		if i < 0 {
			continue
		}
		cand := filepath.Join(dir, base[:i]+r[1]+base[i+len(r[0]):])
		if _, err := os.Stat(cand); err == nil {
			return cand, nil
		}
		tried = append(tried, cand)
	}
	if len(tried) == 0 {
		return "", errors.New(`cannot derive a labels file name from the images file name: name the images as MNIST's are ("train-images-idx3-ubyte"), with the labels beside them ("train-labels-idx1-ubyte")`)
	}
	return "", fmt.Errorf("no labels file beside the images (tried %s)", strings.Join(tried, ", "))
}
