package store

import (
	"context"
	"fmt"
	"slices"
)

// RemovedReference says what RemoveReference did.
type RemovedReference struct {
	Teachers    []string // the enrolments it was removed from, in name order
	Fingerprint bool     // whether its fingerprint was removed too (purge)
	// Kept, when the fingerprint was to be purged but stays, lists what
	// still uses it ("enrolment NAME", "audit ID").
	Kept []string
}

// RemoveReference takes the reference fp out of the controls of the
// enrolment teacher, or of every enrolment listing it as a reference when
// teacher is empty; the record is written anew, with its checksum. The
// fingerprint stays stored unless purge is set, and then it is removed
// when no other enrolment nor any audit uses it. A fingerprint that is not
// a reference of teacher (none of any teacher's, for an empty teacher)
// gives an error wrapping ErrNotFound; one that is a positive or negative
// control of teacher is refused (with an empty teacher, such enrolments
// are passed over): those are the enrolment's own, and its measured error
// rates rest on them.
func (t *Tx) RemoveReference(teacher, fp string, purge bool) (RemovedReference, error) {
	var r RemovedReference
	es, err := t.EnrolmentsOf(teacher)
	if err != nil {
		return r, err
	}
	for i := range es {
		e := &es[i]
		j := slices.IndexFunc(e.Controls, func(c Control) bool { return c.FP == fp })
		switch {
		case j < 0, teacher == "" && e.Controls[j].Role != RoleReference:
			continue
		case e.Controls[j].Role != RoleReference:
			return r, fmt.Errorf("fingerprint %q is a %s control of teacher %s, not a reference: an enrolment's own controls cannot be removed", fp, e.Controls[j].Role, e.Name)
		}
		e.Controls = slices.Delete(e.Controls, j, j+1)
		if err := t.putJSON(bucketEnrol, e.Name, e); err != nil {
			return r, err
		}
		r.Teachers = append(r.Teachers, e.Name)
	}
	if len(r.Teachers) == 0 {
		if teacher != "" {
			return r, fmt.Errorf("%w for teacher %s", notFound("reference", fp), teacher)
		}
		return r, notFound("reference", fp)
	}
	if !purge {
		return r, nil
	}
	if r.Kept = t.fingerprintUsers(fp); len(r.Kept) > 0 {
		return r, nil
	}
	if err := t.tx.Bucket(bucketFPs).Delete([]byte(fp)); err != nil {
		return r, err
	}
	r.Fingerprint = true
	return r, nil
}

// EnrolmentsOf returns the enrolment name, or every enrolment in name
// order when name is empty.
func (t *Tx) EnrolmentsOf(name string) ([]Enrolment, error) {
	if name == "" {
		return t.Enrolments()
	}
	e, err := t.Enrolment(name)
	if err != nil {
		return nil, err
	}
	return []Enrolment{*e}, nil
}

// RemoveReference removes a reference in one transaction; see
// Tx.RemoveReference.
func (s *Store) RemoveReference(ctx context.Context, teacher, fp string, purge bool) (r RemovedReference, err error) {
	err = s.Update(ctx, func(tx *Tx) error { r, err = tx.RemoveReference(teacher, fp, purge); return err })
	return r, err
}
