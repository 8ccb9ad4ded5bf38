package store

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
)

// TestDamagedRecordKeepsSuiteUsed checks that a fingerprint or enrolment
// record too damaged to decode still counts as using the suite its
// "suite" field names (UnusedSuites skipped it, calling that suite unused,
// and a purge or db rm suite would have removed it), and that one damaged
// past that field leaves no suite called unused and keeps every suite.
func TestDamagedRecordKeepsSuiteUsed(t *testing.T) {
	su, other := newTestSuite("", 20, 4, 2), newTestSuite("", 20, 4, 3)
	fp, err := fingerprint.Encode(newTestFP("tt", su, 2))
	if err != nil {
		t.Fatal(err)
	}
	// Broken JSON in the metadata: SuiteOf fails, the suite field stays.
	damagedFP := bytes.Replace(fp, []byte(`"model":{`), []byte(`"model":[`), 1)
	enrol := []byte(`{"name":"acme","teacher_fp":"acme/teacher","suite":"` + su.Hash + `","teacher":{`) // cut short
	tests := []struct {
		name       string
		fps, enrol map[string][]byte
		wantUnused []string
		wantUsers  []string // of su
	}{
		{"decodable", map[string][]byte{"tt": fp}, nil, []string{other.Hash}, []string{"fingerprint tt"}},
		{"damaged fingerprint", map[string][]byte{"tt": damagedFP}, nil, []string{other.Hash}, []string{"damaged fingerprint tt"}},
		{"damaged enrolment", nil, map[string][]byte{"acme": enrol}, []string{other.Hash}, []string{"damaged enrolment acme"}},
		{"unreadable fingerprint", map[string][]byte{"tt": []byte("junk")}, nil, nil, []string{"damaged fingerprint tt"}},
	}
	for _, tt := range tests {
		s := openTest(t, tempPath(t), false)
		err := s.Update(ctx, func(tx *Tx) error {
			if err := tx.PutSuite(su); err != nil {
				return err
			}
			if err := tx.PutSuite(other); err != nil {
				return err
			}
			for k, v := range tt.fps {
				if err := tx.tx.Bucket(bucketFPs).Put([]byte(k), v); err != nil {
					return err
				}
			}
			for k, v := range tt.enrol {
				if err := tx.tx.Bucket(bucketEnrol).Put([]byte(k), v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var unused []string
		s.View(ctx, func(tx *Tx) error { unused = tx.UnusedSuites(); return nil })
		if !slices.Equal(unused, tt.wantUnused) {
			t.Errorf("%s: UnusedSuites = %q, want %q", tt.name, unused, tt.wantUnused)
		}
		err = s.Remove(ctx, TypeSuite, su.Hash, RemoveOptions{})
		var inUse *InUseError
		if !errors.As(err, &inUse) || !slices.Equal(inUse.By, tt.wantUsers) {
			t.Errorf("%s: remove suite: %v, want in use by %q", tt.name, err, tt.wantUsers)
		}
		s.Close()
	}
}

// FuzzSuiteFields checks that suiteFields never panics and returns only
// suite hashes that a "suite" field of v shows.
func FuzzSuiteFields(f *testing.F) {
	f.Add([]byte(`{"id":"x","suite":"` + strings.Repeat("ab", 32) + `","model":[`))
	f.Add([]byte(`"suite":"` + strings.Repeat("0", 64)))
	f.Fuzz(func(t *testing.T, v []byte) {
		for _, h := range suiteFields(v) {
			if len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" || !bytes.Contains(v, []byte(`"suite":"`+h+`"`)) {
				t.Errorf("suiteFields(%q) gave %q", v, h)
			}
		}
	})
}
