package dataset

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"unsafe"

	"gonum.org/v1/gonum/blas/blas32"
)

// MaxValues bounds the feature values (rows × features) a dataset file may
// hold: 2^28, a GiB as float32, several times Fashion-MNIST's 55 million
// and above CIFAR-10's 154 million. Loading takes about ten bytes per
// value, so a compressed file declaring more (a megabyte of gzip can
// declare a billion) is refused instead of taking the machine's memory.
const MaxValues = 1 << 28

// Dataset is a labelled (or unlabelled) table of raw float32 features.
//
// X holds one example per row (N rows, D columns, Stride == Cols). Y holds
// the class index of each row into Labels; a nil Y means the data is
// unlabelled. Hash is the hex SHA-256 of the canonical contents (see
// CanonicalHash); it is set by every constructor in this package and must
// be recomputed with Rehash after X, Y or Labels are modified in place.
//
// TestStart, when positive, marks rows [TestStart, N) as an official test
// set (as Fashion-MNIST has) that Split keeps intact; zero means the data has
// no official split. It is not part of the Hash.
type Dataset struct {
	Name      string
	X         blas32.General
	Y         []int
	Labels    []string
	Hash      string
	TestStart int
}

// New returns a dataset over x (N×D), y (nil or length N) and labels after
// validating them: every y must index labels, labels must be distinct and
// every feature finite. x is used without copying when x.Stride == x.Cols,
// and compacted into a new slice otherwise. The returned Hash is set.
func New(name string, x blas32.General, y []int, labels []string) (*Dataset, error) {
	if x.Rows < 0 || x.Cols < 0 {
		return nil, fmt.Errorf("dataset %q: negative shape %d×%d", name, x.Rows, x.Cols)
	}
	if x.Rows > 0 && x.Cols > 0 {
		if x.Stride < x.Cols {
			return nil, fmt.Errorf("dataset %q: stride %d < cols %d", name, x.Stride, x.Cols)
		}
		if need := (x.Rows-1)*x.Stride + x.Cols; len(x.Data) < need {
			return nil, fmt.Errorf("dataset %q: %d values for a %d×%d matrix with stride %d", name, len(x.Data), x.Rows, x.Cols, x.Stride)
		}
	}
	if x.Stride != x.Cols || len(x.Data) != x.Rows*x.Cols {
		x = compact(x)
	}
	if y != nil && len(y) != x.Rows {
		return nil, fmt.Errorf("dataset %q: %d labels for %d rows", name, len(y), x.Rows)
	}
	seen := make(map[string]int, len(labels))
	for i, l := range labels {
		if j, ok := seen[l]; ok {
			return nil, fmt.Errorf("dataset %q: label %q repeated (classes %d and %d)", name, l, j, i)
		}
		seen[l] = i
	}
	for i, c := range y {
		if c < 0 || c >= len(labels) {
			return nil, fmt.Errorf("dataset %q: row %d: class %d out of range [0, %d)", name, i, c, len(labels))
		}
	}
	for i, v := range x.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("dataset %q: row %d, feature %d: non-finite value %v", name, i/x.Cols, i%x.Cols, v)
		}
	}
	d := &Dataset{Name: name, X: x, Y: y, Labels: labels}
	d.Rehash()
	return d, nil
}

// littleEndian is true on little-endian machines, where float32 slices
// already hold their canonical LE bytes.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// compact returns a copy of x with Stride == Cols.
func compact(x blas32.General) blas32.General {
	out := blas32.General{Rows: x.Rows, Cols: x.Cols, Stride: x.Cols, Data: make([]float32, x.Rows*x.Cols)}
	for i := 0; i < x.Rows; i++ {
		copy(out.Data[i*x.Cols:(i+1)*x.Cols], x.Data[i*x.Stride:i*x.Stride+x.Cols])
	}
	return out
}

// Len returns the number of rows N.
func (d *Dataset) Len() int { return d.X.Rows }

// Dim returns the number of features D per row.
func (d *Dataset) Dim() int { return d.X.Cols }

// Row returns row i of X as a slice aliasing the dataset's storage.
func (d *Dataset) Row(i int) []float32 {
	return d.X.Data[i*d.X.Stride : i*d.X.Stride+d.X.Cols]
}

// Subset returns a new dataset holding copies of the rows idx, in that order
// (indices may repeat). Labels are shared, TestStart is reset to zero and
// the Hash is recomputed. It panics on an index out of range.
func (d *Dataset) Subset(idx []int) *Dataset {
	cols := d.X.Cols
	x := blas32.General{Rows: len(idx), Cols: cols, Stride: cols, Data: make([]float32, len(idx)*cols)}
	var y []int
	if d.Y != nil {
		y = make([]int, len(idx))
	}
	for k, i := range idx {
		if i < 0 || i >= d.X.Rows {
			panic(fmt.Sprintf("dataset: Subset index %d out of range [0, %d)", i, d.X.Rows))
		}
		copy(x.Data[k*cols:(k+1)*cols], d.X.Data[i*d.X.Stride:i*d.X.Stride+cols])
		if y != nil {
			y[k] = d.Y[i]
		}
	}
	s := &Dataset{Name: d.Name, X: x, Y: y, Labels: d.Labels}
	s.Rehash()
	return s
}

// Range returns the global minimum and maximum of X. An empty dataset
// returns (0, 0).
func (d *Dataset) Range() (lo, hi float32) {
	first := true
	for i := 0; i < d.X.Rows; i++ {
		for _, v := range d.Row(i) {
			if first {
				lo, hi, first = v, v, false
				continue
			}
			lo = min(lo, v)
			hi = max(hi, v)
		}
	}
	return lo, hi
}

// ClassCounts returns the number of rows of each class (len(Labels)
// entries). It returns nil for unlabelled data.
func (d *Dataset) ClassCounts() []int {
	if d.Y == nil {
		return nil
	}
	n := make([]int, len(d.Labels))
	for _, c := range d.Y {
		n[c]++
	}
	return n
}

// Rehash recomputes d.Hash from the current contents.
func (d *Dataset) Rehash() { d.Hash = CanonicalHash(d.X, d.Y, d.Labels) }

// CanonicalHash returns the hex SHA-256 of a dataset's canonical bytes: the
// ASCII tag "lineage-dataset-v1"; rows and cols as uint64 LE; every feature
// as float32 LE bits row by row; a uint64 LE flag (1 labelled, 0 not); when
// labelled, every class index as int64 LE; the number of labels as uint64 LE
// and each label as a uint64 LE length followed by its bytes. The name and
// TestStart are not part of the identity.
func CanonicalHash(x blas32.General, y []int, labels []string) string {
	h := sha256.New()
	var b [8]byte
	u64 := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	h.Write([]byte("lineage-dataset-v1"))
	u64(uint64(x.Rows))
	u64(uint64(x.Cols))
	buf := make([]byte, 0, 1<<14)
	for i := 0; i < x.Rows; i++ {
		row := x.Data[i*x.Stride : i*x.Stride+x.Cols]
		if littleEndian && len(row) > 0 {
			h.Write(unsafe.Slice((*byte)(unsafe.Pointer(&row[0])), 4*len(row)))
			continue
		}
		for _, v := range row {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
	}
	h.Write(buf)
	if y == nil {
		u64(0)
	} else {
		u64(1)
		buf = buf[:0]
		for _, c := range y {
			buf = binary.LittleEndian.AppendUint64(buf, uint64(int64(c)))
			if len(buf) == cap(buf) {
				h.Write(buf)
				buf = buf[:0]
			}
		}
		h.Write(buf)
	}
	u64(uint64(len(labels)))
	for _, l := range labels {
		u64(uint64(len(l)))
		h.Write([]byte(l))
	}
	return hex.EncodeToString(h.Sum(nil))
}
