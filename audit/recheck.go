package audit

// This file holds the recomputation of an enrolment's report from the
// records it names (Case.Recheck), which db verify and db import run.

import (
	"context"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
)

// RecheckTolerance is the relative difference (with an absolute floor of
// RecheckTolerance/1000 for numbers near zero) within which a number of a
// stored report agrees with its recomputation. Builds for other machines
// (arm64, GOAMD64=v3, another BLAS) sum in another order and give p-values
// that agree to about 15 digits, not bit for bit; counts, families and
// names are compared exactly (no count differs by less than 1).
const RecheckTolerance = 1e-9

// RecheckError is Case.Recheck's error when the stored report disagrees
// with its recomputation: Field is the first part that differs, as a path
// in the report's JSON (e.g. "calibration.pos_p[3]"), Stored and Recomputed
// its two values as JSON (null for none; a list or object by its size).
type RecheckError struct {
	Enrolment  string
	Field      string
	Stored     string
	Recomputed string
}

// Error names the enrolment, the field and both values.
func (e *RecheckError) Error() string {
	return fmt.Sprintf("enrolment %q: %s", e.Enrolment, e.Problem())
}

// Problem is Error without the enrolment's name, as db verify lists it
// beside the name.
func (e *RecheckError) Problem() string {
	return fmt.Sprintf("report %s is %s, but its fingerprints give %s", e.Field, e.Stored, e.Recomputed)
}

// measuredReport is the part of an EnrolReport that calibrationReport
// measures from the suite, the teacher's and the controls' fingerprints and
// the controls' recipe families, in the order Recheck compares it. The
// rest (name, teacher, data, seed, candidate pool, watermark probes asked,
// time) records how the enrolment was made, which the store does not hold
// otherwise. No field is omitted when empty: an absent one is compared as
// null.
type measuredReport struct {
	Suite        string                `json:"suite"`
	Probes       int                   `json:"probes"`
	Composition  map[probe.Kind]int    `json:"composition"`
	Positives    int                   `json:"positives"`
	Negatives    int                   `json:"negatives"`
	Null         int                   `json:"null_size"`
	UnderTrained int                   `json:"under_trained"`
	Statistics   []string              `json:"statistics"`
	Discriminant *Discriminant         `json:"discriminant"`
	Calibration  compare.Calibration   `json:"calibration"`
	Families     map[string]FamilyRate `json:"families"`
	Watermark    *WatermarkRate        `json:"watermark"`
	OutsideRule  bool                  `json:"outside_rule"`
}

func measured(r *EnrolReport) measuredReport {
	return measuredReport{r.Suite, r.Probes, r.Composition, r.Positives, r.Negatives, r.Null, r.UnderTrained,
		r.Statistics, r.Discriminant, r.Calibration, r.Families, r.Watermark, r.OutsideRule}
}

// Recheck recomputes the measured parts of c's enrolment report (the
// suite's composition, the control counts, the discriminant, every
// calibration control's p-value, the rates and AUC, the recipe families
// and the watermark's record) from c's suite and fingerprints, as Enroll
// measured them (calibrationReport), and compares them with the stored
// report as audits read it: a *RecheckError names the first field that
// differs (numbers beyond RecheckTolerance). References, added after
// enrolment, are left out, as enrolment had none.
//
// An enrolment without a report (not made by enroll) has nothing to
// recompute. One made before the under-trained controls (CheckCurrent's
// ErrOutdated, before 5 December 2026) was measured by rules since
// changed, so is not recomputed: note says so. Audits and reference add
// refuse such an enrolment, so an edit that made one look older gains
// nothing. Other errors are ctx's, a report that does not decode, or a
// recomputation that fails (as every audit against the enrolment would).
//
// Lineage of 5 December 2026 10:35–10:59 tested the controls by a rule
// replaced within the hour, and its reports carry no mark of it: a report
// that agrees with that rule and not today's gets a note, not an error.
//
// It takes what an enrolment's calibration took: the discriminant, every
// control's test and the watermark's panel, about 3 s of CPU for the
// demo's enrolment (300 probes, 156 controls), and more for a report
// that differs (the earlier rule is tried too).
func (c *Case) Recheck(ctx context.Context) (note string, err error) {
	e := c.Enrolment
	stored, err := readReport(e.Report)
	if err != nil || stored == nil {
		return "", err
	}
	if errors.Is(CheckCurrent(e), ErrOutdated) {
		return fmt.Sprintf("enrolment %q was made before the under-trained controls (5 December 2026), whose report "+
			"was measured by rules since changed: it is not recomputed (audits refuse it until it is enrolled again)", e.Name), nil
	}
	if len(c.Controls) != len(e.Controls) {
		return "", fmt.Errorf("enrolment %q: %d control fingerprints for %d controls", e.Name, len(c.Controls), len(e.Controls))
	}
	// The enrolment as Enroll made it: without references, each control
	// with its recipe's family (all calibrationReport reads of a recipe).
	ec := *e
	ec.Controls = nil
	at := &Case{Enrolment: &ec, Suite: c.Suite, Teacher: c.Teacher}
	var recipes []Recipe
	for i, ctl := range e.Controls {
		if ctl.Role == store.RoleReference {
			continue
		}
		ec.Controls = append(ec.Controls, ctl)
		at.Controls = append(at.Controls, c.Controls[i])
		recipes = append(recipes, Recipe{Family: familyOf(ctl)})
	}
	if _, err := at.markContext(ctx); err != nil {
		return "", err
	}
	d, err := recheckDiff(ctx, at, recipes, stored)
	if err != nil || d == nil {
		return "", err
	}
	// Lineage of 5 December 2026 10:35–10:59 (955ddd5 to 5e1a602) tested
	// the controls with the under-trained ones in the null wherever
	// nullFor kept them; from 10:59 (bf642fd) the larger p-value with them
	// or without. Its reports carry no mark of it: one that agrees with
	// that rule is no forgery.
	first := &Case{Enrolment: at.Enrolment, Suite: at.Suite, Teacher: at.Teacher, Controls: at.Controls, firstRule: true}
	first.markDone, first.markP, first.markErr = true, at.markP, at.markErr
	if d1, err := recheckDiff(ctx, first, recipes, stored); err != nil || d1 == nil {
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("enrolment %q was measured by lineage of 5 December 2026 10:35–10:59, whose rule for "+
			"the under-trained controls was replaced within the hour (its report agrees with that rule, not "+
			"today's: %s): enrol it again for the current calibration", e.Name, d.Problem()), nil
	}
	d.Enrolment = e.Name
	return "", d
}

// recheckDiff measures c's report as Enroll does and returns the first
// field where stored differs from it, nil for none.
func recheckDiff(ctx context.Context, c *Case, recipes []Recipe, stored *EnrolReport) (*RecheckError, error) {
	got, err := calibrationReport(ctx, c, recipes)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return nil, err
		}
		return nil, fmt.Errorf("enrolment %q: recompute its report: %w", c.Enrolment.Name, err)
	}
	d, err := diffReports(measured(stored), measured(&got))
	if err != nil {
		return nil, fmt.Errorf("enrolment %q: %w", c.Enrolment.Name, err)
	}
	return d, nil
}

// RecheckEnrolment loads the enrolment called name from tx (LoadCase) and
// rechecks its report (Case.Recheck).
func RecheckEnrolment(ctx context.Context, tx *store.Tx, name string) (note string, err error) {
	c, err := LoadCase(tx, name)
	if err != nil {
		return "", err
	}
	return c.Recheck(ctx)
}

// RecheckAll rechecks the report of each case (Case.Recheck), as db
// verify does once it has loaded them, with the store closed, so that no
// writer waits on the recomputation: problems holds one for each case
// whose report differs from its recomputation or cannot be recomputed,
// notes Recheck's notes. The error is ctx's.
func RecheckAll(ctx context.Context, cases []*Case) (problems []store.Problem, notes []string, err error) {
	for _, c := range cases {
		note, err := c.Recheck(ctx)
		if err := ctx.Err(); err != nil {
			return problems, notes, err
		}
		name := c.Enrolment.Name
		var re *RecheckError
		switch {
		case errors.As(err, &re):
			problems = append(problems, store.Problem{Type: store.TypeEnrolment, ID: name, Problem: re.Problem()})
		case err != nil:
			problems = append(problems, store.Problem{Type: store.TypeEnrolment, ID: name, Problem: err.Error()})
		case note != "":
			notes = append(notes, note)
		}
	}
	return problems, notes, nil
}

// RecheckEnrolments rechecks the reports of the enrolments called names in
// tx (RecheckEnrolment), as db import does before it keeps them: the error
// is the first that differs from its recomputation (a *RecheckError) or
// cannot be recomputed, or ctx's; notes are Recheck's notes.
func RecheckEnrolments(ctx context.Context, tx *store.Tx, names []string) (notes []string, err error) {
	for _, name := range names {
		note, err := RecheckEnrolment(ctx, tx, name)
		if err != nil {
			return notes, err
		}
		if note != "" {
			notes = append(notes, note)
		}
	}
	return notes, nil
}
