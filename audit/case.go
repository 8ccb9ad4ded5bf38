package audit

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
)

// Case is one enrolled teacher as audits need it: the enrolment record,
// its suite, the teacher's fingerprint and every control's fingerprint (in
// Enrolment.Controls order, references included).
type Case struct {
	Enrolment *store.Enrolment
	Suite     *probe.Suite
	Teacher   *fingerprint.Fingerprint
	Controls  []*fingerprint.Fingerprint

	mu       sync.Mutex
	refs     map[bool]*reference // per label-only flag, computed on first audit
	markDone bool                // mark has run: markP and markErr are set
	markP    *markPanel
	markErr  error
	labelCal *compare.Calibration // labelCalibration's, computed on first use

	contrastOnce sync.Once
	floorOnce    sync.Once
	floor        []float64      // controlFloor's, one per floorTrims entry
	contrastP    *contrastPanel // nil: no replica contrast (see contrast)

	// firstRule: the calibration controls are tested as lineage of 5
	// December 2026 10:35–10:59 tested them (see Case.Recheck); set on a
	// case Recheck makes, never on one audits use.
	firstRule bool
}

// LoadCase reads the enrolment called name and everything it refers to.
func LoadCase(tx *store.Tx, name string) (*Case, error) {
	e, err := tx.Enrolment(name)
	if err != nil {
		return nil, err
	}
	c := &Case{Enrolment: e}
	if c.Suite, err = tx.Suite(e.Suite); err != nil {
		return nil, fmt.Errorf("enrolment %q: %w", name, err)
	}
	if c.Teacher, err = tx.Fingerprint(e.TeacherFP); err != nil {
		return nil, fmt.Errorf("enrolment %q: %w", name, err)
	}
	for _, ctl := range e.Controls {
		fp, err := tx.Fingerprint(ctl.FP)
		if err != nil {
			return nil, fmt.Errorf("enrolment %q: %w", name, err)
		}
		c.Controls = append(c.Controls, fp)
	}
	return c, nil
}

// NullSize returns how many independent models the null of an audit
// against the case holds (what the audit reports as its null size): the
// calibration half's negative controls and the references, but for a
// suspect with full outputs (labelOnly false) not the references that
// answered with labels only, which join the null of label-only suspects
// only. The under-trained controls are not counted: they join the null
// only of suspects that agree with the teacher no more than they do (see
// UnderTrainedControls), whose audits report the larger null.
func (c *Case) NullSize(labelOnly bool) int {
	n := 0
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role != store.RolePositive && ctl.Half != store.HalfUnderTrained && c.compared(i, labelOnly) {
			n++
		}
	}
	return n
}

// Save stores the case in one transaction: suite, fingerprints and
// enrolment. Storing an identical case again is a no-op, so an enrolment
// killed half-way and rerun never leaves duplicates.
func (c *Case) Save(tx *store.Tx) error {
	if err := tx.PutSuite(c.Suite); err != nil {
		return err
	}
	if err := tx.PutFingerprint(c.Teacher, store.PutOptions{}); err != nil {
		return err
	}
	for _, fp := range c.Controls {
		if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
			return err
		}
	}
	return tx.PutEnrolment(c.Enrolment, store.PutOptions{})
}

// Precompute computes the null every audit of full outputs against c
// starts from (the discriminant fitted on the controls and each control's
// values), which later audits, [Case.RoleValues] and figures reuse. On a
// large suite it takes seconds: a command that only reads can run it with
// the store closed, so that no writer waits on it, and then use c in place
// of the case it loads again when [Case.SameAs] says both hold the same
// records.
func (c *Case) Precompute() error {
	_, err := c.reference(context.Background(), false)
	return err
}

// SameAs reports whether c and o hold the same records: the same enrolment
// record, suite and teacher and control fingerprints (by content hash), so
// that whatever is computed from one holds for the other.
func (c *Case) SameAs(o *Case) bool {
	if c.Suite.Hash != o.Suite.Hash || c.Teacher.Hash != o.Teacher.Hash || len(c.Controls) != len(o.Controls) {
		return false
	}
	for i, fp := range c.Controls {
		if fp.Hash != o.Controls[i].Hash {
			return false
		}
	}
	return reflect.DeepEqual(c.Enrolment, o.Enrolment)
}

// controlFloor returns the largest mixing floor of the teacher's and the
// controls' fingerprints with the share floorTrims[i] of the probes left
// out (compare.MixFloorTrim): how far above zero this enrolment's own
// models keep every class. The floors are computed once, for every share.
func (c *Case) controlFloor(i int) float64 {
	c.floorOnce.Do(func() {
		c.floor = make([]float64, len(floorTrims))
		for j := range floorTrims {
			k := floorTrim(j, c.Teacher.P.Rows)
			c.floor[j] = compare.MixFloorTrim(c.Teacher.P, k)
			for _, fp := range c.Controls {
				c.floor[j] = max(c.floor[j], compare.MixFloorTrim(fp.P, k))
			}
		}
	})
	return c.floor[i]
}
