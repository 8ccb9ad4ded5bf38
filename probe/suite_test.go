package probe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math"
	"reflect"
	"testing"

	"gonum.org/v1/gonum/blas/blas32"
)

func TestBuildDeterministic(t *testing.T) {
	f := getFixture(t)
	ctx := context.Background()
	opts := BuildOptions{Name: "blobs", Seed: 42, Data: 30, Noise: 20, Boundary: 25, Adversarial: 25, Mistake: 10}
	a, err := Build(ctx, f.teacher, f.test, opts)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(ctx, f.teacher, f.test, opts)
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash != b.Hash {
		t.Errorf("same seed: got hashes %s and %s, want equal", a.Hash, b.Hash)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("same seed: suites differ beyond the hash")
	}
	opts.Seed = 43
	c, err := Build(ctx, f.teacher, f.test, opts)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hash == a.Hash {
		t.Errorf("seeds 42 and 43 gave the same hash %s", a.Hash)
	}
	if err := Validate(a); err != nil {
		t.Errorf("Validate(built suite) = %v", err)
	}
	if !reflect.DeepEqual(a.Labels, f.teacher.Labels) {
		t.Errorf("labels %q, want the teacher's %q", a.Labels, f.teacher.Labels)
	}
	counts := a.Counts()
	wantKinds := []Kind{Data, Noise, Boundary, Adversarial, Mistake}
	if len(a.Generators) != len(wantKinds) {
		t.Fatalf("got %d generators, want %d", len(a.Generators), len(wantKinds))
	}
	seeds := map[uint64]bool{}
	for i, g := range a.Generators {
		if g.Kind != wantKinds[i] {
			t.Errorf("generator %d is %q, want %q", i, g.Kind, wantKinds[i])
		}
		if g.Count != counts[g.Kind] {
			t.Errorf("generator %q counts %d, suite has %d of that kind", g.Kind, g.Count, counts[g.Kind])
		}
		seeds[g.Seed] = true
	}
	if len(seeds) != len(wantKinds) {
		t.Errorf("generator seeds %v are not distinct", seeds)
	}
	for k, want := range map[Kind]int{Data: 30, Noise: 20, Boundary: 25} {
		if counts[k] != want {
			t.Errorf("%s probes: got %d, want %d", k, counts[k], want)
		}
	}
	// A generator rerun alone with its recorded seed reproduces its rows.
	g := a.Generators[0]
	d := DataProbes(f.test, g.Count, g.Seed)
	for i := 0; i < d.X.Rows; i++ {
		if !reflect.DeepEqual(row(d.X, i), a.Row(i)) {
			t.Fatalf("rerun of the data generator differs at probe %d", i)
		}
	}
}

func TestBuildDefaultsAndBlackBox(t *testing.T) {
	f := getFixture(t)
	s, err := Build(context.Background(), blackBox{f.teacher}, f.test, BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Counts()
	if c[Adversarial] != 0 {
		t.Errorf("black-box teacher: got %d adversarial probes, want 0", c[Adversarial])
	}
	var note string
	for _, g := range s.Generators {
		if g.Kind == Adversarial {
			note = g.Note
		}
	}
	if note == "" {
		t.Errorf("black-box teacher: adversarial generator has no note")
	}
	if c[Data] != DefaultData || c[Noise] != DefaultNoise || c[Boundary] != DefaultBoundary {
		t.Errorf("default counts: got %v, want data %d noise %d boundary %d", c, DefaultData, DefaultNoise, DefaultBoundary)
	}
	unl := *f.test
	unl.Y = nil
	s, err = Build(context.Background(), f.teacher, &unl, BuildOptions{Data: -1, Noise: 5, Boundary: -1, Adversarial: -1})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Generators[len(s.Generators)-1]; got.Kind != Mistake || got.Count != 0 || got.Note == "" {
		t.Errorf("unlabelled data: got mistake generator %+v, want a skipped one with a note", got)
	}
}

func TestBuildErrors(t *testing.T) {
	f := getFixture(t)
	other := blobs(t, 50, 4, 3, 1) // 3 features, teacher takes 6
	if _, err := Build(context.Background(), f.teacher, other, BuildOptions{}); !errors.Is(err, ErrShape) {
		t.Errorf("wrong input size: got %v, want ErrShape", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Build(ctx, f.teacher, f.test, BuildOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v, want context.Canceled", err)
	}
}

func validSuite(t testing.TB) *Suite {
	t.Helper()
	f := getFixture(t)
	s, err := Finalize("v", f.teacher.Labels, DataProbes(f.test, 6, 1), NoiseProbes(f.test, 4, 1, NoiseOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(s *Suite)
		hashErr bool
	}{
		{"no labels", func(s *Suite) { s.Labels = nil }, false},
		{"short kinds", func(s *Suite) { s.Kinds = s.Kinds[1:] }, false},
		{"unknown kind", func(s *Suite) { s.Kinds[0] = "magic" }, false},
		{"nan", func(s *Suite) { s.X.Data[3] = float32(math.NaN()) }, false},
		{"inf", func(s *Suite) { s.X.Data[3] = float32(math.Inf(1)) }, false},
		{"no rows", func(s *Suite) { s.X.Rows = 0 }, false},
		{"short data", func(s *Suite) { s.X.Data = s.X.Data[:5] }, false},
		{"bad counts", func(s *Suite) { s.Generators[0].Count++ }, false},
		{"counts wrapping round to the rows", func(s *Suite) {
			g := s.Generators[0]
			big, rest := g, g
			big.Count = math.MaxInt
			rest.Count = s.X.Rows + 2 // MaxInt + MaxInt + rows + 2 wraps to rows
			s.Generators = []Generator{big, big, rest}
		}, false},
		{"changed value", func(s *Suite) { s.X.Data[0]++ }, true},
		{"changed label", func(s *Suite) { s.Labels[0] = "zz" }, true},
		{"changed kind", func(s *Suite) { s.Kinds[0] = Mistake }, true},
	}
	if err := Validate(validSuite(t)); err != nil {
		t.Fatalf("Validate(valid) = %v, want nil", err)
	}
	for _, tt := range tests {
		s := validSuite(t)
		tt.corrupt(s)
		err := Validate(s)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: got %v, want ErrInvalid", tt.name, err)
		}
		var he *HashError
		if got := errors.As(err, &he); got != tt.hashErr {
			t.Errorf("%s: got HashError %v, want %v (%v)", tt.name, got, tt.hashErr, err)
		}
	}
}

func TestFinalizeAndSubset(t *testing.T) {
	f := getFixture(t)
	d, n := DataProbes(f.test, 6, 1), NoiseProbes(f.test, 4, 1, NoiseOptions{})
	s, err := Finalize("x", f.teacher.Labels, d, n)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 10 || s.Dim() != f.test.Dim() {
		t.Fatalf("got %d×%d suite, want 10×%d", s.Len(), s.Dim(), f.test.Dim())
	}
	if s.Kinds[5] != Data || s.Kinds[6] != Noise {
		t.Errorf("kinds %v, want 6 data then 4 noise", s.Kinds)
	}
	sub := Subset(s, []int{7, 0, 8})
	if err := Validate(sub); err != nil {
		t.Fatalf("Validate(subset) = %v", err)
	}
	if sub.Hash == s.Hash {
		t.Errorf("subset kept the parent's hash")
	}
	if got := []int{sub.Generators[0].Count, sub.Generators[1].Count}; got[0] != 1 || got[1] != 2 {
		t.Errorf("subset generator counts %v, want [1 2]", got)
	}
	if !reflect.DeepEqual(sub.Row(0), s.Row(7)) || sub.Kinds[0] != Noise {
		t.Errorf("subset row 0 is not parent row 7")
	}
	sub.X.Data[0] = -99
	if s.X.Data[7*s.X.Stride] == -99 {
		t.Errorf("subset shares storage with its parent")
	}
	bad := n
	bad.X = newMatrix(2, f.test.Dim()+1)
	if _, err := Finalize("x", f.teacher.Labels, d, bad); !errors.Is(err, ErrShape) {
		t.Errorf("mixed widths: got %v, want ErrShape", err)
	}
	if _, err := Finalize("x", f.teacher.Labels); !errors.Is(err, ErrInvalid) {
		t.Errorf("no batches: got %v, want ErrInvalid", err)
	}
}

func TestEncodeDecode(t *testing.T) {
	f := getFixture(t)
	s, err := Build(context.Background(), f.teacher, f.test, BuildOptions{Name: "rt", Seed: 1, Data: 5, Noise: 5, Boundary: 5, Adversarial: 5, Mistake: 5})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	enc := bytes.Clone(buf.Bytes())
	got, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Errorf("round trip changed the suite:\ngot  %+v\nwant %+v", got, s)
	}
	tests := []struct {
		name   string
		mutate func([]byte) []byte
		want   error
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-7] }, ErrFormat},
		{"empty", func(b []byte) []byte { return nil }, ErrFormat},
		{"bad magic", func(b []byte) []byte { b[0] = 'X'; return b }, ErrFormat},
		{"flipped value bit", func(b []byte) []byte { b[len(b)-40] ^= 1; return b }, ErrChecksum},
		// A value more than rows×cols, under a checksum that matches.
		{"extra value resealed", func(b []byte) []byte {
			body := append(b[:len(b)-sha256.Size:len(b)-sha256.Size], 0, 0, 0x80, 0x3f)
			sum := sha256.Sum256(body)
			return append(body, sum[:]...)
		}, ErrFormat},
	}
	for _, tt := range tests {
		_, err := Decode(bytes.NewReader(tt.mutate(bytes.Clone(enc))))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
}

func FuzzDecode(f *testing.F) {
	s := validSuite(f)
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(Magic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrInvalid", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, s); err != nil {
			t.Fatalf("decoded suite does not encode: %v", err)
		}
		again, err := Decode(&out)
		if err != nil {
			t.Fatalf("re-encoded suite does not decode: %v", err)
		}
		if !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip changed the suite")
		}
	})
}

// FuzzDecodeFramed fuzzes the header and values behind a valid frame and
// checksum, which FuzzDecode rarely gets past.
func FuzzDecodeFramed(f *testing.F) {
	s := validSuite(f)
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		f.Fatal(err)
	}
	b := buf.Bytes()
	hlen := int(binary.LittleEndian.Uint32(b[len(Magic)+4:]))
	start := len(Magic) + 8
	f.Add(b[start:start+hlen], b[start+hlen:len(b)-sha256.Size])
	f.Add([]byte(`{"rows":1,"cols":1,"labels":["a"],"kinds":["data"],"hash":""}`), []byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, hdr, vals []byte) {
		frame := append([]byte(Magic), 0, 0, 0, 0, 0, 0, 0, 0)
		binary.LittleEndian.PutUint32(frame[len(Magic):], FormatVersion)
		binary.LittleEndian.PutUint32(frame[len(Magic)+4:], uint32(len(hdr)))
		frame = append(append(frame, hdr...), vals...)
		sum := sha256.Sum256(frame)
		s, err := Decode(bytes.NewReader(append(frame, sum[:]...)))
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v wraps neither ErrFormat nor ErrInvalid", err)
			}
			return
		}
		var out bytes.Buffer
		if err := Encode(&out, s); err != nil {
			t.Fatalf("decoded suite does not encode: %v", err)
		}
		again, err := Decode(&out)
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("round trip changed the suite (%v)", err)
		}
	})
}

// TestCanonicalHashShape checks that the suite hash covers the number of
// features: without it, a one-feature suite and a four-feature one whose
// extra values spell the first one's kind record (its length and name)
// would hash alike, the first suite's first label spelling the second's
// kind record.
func TestCanonicalHashShape(t *testing.T) {
	kind := "data"
	name := binary.LittleEndian.Uint32([]byte(kind))
	a := blas32.General{Rows: 1, Cols: 1, Stride: 1, Data: []float32{0.5}}
	b := blas32.General{Rows: 1, Cols: 4, Stride: 4, Data: []float32{0.5, math.Float32frombits(uint32(len(kind))), 0, math.Float32frombits(name)}}
	ha := CanonicalHash(a, []Kind{Data}, []string{kind, "x", "y"})
	hb := CanonicalHash(b, []Kind{Data}, []string{"x", "y"})
	if ha == hb {
		t.Errorf("a 1×1 and a 1×4 suite hash alike (%s)", ha)
	}
}
