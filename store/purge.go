package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/lineage-audit/lineage/fingerprint"
)

// Purged says what PurgeEnrolment removed and what it kept.
type Purged struct {
	Enrolment    bool     // the enrolment record itself (false when it was gone already)
	Fingerprints []string // its fingerprints removed
	Suite        string   // its suite's hash, when the suite was removed
	SuiteName    bool     // the suite name it registered
	// SuiteKept is its suite's hash when the suite name was removed but
	// the suite kept, because SuiteUsers (other enrolments, fingerprints)
	// use it: no name leads to it any more, so `db rm suite HASH` is what
	// removes it once they are gone.
	SuiteKept  string
	SuiteUsers []string
	// Kept are its fingerprints left in place because another enrolment
	// or an audit refers to them, each as "ID (used by …)".
	Kept []string
}

// PurgeEnrolment removes the enrolment name with what it stored and
// nothing else uses: its teacher's and controls' fingerprints (those the
// record lists, under the IDs an enrolment gives them, NAME/teacher and
// NAME/control-NN; once the record is gone, those under such IDs whose
// model is named as enrolment names a control's, NAME-RECIPE-NN, and
// NAME/teacher when taken on the suite registered under NAME) that no
// other enrolment or audit refers to (other fingerprints,
// such as a suspect probed as NAME/x or NAME/control-99, are kept), the suite
// name it registered (unless its teacher's fingerprint is kept), and its
// suite when no other enrolment or fingerprint uses it. It works as well when the enrolment record was removed before
// (`db rm enrolment` keeps the rest), so that the name can be enrolled
// again. Nothing to remove at all is an error wrapping ErrNotFound.
func (s *Store) PurgeEnrolment(ctx context.Context, name string) (Purged, error) {
	var p Purged
	err := s.Update(ctx, func(tx *Tx) (err error) {
		p, err = tx.PurgeEnrolment(name)
		return err
	})
	return p, err
}

// PurgeEnrolment is Store.PurgeEnrolment within tx.
func (t *Tx) PurgeEnrolment(name string) (Purged, error) {
	var p Purged
	if err := CheckName("teacher", name); err != nil {
		return p, err
	}
	// The enrolment's own fingerprints: those its record lists (not its
	// references, which are the user's), or, once the record is gone,
	// those under the IDs an enrolment gives them.
	var own func(id string) bool
	enrol := t.tx.Bucket(bucketEnrol)
	if enrol.Get([]byte(name)) != nil {
		e, err := t.Enrolment(name)
		if err != nil {
			return p, err
		}
		listed := map[string]bool{e.TeacherFP: true}
		for _, c := range e.Controls {
			listed[c.FP] = c.Role != RoleReference
		}
		own = func(id string) bool { return listed[id] }
		if err := enrol.Delete([]byte(name)); err != nil {
			return p, err
		}
		p.Enrolment = true
	} else {
		// Without the record, a control's fingerprint is known by its
		// model's name too, which enrolment sets to NAME-RECIPE-NN: a
		// suspect the user probed as NAME/control-28, kept by a first
		// purge, is not taken by a second. The teacher's is known by its
		// suite, the one the enrolment registered under NAME: a
		// fingerprint the user stored as NAME/teacher, with no enrolment
		// NAME ever, was removed.
		suite := string(t.tx.Bucket(bucketNames).Get([]byte(name)))
		// The header alone (its suite and model): Fingerprint refuses
		// one whose suite is missing (db rm suite --force), which the
		// purge must still remove.
		header := func(id string) (*fingerprint.Fingerprint, error) {
			return fingerprint.DecodeHeader(t.tx.Bucket(bucketFPs).Get([]byte(id)))
		}
		own = func(id string) bool {
			n, ok := strings.CutPrefix(id, name+"/control-")
			if !ok { // NAME/teacher
				fp, err := header(id)
				return err == nil && suite != "" && fp.Suite == suite
			}
			fp, err := header(id)
			return err == nil && strings.HasPrefix(fp.Model.Name, name+"-") && strings.HasSuffix(fp.Model.Name, "-"+n)
		}
	}
	prefix := []byte(name + "/")
	var ids []string
	c := t.tx.Bucket(bucketFPs).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if enrolmentFP(name, string(k)) && own(string(k)) {
			ids = append(ids, string(k))
		}
	}
	teacherKept := false
	for _, id := range ids {
		if users := t.fingerprintUsers(id); len(users) > 0 {
			p.Kept = append(p.Kept, id+" (used by "+JoinUsers(users)+")")
			teacherKept = teacherKept || id == name+"/teacher"
			continue
		}
		if err := t.tx.Bucket(bucketFPs).Delete([]byte(id)); err != nil {
			return p, err
		}
		p.Fingerprints = append(p.Fingerprints, id)
	}
	// The suite name stays while the teacher's fingerprint does: it is
	// how a later purge, once nothing uses that fingerprint, knows it for
	// the enrolment's.
	names := t.tx.Bucket(bucketNames)
	if h := names.Get([]byte(name)); h != nil && !teacherKept {
		hash := string(h)
		if err := names.Delete([]byte(name)); err != nil {
			return p, err
		}
		p.SuiteName = true
		users := t.suiteUsers(hash)
		switch {
		case t.suiteNamed(hash):
		case len(users) > 0:
			p.SuiteKept, p.SuiteUsers = hash, users
		default:
			if err := t.tx.Bucket(bucketSuites).Delete([]byte(hash)); err != nil {
				return p, err
			}
			p.Suite = hash
		}
	}
	if !p.Enrolment && len(p.Fingerprints) == 0 && !p.SuiteName && len(p.Kept) == 0 {
		return p, notFound("teacher", name)
	}
	return p, nil
}

// enrolmentFP reports whether id is one of the IDs an enrolment of name
// gives its fingerprints: NAME/teacher or NAME/control-NN. Other
// fingerprints under NAME/ (a suspect probed with --name NAME/x) are the
// user's, not the enrolment's.
func enrolmentFP(name, id string) bool {
	rest, ok := strings.CutPrefix(id, name+"/")
	if !ok {
		return false
	}
	if rest == "teacher" {
		return true
	}
	n, ok := strings.CutPrefix(rest, "control-")
	return ok && len(n) >= 2 && strings.Trim(n, "0123456789") == ""
}

// suiteNamed reports whether any suite name still points at hash.
func (t *Tx) suiteNamed(hash string) bool {
	found := false
	t.tx.Bucket(bucketNames).ForEach(func(_, v []byte) error {
		found = found || string(v) == hash
		return nil
	})
	return found
}

// JoinUsers lists the users of a record (as InUseError.By or
// FingerprintUsers give them) for a message: the first three and a count
// of the rest.
func JoinUsers(users []string) string {
	if len(users) <= 3 {
		return strings.Join(users, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(users[:3], ", "), len(users)-3)
}

// UnusedSuites returns, sorted, the hashes of the stored suites that no
// enrolment, fingerprint or suite name refers to: a suite a purge kept
// while fingerprints used it, once those are removed too, or a suite
// imported alone. A damaged fingerprint or enrolment record (which Verify
// reports) counts for the suites its "suite" fields still name; one
// damaged past that may refer to any suite, so then none is returned.
func (t *Tx) UnusedSuites() []string {
	used := map[string]bool{}
	known := true
	count := func(fp bool) func(_, v []byte) error {
		return func(_, v []byte) error {
			suites, _ := recordSuites(v, fp)
			for _, s := range suites {
				used[s] = true
			}
			known = known && len(suites) > 0
			return nil
		}
	}
	t.tx.Bucket(bucketEnrol).ForEach(count(false))
	t.tx.Bucket(bucketFPs).ForEach(count(true))
	if !known {
		return nil
	}
	t.tx.Bucket(bucketNames).ForEach(func(_, v []byte) error {
		used[string(v)] = true
		return nil
	})
	var out []string
	t.tx.Bucket(bucketSuites).ForEach(func(k, _ []byte) error {
		if !used[string(k)] {
			out = append(out, string(k))
		}
		return nil
	})
	return out // bbolt iterates keys in order
}
