package fingerprint

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// oldEncoded is fixedFingerprint as Encode wrote it before Fingerprint's
// JSON said "elapsed_s": its metadata holds "elapsed":1500000007.
const oldEncoded = "TE5GUAEAAAAYAQAAeyJpZCI6ImFjbWUvY29udHJvbC0wMSIsInN1aXRlIjoiNWUxNyIsIm1vZGVsIjp7Im5hbWUiOiJtIiwia2luZCI6IiIsImlucHV0X3NpemUiOjAsImxhYmVscyI6WyJhIiwiYiJdLCJwYXJhbXMiOjMsImhhc2giOiJhYiJ9LCJxdWVyaWVzIjoyLCJlbGFwc2VkIjoxNTAwMDAwMDA3LCJtZXRhIjp7ImVuZHBvaW50IjoibG9jYWwifSwiaGFzaCI6IjRmMjM3ODE2OTE5YTZhOTYyMDBjOTFmMWZmOTI3MDI1MjY2ZDI3ZTZlZDZiNWE2Mjg5YzUxNDJkOWQ2ZDY5NDUiLCJyb3dzIjoyLCJjb2xzIjoyfQAAgD4AAEA/AACAPwAAAAA="

func fixedFingerprint() *Fingerprint {
	fp := &Fingerprint{ID: "acme/control-01", Suite: "5e17", Model: model.Info{Name: "m", Labels: []string{"a", "b"}, Params: 3, Hash: "ab"},
		P: blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{0.25, 0.75, 1, 0}}, Queries: 2,
		Elapsed: 1500*time.Millisecond + 7, Meta: map[string]string{"endpoint": "local"}}
	fp.Hash = fp.ComputeHash()
	return fp
}

// TestEncodeBytesUnchanged checks that the binary encoding, which the store
// keeps and exports and compares byte for byte, is what it was before the
// JSON form changed: Elapsed still in nanoseconds under "elapsed", so
// stored fingerprints and old exports stay equal to new ones; and that the
// content hash does not cover Elapsed.
func TestEncodeBytesUnchanged(t *testing.T) {
	fp := fixedFingerprint()
	want, err := base64.StdEncoding.DecodeString(oldEncoded)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Encode(fp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Encode:\n%q\nwant\n%q", got, want)
	}
	dec, err := Decode(want)
	if err != nil {
		t.Fatal(err)
	}
	if dec.Elapsed != fp.Elapsed || dec.Queries != 2 || dec.Meta["endpoint"] != "local" {
		t.Errorf("Decode: Elapsed %v, Queries %d, Meta %v; want %v, 2, endpoint local", dec.Elapsed, dec.Queries, dec.Meta, fp.Elapsed)
	}
	if err := dec.Verify(); err != nil {
		t.Errorf("Verify: %v", err)
	}
	dec.Elapsed = time.Hour
	if h := dec.ComputeHash(); h != fp.Hash {
		t.Errorf("hash %s with another Elapsed, want %s", h, fp.Hash)
	}
}

// TestHeaderMatchesFingerprint checks that the binary metadata lists
// Fingerprint's fields, with the same tags, in the same order (but P,
// not in it, and Elapsed, in nanoseconds under "elapsed"), then rows and
// cols; and that the JSON form does too (Elapsed as "elapsed_s", and the
// old "elapsed" it only reads): a field added to Fingerprint but not to
// them would be silently lost.
func TestHeaderMatchesFingerprint(t *testing.T) {
	var names []string
	ft := reflect.TypeOf(Fingerprint{})
	for i := 0; i < ft.NumField(); i++ {
		f := ft.Field(i)
		switch f.Name {
		case "P":
		case "Elapsed":
			names = append(names, "Elapsed elapsed")
		default:
			names = append(names, f.Name+" "+f.Tag.Get("json"))
		}
	}
	list := func(v any) []string {
		var out []string
		typ := reflect.TypeOf(v)
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			out = append(out, f.Name+" "+f.Tag.Get("json"))
		}
		return out
	}
	if got, want := list(header{}), append(names, "Rows rows", "Cols cols"); !reflect.DeepEqual(got, want) {
		t.Errorf("header fields\n%q\nwant\n%q", got, want)
	}
	var jsonNames []string
	for _, n := range names {
		if n == "Elapsed elapsed" {
			n = "ElapsedS elapsed_s"
			jsonNames = append(jsonNames, n, "OldElapsed elapsed,omitempty")
			continue
		}
		jsonNames = append(jsonNames, n)
	}
	if got := list(fingerprintJSON{}); !reflect.DeepEqual(got, jsonNames) {
		t.Errorf("fingerprintJSON fields\n%q\nwant\n%q", got, jsonNames)
	}
}

// TestFingerprintJSON checks that a fingerprint's JSON says how long it
// took in seconds, "elapsed_s", as every other lineage output does (it was
// "elapsed", in nanoseconds with no unit), exact to the nanosecond, and
// that JSON written with the old field still reads.
func TestFingerprintJSON(t *testing.T) {
	fp := fixedFingerprint()
	b, err := json.Marshal(fp)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"acme/control-01","suite":"5e17","model":{"name":"m","kind":"","input_size":0,"labels":["a","b"],"params":3,"hash":"ab"},"queries":2,"elapsed_s":1.500000007,"meta":{"endpoint":"local"},"hash":"` + fp.Hash + `"}`
	if string(b) != want {
		t.Errorf("Marshal:\n%s\nwant\n%s", b, want)
	}
	var got Fingerprint
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Elapsed != fp.Elapsed || got.ID != fp.ID || got.Hash != fp.Hash || got.Queries != 2 || !reflect.DeepEqual(got.Model, fp.Model) {
		t.Errorf("round trip: %+v, want %+v", got, fp)
	}
	for _, tt := range []struct {
		in   string
		want time.Duration
	}{
		{`{"id":"x","elapsed":1500000007}`, 1500*time.Millisecond + 7}, // written before elapsed_s
		{`{"id":"x","elapsed_s":2}`, 2 * time.Second},
		{`{"id":"x","elapsed_s":0.25}`, 250 * time.Millisecond},
		{`{"id":"x","elapsed_s":1.5e-3}`, 1500 * time.Microsecond},
		{`{"id":"x","elapsed_s":1.0000000004}`, time.Second}, // beyond a nanosecond: rounded
		{`{"id":"x","elapsed_s":-0.5}`, -500 * time.Millisecond},
		{`{"id":"x"}`, 0},
	} {
		var fp Fingerprint
		if err := json.Unmarshal([]byte(tt.in), &fp); err != nil || fp.Elapsed != tt.want {
			t.Errorf("Unmarshal(%s): Elapsed %v, %v; want %v", tt.in, fp.Elapsed, err, tt.want)
		}
	}
	for _, in := range []string{`{"id":"x","elapsed_s":1e10}`, `{"id":"x","elapsed_s":-9223372037}`, `{"id":"x","elapsed_s":"soon"}`} {
		var fp Fingerprint
		if err := json.Unmarshal([]byte(in), &fp); err == nil {
			t.Errorf("Unmarshal(%s): Elapsed %v, want an error", in, fp.Elapsed)
		}
	}
}

// TestSeconds checks the seconds Elapsed is written as, at the edges of
// time.Duration's range too.
func TestSeconds(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0"},
		{1, "0.000000001"},
		{-1, "-0.000000001"},
		{time.Second, "1"},
		{90*time.Minute + 250*time.Millisecond, "5400.25"},
		{math.MaxInt64, "9223372036.854775807"},
		{math.MinInt64, "-9223372036.854775808"},
	} {
		if got := seconds(tt.d); got != tt.want {
			t.Errorf("seconds(%d) = %s, want %s", int64(tt.d), got, tt.want)
		}
		if back, err := durationOf(tt.want); err != nil || back != tt.d {
			t.Errorf("durationOf(%s) = %d, %v; want %d", tt.want, int64(back), err, int64(tt.d))
		}
	}
}

// FuzzElapsedJSON checks that any Elapsed survives the JSON round trip
// exactly, and is written as a JSON number that parses to its seconds.
func FuzzElapsedJSON(f *testing.F) {
	f.Add(int64(0))
	f.Add(int64(1500000007))
	f.Add(int64(math.MaxInt64))
	f.Add(int64(math.MinInt64))
	f.Fuzz(func(t *testing.T, ns int64) {
		b, err := json.Marshal(Fingerprint{ID: "x", Elapsed: time.Duration(ns)})
		if err != nil {
			t.Fatal(err)
		}
		var got Fingerprint
		if err := json.Unmarshal(b, &got); err != nil || got.Elapsed != time.Duration(ns) {
			t.Fatalf("Elapsed %d via %s: got %d, %v", ns, b, int64(got.Elapsed), err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		s, ok := m["elapsed_s"].(float64)
		if want := time.Duration(ns).Seconds(); !ok || math.Abs(s-want) > 1e-15*math.Abs(want) {
			t.Errorf("elapsed_s %v in %s, want %v", m["elapsed_s"], b, want)
		}
		if strings.Contains(string(b), `"elapsed":`) {
			t.Errorf("%s holds the old field", b)
		}
	})
}
