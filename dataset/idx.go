package dataset

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/lineage-audit/lineage/internal/regfile"
	"gonum.org/v1/gonum/blas/blas32"
)

// The IDX magic numbers ReadIDX accepts: unsigned bytes in 3 dimensions
// (images: count, rows, cols) or 1 dimension (labels).
const (
	IDXImages uint32 = 0x00000803
	IDXLabels uint32 = 0x00000801
)

// maxIDX bounds the number of values an IDX header may declare: MaxValues
// (a megabyte of gzipped zeros declaring 10^9 values took 9.7 GB before
// a 16 GiB bound refused anything).
const maxIDX = MaxValues

// IDX is a decoded IDX file of unsigned bytes, the format of MNIST and
// Fashion-MNIST. Dims are the dimension sizes, outermost first (len 3 for
// images, 1 for labels); Data holds their product of values in row-major
// order.
type IDX struct {
	Dims []int
	Data []byte
}

// Magic returns the IDX magic number for x's dimensionality.
func (x *IDX) Magic() uint32 { return 0x00000800 | uint32(len(x.Dims)) }

// FormatError reports a malformed binary data file. File is empty when the
// input was not read from a named file.
type FormatError struct {
	File    string
	Problem string
	Err     error // a sentinel (ErrMagic, ErrTruncated) or underlying cause, possibly nil
}

// Error returns "FILE: PROBLEM" (or just PROBLEM without a file).
func (e *FormatError) Error() string {
	if e.File == "" {
		return e.Problem
	}
	return e.File + ": " + e.Problem
}

// Unwrap returns the underlying cause.
func (e *FormatError) Unwrap() error { return e.Err }

// Sentinel errors wrapped by FormatError.
var (
	// ErrMagic means the file does not start with an accepted magic number.
	ErrMagic = errors.New("bad magic number")
	// ErrTruncated means the file ends before the data its header declares.
	ErrTruncated = errors.New("truncated")
)

// ReadIDX decodes one IDX file of unsigned bytes (magic IDXImages or
// IDXLabels), gzip-compressed or not (detected by the gzip magic bytes). A
// wrong magic number, a header declaring more than 2^34 values, missing or
// trailing data give a *FormatError.
func ReadIDX(r io.Reader) (*IDX, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var src io.Reader = br
	if b, err := br.Peek(2); err == nil && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, &FormatError{Problem: "bad gzip stream: " + err.Error(), Err: err}
		}
		defer zr.Close()
		src = zr
	}
	var hdr [4]byte
	if _, err := io.ReadFull(src, hdr[:]); err != nil {
		return nil, truncated("header", err)
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if magic != IDXImages && magic != IDXLabels {
		return nil, &FormatError{
			Problem: fmt.Sprintf("magic number 0x%08x, want 0x%08x (images) or 0x%08x (labels)", magic, IDXImages, IDXLabels),
			Err:     ErrMagic,
		}
	}
	dims := make([]int, magic&0xff)
	n := int64(1)
	for i := range dims {
		if _, err := io.ReadFull(src, hdr[:]); err != nil {
			return nil, truncated("header", err)
		}
		dims[i] = int(binary.BigEndian.Uint32(hdr[:]))
		if dims[i] > 0 && n > maxIDX/int64(dims[i]) {
			return nil, &FormatError{Problem: fmt.Sprintf("header declares more than %d values (dims %v...)", int64(maxIDX), dims[:i+1])}
		}
		n *= int64(dims[i])
	}
	// Grow gradually so a lying header cannot force a huge allocation.
	buf := bytes.NewBuffer(make([]byte, 0, min(n, 1<<20)))
	got, err := buf.ReadFrom(io.LimitReader(src, n))
	if err != nil {
		return nil, truncated("data", err)
	}
	if got < n {
		return nil, &FormatError{
			Problem: fmt.Sprintf("truncated: %d of %d data bytes (dims %v)", got, n, dims),
			Err:     ErrTruncated,
		}
	}
	var extra [1]byte
	switch k, err := io.ReadFull(src, extra[:]); {
	case k > 0:
		return nil, &FormatError{Problem: fmt.Sprintf("trailing data after %d values", n)}
	case err != io.EOF:
		// For gzip input this is where the checksum is verified.
		return nil, &FormatError{Problem: "after the data: " + err.Error(), Err: err}
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

// truncated builds the error for a short read of part.
func truncated(part string, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &FormatError{Problem: "truncated " + part, Err: ErrTruncated}
	}
	return &FormatError{Problem: "reading " + part + ": " + err.Error(), Err: err}
}

// WriteIDX encodes x as an uncompressed IDX file (wrap w in a gzip.Writer
// for .gz). x must have 1 or 3 dimensions whose product is len(x.Data).
func WriteIDX(w io.Writer, x *IDX) error {
	if len(x.Dims) != 1 && len(x.Dims) != 3 {
		return fmt.Errorf("write idx: %d dimensions, want 1 or 3", len(x.Dims))
	}
	n := 1
	hdr := binary.BigEndian.AppendUint32(nil, x.Magic())
	for _, d := range x.Dims {
		if d < 0 || uint64(d) > 1<<32-1 {
			return fmt.Errorf("write idx: dimension %d out of range", d)
		}
		n *= d
		hdr = binary.BigEndian.AppendUint32(hdr, uint32(d))
	}
	if n != len(x.Data) {
		return fmt.Errorf("write idx: dims %v need %d values, have %d", x.Dims, n, len(x.Data))
	}
	if _, err := w.Write(hdr); err != nil {
		return fmt.Errorf("write idx: %w", err)
	}
	if _, err := w.Write(x.Data); err != nil {
		return fmt.Errorf("write idx: %w", err)
	}
	return nil
}

// LoadIDX loads an MNIST-style pair of IDX files (gzipped or not) as a
// dataset: images (magic IDXImages, N×rows×cols) flattened to D = rows·cols
// raw float32 values 0..255, labels (magic IDXLabels, N bytes) as classes
// named "0".."K-1" where K is the largest label plus one. The dataset is
// named after the images file. A file of no images is refused (a
// *FormatError wrapping ErrEmpty).
func LoadIDX(ctx context.Context, imagesPath, labelsPath string) (*Dataset, error) {
	d, _, err := loadIDX(ctx, nil, filepath.Base(imagesPath), nil, imagesPath, labelsPath)
	return d, err
}

// loadIDX reads images/labels pairs (paths alternate: images, labels,
// images, labels...) from fsys (the OS file system when nil) and joins them
// in order. names, when non-nil, are the class names. It returns the number
// of rows of each pair too.
func loadIDX(ctx context.Context, fsys fs.FS, name string, names []string, paths ...string) (*Dataset, []int, error) {
	var imgs, labs []*IDX
	total, d := 0, -1
	for p := 0; p+1 < len(paths); p += 2 {
		img, err := readIDXFile(ctx, fsys, paths[p])
		if err != nil {
			return nil, nil, err
		}
		lab, err := readIDXFile(ctx, fsys, paths[p+1])
		if err != nil {
			return nil, nil, err
		}
		if len(img.Dims) != 3 {
			return nil, nil, &FormatError{File: paths[p], Problem: fmt.Sprintf("not an images file (%d dimensions, want 3)", len(img.Dims)), Err: ErrMagic}
		}
		if len(lab.Dims) != 1 {
			return nil, nil, &FormatError{File: paths[p+1], Problem: fmt.Sprintf("not a labels file (%d dimensions, want 1)", len(lab.Dims)), Err: ErrMagic}
		}
		if lab.Dims[0] != img.Dims[0] {
			return nil, nil, fmt.Errorf("idx %s: %d labels for %d images in %s", paths[p+1], lab.Dims[0], img.Dims[0], paths[p])
		}
		// Each dimension is below 2^32, so the product fits a uint64; a
		// header of zero images may declare any size.
		rows, cols := uint64(img.Dims[1]), uint64(img.Dims[2])
		if rows == 0 || cols == 0 {
			return nil, nil, &FormatError{File: paths[p], Problem: fmt.Sprintf("images of %d×%d pixels have no features", rows, cols)}
		}
		if rows*cols > maxIDX {
			return nil, nil, &FormatError{File: paths[p], Problem: fmt.Sprintf("images of %d×%d pixels exceed the limit of %d values", rows, cols, int64(maxIDX))}
		}
		// A file of no images reached train as "no training data",
		// naming no file.
		if img.Dims[0] == 0 {
			return nil, nil, &FormatError{File: paths[p], Problem: "no images", Err: ErrEmpty}
		}
		if dd := int(rows * cols); d < 0 {
			d = dd
		} else if dd != d {
			return nil, nil, fmt.Errorf("idx %s: %d pixels per image, want %d", paths[p], dd, d)
		}
		if names != nil {
			for i, b := range lab.Data {
				if int(b) >= len(names) {
					return nil, nil, &FormatError{File: paths[p+1], Problem: fmt.Sprintf("label %d of image %d is not one of the %d classes", b, i, len(names))}
				}
			}
		}
		imgs, labs = append(imgs, img), append(labs, lab)
		total += img.Dims[0]
	}
	x := blas32.General{Rows: total, Cols: d, Stride: d, Data: make([]float32, 0, total*d)}
	y := make([]int, 0, total)
	counts := make([]int, len(imgs))
	k := 0
	for i := range imgs {
		for _, b := range imgs[i].Data {
			x.Data = append(x.Data, float32(b))
		}
		for _, b := range labs[i].Data {
			y = append(y, int(b))
			k = max(k, int(b)+1)
		}
		counts[i] = len(labs[i].Data)
	}
	if names == nil {
		if err := checkSparseClasses(labs, paths, k); err != nil {
			return nil, nil, err
		}
		names = make([]string, k)
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
	}
	ds, err := New(name, x, y, names)
	if err != nil {
		return nil, nil, fmt.Errorf("idx: %w", err)
	}
	return ds, counts, nil
}

// checkSparseClasses refuses labels (labs, the labels files of paths,
// read from every other entry starting at 1) that would name k classes
// when more than half of them have no image: a stray byte (a label of
// 250 among ten digits) would add hundreds of outputs to every model
// trained on them. A class or two without images (EMNIST letters number
// theirs from 1) is taken.
func checkSparseClasses(labs []*IDX, paths []string, k int) error {
	seen, classes := make([]bool, k), 0
	for _, l := range labs {
		for _, b := range l.Data {
			if !seen[b] {
				seen[b], classes = true, classes+1
			}
		}
	}
	empty := k - classes
	if 2*empty <= k {
		return nil
	}
	for i, l := range labs { // the first image of the largest label, to name
		if j := slices.Index(l.Data, byte(k-1)); j >= 0 {
			return &FormatError{File: paths[2*i+1], Problem: fmt.Sprintf("label %d of image %d makes %d classes (0 to %d), %d of them without any image: a stray byte? (labels of K classes are 0 to K-1)", k-1, j, k, k-1, empty)}
		}
	}
	return nil
}

// readIDXFile opens and decodes one IDX file, naming it in errors.
func readIDXFile(ctx context.Context, fsys fs.FS, path string) (*IDX, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var (
		f   io.ReadCloser
		err error
	)
	if fsys == nil {
		f, err = regfile.Open(path)
	} else {
		f, err = fsys.Open(path)
	}
	if err != nil {
		return nil, fmt.Errorf("idx: %w", err)
	}
	defer f.Close()
	x, err := ReadIDX(ctxReader{ctx, f})
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.File = path
			return nil, fe
		}
		return nil, fmt.Errorf("idx %s: %w", path, err)
	}
	return x, nil
}

// ctxReader fails reads once its context is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
