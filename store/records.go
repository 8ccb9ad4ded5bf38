package store

import (
	"encoding/json"

	"github.com/lineage-audit/lineage/model"
)

// Control roles.
const (
	RolePositive  = "positive"  // a known derivative of the teacher
	RoleNegative  = "negative"  // an independently trained model
	RoleReference = "reference" // a model added later as a comparison point
)

// Calibration halves a control belongs to.
const (
	HalfSelection   = "selection"
	HalfCalibration = "calibration"
	// HalfUnderTrained holds under-trained negative controls, which take
	// no part in choosing probes and join the null only of suspects that
	// agree with the teacher no more than they do (see
	// audit.UnderTrainedControls).
	HalfUnderTrained = "under-trained"
)

// Control is one control model of an enrolment: its fingerprint ID, its
// role (RolePositive, RoleNegative or RoleReference), the half of the
// controls it belongs to (HalfSelection, HalfCalibration, HalfUnderTrained,
// or empty for references) and the recipe that made it (free text, may be empty).
type Control struct {
	FP     string `json:"fp"`
	Role   string `json:"role"`
	Half   string `json:"half,omitempty"`
	Recipe string `json:"recipe,omitempty"`
}

// Enrolment is a protected teacher: its fingerprint, the suite (by hash) it
// was taken on, the controls used to calibrate audits and the enrolment
// report (opaque JSON owned by package audit; nil means none). Created is a
// caller-supplied timestamp and may be empty.
type Enrolment struct {
	Name      string          `json:"name"`
	TeacherFP string          `json:"teacher_fp"`
	Suite     string          `json:"suite"`
	Teacher   model.Info      `json:"teacher"`
	Controls  []Control       `json:"controls"`
	Report    json.RawMessage `json:"report,omitempty"`
	Created   string          `json:"created,omitempty"`
	// Watermark, when set, is the label watermark audits test for.
	Watermark *Watermark `json:"watermark,omitempty"`
	// Checksum is the SHA-256 of the record's JSON with Checksum empty,
	// set when it is stored (see seal.go); empty in records of older
	// lineage.
	Checksum string `json:"checksum,omitempty"`
}

// Watermark is the label watermark of an enrolment: its secret key (64
// hex digits, see package watermark) and the input normalisation of the
// teacher it tilts. Whoever reads it can recognise, and forge, the mark,
// so a store holding one is as secret as the teacher's weights.
type Watermark struct {
	Key  string    `json:"key"`
	Mean []float32 `json:"mean,omitempty"`
	Std  []float32 `json:"std,omitempty"`
}

// AuditRecord is the stored result of auditing the suspect fingerprint
// Suspect against the enrolments named in Against. Fingerprints, when set,
// holds the suspect's fingerprint measured against each teacher of
// Against, in its order (a suspect audited as a model has one per suite;
// Suspect is the first); records written before lineage kept them have
// none. Result is opaque JSON owned by package audit; Created is
// caller-supplied and may be empty (lineage audit writes the time, in
// RFC 3339 with nanoseconds, UTC).
type AuditRecord struct {
	ID           string          `json:"id"`
	Suspect      string          `json:"suspect"`
	Against      []string        `json:"against"`
	Fingerprints []string        `json:"fingerprints,omitempty"`
	Result       json.RawMessage `json:"result,omitempty"`
	Created      string          `json:"created,omitempty"`
	// Checksum is as Enrolment's.
	Checksum string `json:"checksum,omitempty"`
}

// Measured returns the fingerprints the audit measured: Fingerprints, or
// Suspect alone for a record without them.
func (r *AuditRecord) Measured() []string {
	if len(r.Fingerprints) > 0 {
		return r.Fingerprints
	}
	return []string{r.Suspect}
}

// PutOptions tunes the Put methods. The zero value refuses to overwrite a
// different record.
type PutOptions struct {
	// Replace overwrites a different record stored under the same key.
	Replace bool
}

// Answer is one stored batch of a resumable remote job.
type Answer struct {
	Batch int
	Data  []byte
}

// Record types, as used by List, Show, Remove and Export.
const (
	TypeSuite       = "suite"
	TypeFingerprint = "fingerprint"
	TypeEnrolment   = "enrolment"
	TypeAudit       = "audit"
	TypeAnswers     = "answers"
)

// Types returns the record types in the order List and Export use them.
func Types() []string {
	return []string{TypeSuite, TypeFingerprint, TypeEnrolment, TypeAudit, TypeAnswers}
}
