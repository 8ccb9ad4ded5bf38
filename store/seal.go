package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
)

// Enrolments and audit records are JSON; each carries the SHA-256 of its
// own JSON (with the checksum itself empty), so that a record changed
// outside lineage — a flipped byte that turns a control's role from
// "positive" into "negative", a verdict edited in place — is refused where
// it is read and reported by Verify, as fingerprints and suites are by
// their content hashes. Records written before the checksum have none and
// are read as they are. The checksum is keyed by nothing: it finds damage
// and careless edits, but whoever edits a record on purpose can seal it
// again (or drop the checksum), so what audits read from a record is also
// range-checked where it is imported and verified (checkEnrolmentContent,
// and package audit's CheckEnrolment and CheckResult).

// sealed is a record that carries a checksum of its JSON.
type sealed interface{ checksum() *string }

func (e *Enrolment) checksum() *string   { return &e.Checksum }
func (r *AuditRecord) checksum() *string { return &r.Checksum }

// errSeal marks a record whose checksum does not match its content.
var errSeal = errors.New("its content does not match its checksum: it was changed outside lineage")

// sumOf returns the checksum of v: the SHA-256 of its JSON with the
// checksum field empty. v's checksum is left as it was.
func sumOf(v sealed) (string, error) {
	c := v.checksum()
	saved := *c
	*c = ""
	b, err := json.Marshal(v)
	*c = saved
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// seal sets v's checksum.
func seal(v sealed) error {
	s, err := sumOf(v)
	if err != nil {
		return err
	}
	*v.checksum() = s
	return nil
}

// checkSeal checks v's checksum, if it has one.
func checkSeal(v sealed) error {
	want := *v.checksum()
	if want == "" {
		return nil
	}
	got, err := sumOf(v)
	if err != nil {
		return err
	}
	if got != want {
		return errSeal
	}
	return nil
}
