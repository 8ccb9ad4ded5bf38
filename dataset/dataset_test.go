package dataset

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

// mat builds a rows×cols matrix from values.
func mat(rows, cols int, v ...float32) blas32.General {
	return blas32.General{Rows: rows, Cols: cols, Stride: cols, Data: v}
}

// mustNew is New that fails the test on error.
func mustNew(t testing.TB, x blas32.General, y []int, labels []string) *Dataset {
	t.Helper()
	d, err := New("t", x, y, labels)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

func TestNewValidates(t *testing.T) {
	ab := []string{"a", "b"}
	tests := []struct {
		name   string
		x      blas32.General
		y      []int
		labels []string
		want   string // substring of the error; "" means success
	}{
		{"ok", mat(2, 2, 1, 2, 3, 4), []int{0, 1}, ab, ""},
		{"unlabelled", mat(2, 1, 1, 2), nil, nil, ""},
		{"empty", mat(0, 3), []int{}, ab, ""},
		{"short data", mat(2, 2, 1, 2, 3), []int{0, 1}, ab, "3 values for a 2×2"},
		{"stride < cols", blas32.General{Rows: 1, Cols: 2, Stride: 1, Data: []float32{1, 2}}, nil, nil, "stride 1 < cols 2"},
		{"y length", mat(2, 1, 1, 2), []int{0}, ab, "1 labels for 2 rows"},
		{"class too big", mat(2, 1, 1, 2), []int{0, 2}, ab, "row 1: class 2 out of range [0, 2)"},
		{"class negative", mat(1, 1, 1), []int{-1}, ab, "class -1 out of range"},
		{"duplicate label", mat(1, 1, 1), []int{0}, []string{"a", "a"}, `label "a" repeated`},
		{"NaN", mat(1, 2, 1, float32(math.NaN())), nil, nil, "row 0, feature 1: non-finite"},
		{"Inf", mat(1, 1, float32(math.Inf(-1))), nil, nil, "non-finite"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New("t", tt.x, tt.y, tt.labels)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: got error %v, want nil", err)
				}
				if d.Hash == "" || d.Len() != tt.x.Rows || d.Dim() != tt.x.Cols {
					t.Errorf("got len %d dim %d hash %q, want %d, %d, set", d.Len(), d.Dim(), d.Hash, tt.x.Rows, tt.x.Cols)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: got error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNewCompactsStride(t *testing.T) {
	x := blas32.General{Rows: 2, Cols: 2, Stride: 3, Data: []float32{1, 2, 99, 3, 4}}
	d := mustNew(t, x, nil, nil)
	if d.X.Stride != 2 || len(d.X.Data) != 4 {
		t.Fatalf("got stride %d len %d, want 2, 4", d.X.Stride, len(d.X.Data))
	}
	if got := d.Row(1); got[0] != 3 || got[1] != 4 {
		t.Errorf("row 1: got %v, want [3 4]", got)
	}
}

func TestSubset(t *testing.T) {
	d := mustNew(t, mat(3, 2, 1, 2, 3, 4, 5, 6), []int{0, 1, 0}, []string{"a", "b"})
	d.TestStart = 2
	s := d.Subset([]int{2, 0, 2})
	want := []float32{5, 6, 1, 2, 5, 6}
	for i, v := range want {
		if s.X.Data[i] != v {
			t.Fatalf("X: got %v, want %v", s.X.Data, want)
		}
	}
	if s.Y[0] != 0 || s.Y[1] != 0 || s.Y[2] != 0 || len(s.Y) != 3 {
		t.Errorf("Y: got %v, want [0 0 0]", s.Y)
	}
	if s.TestStart != 0 {
		t.Errorf("TestStart: got %d, want 0", s.TestStart)
	}
	if s.Hash != CanonicalHash(s.X, s.Y, s.Labels) {
		t.Errorf("Hash not recomputed")
	}
	s.X.Data[0] = -1
	if d.X.Data[4] != 5 {
		t.Errorf("Subset shares storage with the original")
	}
	defer func() {
		if r := recover(); r == nil || !strings.HasPrefix(r.(string), "dataset: ") {
			t.Errorf("Subset(out of range): got panic %v, want a dataset: panic", r)
		}
	}()
	d.Subset([]int{3})
}

func TestRange(t *testing.T) {
	tests := []struct {
		x      blas32.General
		lo, hi float32
	}{
		{mat(0, 0), 0, 0},
		{mat(1, 1, 5), 5, 5},
		{mat(2, 2, 3, -1, 7, 2), -1, 7},
		{mat(2, 1, -3, -2), -3, -2},
	}
	for _, tt := range tests {
		d := mustNew(t, tt.x, nil, nil)
		if lo, hi := d.Range(); lo != tt.lo || hi != tt.hi {
			t.Errorf("Range(%v): got (%g, %g), want (%g, %g)", tt.x.Data, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestHashIdentity(t *testing.T) {
	base := func() *Dataset {
		return mustNew(t, mat(2, 2, 1, 2, 3, 4), []int{0, 1}, []string{"a", "b"})
	}
	ref := base().Hash
	if len(ref) != 64 {
		t.Fatalf("hash %q: want 64 hex digits", ref)
	}
	renamed := base()
	renamed.Name, renamed.TestStart = "other", 1
	renamed.Rehash()
	if renamed.Hash != ref {
		t.Errorf("name/TestStart changed the hash")
	}
	changes := map[string]func(d *Dataset){
		"one bit":         func(d *Dataset) { d.X.Data[3] = math.Nextafter32(4, 5) },
		"class":           func(d *Dataset) { d.Y[0] = 1 },
		"unlabelled":      func(d *Dataset) { d.Y = nil },
		"label text":      func(d *Dataset) { d.Labels = []string{"a", "c"} },
		"label boundary":  func(d *Dataset) { d.Labels = []string{"ab", ""} },
		"shape":           func(d *Dataset) { d.X = mat(1, 4, 1, 2, 3, 4); d.Y = []int{0} },
		"transposed view": func(d *Dataset) { d.X = mat(4, 1, 1, 2, 3, 4); d.Y = []int{0, 1, 0, 1} },
	}
	seen := map[string]string{ref: "base"}
	for name, change := range changes {
		d := base()
		change(d)
		d.Rehash()
		if prev, ok := seen[d.Hash]; ok {
			t.Errorf("%s: hash equals that of %s", name, prev)
		}
		seen[d.Hash] = name
	}
}

func TestHashSignedZero(t *testing.T) {
	pos := CanonicalHash(mat(1, 1, 0), nil, nil)
	neg := CanonicalHash(mat(1, 1, float32(math.Copysign(0, -1))), nil, nil)
	if pos == neg {
		t.Errorf("+0 and -0 hash alike (%s); want the float bits hashed", pos)
	}
}

// TestHashPortable checks that the zero-copy little-endian path and the
// portable path hash the same bytes.
func TestHashPortable(t *testing.T) {
	d := Digits()
	fast := CanonicalHash(d.X, d.Y, d.Labels)
	saved := littleEndian
	littleEndian = false
	defer func() { littleEndian = saved }()
	if slow := CanonicalHash(d.X, d.Y, d.Labels); slow != fast {
		t.Errorf("portable hash %s, native %s", slow, fast)
	}
}

func TestDigits(t *testing.T) {
	d := Digits()
	if d.Len() != 1797 || d.Dim() != 64 || len(d.Labels) != 10 {
		t.Fatalf("got %d×%d with %d labels, want 1797×64 with 10", d.Len(), d.Dim(), len(d.Labels))
	}
	for i, v := range d.X.Data {
		if v != float32(int(v)) || v < 0 || v > 16 {
			t.Fatalf("value %d: got %g, want an integer in [0, 16]", i, v)
		}
	}
	for c, n := range d.ClassCounts() {
		if n < 170 || n > 190 {
			t.Errorf("class %s: %d rows, want about 180", d.Labels[c], n)
		}
	}
	// Fresh copies: modifying one does not affect the next.
	d.X.Data[0], d.Labels[0] = 99, "x"
	if e := Digits(); e.X.Data[0] == 99 || e.Labels[0] != "0" || e.Hash != d.Hash {
		t.Errorf("Digits returned shared storage")
	}
}

func BenchmarkDigits(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := loadDigits(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalHash(b *testing.B) {
	d := Digits()
	b.SetBytes(int64(4 * len(d.X.Data)))
	b.ReportAllocs()
	for b.Loop() {
		CanonicalHash(d.X, d.Y, d.Labels)
	}
}
