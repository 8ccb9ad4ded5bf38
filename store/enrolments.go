package store

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// PutEnrolment stores e under e.Name. The suite (name or hash; stored as
// the hash) and every fingerprint it names must already be stored, in the
// same transaction or before. Putting an enrolment equal to the stored one
// apart from Created and Report is a no-op; a different one gives
// ErrExists unless opts.Replace.
func (t *Tx) PutEnrolment(e *Enrolment, opts PutOptions) error {
	if err := CheckName("teacher", e.Name); err != nil {
		return err
	}
	c := *e
	h, err := t.SuiteHash(e.Suite)
	if err != nil {
		return fmt.Errorf("enrol %q: %w", e.Name, err)
	}
	c.Suite = h
	if !t.HasFingerprint(e.TeacherFP) {
		return fmt.Errorf("enrol %q: teacher %w", e.Name, notFound("fingerprint", e.TeacherFP))
	}
	for _, ctl := range e.Controls {
		if err := t.checkControl(e.Name, ctl); err != nil {
			return err
		}
	}
	su, err := t.Suite(h)
	if err != nil {
		return fmt.Errorf("enrol %q: %w", e.Name, err)
	}
	if err := checkEnrolmentContent(&c, su.X.Cols); err != nil {
		return fmt.Errorf("enrol %q: %w", e.Name, err)
	}
	b := t.tx.Bucket(bucketEnrol)
	if old := b.Get([]byte(e.Name)); old != nil && !opts.Replace {
		var prev Enrolment
		if json.Unmarshal(old, &prev) == nil && sameEnrolment(&prev, &c) {
			return nil
		}
		return exists("teacher", e.Name, "enrolled with other content")
	}
	return t.putJSON(bucketEnrol, e.Name, &c)
}

func (t *Tx) checkControl(name string, c Control) error {
	if err := checkRole(name, c); err != nil {
		return err
	}
	if !t.HasFingerprint(c.FP) {
		return fmt.Errorf("enrol %q: control %w", name, notFound("fingerprint", c.FP))
	}
	return nil
}

func controlIDs(cs []Control) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.FP
	}
	return out
}

// checkRole checks a control's role and half.
func checkRole(name string, c Control) error {
	switch c.Role {
	case RolePositive, RoleNegative, RoleReference:
	default:
		return fmt.Errorf("enrol %q: control %q has role %q, want positive, negative or reference", name, c.FP, c.Role)
	}
	switch c.Half {
	case "", HalfSelection, HalfCalibration:
	case HalfUnderTrained:
		if c.Role != RoleNegative {
			return fmt.Errorf("enrol %q: control %q is a %s in half %q, which holds negative controls only", name, c.FP, c.Role, c.Half)
		}
	default:
		return fmt.Errorf("enrol %q: control %q has half %q, want selection, calibration or under-trained", name, c.FP, c.Half)
	}
	return nil
}

func sameEnrolment(a, b *Enrolment) bool {
	return a.Name == b.Name && a.TeacherFP == b.TeacherFP && a.Suite == b.Suite &&
		reflect.DeepEqual(normInfo(a), normInfo(b)) && slices.Equal(a.Controls, b.Controls) &&
		reflect.DeepEqual(a.Watermark, b.Watermark)
}

// normInfo makes nil and empty label lists compare equal.
func normInfo(e *Enrolment) any {
	i := e.Teacher
	if len(i.Labels) == 0 {
		i.Labels = nil
	}
	return i
}

// Enrolment returns the enrolment of the teacher named name.
func (t *Tx) Enrolment(name string) (*Enrolment, error) {
	var e Enrolment
	if err := t.getJSON(bucketEnrol, "teacher", name, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Enrolments returns every enrolment in name order.
func (t *Tx) Enrolments() ([]Enrolment, error) {
	var out []Enrolment
	err := t.tx.Bucket(bucketEnrol).ForEach(func(k, v []byte) error {
		var e Enrolment
		if err := json.Unmarshal(v, &e); err != nil {
			return fmt.Errorf("teacher %q: %w: %v", k, ErrCorrupt, err)
		}
		if err := checkSeal(&e); err != nil {
			return fmt.Errorf("teacher %q: %w: %w (run `lineage db verify`)", k, ErrCorrupt, err)
		}
		out = append(out, e)
		return nil
	})
	return out, err
}

// AddReference appends c (its Role forced to RoleReference) to the
// controls of the enrolment named name. The fingerprint must be stored and
// must not be the teacher's own, nor hold the answers of the teacher or
// of a control already there (fingerprint.Fingerprint.SameAnswers).
// Adding a control equal to an existing one is a no-op; a different
// control with the same fingerprint gives ErrExists.
func (t *Tx) AddReference(name string, c Control) error {
	e, err := t.Enrolment(name)
	if err != nil {
		return err
	}
	c.Role = RoleReference
	if err := t.checkControl(name, c); err != nil {
		return err
	}
	if c.FP == e.TeacherFP {
		return exists("control", c.FP, "it is the fingerprint of teacher "+name+" itself")
	}
	for _, old := range e.Controls {
		if old.FP == c.FP {
			if old == c {
				return nil
			}
			return exists("control", c.FP, "of teacher "+name)
		}
	}
	// The same model under another name would count twice in the null.
	fp, err := t.Fingerprint(c.FP)
	if err != nil {
		return err
	}
	// By the answers alone: the content hash also covers the model's hash
	// (unknown for a remote model, so the file it serves hashes apart),
	// how the labels were read and which metadata was defaulted, none of
	// which makes the answers another model's.
	for _, id := range append([]string{e.TeacherFP}, controlIDs(e.Controls)...) {
		if o, err := t.Fingerprint(id); err == nil && o.SameAnswers(fp) {
			return exists("control", c.FP, fmt.Sprintf("its outputs are those of %q, already in teacher %s's enrolment", id, name))
		}
	}
	e.Controls = append(e.Controls, c)
	return t.putJSON(bucketEnrol, name, e)
}

// PutAudit stores r under r.ID. The suspect fingerprints (Suspect and
// Fingerprints) and the enrolments named in Against must be stored, and
// Fingerprints, when set, must pair with Against. Putting a record equal to the stored one
// apart from Created is a no-op; a different one gives ErrExists unless
// opts.Replace.
func (t *Tx) PutAudit(r *AuditRecord, opts PutOptions) error {
	return t.putAudit(r, opts, true)
}

// putAudit is PutAudit; an import passes against = false, since an audit
// outlives the enrolments it names.
func (t *Tx) putAudit(r *AuditRecord, opts PutOptions, against bool) error {
	if err := CheckName("audit", r.ID); err != nil {
		return err
	}
	if len(r.Fingerprints) > 0 && len(r.Fingerprints) != len(r.Against) {
		return fmt.Errorf("audit %q: %d fingerprints for %d teachers", r.ID, len(r.Fingerprints), len(r.Against))
	}
	for _, fp := range append([]string{r.Suspect}, r.Fingerprints...) {
		if !t.HasFingerprint(fp) {
			return fmt.Errorf("audit %q: suspect %w", r.ID, notFound("fingerprint", fp))
		}
	}
	if err := checkAuditContent(r); err != nil {
		return fmt.Errorf("audit %q: %w", r.ID, err)
	}
	for _, a := range r.Against {
		if against && t.tx.Bucket(bucketEnrol).Get([]byte(a)) == nil {
			return fmt.Errorf("audit %q: %w", r.ID, notFound("teacher", a))
		}
	}
	b := t.tx.Bucket(bucketAudits)
	if old := b.Get([]byte(r.ID)); old != nil && !opts.Replace {
		var prev AuditRecord
		if json.Unmarshal(old, &prev) == nil && prev.Suspect == r.Suspect &&
			slices.Equal(prev.Against, r.Against) && slices.Equal(prev.Fingerprints, r.Fingerprints) &&
			jsonEqual(prev.Result, r.Result) {
			return nil
		}
		return exists("audit", r.ID, "with other content")
	}
	return t.putJSON(bucketAudits, r.ID, r)
}

// Audit returns the audit record with the given ID.
func (t *Tx) Audit(id string) (*AuditRecord, error) {
	var r AuditRecord
	if err := t.getJSON(bucketAudits, "audit", id, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Audits returns every audit record, in ID order.
func (t *Tx) Audits() ([]AuditRecord, error) {
	var out []AuditRecord
	err := t.tx.Bucket(bucketAudits).ForEach(func(k, v []byte) error {
		var r AuditRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("audit %q: %w: %v", k, ErrCorrupt, err)
		}
		if err := checkSeal(&r); err != nil {
			return fmt.Errorf("audit %q: %w: %w (run `lineage db verify`)", k, ErrCorrupt, err)
		}
		out = append(out, r)
		return nil
	})
	return out, err
}

func (t *Tx) putJSON(bucket []byte, key string, v any) error {
	if sv, ok := v.(sealed); ok {
		if err := seal(sv); err != nil {
			return fmt.Errorf("put %s %q: %w", bucket, key, err)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("put %s %q: %w", bucket, key, err)
	}
	if err := t.tx.Bucket(bucket).Put([]byte(key), b); err != nil {
		return fmt.Errorf("put %s %q: %w", bucket, key, err)
	}
	return nil
}

func (t *Tx) getJSON(bucket []byte, kind, key string, v any) error {
	b := t.tx.Bucket(bucket).Get([]byte(key))
	if b == nil {
		return notFound(kind, key)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s %q: %w: %v", kind, key, ErrCorrupt, err)
	}
	if sv, ok := v.(sealed); ok {
		if err := checkSeal(sv); err != nil {
			return fmt.Errorf("%s %q: %w: %w (run `lineage db verify`)", kind, key, ErrCorrupt, err)
		}
	}
	return nil
}

// jsonEqual compares two JSON documents after compaction.
func jsonEqual(a, b json.RawMessage) bool {
	ca, err1 := json.Marshal(a)
	cb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ca) == string(cb)
}
