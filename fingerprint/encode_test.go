package fingerprint

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas/blas32"
)

func takeTest(t testing.TB, n, d int, labels []string, k int) *Fingerprint {
	t.Helper()
	s := testSuite(n, d, labels, 3)
	fp, err := Take(context.Background(), softmaxModel("x", d, labels, 5), s, Options{ID: "fp", TopK: k, Meta: map[string]string{"endpoint": "local"}})
	if err != nil {
		t.Fatal(err)
	}
	fp.Elapsed = time.Second
	return fp
}

func samePBits(a, b blas32.General) bool {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		return false
	}
	for i := 0; i < a.Rows; i++ {
		for j := 0; j < a.Cols; j++ {
			if math.Float32bits(a.Data[i*a.Stride+j]) != math.Float32bits(b.Data[i*b.Stride+j]) {
				return false
			}
		}
	}
	return true
}

func TestEncodeRoundTrip(t *testing.T) {
	labels := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	full := takeTest(t, 50, 6, labels, 0)
	top3 := full.Compact(3)
	ragged := top3.Clone()
	ragged.P.Data[9] += 1e-3 // a tail entry no longer equals the fill
	tests := []struct {
		name     string
		fp       *Fingerprint
		wantForm byte
	}{
		{"dense", full, formDense},
		{"sparse", top3, formSparse16},
		{"topk not in top-k form falls back to dense", ragged, formDense},
		{"empty", &Fingerprint{ID: "e"}, formDense},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := Encode(tc.fp)
			if err != nil {
				t.Fatal(err)
			}
			if b[6] != tc.wantForm {
				t.Errorf("form = %d, want %d", b[6], tc.wantForm)
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			if !samePBits(got.P, tc.fp.P) {
				t.Error("P differs after round trip")
			}
			if got.ID != tc.fp.ID || got.Hash != tc.fp.Hash || got.TopK != tc.fp.TopK || got.Elapsed != tc.fp.Elapsed || got.Meta["endpoint"] != tc.fp.Meta["endpoint"] {
				t.Errorf("metadata = %+v, want %+v", got, tc.fp)
			}
			b2, _ := Encode(got)
			if !bytes.Equal(b, b2) {
				t.Error("re-encoding differs")
			}
		})
	}
	bd, _ := Encode(full)
	bs, _ := Encode(top3)
	if len(bs) >= len(bd)*3/4 {
		t.Errorf("sparse top-3 of 10 is %d bytes, dense %d: want < 3/4", len(bs), len(bd))
	}
	if err := top3.Verify(); err != nil {
		t.Error(err)
	}
}

func TestDecodeErrors(t *testing.T) {
	good, err := Encode(takeTest(t, 4, 3, abc, 2))
	if err != nil {
		t.Fatal(err)
	}
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"text", []byte("hello, this is not a fingerprint at all")},
		{"magic", mut(func(b []byte) []byte { b[0] = 'X'; return b })},
		{"version", mut(func(b []byte) []byte { b[4] = 9; return b })},
		{"form", mut(func(b []byte) []byte { b[6] = 7; return b })},
		{"meta length", mut(func(b []byte) []byte { b[11] = 0x7f; return b })},
		{"truncated", good[:len(good)-1]},
		{"trailing", append(append([]byte(nil), good...), 0)},
		{"bad index", mut(func(b []byte) []byte { // first sparse index past the labels
			n := int(b[8]) | int(b[9])<<8
			b[headerLen+n] = 0xff
			return b
		})},
	}
	// A few kilobytes claiming a sparse matrix of 2^42 outputs: refused
	// before the dense matrix is allocated.
	huge := func() []byte {
		n := int(good[8]) | int(good[9])<<8
		meta := strings.Replace(string(good[headerLen:headerLen+n]), `"rows":4,"cols":4`, `"rows":4096,"cols":1073741824`, 1)
		meta = strings.Replace(meta, `"top_k":2`, `"top_k":1`, 1)
		b := append([]byte(nil), good[:headerLen]...)
		b[6] = formSparse32
		b[8], b[9], b[10], b[11] = byte(len(meta)), byte(len(meta)>>8), 0, 0
		b = append(b, meta...)
		return append(b, make([]byte, 4096*(1*8+4))...)
	}()
	if !strings.Contains(string(huge), `"cols":1073741824`) || !strings.Contains(string(huge), `"top_k":1`) {
		t.Fatalf("test set-up: metadata of the good fingerprint is not as expected: %s", huge[headerLen:200])
	}
	tests = append(tests, struct {
		name string
		data []byte
	}{"huge sparse shape", huge})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Decode(tc.data); !errors.Is(err, ErrFormat) {
				t.Errorf("Decode error = %v, want ErrFormat", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	for _, k := range []int{0, 1, 3} {
		b, err := Encode(takeTest(f, 5, 3, abc, k))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	mapped := takeTest(f, 5, 3, abc, 1)
	mapped.Meta[MetaLabelMap], mapped.Meta[MetaDefaulted] = "a=a,b=b,c=c", "labels"
	mapped.Hash = mapped.ComputeHash()
	b, err := Encode(mapped)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	remote := takeTest(f, 5, 3, abc, 0)
	remote.Meta = remoteMeta()
	remote.Model.Source = "http://x/v2/models/m"
	remote.CoverRemote() // hash rule 3
	if b, err = Encode(remote); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	ruleTwo := remote.Clone() // as lineage wrote it before hash rule 3
	ruleTwo.Meta[MetaHashRule] = HashRuleRemote
	ruleTwo.Hash = ruleTwo.ComputeHash()
	if b, err = Encode(ruleTwo); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	header := headerFixture(map[string]string{MetaLabelMap: "x=a,y=b,z=c"}) // every header field set
	if b, err = Encode(header); err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("LNFP\x01\x00\x01\x00\x02\x00\x00\x00{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fp, err := Decode(data)
		checkHeader(t, data, fp, err)
		checkVerifyEncoded(t, data, fp, err)
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		b1, err := Encode(fp)
		if err != nil {
			t.Fatalf("decoded fingerprint does not encode: %v", err)
		}
		fp2, err := Decode(b1)
		if err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !samePBits(fp.P, fp2.P) {
			t.Fatal("P changed in round trip")
		}
		b2, err := Encode(fp2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("encoding is not a fixpoint: %v", err)
		}
	})
}

// checkHeader checks DecodeHeader and SuiteOf on data against Decode's
// result fp, derr: what Decode reads, they read alike (without the
// matrix), and what they refuse, Decode refuses.
func checkHeader(t *testing.T, data []byte, fp *Fingerprint, derr error) {
	t.Helper()
	head, herr := DecodeHeader(data)
	suite, serr := SuiteOf(data)
	if serr != nil && herr == nil {
		t.Fatalf("SuiteOf refused what DecodeHeader reads: %v", serr)
	}
	if herr != nil && derr == nil {
		t.Fatalf("DecodeHeader refused what Decode reads: %v", herr)
	}
	if herr != nil {
		if !errors.Is(herr, ErrFormat) {
			t.Fatalf("DecodeHeader error %v does not wrap ErrFormat", herr)
		}
		return
	}
	if serr != nil || suite != head.Suite {
		t.Fatalf("SuiteOf = %q, %v; DecodeHeader's suite is %q", suite, serr, head.Suite)
	}
	if head.P.Data != nil {
		t.Fatal("DecodeHeader made the matrix")
	}
	if derr == nil && (head.ID != fp.ID || head.Hash != fp.Hash || head.P.Rows != fp.P.Rows || head.P.Cols != fp.P.Cols || head.TopK != fp.TopK) {
		t.Fatalf("DecodeHeader gave %+v, Decode %+v", head, fp)
	}
}

// TestDecodeIf checks that DecodeIf's check sees the header before the
// matrix is made, and that its error stops the decoding.
func TestDecodeIf(t *testing.T) {
	data, err := Encode(takeTest(t, 5, 3, abc, 1))
	if err != nil {
		t.Fatal(err)
	}
	stop := errors.New("stop")
	var seen *Fingerprint
	if _, err := DecodeIf(data, func(head *Fingerprint) error { seen = head; return stop }); err != stop {
		t.Errorf("DecodeIf = %v, want the check's error", err)
	}
	if seen == nil || seen.P.Rows != 5 || seen.P.Cols != len(abc) || seen.P.Data != nil {
		t.Errorf("the check saw %+v, want a 5×%d header without its matrix", seen, len(abc))
	}
	if fp, err := DecodeIf(data, func(*Fingerprint) error { return nil }); err != nil || len(fp.P.Data) != 5*len(abc) {
		t.Errorf("DecodeIf with a check that passes = %v, %v", fp, err)
	}
}

// TestEncodeLongMetadata checks that a fingerprint whose metadata Decode
// would refuse (a model name of 17 MiB) is not encoded: stored, it was a
// record no command could read, and report failed on the database.
func TestEncodeLongMetadata(t *testing.T) {
	fp := takeTest(t, 3, 2, abc, 0)
	fp.Model.Name = strings.Repeat("n", maxMetaLen+1<<20)
	if b, err := Encode(fp); err == nil || !strings.Contains(err.Error(), "at most 16777216 allowed") {
		_, derr := Decode(b)
		t.Errorf("Encode: error %v, want one saying at most 16777216 bytes of metadata (Decode of it: %v)", err, derr)
	}
	fp.Model.Name = strings.Repeat("n", maxMetaLen-1<<20)
	b, err := Encode(fp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(b); err != nil {
		t.Errorf("Decode of metadata under the limit: %v", err)
	}
}

// checkVerifyEncoded checks that VerifyEncoded(data) gives what Decode
// (fp, derr) and then Verify and CheckRows give, P's data apart.
func checkVerifyEncoded(t *testing.T, data []byte, fp *Fingerprint, derr error) {
	t.Helper()
	got, err := VerifyEncoded(data)
	want := derr
	if derr == nil {
		want = fp.Verify()
	}
	if want == nil {
		want = fp.CheckRows()
	}
	if (err == nil) != (want == nil) || (err != nil && err.Error() != want.Error()) {
		t.Fatalf("VerifyEncoded: error %v, want %v (Decode and Verify)", err, want)
	}
	if err != nil {
		return
	}
	if got.P.Data != nil || got.P.Rows != fp.P.Rows || got.P.Cols != fp.P.Cols {
		t.Errorf("VerifyEncoded: P %d×%d with %d values, want %d×%d with none", got.P.Rows, got.P.Cols, len(got.P.Data), fp.P.Rows, fp.P.Cols)
	}
	got.P, fp.P = blas32.General{}, blas32.General{}
	if !reflect.DeepEqual(got, fp) {
		t.Errorf("VerifyEncoded = %+v, want %+v", got, fp)
	}
}

// TestVerifyEncoded checks VerifyEncoded against Decode, Verify and
// CheckRows on every form of encoding, whole, with the hash broken, with
// a row that is not a distribution and with a sparse index out of order.
func TestVerifyEncoded(t *testing.T) {
	labels := make([]string, 70000) // over 2^16: 32-bit indices
	for i := range labels {
		labels[i] = fmt.Sprint(i)
	}
	for _, tc := range []struct {
		name   string
		labels []string
		k      int
	}{{"dense", abc, 0}, {"sparse16", abc, 1}, {"sparse32", labels, 2}} {
		fp := takeTest(t, 4, 3, tc.labels, tc.k)
		good, err := Encode(fp)
		if err != nil {
			t.Fatal(err)
		}
		if form := good[6]; (tc.k == 0) != (form == formDense) {
			t.Fatalf("%s: encoded in form %d", tc.name, form)
		}
		fp.Hash = strings.Repeat("0", 64)
		badHash, err := Encode(fp)
		if err != nil {
			t.Fatal(err)
		}
		for j := range fp.P.Cols { // row 1 sums to 3, under a hash that fits
			fp.P.Data[fp.P.Stride+j] *= 3
		}
		fp.Hash = fp.ComputeHash()
		notDist, err := Encode(fp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := VerifyEncoded(notDist); !errors.Is(err, ErrRows) || !strings.Contains(err.Error(), "row 1: row sums to 3") {
			t.Errorf("%s: VerifyEncoded of rows summing to 3: %v, want ErrRows naming row 1", tc.name, err)
		}
		cases := [][]byte{good, badHash, notDist}
		if tc.k > 0 { // the first index of the second row after the last label
			bad := slices.Clone(good)
			iw := 2 + 2*int(good[6]-formSparse16)
			at := len(bad) - 3*(tc.k*(iw+4)+4)
			binary.LittleEndian.PutUint16(bad[at:], 0xffff)
			if iw == 4 {
				binary.LittleEndian.PutUint32(bad[at:], 0xffffffff)
			}
			cases = append(cases, bad)
		}
		for i, data := range cases {
			t.Run(fmt.Sprint(tc.name, i), func(t *testing.T) {
				fp, err := Decode(data)
				checkVerifyEncoded(t, data, fp, err)
				if _, err := VerifyEncoded(data); (err == nil) != (i == 0) {
					t.Errorf("VerifyEncoded: error %v, want one for all but the first case", err)
				}
			})
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	fp := takeTest(b, 1000, 16, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(fp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	fp := takeTest(b, 1000, 16, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}, 0)
	data, _ := Encode(fp)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}
