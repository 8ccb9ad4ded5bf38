package store

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		want string // "" for valid
	}{
		{"acme/teacher-1", ""},
		{"ünïcode", ""},
		{"", `teacher has an empty name`},
		{"bad\xffname", `teacher name "bad\xffname" is not valid UTF-8`},
		{"tab\there", `teacher name "tab\there" contains a control character`},
		{strings.Repeat("x", 1025), "teacher name is 1025 bytes long, at most 1024 allowed"},
	}
	for _, tc := range tests {
		err := CheckName("teacher", tc.name)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestCheckNewName checks the rules for a name chosen on the command line:
// CheckName's, and no leading '-', no white space at either end, no
// invisible character; the characters every output format escapes pass.
func TestCheckNewName(t *testing.T) {
	tests := []struct {
		name string
		want string // "" for valid
	}{
		{"acme/teacher-1", ""},
		{`vendor/model "b", v2 | x@y`, ""},
		{"中文 模型", ""},
		{"a-", ""},
		{"", `fingerprint has an empty name`},
		{"tab\there", `fingerprint name "tab\there" contains a control character`},
		{"-lead", `fingerprint name "-lead" starts with '-', which the command line reads as a flag`},
		{" x", `fingerprint name " x" starts or ends with white space`},
		{"x\u00a0", `fingerprint name "x\u00a0" starts or ends with white space`},
		{" ", `fingerprint name " " starts or ends with white space`},
		{"rtl\u202eevil", `fingerprint name "rtl\u202eevil" contains the invisible character U+202E`},
		{"zero\u200bwidth", `fingerprint name "zero\u200bwidth" contains the invisible character U+200B`},
		{"line\u2028sep", `fingerprint name "line\u2028sep" contains the invisible character U+2028`},
	}
	for _, tc := range tests {
		err := CheckNewName("fingerprint", tc.name)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("CheckNewName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestJoinNames(t *testing.T) {
	for _, tt := range []struct {
		names []string
		sep   string
		want  string
	}{
		{nil, ",", ""},
		{[]string{"acme"}, ",", "acme"},
		{[]string{"a", "b"}, ",", "a,b"},
		{[]string{"a,b"}, ",", `"a,b"`},
		{[]string{"x", "x,y", "y"}, ", ", `x, "x,y", y`},
		{[]string{`q"t`, "a b"}, ",", `"q""t",a b`},
	} {
		if got := JoinNames(tt.names, tt.sep); got != tt.want {
			t.Errorf("JoinNames(%q, %q) = %q, want %q", tt.names, tt.sep, got, tt.want)
		}
	}
}

// TestReplaceFingerprintMeta checks that storing a fingerprint with the
// stored one's outputs but other Meta keeps the stored one, unless
// Replace: then the new measurements are taken, even for a fingerprint an
// audit uses, since its outputs, the audit's evidence, are the same.
func TestReplaceFingerprintMeta(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s) // "suspect" is used by the audit case-1
	var fp *fingerprint.Fingerprint
	if err := s.View(ctx, func(tx *Tx) (err error) { fp, err = tx.Fingerprint("suspect"); return err }); err != nil {
		t.Fatal(err)
	}
	measured := *fp
	measured.Meta = map[string]string{fingerprint.MetaRemote: "http", fingerprint.MetaVariation: "0"}
	for _, tt := range []struct {
		replace bool
		want    map[string]string
	}{
		{false, fp.Meta},
		{true, measured.Meta},
	} {
		err := s.Update(ctx, func(tx *Tx) error { return tx.PutFingerprint(&measured, PutOptions{Replace: tt.replace}) })
		if err != nil {
			t.Fatalf("replace %v: %v", tt.replace, err)
		}
		var got *fingerprint.Fingerprint
		if err := s.View(ctx, func(tx *Tx) (err error) { got, err = tx.Fingerprint("suspect"); return err }); err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got.Meta, tt.want) {
			t.Errorf("replace %v: stored meta %v, want %v", tt.replace, got.Meta, tt.want)
		}
	}
	// Other outputs are still refused for a fingerprint an audit uses.
	other := newTestFP("suspect", newTestSuite("acme-suite", 20, 4, 1), 99)
	err := s.Update(ctx, func(tx *Tx) error { return tx.PutFingerprint(other, PutOptions{Replace: true}) })
	var iu *InUseError
	if !errors.As(err, &iu) {
		t.Errorf("replacing an audited fingerprint's outputs: %v, want an InUseError", err)
	}
}

// TestReadsCheckHashes checks that a fingerprint or suite whose content no
// longer hashes to its stored hash is refused where it is read, as db
// verify reports it, not used (an audit on a damaged fingerprint gave
// another p-value, exit 0).
func TestReadsCheckHashes(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	var suite string
	err := s.Update(ctx, func(tx *Tx) error {
		fp, err := tx.Fingerprint("neg")
		if err != nil {
			return err
		}
		suite = fp.Suite
		for _, kv := range []struct{ bucket, key []byte }{{bucketFPs, []byte("neg")}, {bucketSuites, []byte(suite)}} {
			old := tx.tx.Bucket(kv.bucket).Get(kv.key)
			bad := append([]byte(nil), old...)
			bad[len(bad)-1] ^= 0x40 // flip a bit of the last number
			if err := tx.tx.Bucket(kv.bucket).Put(kv.key, bad); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		if _, err := tx.Fingerprint("neg"); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), `fingerprint "neg"`) {
			t.Errorf("damaged fingerprint: error %v, want ErrCorrupt naming it", err)
		}
		if _, err := tx.Suite(suite); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "hashes to") {
			t.Errorf("damaged suite: error %v, want ErrCorrupt saying so", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
