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
)

// idxBytes encodes x, gzipped when gz.
func idxBytes(t testing.TB, x *IDX, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	if !gz {
		if err := WriteIDX(&buf, x); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	zw := gzip.NewWriter(&buf)
	if err := WriteIDX(zw, x); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadIDXErrors(t *testing.T) {
	good := idxBytes(t, &IDX{Dims: []int{2, 2, 3}, Data: make([]byte, 12)}, false)
	tests := []struct {
		name  string
		input []byte
		want  string
		is    error
	}{
		{"empty", nil, "truncated header", ErrTruncated},
		{"short magic", []byte{0, 0, 8}, "truncated header", ErrTruncated},
		{"wrong magic", []byte{0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0, 1, 7}, "magic number 0x00000802, want 0x00000803 (images) or 0x00000801 (labels)", ErrMagic},
		{"float type", []byte{0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0}, "magic number 0x00000d01", ErrMagic},
		{"text file", []byte("hello world"), "magic number 0x68656c6c", ErrMagic},
		{"truncated dims", good[:9], "truncated header", ErrTruncated},
		{"truncated data", good[:len(good)-1], "truncated: 11 of 12 data bytes (dims [2 2 3])", ErrTruncated},
		{"truncated gzip", idxBytes(t, &IDX{Dims: []int{5}, Data: []byte{1, 2, 3, 4, 5}}, true)[:20], "truncated", ErrTruncated},
		{"trailing", append(slices.Clone(good), 0), "trailing data after 12 values", nil},
		{"huge header", []byte{0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2}, "header declares more than", nil},
		// 10^6 images of 32×32: a megabyte of gzipped zeros took 9.7 GB.
		{"header over MaxValues", []byte{0, 0, 8, 3, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 32, 0, 0, 0, 32}, "header declares more than 268435456 values", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := ReadIDX(bytes.NewReader(tt.input))
			if err == nil {
				t.Fatalf("got dims %v, want error %q", x.Dims, tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("got %T, want *FormatError", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v): got false, want true", tt.is)
			}
		})
	}
}

func TestWriteIDXErrors(t *testing.T) {
	for _, x := range []*IDX{
		{Dims: []int{2, 2}, Data: make([]byte, 4)},
		{Dims: []int{3}, Data: make([]byte, 2)},
		{Dims: []int{-1, 1, 1}},
	} {
		if err := WriteIDX(&bytes.Buffer{}, x); err == nil {
			t.Errorf("WriteIDX(dims %v, %d bytes): got nil error, want one", x.Dims, len(x.Data))
		}
	}
}

func FuzzIDXRoundTrip(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6}, uint8(2), uint8(3), false, true)
	f.Add([]byte{}, uint8(0), uint8(0), true, false)
	f.Add([]byte{9}, uint8(1), uint8(1), true, true)
	f.Fuzz(func(t *testing.T, data []byte, rows, cols uint8, gz, images bool) {
		x := &IDX{Dims: []int{len(data)}, Data: data}
		if images && rows > 0 && cols > 0 {
			r, c := int(rows%8)+1, int(cols%8)+1
			n := len(data) / (r * c)
			x = &IDX{Dims: []int{n, r, c}, Data: data[:n*r*c]}
		}
		got, err := ReadIDX(bytes.NewReader(idxBytes(t, x, gz)))
		if err != nil {
			t.Fatalf("ReadIDX(WriteIDX(dims %v)): %v", x.Dims, err)
		}
		if !slices.Equal(got.Dims, x.Dims) || !bytes.Equal(got.Data, x.Data) {
			t.Errorf("round trip: got dims %v %d bytes, want %v %d", got.Dims, len(got.Data), x.Dims, len(x.Data))
		}
	})
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(f, &IDX{Dims: []int{1, 2, 2}, Data: []byte{1, 2, 3, 4}}, false))
	f.Add(idxBytes(f, &IDX{Dims: []int{3}, Data: []byte{1, 2, 3}}, true))
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 9})
	f.Fuzz(func(t *testing.T, input []byte) {
		x, err := ReadIDX(bytes.NewReader(input))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("got %T %v, want *FormatError", err, err)
			}
			return
		}
		enc := idxBytes(t, x, false)
		if len(input) >= 2 && input[0] == 0x1f && input[1] == 0x8b {
			again, err := ReadIDX(bytes.NewReader(enc))
			if err != nil || !bytes.Equal(again.Data, x.Data) || !slices.Equal(again.Dims, x.Dims) {
				t.Fatalf("re-encoding a gzipped input: %v", err)
			}
			return
		}
		if !bytes.Equal(enc, input) {
			t.Errorf("WriteIDX(ReadIDX(b)) != b:\n got %x\nwant %x", enc, input)
		}
	})
}

// writeMNIST writes an images/labels pair into dir and returns their paths.
func writeMNIST(t *testing.T, dir, prefix string, gz bool, imgs, labs *IDX) (string, string) {
	t.Helper()
	ext := ""
	if gz {
		ext = ".gz"
	}
	ip := filepath.Join(dir, prefix+"-images-idx3-ubyte"+ext)
	lp := filepath.Join(dir, prefix+"-labels-idx1-ubyte"+ext)
	if err := os.WriteFile(ip, idxBytes(t, imgs, gz), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lp, idxBytes(t, labs, gz), 0o644); err != nil {
		t.Fatal(err)
	}
	return ip, lp
}

func TestLoadIDX(t *testing.T) {
	dir := t.TempDir()
	imgs := &IDX{Dims: []int{3, 2, 2}, Data: []byte{0, 1, 2, 3, 4, 5, 6, 7, 255, 254, 253, 252}}
	labs := &IDX{Dims: []int{3}, Data: []byte{2, 0, 2}}
	for _, gz := range []bool{false, true} {
		ip, lp := writeMNIST(t, dir, "p", gz, imgs, labs)
		d, err := LoadIDX(context.Background(), ip, lp)
		if err != nil {
			t.Fatalf("LoadIDX(gz=%v): %v", gz, err)
		}
		if d.Len() != 3 || d.Dim() != 4 || d.X.Data[8] != 255 || d.X.Data[1] != 1 {
			t.Errorf("gz=%v: got %d×%d %v, want 3×4 raw bytes", gz, d.Len(), d.Dim(), d.X.Data)
		}
		if !slices.Equal(d.Y, []int{2, 0, 2}) || !slices.Equal(d.Labels, []string{"0", "1", "2"}) {
			t.Errorf("gz=%v: got Y %v labels %q, want [2 0 2] and 0..2", gz, d.Y, d.Labels)
		}
	}

	// Mismatched and swapped files.
	_, lp4 := writeMNIST(t, dir, "four", false, &IDX{Dims: []int{4, 1, 1}, Data: make([]byte, 4)}, &IDX{Dims: []int{4}, Data: make([]byte, 4)})
	ip3, lp3 := writeMNIST(t, dir, "three", false, imgs, labs)
	ip0, lp0 := writeMNIST(t, dir, "empty-wide", false, &IDX{Dims: []int{0, 1<<32 - 1, 1<<32 - 1}}, &IDX{Dims: []int{0}})
	ipNoPix, lpNoPix := writeMNIST(t, dir, "nopix", false, &IDX{Dims: []int{2, 3, 0}}, &IDX{Dims: []int{2}, Data: []byte{0, 1}})
	ipBig, lpBig := writeMNIST(t, dir, "big", false, &IDX{Dims: []int{0, 1 << 17, 1 << 18}}, &IDX{Dims: []int{0}})
	ipNone, lpNone := writeMNIST(t, dir, "none", false, &IDX{Dims: []int{0, 28, 28}}, &IDX{Dims: []int{0}})
	ipStray, lpStray := writeMNIST(t, dir, "stray", false, &IDX{Dims: []int{4, 1, 1}, Data: make([]byte, 4)}, &IDX{Dims: []int{4}, Data: []byte{0, 1, 250, 2}})
	tests := []struct {
		name, images, labels, want string
		is                         error
	}{
		{"dims overflow", ip0, lp0, ip0 + ": images of 4294967295×4294967295 pixels exceed the limit of 268435456 values", nil},
		{"too many pixels", ipBig, lpBig, ipBig + ": images of 131072×262144 pixels exceed the limit of 268435456 values", nil},
		{"no pixels", ipNoPix, lpNoPix, ipNoPix + ": images of 3×0 pixels have no features", nil},
		// It was "no training data" from train, naming no file.
		{"no images", ipNone, lpNone, ipNone + ": no images", ErrEmpty},
		{"count mismatch", ip3, lp4, "4 labels for 3 images", nil},
		// One stray byte trained models of 251 outputs.
		{"stray label", ipStray, lpStray, lpStray + ": label 250 of image 2 makes 251 classes (0 to 250), 247 of them without any image: a stray byte?", nil},
		{"swapped", lp3, ip3, "not an images file", ErrMagic},
		{"labels as labels", ip3, ip3, "not a labels file", ErrMagic},
		{"missing", filepath.Join(dir, "nope"), lp3, "no such file", os.ErrNotExist},
	}
	for _, tt := range tests {
		_, err := LoadIDX(context.Background(), tt.images, tt.labels)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error containing %q", tt.name, err, tt.want)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: errors.Is(%v) false", tt.name, tt.is)
		}
	}

	// Labels numbered from 1 (EMNIST letters) leave class 0 without
	// images, which is taken.
	ip1, lp1 := writeMNIST(t, dir, "from1", false, &IDX{Dims: []int{3, 1, 1}, Data: make([]byte, 3)}, &IDX{Dims: []int{3}, Data: []byte{1, 2, 3}})
	if d, err := LoadIDX(context.Background(), ip1, lp1); err != nil || len(d.Labels) != 4 {
		t.Errorf("labels 1 to 3: %v, %v; want 4 classes", d, err)
	}

	// A label outside fixed class names names the labels file (the second
	// pair's here, not the first's).
	_, _, err := loadIDX(context.Background(), nil, "two", []string{"a", "b", "c"}, ip3, lp3, ip3, lp4)
	if err == nil || !strings.Contains(err.Error(), "4 labels for 3 images") {
		t.Errorf("second pair mismatch: got %v", err)
	}
	if _, _, err := loadIDX(context.Background(), nil, "two", []string{"a", "b"}, ip3, lp3); err == nil ||
		err.Error() != lp3+": label 2 of image 0 is not one of the 2 classes" {
		t.Errorf("label out of classes: got %v, want an error naming %s", err, lp3)
	}

	// A truncated file is named in the error.
	raw := idxBytes(t, imgs, false)
	bad := filepath.Join(dir, "bad-images-idx3-ubyte")
	if err := os.WriteFile(bad, raw[:len(raw)-3], 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadIDX(context.Background(), bad, lp3)
	if fe := (*FormatError)(nil); !errors.As(err, &fe) || fe.File != bad || !errors.Is(err, ErrTruncated) {
		t.Errorf("truncated: got %v, want a *FormatError naming %s wrapping ErrTruncated", err, bad)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := LoadIDX(ctx, ip3, lp3); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: got %v, want context.Canceled", err)
	}
}

func BenchmarkReadIDXSmall(b *testing.B) {
	raw, err := dataFS.ReadFile("data/fashion-mnist-small/train-images-idx3-ubyte.gz")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ReadIDX(bytes.NewReader(raw)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestReadIDXGzipChecksum(t *testing.T) {
	raw := idxBytes(t, &IDX{Dims: []int{4}, Data: []byte{1, 2, 3, 4}}, true)
	raw[len(raw)-8] ^= 0xff // corrupt the CRC-32 in the gzip trailer
	if _, err := ReadIDX(bytes.NewReader(raw)); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("got %v, want a checksum error", err)
	}
}

// TestLoadIDXSparseClassesBoundary checks the edge of the stray-label rule:
// labels naming k classes of which exactly half have no image are taken
// (the rule refuses only more than half), one more empty class is refused.
func TestLoadIDXSparseClassesBoundary(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		labels  []byte
		classes int // 0: want an error
	}{
		{"2 of 4 classes empty", []byte{0, 3, 0, 3}, 4},
		{"3 of 5 classes empty", []byte{0, 4, 0, 4}, 0},
	}
	for _, tt := range tests {
		ip, lp := writeMNIST(t, dir, strings.ReplaceAll(tt.name, " ", "-"), false,
			&IDX{Dims: []int{len(tt.labels), 1, 1}, Data: make([]byte, len(tt.labels))}, &IDX{Dims: []int{len(tt.labels)}, Data: tt.labels})
		d, err := LoadIDX(context.Background(), ip, lp)
		switch {
		case tt.classes == 0 && err == nil:
			t.Errorf("%s: loaded %d classes, want a stray-byte error", tt.name, len(d.Labels))
		case tt.classes > 0 && err != nil:
			t.Errorf("%s: %v, want %d classes", tt.name, err, tt.classes)
		case tt.classes > 0 && len(d.Labels) != tt.classes:
			t.Errorf("%s: %d classes, want %d", tt.name, len(d.Labels), tt.classes)
		}
	}
}
