package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/probe"
)

// TestDecodeSuiteKinds refuses a suite whose kinds do not match its probes:
// the canonical hash length-prefixes kinds and labels but not their
// counts, so only that check keeps two suites from sharing a hash.
func TestDecodeSuiteKinds(t *testing.T) {
	su := newTestSuite("s", 4, 3, 1)
	su.Kinds = append(su.Kinds, probe.Kind(su.Labels[0]))
	su.Labels = su.Labels[1:]
	b, err := EncodeSuite(su)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeSuite(b); err == nil || !strings.Contains(err.Error(), "5 probe kinds for 4 probes") {
		t.Errorf("DecodeSuite of 5 kinds for 4 probes: error = %v", err)
	}
}

// TestSuitePrefix checks that a suite can be named by a prefix of its hash
// (reports print 12 digits), that a prefix must be long enough and name
// one suite, and that names are looked up first.
func TestSuitePrefix(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	su, err := s.Suite(ctx, "acme-suite")
	if err != nil {
		t.Fatal(err)
	}
	// A second key sharing the first 10 digits: SHA-256 will not make one.
	twin := su.Hash[:10] + strings.Repeat("0", len(su.Hash)-10)
	if twin == su.Hash {
		twin = su.Hash[:10] + strings.Repeat("1", len(su.Hash)-10)
	}
	if err := s.Update(ctx, func(tx *Tx) error {
		return tx.tx.Bucket(bucketSuites).Put([]byte(twin), tx.tx.Bucket(bucketSuites).Get([]byte(su.Hash)))
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		ref     string
		want    string // the hash resolved, "" for an error
		wantErr error
	}{
		{"acme-suite", su.Hash, nil},
		{su.Hash, su.Hash, nil},
		{su.Hash[:12], su.Hash, nil},
		{su.Hash[:MinSuitePrefix-1], "", ErrNotFound},
		{su.Hash[:10], "", ErrAmbiguous},
		{strings.ToUpper(su.Hash[:12]), "", ErrNotFound},
		{"ffffffffffff", "", ErrNotFound},
	}
	for _, tt := range tests {
		var got string
		err := s.View(ctx, func(tx *Tx) (err error) {
			got, err = tx.SuiteHash(tt.ref)
			if err == nil {
				var su2 *probe.Suite
				if su2, err = tx.Suite(tt.ref); err == nil && su2.Hash != got {
					t.Errorf("Suite(%q).Hash = %s, SuiteHash %s", tt.ref, su2.Hash, got)
				}
			}
			return err
		})
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("SuiteHash(%q) = %q, %v; want error %v", tt.ref, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SuiteHash(%q) = %q, %v; want %q", tt.ref, got, err, tt.want)
		}
	}
}

// TestSuiteNameLikeHash: a suite name that is also the start of another
// suite's hash is ambiguous (it resolved to the named suite, so probe
// --suite and db rm suite took the one not listed under that prefix),
// and one that starts only its own suite's hash is not.
func TestSuiteNameLikeHash(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	su, err := s.Suite(ctx, "acme-suite")
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("f", len(su.Hash)) // a second suite, of another hash
	if err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.tx.Bucket(bucketSuites).Put([]byte(other), tx.tx.Bucket(bucketSuites).Get([]byte(su.Hash))); err != nil {
			return err
		}
		names := tx.tx.Bucket(bucketNames)
		if err := names.Put([]byte(su.Hash[:12]), []byte(other)); err != nil {
			return err
		}
		return names.Put([]byte(other[:9]), []byte(other))
	}); err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error {
		if got, err := tx.SuiteHash(su.Hash[:12]); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "it is the name of suite ffffffffffff and the start of suite "+su.Hash[:12]+"'s hash") {
			t.Errorf("SuiteHash of a name starting another suite's hash = %q, %v; want ErrAmbiguous naming both", got, err)
		}
		if got, err := tx.SuiteHash(other[:9]); err != nil || got != other {
			t.Errorf("SuiteHash of a name starting its own suite's hash = %q, %v; want %s", got, err, other)
		}
		if got, ok := tx.SuiteHashStarting(su.Hash[:8]); !ok || got != su.Hash {
			t.Errorf("SuiteHashStarting(%s) = %q, %v", su.Hash[:8], got, ok)
		}
		if _, ok := tx.SuiteHashStarting(su.Hash[:7]); ok {
			t.Errorf("SuiteHashStarting of %d digits found a suite", MinSuitePrefix-1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
