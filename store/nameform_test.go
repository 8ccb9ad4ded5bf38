package store

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestCheckNameForm: a new name that is a stored one in another Unicode
// form is refused, naming both by their code points; the same name, an
// ASCII name beside ASCII ones, a name differing in case, and a name
// alike only to a record shown elsewhere (a teacher beside fingerprints)
// are not.
func TestCheckNameForm(t *testing.T) {
	s := openTest(t, tempPath(t), false)
	populate(t, s)
	su := newTestSuite("acme-suite", 20, 4, 1)
	err := s.Update(ctx, func(tx *Tx) error {
		for i, id := range []string{"caf\u00e9", "\u212a", "Ωmega"} {
			if err := tx.PutFingerprint(newTestFP(id, su, uint64(10+i)), PutOptions{}); err != nil {
				return err
			}
		}
		return tx.PutAudit(&AuditRecord{ID: "na\u00efve", Suspect: "suspect", Against: []string{"acme"}, Result: []byte(`{"p":0.5}`)}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		kind, name string
		want       string // "" for no error
	}{
		{"fingerprint", "cafe\u0301", `fingerprint name "cafe\u0301" is fingerprint "caf\u00e9" in another Unicode form (equal once normalised, NFC): the two would show alike; use the stored name, or choose another`},
		{"suspect", "K", `suspect name "K" is fingerprint "\u212a" in another Unicode form`},
		{"reference", "\u2126mega", `reference name "\u2126mega" is fingerprint "\u03a9mega" in another Unicode form`},
		{"fingerprint", "nai\u0308ve", `fingerprint name "nai\u0308ve" is audit "na\u00efve" in another Unicode form`},
		{"fingerprint", "caf\u00e9", ""},
		{"fingerprint", "Caf\u00e9", ""},
		{"fingerprint", "teacher", ""},
		{"teacher", "cafe\u0301", ""},
		{"teacher", "acme", ""},
	} {
		err := s.View(ctx, func(tx *Tx) error { return tx.CheckNameForm(tt.kind, tt.name) })
		var ofe *OtherFormError
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckNameForm(%s, %+q) = %v, want nil", tt.kind, tt.name, err)
		case tt.want != "" && (!errors.As(err, &ofe) || !errors.Is(err, ErrExists) || !strings.HasPrefix(err.Error(), tt.want)):
			t.Errorf("CheckNameForm(%s, %+q) = %v, want an *OtherFormError starting %q", tt.kind, tt.name, err, tt.want)
		}
	}
	err = s.Update(ctx, func(tx *Tx) error {
		return tx.PutEnrolment(&Enrolment{Name: "acm\u00e9", TeacherFP: "teacher", Suite: "acme-suite"}, PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.View(ctx, func(tx *Tx) error { return tx.CheckNameForm("teacher", "acme\u0301") })
	if want := `teacher name "acme\u0301" is teacher "acm\u00e9" in another Unicode form`; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("CheckNameForm(teacher, acme+U+0301) = %v, want %q…", err, want)
	}
}

// BenchmarkCheckNameForm measures the scan a new name costs a command
// (once, before its work) among 20,000 stored fingerprints.
func BenchmarkCheckNameForm(b *testing.B) {
	s := openTest(b, tempPath(b), false)
	su := newTestSuite("acme-suite", 4, 4, 1)
	err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		for i := range 20000 {
			if err := tx.PutFingerprint(newTestFP("suspect-é-"+strconv.Itoa(i), su, uint64(i)), PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.View(ctx, func(tx *Tx) error { return tx.CheckNameForm("fingerprint", "new-é") }); err != nil {
			b.Fatal(err)
		}
	}
}
