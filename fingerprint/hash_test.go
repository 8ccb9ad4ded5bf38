package fingerprint

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// hashFixture is a fingerprint written out in full, whose hash is pinned.
func hashFixture(topK int, meta map[string]string) *Fingerprint {
	return &Fingerprint{ID: "x", Suite: "suite", Model: model.Info{Name: "m", Hash: "mh"}, TopK: topK,
		P:    blas32.General{Rows: 2, Cols: 3, Stride: 3, Data: []float32{0.5, 0.25, 0.25, 0.1, 0.2, 0.7}},
		Meta: meta}
}

// TestHashPinned pins ComputeHash on fingerprints holding no meta key it
// covers (the hashes lineage computed before it covered any): every
// stored record without those keys keeps its hash, so old stores verify
// and export and import byte for byte as they did.
func TestHashPinned(t *testing.T) {
	other := map[string]string{MetaRemote: "url", "source": "http://x", "requests": "7", MetaVariation: "0"}
	tests := []struct {
		name string
		fp   *Fingerprint
		want string
	}{
		{"no meta", hashFixture(0, nil), "1396725a215aead7972ca4511789663fab5163af53a8c5dd1f79ac245b5a59d9"},
		{"meta not covered", hashFixture(0, other), "1396725a215aead7972ca4511789663fab5163af53a8c5dd1f79ac245b5a59d9"},
		{"top-k", hashFixture(1, other), "79b47d2c1c48b612ad8577c1ca7adc9a25c7958e275f55120fb34e3064b0ee1b"},
	}
	for _, tt := range tests {
		if got := tt.fp.ComputeHash(); got != tt.want {
			t.Errorf("%s: ComputeHash = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestSameAnswers checks that the same answers to the same suite are the
// same whatever model they are recorded as coming from (a remote model's
// hash is unknown) and whatever Meta records, and that other answers, or
// answers to another suite, are not.
func TestSameAnswers(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Fingerprint)
		want bool
	}{
		{"itself", func(*Fingerprint) {}, true},
		{"read from a server", func(fp *Fingerprint) { fp.Model.Hash, fp.Meta = "", remoteMeta(); fp.CoverRemote() }, true},
		{"label map and defaults recorded", func(fp *Fingerprint) {
			fp.Meta = map[string]string{MetaLabelMap: "a=a", MetaDefaulted: "labels"}
		}, true},
		{"top-k recorded", func(fp *Fingerprint) { fp.TopK = 2 }, true},
		{"in another layout", func(fp *Fingerprint) {
			fp.P = blas32.General{Rows: 2, Cols: 3, Stride: 4, Data: []float32{0.5, 0.25, 0.25, 9, 0.1, 0.2, 0.7}}
		}, true},
		{"an answer differs", func(fp *Fingerprint) { fp.P.Data[5] = 0.6 }, false},
		{"another shape", func(fp *Fingerprint) { fp.P = blas32.General{Rows: 3, Cols: 2, Stride: 2, Data: fp.P.Data} }, false},
		{"another suite", func(fp *Fingerprint) { fp.Suite = "other" }, false},
	}
	for _, tt := range tests {
		a, b := hashFixture(0, nil), hashFixture(0, nil)
		tt.edit(b)
		if got := a.SameAnswers(b); got != tt.want {
			t.Errorf("%s: a.SameAnswers(b) = %v, want %v", tt.name, got, tt.want)
		}
		if got := b.SameAnswers(a); got != tt.want {
			t.Errorf("%s: b.SameAnswers(a) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestHashMeta checks that the hash covers MetaLabelMap and MetaDefaulted
// (present, absent, empty and each value tell apart) and, without
// MetaHashRule (TestHashRemoteMeta), nothing else of Meta, and that Verify and VerifyEncoded refuse a record whose covered
// meta was changed after it was hashed, one line naming it.
func TestHashMeta(t *testing.T) {
	base := hashFixture(0, nil).ComputeHash()
	seen := map[string]string{base: "none"}
	for _, meta := range []map[string]string{
		{MetaLabelMap: "a=0,b=1,c=2"},
		{MetaLabelMap: "a=1,b=0,c=2"},
		{MetaLabelMap: ""},
		{MetaDefaulted: "labels"},
		{MetaDefaulted: "labels,normalization"},
		{MetaDefaulted: ""},
		{MetaDefaulted: "labels", MetaLabelMap: "a=0,b=1,c=2"},
		// A key and value must not read as another's.
		{MetaDefaulted: "label_map"},
	} {
		h := hashFixture(0, meta).ComputeHash()
		if prev, ok := seen[h]; ok {
			t.Errorf("meta %v hashes as %s does (%s)", meta, prev, h)
		}
		seen[h] = strings.TrimSpace(strings.Join([]string{meta[MetaLabelMap], meta[MetaDefaulted]}, " "))
		withOther := hashFixture(0, map[string]string{"requests": "9", MetaRemote: "exec"})
		for k, v := range meta {
			withOther.Meta[k] = v
		}
		if got := withOther.ComputeHash(); got != h {
			t.Errorf("meta %v plus keys not covered: hash %s, want %s", meta, got, h)
		}
	}

	edits := []struct {
		name string
		edit func(map[string]string)
	}{
		{"label map changed", func(m map[string]string) { m[MetaLabelMap] = "a=1,b=0,c=2" }},
		{"label map removed", func(m map[string]string) { delete(m, MetaLabelMap) }},
		{"defaulted removed", func(m map[string]string) { delete(m, MetaDefaulted) }},
		{"defaulted emptied", func(m map[string]string) { m[MetaDefaulted] = "" }},
	}
	for _, tt := range edits {
		t.Run(tt.name, func(t *testing.T) {
			fp := hashFixture(0, map[string]string{MetaLabelMap: "a=0,b=1,c=2", MetaDefaulted: "labels", "requests": "3"})
			fp.Hash = fp.ComputeHash()
			tt.edit(fp.Meta)
			checkVerifyRefused(t, fp)
		})
	}
	fp := hashFixture(0, map[string]string{MetaLabelMap: "a=0,b=1,c=2", "requests": "3"})
	fp.Hash = fp.ComputeHash()
	fp.Meta["requests"] = "4"
	if err := fp.Verify(); err != nil {
		t.Errorf("a count changed: Verify = %v, want nil (counts are not covered)", err)
	}
}

// TestHashMetaOlder checks the error for a record hashed before the hash
// covered its meta (stored hash = its outputs' alone): it says the hash
// leaves out the key, not only that it mismatches.
func TestHashMetaOlder(t *testing.T) {
	fp := hashFixture(0, nil)
	fp.Hash = fp.ComputeHash()
	fp.Meta = map[string]string{MetaLabelMap: "a=0,b=1,c=2"}
	err := fp.Verify()
	if want := "the stored hash does not cover its recorded label_map"; !errors.Is(err, ErrHash) || !strings.Contains(err.Error(), want) {
		t.Errorf("Verify: got %v, want ErrHash saying %q", err, want)
	}
	fp.P.Data[0], fp.P.Data[1] = 0.25, 0.5 // and the outputs changed too
	if err := fp.Verify(); !errors.Is(err, ErrHash) || strings.Contains(err.Error(), "does not cover") {
		t.Errorf("Verify with the outputs changed: got %v, want ErrHash without the note", err)
	}
}

// TestRecordError checks that Verify's and CheckRows' errors are a
// *RecordError naming the fingerprint once, its Err the problem alone
// (wrapping ErrHash or ErrRows), for a caller naming the record already.
func TestRecordError(t *testing.T) {
	hashed := hashFixture(0, nil)
	hashed.Hash = hashed.ComputeHash()
	hashed.Hash = strings.Repeat("0", len(hashed.Hash))
	rows := hashFixture(0, nil)
	rows.P.Data[0] += 0.5
	rows.Hash = rows.ComputeHash()
	for _, tt := range []struct {
		name string
		err  error
		is   error
	}{
		{"Verify", hashed.Verify(), ErrHash},
		{"CheckRows", rows.CheckRows(), ErrRows},
	} {
		var re *RecordError
		if !errors.As(tt.err, &re) || re.ID != "x" || !errors.Is(tt.err, tt.is) || !errors.Is(re.Err, tt.is) {
			t.Errorf("%s: %v, want a *RecordError of \"x\" wrapping %v", tt.name, tt.err, tt.is)
			continue
		}
		if n := strings.Count(tt.err.Error(), `"x"`); n != 1 || strings.Contains(re.Err.Error(), `"x"`) {
			t.Errorf("%s: %q names the fingerprint %d times, its problem %q: want once, and not in the problem", tt.name, tt.err, n, re.Err)
		}
	}
}

// checkVerifyRefused checks that fp, whose content no longer matches its
// hash, fails Verify in one line wrapping ErrHash and naming fingerprint
// "x", and that VerifyEncoded of its encoding fails the same way; it
// returns Verify's error.
func checkVerifyRefused(t *testing.T, fp *Fingerprint) error {
	t.Helper()
	err := fp.Verify()
	if !errors.Is(err, ErrHash) || !strings.Contains(err.Error(), `fingerprint "x"`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("Verify: got %v, want one line wrapping ErrHash naming fingerprint \"x\"", err)
	}
	data, eerr := Encode(fp)
	if eerr != nil {
		t.Fatal(eerr)
	}
	if _, verr := VerifyEncoded(data); verr == nil || err == nil || verr.Error() != err.Error() {
		t.Errorf("VerifyEncoded: got %v, want Verify's %v", verr, err)
	}
	return err
}
