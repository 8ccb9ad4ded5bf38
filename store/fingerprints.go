package store

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"

	bolt "go.etcd.io/bbolt"
)

// PutFingerprint stores fp under fp.ID. fp.Hash must match its content
// (fingerprint.Take sets it), and its suite must be stored (else an error
// wrapping ErrNotFound). Putting a fingerprint with the same ID and
// outputs (fingerprint.Fingerprint.SameOutputs) again is a no-op that
// keeps the stored one (so a rerun after a crash succeeds, and a record
// of older lineage stays as it is), unless opts.Replace and its Meta or
// model header differ: then the new record is stored, its outputs being
// the same (a remote model probed again records how it answered when
// asked again, a model file read from another path another source, and
// a record of this lineage a hash rule that covers more); a different
// one gives ErrExists unless opts.Replace.
// A fingerprint an enrolment uses (its teacher or a control) is never
// replaced by a different one: that gives an *InUseError, since it would
// change the evidence of every audit against that teacher.
func (t *Tx) PutFingerprint(fp *fingerprint.Fingerprint, opts PutOptions) error {
	if err := CheckName("fingerprint", fp.ID); err != nil {
		return err
	}
	if err := fp.Verify(); err != nil {
		return fmt.Errorf("put fingerprint: %w", err)
	}
	if err := fp.CheckRows(); err != nil { // Fingerprint would refuse to read it
		return fmt.Errorf("put fingerprint: %w", err)
	}
	if t.tx.Bucket(bucketSuites).Get([]byte(fp.Suite)) == nil {
		// A probe that outlives its enrolment (db rm enrolment --purge
		// while the model was being asked) would leave a fingerprint db
		// verify finds broken.
		return fmt.Errorf("put fingerprint %q: %w (removed while the fingerprint was taken?)", fp.ID, notFound("suite", fmt.Sprintf("%.12s", fp.Suite)))
	}
	b := t.tx.Bucket(bucketFPs)
	if old := b.Get([]byte(fp.ID)); old != nil {
		// Its content checked against its hash a row at a time: a
		// record of a few kilobytes may declare a gigabyte of outputs.
		prev, err := fingerprint.VerifyEncoded(old)
		if err == nil && fp.SameOutputs(prev) {
			if !opts.Replace || maps.Equal(prev.Meta, fp.Meta) && sameHeader(prev.Model, fp.Model) {
				return nil
			}
			return t.putFingerprint(b, fp) // the same outputs: their users keep their evidence
		}
		if !opts.Replace {
			if err != nil {
				return exists("fingerprint", fp.ID, "its record is damaged: "+recordProblem(fp.ID, err).Error())
			}
			if t.tx.Bucket(bucketSuites).Get([]byte(prev.Suite)) == nil {
				return exists("fingerprint", fp.ID, fmt.Sprintf("taken on suite %.12s, which is no longer stored: removed with db rm suite --force", prev.Suite))
			}
			return exists("fingerprint", fp.ID, "with other content")
		}
		// An enrolment's would change its calibration; an audit record's
		// would keep a verdict reached on other outputs than it names.
		if users := t.fingerprintUsers(fp.ID); len(users) > 0 {
			return &InUseError{Kind: TypeFingerprint, Name: fp.ID, By: users, Op: "replace"}
		}
	}
	return t.putFingerprint(b, fp)
}

// sameHeader reports whether a and b are one model header, no labels and
// an empty list alike.
func sameHeader(a, b model.Info) bool {
	if !slices.Equal(a.Labels, b.Labels) {
		return false
	}
	a.Labels, b.Labels = nil, nil
	return reflect.DeepEqual(a, b)
}

// putFingerprint encodes fp into the fingerprints bucket b, marking the
// file SchemaVersion for a fingerprint under fingerprint.MetaHashRule.
func (t *Tx) putFingerprint(b *bolt.Bucket, fp *fingerprint.Fingerprint) error {
	data, err := fingerprint.Encode(fp)
	if err != nil {
		return err
	}
	if _, ok := fp.Meta[fingerprint.MetaHashRule]; ok {
		if err := t.markSchema(); err != nil {
			return err
		}
	}
	if err := b.Put([]byte(fp.ID), data); err != nil {
		return fmt.Errorf("put fingerprint %q: %w", fp.ID, err)
	}
	return nil
}

// FingerprintEnrolments lists the enrolments whose teacher or control is
// the fingerprint id, each as "enrolment NAME" (nil when none).
func (t *Tx) FingerprintEnrolments(id string) []string { return t.fingerprintEnrolments(id) }

// FingerprintUsers lists the enrolments and audit records that refer to
// the fingerprint id, each as "enrolment NAME" or "audit ID" (nil when
// none): such a fingerprint is never replaced by one of other content.
func (t *Tx) FingerprintUsers(id string) []string { return t.fingerprintUsers(id) }

// Fingerprint returns the fingerprint with the given ID.
func (t *Tx) Fingerprint(id string) (*fingerprint.Fingerprint, error) {
	b := t.tx.Bucket(bucketFPs).Get([]byte(id))
	if b == nil {
		return nil, notFound("fingerprint", id)
	}
	// The matrix is made only in its suite's shape: a sparse record of a
	// few kilobytes written outside lineage may declare a gigabyte.
	var shapeErr error
	fp, err := fingerprint.DecodeIf(b, func(head *fingerprint.Fingerprint) error {
		shapeErr = t.checkSuiteShape(head)
		return shapeErr
	})
	var gone *SuiteGoneError
	switch {
	case errors.As(shapeErr, &gone):
		gone.Fingerprint = id
		return nil, gone
	case shapeErr != nil:
		return nil, fmt.Errorf("fingerprint %q: %w: %w (run `lineage db verify`)", id, ErrCorrupt, err)
	case err != nil:
		return nil, fmt.Errorf("fingerprint %q: %w: %w", id, ErrCorrupt, err)
	}
	// Outputs that no longer hash to the stored hash would change every
	// audit measured on them without a word (db verify reports the same).
	if err := fp.Verify(); err != nil {
		return nil, fmt.Errorf("%w: %w (run `lineage db verify`)", ErrCorrupt, err)
	}
	// A hash is easy to recompute: outputs that are not distributions
	// would be audited as if they were (db import refuses them too).
	if err := fp.CheckRows(); err != nil {
		return nil, fmt.Errorf("%w: %w (run `lineage db verify`)", ErrCorrupt, err)
	}
	if fp.ID != id {
		return nil, fmt.Errorf("fingerprint %q: %w: stored under %q but its ID is %q", id, ErrCorrupt, id, fp.ID)
	}
	return fp, nil
}

// recordProblem returns, for a message that names the fingerprint id
// already, the problem of err when it is a *fingerprint.RecordError of
// that fingerprint (whose message names it too), else err.
func recordProblem(id string, err error) error {
	if re, ok := err.(*fingerprint.RecordError); ok && re.ID == id {
		return re.Err
	}
	return err
}

// checkSuiteShape fails unless fp's suite is stored and fp has a row per
// probe of it and a column per label, as db verify checks.
func (t *Tx) checkSuiteShape(fp *fingerprint.Fingerprint) error {
	sh, ok := t.shapes[fp.Suite]
	if !ok {
		data := t.tx.Bucket(bucketSuites).Get([]byte(fp.Suite))
		if data == nil {
			return &SuiteGoneError{Fingerprint: fp.ID, Suite: fp.Suite}
		}
		rows, labels, err := suiteShape(data)
		if err != nil {
			return fmt.Errorf("suite %.12s: %w", fp.Suite, err)
		}
		sh = [2]int{rows, labels}
		if t.shapes == nil {
			t.shapes = map[string][2]int{}
		}
		t.shapes[fp.Suite] = sh
	}
	if fp.P.Rows != sh[0] || fp.P.Cols != sh[1] {
		return fmt.Errorf("%d×%d outputs, but suite %.12s has %d probes and %d labels", fp.P.Rows, fp.P.Cols, fp.Suite, sh[0], sh[1])
	}
	return nil
}

// HasFingerprint reports whether a fingerprint with the given ID is stored.
func (t *Tx) HasFingerprint(id string) bool {
	return t.tx.Bucket(bucketFPs).Get([]byte(id)) != nil
}

// MaxNameBytes is the longest key of a record, in bytes.
const MaxNameBytes = 1024

// CheckName validates the key of a record to be stored (kind names the
// record in the error): 1 to MaxNameBytes bytes of valid UTF-8 without control
// characters. Every Put checks it, and so does Import. Names chosen on the
// command line must also pass [CheckNewName].
func CheckName(kind, key string) error {
	if key == "" {
		return fmt.Errorf("%s has an empty name", kind)
	}
	if len(key) > MaxNameBytes {
		return fmt.Errorf("%s name is %d bytes long, at most %d allowed", kind, len(key), MaxNameBytes)
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("%s name %q is not valid UTF-8", kind, key)
	}
	if i := strings.IndexFunc(key, unicode.IsControl); i >= 0 {
		return fmt.Errorf("%s name %q contains a control character", kind, key)
	}
	return nil
}

// CheckNewName validates a name being chosen for a new record (a teacher,
// a fingerprint, a reference, a suspect): [CheckName], and besides
//   - no leading '-', which a command line reads as a flag (the record
//     could then be named only after "--");
//   - no leading or trailing white space, invisible in a table and dropped
//     from a markdown cell;
//   - no invisible formatting character (Unicode category Cf: bidirectional
//     overrides, zero-width characters) nor line or paragraph separator,
//     which reorder, hide or break the text of a report.
//
// Any other character is allowed, '/', '@', ',', '"', '|' and spaces
// inside included: every output format quotes or escapes them. Records
// stored under older rules still load and import ([CheckName] only).
func CheckNewName(kind, name string) error {
	if err := CheckName(kind, name); err != nil {
		return err
	}
	if strings.HasPrefix(name, "-") {
		return fmt.Errorf("%s name %q starts with '-', which the command line reads as a flag", kind, name)
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Errorf("%s name %q starts or ends with white space", kind, name)
	}
	if i := strings.IndexFunc(name, invisible); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return fmt.Errorf("%s name %q contains the invisible character %U", kind, name, r)
	}
	return nil
}

// JoinNames writes names as a list separated by sep ("," in record keys,
// ", " in messages), each written as it is unless it holds a comma or a
// double quote: that one is quoted as CSV quotes a field ("x,y" is written
// "\"x,y\"", a"b "\"a\"\"b\""), so that a name holding a comma reads as one
// name and two lists of distinct names never come out alike.
func JoinNames(names []string, sep string) string {
	var b strings.Builder
	for i, n := range names {
		if i > 0 {
			b.WriteString(sep)
		}
		if strings.ContainsAny(n, `,"`) {
			b.WriteString(`"` + strings.ReplaceAll(n, `"`, `""`) + `"`)
			continue
		}
		b.WriteString(n)
	}
	return b.String()
}

// invisible reports whether r is a formatting character or a line or
// paragraph separator.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp)
}
