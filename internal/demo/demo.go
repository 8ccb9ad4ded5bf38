// Package demo runs lineage's whole story on the embedded digits: train a
// teacher, distil a student, enrol the teacher with controls, make two
// derived and two independent suspects, and audit all four. The lineage
// demo command renders what Run returns.
package demo

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
)

// Options configures Run. The zero value means the defaults.
type Options struct {
	// Seed drives everything; 0 means 1.
	Seed uint64
	// Controls is passed to audit.EnrollOptions; 0 means its default.
	Controls int
	// DB is the store the enrolment, fingerprints and audits are written
	// to; it must be open for writing. Nil keeps everything in memory.
	DB *store.Store
	// Progress, when set, receives a short description of each step.
	Progress func(step string)
}

// Model is one trained model of the story with its test metrics.
type Model struct {
	Name    string       `json:"name"`
	Recipe  string       `json:"recipe"`
	Derived bool         `json:"derived"`
	Metrics eval.Metrics `json:"metrics"`
}

// Suspect is one audited suspect: the truth and the audit's answer.
type Suspect struct {
	Model
	Audit audit.TeacherResult `json:"audit"`
}

// Result is everything the demo measured.
type Result struct {
	Teacher  Model              `json:"teacher"`
	Student  Model              `json:"student"`
	Enrolled *audit.EnrolReport `json:"enrolment"`
	Suspects []Suspect          `json:"suspects"`
	ElapsedS float64            `json:"elapsed_s"`
}

// Correct reports whether every suspect got the verdict its truth calls for.
func (r *Result) Correct() bool {
	for _, s := range r.Suspects {
		want := audit.NotDerived
		if s.Derived {
			want = audit.Derived
		}
		if s.Audit.Verdict != want {
			return false
		}
	}
	return true
}

// Enrolment is the name the demo enrols its teacher under.
const Enrolment = "acme"

// SuspectIDs are the IDs of the demo's four suspects, under which Run
// stores their fingerprints and audit records: a soft-label student, a
// label-only extraction, an independent model and a student of a rival
// teacher.
var SuspectIDs = [4]string{"soft-label-student", "label-only-extraction", "independent-model", "rival-teacher-student"}

// Clash returns the first record of tx that Run with opts would write
// over or collide with, as "enrolment acme" or "fingerprint ID", or ""
// when there is none: the enrolment and suite name Enrolment, its
// fingerprints, and the suspects' fingerprints and audit records. Records
// a run with the same seed and controls stored (the demo is
// deterministic, and storing them again changes nothing) are no clash, so
// an interrupted demo --keep can be run again.
func Clash(tx *store.Tx, opts Options) string {
	seed := cmp.Or(opts.Seed, 1)
	suite := "" // the suite of an earlier run's enrolment, if there is one
	if e, err := tx.Enrolment(Enrolment); err == nil {
		var rep audit.EnrolReport
		if json.Unmarshal(e.Report, &rep) != nil || !rep.MadeWith(dataset.Digits(), audit.EnrollOptions{Seed: seed, Controls: opts.Controls}) || e.Teacher.Name != "teacher" {
			return "enrolment " + Enrolment
		}
		suite = e.Suite
	} else if tx.HasSuiteName(Enrolment) {
		return "suite " + Enrolment
	}
	ids := audit.EnrollOptions{Controls: opts.Controls}.FingerprintIDs(Enrolment)
	for _, id := range append(ids, SuspectIDs[:]...) {
		if !tx.HasFingerprint(id) {
			continue
		}
		if fp, err := tx.Fingerprint(id); err != nil || suite == "" || fp.Suite != suite {
			return "fingerprint " + id
		}
	}
	for _, id := range SuspectIDs {
		if r, err := tx.Audit(id); err == nil && (suite == "" || r.Suspect != id || len(r.Against) != 1 || r.Against[0] != Enrolment) {
			return "audit " + id
		}
	}
	return ""
}

// Check reports options Run would refuse (Controls out of
// audit.EnrollOptions' range), so that a command can say so before any
// work: Run itself trains a teacher and a student before it enrols.
func (o Options) Check() error {
	return audit.EnrollOptions{Controls: o.Controls}.Check()
}

// Run plays the story.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if err := opts.Check(); err != nil {
		return nil, err
	}
	start := time.Now()
	seed := opts.Seed
	if seed == 0 {
		seed = 1
	}
	step := func(s string) {
		if opts.Progress != nil {
			opts.Progress(s)
		}
	}
	data := dataset.Digits()
	sp := data.Split(dataset.SplitOptions{})
	res := &Result{}

	step("train the teacher (64-128-10 on digits)")
	tr, err := distill.Train(ctx, distill.Config{Train: sp.Train, Val: sp.Val, Hidden: []int{128}, Seed: seed, Name: "teacher"})
	if err != nil {
		return nil, fmt.Errorf("train teacher: %w", err)
	}
	teacher := tr.Student
	if res.Teacher, err = describe(ctx, "teacher", tr.Recipe, false, teacher, sp.Test, nil); err != nil {
		return nil, err
	}

	step("distil a student (hidden 16, T=4, α=0.9)")
	st, err := distill.Train(ctx, distill.Config{Train: sp.Train, Val: sp.Val, Teacher: teacher, Hidden: []int{16}, Temperature: 4, Alpha: 0.9, Seed: seed, Name: "student"})
	if err != nil {
		return nil, fmt.Errorf("distil student: %w", err)
	}
	if res.Student, err = describe(ctx, "student", st.Recipe, true, st.Student, sp.Test, teacher); err != nil {
		return nil, err
	}

	step("enrol the teacher as \"acme\": train controls, choose probes, calibrate")
	enr, err := audit.Enroll(ctx, Enrolment, teacher, data, audit.EnrollOptions{Seed: seed, Controls: opts.Controls})
	if err != nil {
		return nil, fmt.Errorf("enrol: %w", err)
	}
	res.Enrolled = &enr.Report
	if opts.DB != nil {
		if err := opts.DB.Update(ctx, func(tx *store.Tx) error { return enr.Case.Save(tx) }); err != nil {
			return nil, err
		}
	}

	// Suspects: seeds far from the enrolment's so no control is reused.
	other, err := distill.Train(ctx, distill.Config{Train: sp.Train, Hidden: []int{128}, Seed: seed + 9000, Name: "rival-teacher"})
	if err != nil {
		return nil, err
	}
	suspects := []audit.Recipe{
		{Family: SuspectIDs[0], Source: audit.FromTeacher, Hidden: []int{32}, Temperature: 4, Alpha: 0.9, Seed: seed + 1001},
		{Family: SuspectIDs[1], Source: audit.FromTeacher, Hidden: []int{64}, Reveal: "label", Watermark: true, Transfer: "mixup", Queries: 5000, Alpha: 1, Seed: seed + 1002},
		{Family: SuspectIDs[2], Source: audit.FromLabels, Hidden: []int{64}, Seed: seed + 1003},
		{Family: SuspectIDs[3], Source: audit.FromOther, Hidden: []int{32}, Temperature: 4, Alpha: 0.9, Seed: seed + 1004},
	}
	for _, r := range suspects {
		step("make and audit suspect " + r.Family)
		m, err := audit.Make(ctx, r, audit.Teachers{Teacher: teacher, Other: other.Student}, sp.Train, nil)
		if err != nil {
			return nil, err
		}
		var against model.Model
		if r.Source != audit.FromLabels {
			against = teacher
		}
		d, err := describe(ctx, r.Family, r.String(), r.Derived(), m, sp.Test, against)
		if err != nil {
			return nil, err
		}
		fp, err := fingerprint.Take(ctx, m, enr.Suite, fingerprint.Options{ID: r.Family})
		if err != nil {
			return nil, err
		}
		ar, err := audit.Audit([]*audit.Case{&enr.Case}, []*fingerprint.Fingerprint{fp}, r.Family, audit.Options{})
		if err != nil {
			return nil, err
		}
		if opts.DB != nil {
			if err := opts.DB.Update(ctx, func(tx *store.Tx) error {
				if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
					return err
				}
				return putAudit(tx, fp.ID, ar)
			}); err != nil {
				return nil, err
			}
		}
		res.Suspects = append(res.Suspects, Suspect{Model: d, Audit: ar.Results[0]})
	}
	res.ElapsedS = time.Since(start).Seconds()
	return res, nil
}

func describe(ctx context.Context, name, recipe string, derived bool, m *model.MLP, test *dataset.Dataset, against model.Model) (Model, error) {
	met, err := eval.Evaluate(ctx, m, test, against)
	if err != nil {
		return Model{}, err
	}
	return Model{Name: name, Recipe: recipe, Derived: derived, Metrics: met}, nil
}
