package store

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestVerifyReportsEachDamage damages a populated store in one way per
// case, behind the API's back, and checks that Verify reports exactly that
// record with its problem: TestVerifyFindsDamage damages many records at
// once and checks only which ones are named, so a check that stopped
// firing for a damage another problem of the same record also reports
// went unseen (found by mutating the checks away one at a time).
func TestVerifyReportsEachDamage(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(tx *Tx) error
		checks  []func(*Tx) []Problem
		typ, id string
		want    string // in the problem
	}{
		{
			name: "fingerprint stored under another key",
			damage: func(tx *Tx) error {
				b := tx.tx.Bucket(bucketFPs)
				return b.Put([]byte("neg-copy"), append([]byte(nil), b.Get([]byte("neg"))...))
			},
			typ: TypeFingerprint, id: "neg-copy", want: `stored under "neg-copy" but its ID is "neg"`,
		},
		{
			name:   "enrolled teacher's fingerprint missing",
			damage: func(tx *Tx) error { return tx.tx.Bucket(bucketFPs).Delete([]byte("teacher")) },
			typ:    TypeEnrolment, id: "acme", want: `fingerprint "teacher" is missing`,
		},
		{
			name: "audit with fewer fingerprints than teachers",
			damage: func(tx *Tx) error {
				return tx.putJSON(bucketAudits, "short", AuditRecord{ID: "short", Suspect: "neg",
					Against: []string{"acme", "beta"}, Fingerprints: []string{"neg"}, Result: json.RawMessage("{}")})
			},
			typ: TypeAudit, id: "short", want: "1 fingerprints for 2 teachers",
		},
		{
			name: "answers batch that is a bucket",
			damage: func(tx *Tx) error {
				_, err := tx.tx.Bucket(bucketAnswers).Bucket([]byte("remote-1")).CreateBucket([]byte("\x00\x00\x00\x00\x00\x00\x00\x09"))
				return err
			},
			typ: TypeAnswers, id: "remote-1", want: "entry 0000000000000009 is not a numbered batch",
		},
		{
			name:   "problem of a check passed in",
			damage: func(*Tx) error { return nil },
			checks: []func(*Tx) []Problem{func(*Tx) []Problem {
				return []Problem{{Type: TypeAudit, ID: "case-1", Problem: "the check's own problem"}}
			}},
			typ: TypeAudit, id: "case-1", want: "the check's own problem",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, tempPath(t), false)
			populate(t, s)
			if err := s.Update(ctx, tt.damage); err != nil {
				t.Fatal(err)
			}
			r, err := s.Verify(ctx, tt.checks...)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Problems) != 1 {
				t.Fatalf("Verify found %d problems %+v, want 1 (%s %s: ...%s...)", len(r.Problems), r.Problems, tt.typ, tt.id, tt.want)
			}
			if p := r.Problems[0]; p.Type != tt.typ || p.ID != tt.id || !strings.Contains(p.Problem, tt.want) {
				t.Errorf("Verify found %+v, want %s %s: ...%s...", p, tt.typ, tt.id, tt.want)
			}
		})
	}
}
