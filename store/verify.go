package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
)

// Problem is one inconsistency Verify found: the record type (or "bbolt"
// for structural problems), its key and what is wrong.
type Problem struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Problem string `json:"problem"`
}

// Report is Verify's result: how many records of each type were checked
// and the problems found (none means the store is consistent).
type Report struct {
	Counts   map[string]int `json:"counts"`
	Problems []Problem      `json:"problems"`
}

// OK reports whether no problems were found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify checks the store without modifying it: bbolt's own consistency
// check (pages, freelist, key order), then that every suite decodes and
// its hash recomputes, every name index entry points at a stored suite,
// every fingerprint decodes and its hash matches, every enrolment's suite
// and fingerprints exist, and every audit's suspect exists. Problems go in
// the Report; the error is for failures to run the check at all.
func (s *Store) Verify(ctx context.Context) (Report, error) {
	r := Report{Counts: map[string]int{}, Problems: []Problem{}}
	bad := func(typ, id, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Type: typ, ID: id, Problem: fmt.Sprintf(format, args...)})
	}
	err := s.View(ctx, func(tx *Tx) error {
		for err := range tx.tx.Check() {
			bad("bbolt", "", "%v", err)
		}
		if !r.OK() {
			return nil // records may be unreadable; stop at structural damage
		}
		suites := tx.tx.Bucket(bucketSuites)
		suites.ForEach(func(k, v []byte) error {
			r.Counts[TypeSuite]++
			su, err := DecodeSuite(v)
			if err != nil {
				bad(TypeSuite, string(k), "%v", err)
				return nil
			}
			if h := probe.CanonicalHash(su.X, su.Kinds, su.Labels); h != string(k) || su.Hash != h {
				bad(TypeSuite, string(k), "content hashes to %.12s", h)
			}
			return ctx.Err()
		})
		tx.tx.Bucket(bucketNames).ForEach(func(k, v []byte) error {
			if suites.Get(v) == nil {
				bad(TypeSuite, string(k), "name points at missing suite %.12s", v)
			}
			return nil
		})
		tx.tx.Bucket(bucketFPs).ForEach(func(k, v []byte) error {
			r.Counts[TypeFingerprint]++
			fp, err := fingerprint.Decode(v)
			switch {
			case err != nil:
				bad(TypeFingerprint, string(k), "%v", err)
			case fp.ID != string(k):
				bad(TypeFingerprint, string(k), "stored under %q but its ID is %q", k, fp.ID)
			default:
				if err := fp.Verify(); err != nil {
					bad(TypeFingerprint, string(k), "%v", err)
				}
			}
			return ctx.Err()
		})
		tx.tx.Bucket(bucketEnrol).ForEach(func(k, v []byte) error {
			r.Counts[TypeEnrolment]++
			var e Enrolment
			if err := json.Unmarshal(v, &e); err != nil {
				bad(TypeEnrolment, string(k), "undecodable: %v", err)
				return nil
			}
			if suites.Get([]byte(e.Suite)) == nil {
				bad(TypeEnrolment, string(k), "suite %.12s is missing", e.Suite)
			}
			fps := []string{e.TeacherFP}
			for _, c := range e.Controls {
				fps = append(fps, c.FP)
			}
			for _, id := range fps {
				if !tx.HasFingerprint(id) {
					bad(TypeEnrolment, string(k), "fingerprint %q is missing", id)
				}
			}
			return nil
		})
		tx.tx.Bucket(bucketAudits).ForEach(func(k, v []byte) error {
			r.Counts[TypeAudit]++
			var a AuditRecord
			if err := json.Unmarshal(v, &a); err != nil {
				bad(TypeAudit, string(k), "undecodable: %v", err)
			} else if !tx.HasFingerprint(a.Suspect) {
				bad(TypeAudit, string(k), "suspect fingerprint %q is missing", a.Suspect)
			}
			return nil
		})
		tx.tx.Bucket(bucketAnswers).ForEachBucket(func(k []byte) error {
			r.Counts[TypeAnswers]++
			return nil
		})
		return ctx.Err()
	})
	return r, err
}
