package store

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// OtherFormError says that a new record's name is a stored record's name
// written in another Unicode form: "café" with é as one code point and
// with e and a combining accent, or K and the Kelvin sign U+212A. The two
// look alike in every table, report and figure, so a second record under
// the other form passes for the first.
type OtherFormError struct {
	Kind   string // the new record's, as given to CheckNewName
	Name   string // the new name
	Stored string // the stored record's name, its kind StoredKind
	// StoredKind is the stored record's kind ("fingerprint", "audit",
	// "teacher").
	StoredKind string
}

func (e *OtherFormError) Error() string {
	return fmt.Sprintf("%s name %+q is %s %+q in another Unicode form (equal once normalised, NFC): the two would show alike; use the stored name, or choose another",
		e.Kind, e.Name, e.StoredKind, e.Stored)
}

// Unwrap makes errors.Is(err, ErrExists) hold.
func (e *OtherFormError) Unwrap() error { return ErrExists }

// CheckNameForm returns an *OtherFormError when name, of a new record of
// kind ("fingerprint", "reference", "suspect" or "teacher", as for
// CheckNewName), differs from the name of a stored record it would be
// shown beside (fingerprints and audits for the first three, enrolments
// for a teacher) but has the same NFC form. A name stored exactly is no
// error: whether it may be reused is the caller's to say.
func (t *Tx) CheckNameForm(kind, name string) error {
	want := norm.NFC.String(name)
	ascii := isASCII(name)
	buckets := map[string][]byte{"fingerprint": bucketFPs, "audit": bucketAudits}
	if kind == "teacher" {
		buckets = map[string][]byte{"teacher": bucketEnrol}
	}
	for _, storedKind := range []string{"teacher", "fingerprint", "audit"} {
		b := buckets[storedKind]
		if b == nil {
			continue
		}
		c := t.tx.Bucket(b).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			// Two ASCII names have one form each: only a name holding
			// another character can be another's other form.
			if ascii && isASCII(string(k)) || bytes.Equal(k, []byte(name)) || !utf8.Valid(k) {
				continue
			}
			if norm.NFC.String(string(k)) == want {
				return &OtherFormError{Kind: kind, Name: name, Stored: string(k), StoredKind: storedKind}
			}
		}
	}
	return nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
