package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestReadCSVErrors(t *testing.T) {
	twelve := "a,b,c,label\n" + strings.Repeat("1,2,3,0\n", 10) + "4,5,abc,1\n"
	tests := []struct {
		name  string
		input string
		opts  CSVOptions
		want  string
		is    error
		line  int
		col   int
	}{
		{"empty", "", CSVOptions{}, "data.csv: empty file", ErrEmpty, 0, 0},
		{"blank lines only", "\n\n", CSVOptions{}, "data.csv: empty file", ErrEmpty, 0, 0},
		{"header only", "x,y,label\n", CSVOptions{}, "data.csv: no data rows", ErrEmpty, 0, 0},
		{"not a number", twelve, CSVOptions{}, `data.csv: line 12, column 3: "abc" is not a number`, ErrNotNumber, 12, 3},
		{"empty cell", "1,,0\n", CSVOptions{Header: HeaderAbsent}, `data.csv: line 1, column 2: "" is not a number`, ErrNotNumber, 1, 2},
		{"NaN", "1,2,0\n1,NaN,0\n", CSVOptions{}, `data.csv: line 2, column 2: "NaN" is NaN, want a finite number`, ErrNotNumber, 2, 2},
		{"overflow", "1,2,0\n1,1e39,0\n", CSVOptions{}, `data.csv: line 2, column 2: "1e39" is outside float32's range (magnitudes up to 3.4e38)`, ErrNotNumber, 2, 2},
		{"NaN in first row", "1,nan,0\n1,2,0\n", CSVOptions{}, `data.csv: line 1, column 2: "nan" is NaN, want a finite number`, ErrNotNumber, 1, 2},
		{"Inf in first row", "1,-Inf,0\n1,2,0\n", CSVOptions{}, `data.csv: line 1, column 2: "-Inf" is infinite, want a finite number`, ErrNotNumber, 1, 2},
		{"overflow in first row", "1,1e39,0\n1,2,0\n", CSVOptions{}, `data.csv: line 1, column 2: "1e39" is outside float32's range (magnitudes up to 3.4e38)`, ErrNotNumber, 1, 2},
		{"empty label", "1,2,a\n3,4,\n5,6,b\n", CSVOptions{}, "data.csv: line 2, column 3: the label is empty (every row needs one)", ErrNoLabel, 2, 3},
		{"blank label", "x,y,label\n1,2,a\n3,4, \n", CSVOptions{}, "data.csv: line 3, column 3: the label is empty (every row needs one)", ErrNoLabel, 3, 3},
		{"trailing comma", "1,2,0,\n3,4,1,\n", CSVOptions{}, "data.csv: line 1, column 4: the label is empty (every row needs one)", ErrNoLabel, 1, 4},
		{"UTF-16", "\xff\xfe1\x00,\x002\x00\n\x00", CSVOptions{}, "data.csv: line 1: UTF-16 text (it starts with a UTF-16 byte-order mark): lineage reads UTF-8 CSV; convert it, e.g. with iconv -f UTF-16 -t UTF-8", ErrNotText, 1, 0},
		{"UTF-16 big-endian", "\xfe\xff\x001\x00,\x002\x00\n", CSVOptions{}, "data.csv: line 1: UTF-16 text (it starts with a UTF-16 byte-order mark): lineage reads UTF-8 CSV; convert it, e.g. with iconv -f UTF-16 -t UTF-8", ErrNotText, 1, 0},
		{"binary", "\x93NUMPY\x01\x00v\x00{'descr': '<f4',\n", CSVOptions{}, "data.csv: line 1: a NUL byte: binary data, not CSV text", ErrNotText, 1, 0},
		{"tab-separated", "1\t2\t0\n3\t4\t1\n", CSVOptions{}, "data.csv: no feature columns (the only column is the label; its cells are separated by commas, not tabs or semicolons)", nil, 0, 0},
		{"label only", "0\n1\n0\n1\n", CSVOptions{}, "data.csv: no feature columns (the only column is the label)", nil, 0, 0},
		{"label only with header", "label\n0\n1\n", CSVOptions{Label: "label"}, "data.csv: no feature columns (the only column is the label)", nil, 0, 0},
		{"ragged short", "1,2,0\n1,0\n", CSVOptions{}, "data.csv: line 2: 2 fields, want 3", ErrFieldCount, 2, 0},
		{"ragged long", "f,g\n1,0\n\n1,2,3\n", CSVOptions{}, "data.csv: line 4: 3 fields, want 2", ErrFieldCount, 4, 0},
		{"bare quote", "1,2,0\n1,2\"x,0\n", CSVOptions{}, `data.csv: line 2, column 0: bare " in non-quoted-field`, nil, 2, 0},
		{"unknown label", "1,cow\n2,dog\n", CSVOptions{Labels: []string{"cow", "cat"}}, `data.csv: line 2, column 2: label "dog" is not one of the 2 classes`, ErrUnknownLabel, 2, 2},
		{"label index out of classes", "1,5\n", CSVOptions{Labels: []string{"a", "b"}}, `data.csv: line 1, column 2: label "5" is not one of the 2 classes`, ErrUnknownLabel, 1, 2},
		// Index 2 is one past the last class (indices are 0 to K-1).
		{"label index one past the classes", "1,0\n2,2\n", CSVOptions{Labels: []string{"a", "b"}}, `data.csv: line 2, column 2: label "2" is not one of the 2 classes`, ErrUnknownLabel, 2, 2},
		{"no such column", "x,y\n1,2\n", CSVOptions{Label: "z"}, `data.csv: no column named "z" in the header`, nil, 0, 0},
		{"name without header", "1,2\n", CSVOptions{Label: "y", Header: HeaderAbsent}, `data.csv: label column "y" named but the file has no header`, nil, 0, 0},
		{"index out of range", "1,2\n", CSVOptions{Label: "2"}, "data.csv: label column 2 out of range for 2 columns", nil, 0, 0},
		{"negative out of range", "1,2\n", CSVOptions{Label: "-3"}, "data.csv: label column -3 out of range for 2 columns", nil, 0, 0},
		// Valid float32 values 4e38 apart: training overflowed at its
		// first step ("loss NaN: training diverged"), enroll's probes to
		// ±Inf ("build: probe 91, feature 1 is +Inf: invalid probe suite").
		{"range beyond float32", "1,-2e38,0\n2,2e38,1\n", CSVOptions{}, "data.csv: column 2 spans -2e+38 to 2e+38, more than float32's range (3.4e38) apart: lineage computes in float32, so its probes and differences would overflow; scale the column down", ErrNotNumber, 0, 0},
		{"range beyond float32, label first", "a,-3.4e38\nb,3.4e38\n", CSVOptions{Label: "0"}, "data.csv: column 2 spans -3.4e+38 to 3.4e+38, more than float32's range (3.4e38) apart: lineage computes in float32, so its probes and differences would overflow; scale the column down", ErrNotNumber, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Name = "data.csv"
			d, err := ReadCSV(strings.NewReader(tt.input), tt.opts)
			if err == nil {
				t.Fatalf("got %d rows, want error %q", d.Len(), tt.want)
			}
			if strings.Contains(tt.want, "bare") {
				// encoding/csv words its own errors; check the prefix only.
				if !strings.HasPrefix(err.Error(), "data.csv: line 2: ") {
					t.Errorf("got %q, want a line-2 csv error", err)
				}
			} else if err.Error() != tt.want {
				t.Errorf("got  %q\nwant %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v): got false, want true", tt.is)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %T, want *ParseError", err)
			}
			if pe.Line != tt.line || pe.Column != tt.col {
				t.Errorf("got line %d column %d, want %d, %d", pe.Line, pe.Column, tt.line, tt.col)
			}
		})
	}
}

func TestReadCSV(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		opts   CSVOptions
		x      []float32
		y      []int // nil: unlabelled
		labels []string
	}{
		{"no header, last column", "1,2,0\n3,4,1\n", CSVOptions{}, []float32{1, 2, 3, 4}, []int{0, 1}, []string{"0", "1"}},
		{"auto header", "p,q,label\n1,2,1\n3,4,1\n", CSVOptions{}, []float32{1, 2, 3, 4}, []int{0, 0}, []string{"1"}},
		{"header by name", "p,label,q\n1,b,2\n3,a,4\n", CSVOptions{Label: "label"}, []float32{1, 2, 3, 4}, []int{1, 0}, []string{"a", "b"}},
		{"first column", "0,1,2\n1,3,4\n", CSVOptions{Label: "0"}, []float32{1, 2, 3, 4}, []int{0, 1}, []string{"0", "1"}},
		{"negative index", "1,9,2\n3,7,4\n", CSVOptions{Label: "-2"}, []float32{1, 2, 3, 4}, []int{1, 0}, []string{"7", "9"}},
		{"name beats index", "x,0\n5,1\n6,2\n", CSVOptions{Label: "0", Header: HeaderPresent}, []float32{5, 6}, []int{0, 1}, []string{"1", "2"}},
		{"numeric labels sort numerically", "1,10\n2,2\n3,07\n4,7\n", CSVOptions{}, []float32{1, 2, 3, 4}, []int{2, 0, 1, 1}, []string{"2", "7", "10"}},
		{"int64 extreme labels sort numerically", "1,9223372036854775807\n2,-9223372036854775808\n3,0\n4,-1\n", CSVOptions{}, []float32{1, 2, 3, 4}, []int{3, 0, 2, 1}, []string{"-9223372036854775808", "-1", "0", "9223372036854775807"}},
		{"header is a word, not NaN", "nan_count,inf,label\n1,2,0\n", CSVOptions{}, []float32{1, 2}, []int{0}, []string{"0"}},
		{"string labels sort bytewise", "1, cat\n2,ant\n3,Bee\n", CSVOptions{}, []float32{1, 2, 3}, []int{2, 1, 0}, []string{"Bee", "ant", "cat"}},
		{"fixed labels by name and index", "1,no\n2,1\n3, yes\n", CSVOptions{Labels: []string{"no", "yes"}}, []float32{1, 2, 3}, []int{0, 1, 1}, []string{"no", "yes"}},
		{"unlabelled", "1,2\n3,4\n", CSVOptions{NoLabel: true}, []float32{1, 2, 3, 4}, nil, nil},
		// A column spanning exactly float32's range is read; only wider is refused.
		{"range of exactly MaxFloat32", "0,a\n3.4028234663852886e38,b\n", CSVOptions{}, []float32{0, math.MaxFloat32}, []int{0, 1}, []string{"a", "b"}},
		{"unlabelled header", "a,b\n1,2\n", CSVOptions{NoLabel: true}, []float32{1, 2}, nil, nil},
		{"explicit header", "1,2,3\n4,5,0\n", CSVOptions{Header: HeaderPresent}, []float32{4, 5}, []int{0}, []string{"0"}},
		{"semicolons", "x;y;c\n1;2,5;a\n", CSVOptions{Comma: ';', Label: "c"}, nil, nil, nil},
		{"semicolons ok", "x;y;c\n1;2.5;a\n", CSVOptions{Comma: ';', Label: "c"}, []float32{1, 2.5}, []int{0}, []string{"a"}},
		{"spaces and CRLF", "\ufeffx,y,c\r\n 1.5 , -2e1 ,a\r\n", CSVOptions{}, []float32{1.5, -20}, []int{0}, []string{"a"}},
		{"quoted", "\"1\",\"2\",\"a,b\"\n", CSVOptions{}, []float32{1, 2}, []int{0}, []string{"a,b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := ReadCSV(strings.NewReader(tt.input), tt.opts)
			if tt.x == nil {
				// A decimal comma is not a number.
				if err == nil || !errors.Is(err, ErrNotNumber) {
					t.Fatalf("got %v, want ErrNotNumber", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ReadCSV: %v", err)
			}
			if !slices.Equal(d.X.Data, tt.x) || d.Dim()*d.Len() != len(tt.x) {
				t.Errorf("X: got %v (%d×%d), want %v", d.X.Data, d.Len(), d.Dim(), tt.x)
			}
			if !slices.Equal(d.Y, tt.y) || (d.Y == nil) != (tt.y == nil) {
				t.Errorf("Y: got %v, want %v", d.Y, tt.y)
			}
			if !slices.Equal(d.Labels, tt.labels) {
				t.Errorf("Labels: got %q, want %q", d.Labels, tt.labels)
			}
		})
	}
}

func TestWriteCSV(t *testing.T) {
	d := mustNew(t, mat(2, 2, 0.1, -3, 1e-7, 65504), []int{1, 0}, []string{"a b", "c,d"})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, d); err != nil {
		t.Fatal(err)
	}
	want := "f1,f2,label\n0.1,-3,\"c,d\"\n1e-07,65504,a b\n"
	if buf.String() != want {
		t.Errorf("got  %q\nwant %q", buf.String(), want)
	}
}

// datasetFromBytes builds a small labelled dataset from fuzz input.
func datasetFromBytes(t testing.TB, raw []byte, cols uint8, names string) *Dataset {
	c := int(cols%5) + 1
	n := len(raw) / 4 / c
	x := blas32.General{Rows: n, Cols: c, Stride: c, Data: make([]float32, n*c)}
	for i := range x.Data {
		v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			v = float32(i)
		}
		x.Data[i] = v
	}
	var labels []string
	for _, l := range strings.Split(strings.ReplaceAll(names, "\r", ""), "|") {
		if !slices.Contains(labels, l) {
			labels = append(labels, l)
		}
	}
	y := make([]int, n)
	for i := range y {
		y[i] = int(raw[4*i]) % len(labels)
	}
	return mustNew(t, x, y, labels)
}

func FuzzCSVRoundTrip(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789abcdef"), uint8(1), "cat|dog")
	f.Add([]byte{0, 0, 0, 0x80, 1, 0, 0, 0}, uint8(0), ` a|"q"|x,y|`)
	f.Add([]byte{0xff, 0xff, 0x7f, 0x7f, 1, 2, 3, 4, 5, 6, 7, 8}, uint8(2), "0|1|2")
	f.Fuzz(func(t *testing.T, raw []byte, cols uint8, names string) {
		d := datasetFromBytes(t, raw, cols, names)
		var buf bytes.Buffer
		if err := WriteCSV(&buf, d); err != nil {
			t.Fatal(err)
		}
		if d.Len() == 0 {
			return // header only: ReadCSV reports ErrEmpty
		}
		got, err := ReadCSV(&buf, CSVOptions{Labels: d.Labels, Header: HeaderPresent})
		if err != nil {
			t.Fatalf("ReadCSV(WriteCSV(d)): %v\n%s", err, buf.String())
		}
		if got.Hash != d.Hash {
			t.Errorf("round trip changed the dataset: X %v→%v Y %v→%v", d.X.Data, got.X.Data, d.Y, got.Y)
		}
	})
}

func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{"1,2,0\n3,4,1\n", "a,b,c\n1,2,x\n", "\"1\",2\n", "1,,\n", ";;\n"} {
		f.Add(s, "")
		f.Add(s, "0")
	}
	f.Fuzz(func(t *testing.T, input, label string) {
		d, err := ReadCSV(strings.NewReader(input), CSVOptions{Label: label})
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %T %v, want *ParseError", err, err)
			}
			return
		}
		if d.Len()*d.Dim() != len(d.X.Data) || (d.Y != nil && len(d.Y) != d.Len()) {
			t.Fatalf("inconsistent shape %d×%d, %d values, %d labels", d.Len(), d.Dim(), len(d.X.Data), len(d.Y))
		}
		if d.Dim() == 0 {
			return // a label-only file writes a header that reads back as data
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, d); err != nil {
			t.Fatal(err)
		}
		again, err := ReadCSV(&buf, CSVOptions{Labels: d.Labels, Header: HeaderPresent})
		if err != nil {
			t.Fatalf("re-reading: %v\n%s", err, buf.String())
		}
		if again.Hash != d.Hash {
			t.Errorf("re-read dataset differs")
		}
	})
}

func BenchmarkReadCSV(b *testing.B) {
	var buf bytes.Buffer
	if err := WriteCSV(&buf, Digits()); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(buf.Len()))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadCSV(bytes.NewReader(buf.Bytes()), CSVOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReadCSVTooLarge checks that a file holding more feature values than
// lineage reads is refused at the row that passes the bound (with the
// bound lowered to 10 values here; a small gzipped file can hold
// billions).
func TestReadCSVTooLarge(t *testing.T) {
	old := maxCSVValues
	maxCSVValues = 10
	defer func() { maxCSVValues = old }()
	_, err := ReadCSV(strings.NewReader(strings.Repeat("1,2,3,0\n", 4)), CSVOptions{Name: "data.csv"})
	if want := "data.csv: line 4: more than 10 feature values (4 rows of 3): larger than lineage reads"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if _, err := ReadCSV(strings.NewReader(strings.Repeat("1,2,3,0\n", 3)), CSVOptions{Name: "data.csv"}); err != nil {
		t.Errorf("9 values: %v, want them read", err)
	}
}

// TestReadCSVRecordTooLong checks that a row longer than maxCSVRecord
// (lowered to 1 MiB here) is refused as it is read, naming its line,
// whether it is one line or a quoted field over many, and that rows up
// to the bound are read (the csv reader's read-ahead of a few KiB counts
// towards the next row, so a row's bound is only that exact).
func TestReadCSVRecordTooLong(t *testing.T) {
	old := maxCSVRecord
	maxCSVRecord = 1 << 20
	defer func() { maxCSVRecord = old }()
	long := strings.Repeat("1", 2<<20)
	const msg = ": a row longer than 1 MiB: not a dataset lineage reads"
	tests := []struct {
		name, input, want string
	}{
		{"first line", long + "\n", "data.csv: line 1" + msg},
		{"third line", "1,2,0\n3,4,1\n" + long + ",0\n", "data.csv: line 3" + msg},
		{"no line break", "1,2,0\n" + long, "data.csv: line 2" + msg},
		{"quoted lines", "1,2,0\n\"" + strings.Repeat("1\n", 1<<20) + "\",2,0\n", "data.csv: line 2" + msg},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(tt.input), CSVOptions{Name: "data.csv"})
			if err == nil || err.Error() != tt.want || !errors.Is(err, ErrTooLong) {
				t.Errorf("error %v, want %q wrapping ErrTooLong", err, tt.want)
			}
		})
	}
	row := strings.Repeat("1,", 500<<10) + "0\n" // 1000 KiB
	d, err := ReadCSV(strings.NewReader(strings.Repeat(row, 3)), CSVOptions{Name: "data.csv"})
	if err != nil || d.Len() != 3 {
		t.Errorf("3 rows of 1000 KiB: %v, want them read", err)
	}
}
