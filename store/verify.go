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
// every fingerprint decodes, its hash matches and its suite is stored with
// as many probes and labels as it has outputs, every enrolment and audit is
// stored under its own name, every enrolment's suite and fingerprints exist
// and its controls have valid roles, every audit's suspect exists, and the
// answers of every job are numbered batches (their content is checked by
// the job that replays them). Each of checks then adds the problems it
// finds in the same transaction (what other packages own in the records,
// e.g. audit.CheckRecords); like the record checks, they do not run on a
// file whose pages are damaged. Problems go in the Report; the error is
// for failures to run the check at all.
func (s *Store) Verify(ctx context.Context, checks ...func(*Tx) []Problem) (Report, error) {
	r := Report{Counts: map[string]int{}, Problems: []Problem{}}
	bad := func(typ, id, format string, args ...any) {
		r.Problems = append(r.Problems, Problem{Type: typ, ID: id, Problem: fmt.Sprintf(format, args...)})
	}
	// bbolt's Check walks the pages in a goroutine of its own, where a
	// wild page id is an unrecoverable fault; Open has walked the page tree
	// already (checkPages), so Check only meets pages known to be sound.
	damaged, txid, err := damagedMeta(s.path)
	if err != nil {
		return r, err
	}
	if damaged {
		// bbolt's Check asserts on a damaged meta page; the page tree was
		// walked at Open, so the records are checked all the same.
		bad("bbolt", "", "one of the two meta pages is damaged: the store reads as of transaction %d, "+
			"so when the damaged page was the newer, the last commit before the damage is lost "+
			"(the next write replaces the damaged page)", txid)
	}
	err = s.View(ctx, func(tx *Tx) error {
		if !damaged {
			for err := range tx.tx.Check() {
				bad("bbolt", "", "%v", err)
			}
		}
		if !r.OK() && !damaged {
			return nil // records may be unreadable; stop at structural damage
		}
		suites := tx.tx.Bucket(bucketSuites)
		shapes := map[string][2]int{} // suite hash → probes, labels
		inputs := map[string]int{}    // suite hash → inputs per probe
		suites.ForEach(func(k, v []byte) error {
			r.Counts[TypeSuite]++
			su, err := DecodeSuite(v)
			if err != nil {
				bad(TypeSuite, string(k), "%v", err)
				return nil
			}
			if h := probe.CanonicalHash(su.X, su.Kinds, su.Labels); h != string(k) || su.Hash != h {
				bad(TypeSuite, string(k), "content hashes to %.12s", h)
				return nil
			}
			shapes[string(k)] = [2]int{su.Len(), len(su.Labels)}
			inputs[string(k)] = su.X.Cols
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
			fp, err := fingerprint.DecodeHeader(v)
			if sh, ok := shapeOf(shapes, fp); ok && (fp.P.Rows != sh[0] || fp.P.Cols != sh[1]) {
				// Not hashed: a record of a few kilobytes may declare a
				// gigabyte of outputs, seconds of hashing.
				bad(TypeFingerprint, string(k), "%d×%d outputs, but suite %.12s has %d probes and %d labels", fp.P.Rows, fp.P.Cols, fp.Suite, sh[0], sh[1])
				return ctx.Err()
			}
			if err == nil {
				fp, err = fingerprint.VerifyEncoded(v) // the matrix is not needed, nor made
			}
			switch {
			case err != nil:
				// The row names the fingerprint; its error need not again.
				bad(TypeFingerprint, string(k), "%v", recordProblem(string(k), err))
			case fp.ID != string(k):
				bad(TypeFingerprint, string(k), "stored under %q but its ID is %q", k, fp.ID)
			default:
				sh, ok := shapes[fp.Suite]
				switch {
				case suites.Get([]byte(fp.Suite)) == nil:
					bad(TypeFingerprint, string(k), "suite %.12s is missing", fp.Suite)
				case ok && (fp.P.Rows != sh[0] || fp.P.Cols != sh[1]):
					bad(TypeFingerprint, string(k), "%d×%d outputs, but suite %.12s has %d probes and %d labels", fp.P.Rows, fp.P.Cols, fp.Suite, sh[0], sh[1])
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
			if err := checkSeal(&e); err != nil {
				bad(TypeEnrolment, string(k), "%v", err)
			}
			if e.Name != string(k) {
				bad(TypeEnrolment, string(k), "stored under %q but its name is %q", k, e.Name)
			}
			if suites.Get([]byte(e.Suite)) == nil {
				bad(TypeEnrolment, string(k), "suite %.12s is missing", e.Suite)
			}
			if err := checkEnrolmentContent(&e, inputs[e.Suite]); err != nil {
				bad(TypeEnrolment, string(k), "%v", err)
			}
			for _, c := range e.Controls {
				if err := checkRole(e.Name, c); err != nil {
					bad(TypeEnrolment, string(k), "%v", err)
				}
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
			switch err := json.Unmarshal(v, &a); {
			case err != nil:
				bad(TypeAudit, string(k), "undecodable: %v", err)
			case checkSeal(&a) != nil:
				bad(TypeAudit, string(k), "%v", errSeal)
			case a.ID != string(k):
				bad(TypeAudit, string(k), "stored under %q but its ID is %q", k, a.ID)
			case !tx.HasFingerprint(a.Suspect):
				bad(TypeAudit, string(k), "suspect fingerprint %q is missing", a.Suspect)
			case len(a.Fingerprints) > 0 && len(a.Fingerprints) != len(a.Against):
				// PutAudit refuses such a record; an import or an older
				// writer must not slip one past verify.
				bad(TypeAudit, string(k), "%d fingerprints for %d teachers", len(a.Fingerprints), len(a.Against))
			case checkAuditContent(&a) != nil:
				bad(TypeAudit, string(k), "%v", checkAuditContent(&a))
			default:
				for _, fp := range a.Fingerprints {
					if !tx.HasFingerprint(fp) {
						bad(TypeAudit, string(k), "suspect fingerprint %q is missing", fp)
						break
					}
				}
			}
			return nil
		})
		answers := tx.tx.Bucket(bucketAnswers)
		answers.ForEach(func(k, v []byte) error {
			if v != nil {
				bad(TypeAnswers, string(k), "a value where a job's bucket belongs")
				return nil
			}
			r.Counts[TypeAnswers]++
			answers.Bucket(k).ForEach(func(b, v []byte) error {
				if len(b) != 8 || v == nil {
					bad(TypeAnswers, string(k), "entry %x is not a numbered batch", b)
				}
				return nil
			})
			return nil
		})
		for _, check := range checks {
			r.Problems = append(r.Problems, check(tx)...)
		}
		return ctx.Err()
	})
	return r, err
}

// shapeOf returns the shape (probes, labels) shapes holds for fp's suite,
// and whether it holds one; fp may be nil.
func shapeOf(shapes map[string][2]int, fp *fingerprint.Fingerprint) ([2]int, bool) {
	if fp == nil {
		return [2]int{}, false
	}
	sh, ok := shapes[fp.Suite]
	return sh, ok
}
