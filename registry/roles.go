package registry

import (
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/store"
)

// ModelRole names a model of a similarity matrix and its place: "teacher",
// "reference", a control's role with its half ("positive (selection)"),
// or "suspect".
type ModelRole struct {
	ID        string   `json:"id"`
	Role      string   `json:"role"`
	Enrolment string   `json:"enrolment,omitempty"` // for a teacher or control of another enrolment on the suite, that enrolment
	Suspect   string   `json:"suspect,omitempty"`   // the suspect's name, for a suspect's fingerprint
	Also      []string `json:"also,omitempty"`      // the suspect's other fingerprints on the suite
	// Others are the model's places in further enrolments ("reference
	// of gamma"), when it belongs to several besides the matrix's
	// teacher's; Role and Enrolment give the first by name.
	Others []string `json:"other_roles,omitempty"`
}

// RoleText is mr's role as the tables and the heat map show it: with the
// enrolment it belongs to when that is not the matrix's teacher's
// ("teacher of beta"), and its places in further enrolments
// ("reference of beta; reference of gamma").
func (mr ModelRole) RoleText() string {
	r := mr.Role
	if mr.Enrolment != "" {
		r += " of " + mr.Enrolment
	}
	for _, o := range mr.Others {
		r += "; " + o
	}
	return r
}

// column reports whether mr keeps its column when a matrix is too wide to
// show whole (see TablesFor): a teacher's or a reference's, what the other
// models' rows are read against.
func (mr ModelRole) column() bool {
	return mr.Role == "teacher" || mr.Role == store.RoleReference
}

// Name is the name the tables and the heat map of teacher's matrix give
// mr: the suspect's name for a suspect's fingerprint (s2, not s2@acme),
// else the ID without the teacher's prefix.
func (mr ModelRole) Name(teacher string) string {
	if mr.Suspect != "" {
		return mr.Suspect
	}
	return audit.ShortID(mr.ID, teacher)
}

// enrolledModel is the place of a fingerprint in the enrolments: its
// teacher's, or a control's (a reference included), in the first
// enrolment by name, and its places in the others.
type enrolledModel struct {
	enrolment string
	role      string   // "teacher", or the control's role with its half
	control   bool     // a positive or negative control in every enrolment it is in: shown only with Options.Controls
	others    []string // "ROLE of NAME" in the further enrolments, in name order
}

// enrolledModels maps the fingerprint of every enrolment's teacher and
// controls to its places (see enrolledModel).
func enrolledModels(tx *store.Tx) (map[string]enrolledModel, error) {
	es, err := tx.Enrolments()
	if err != nil {
		return nil, err
	}
	type place struct {
		enrolment, role string
		control         bool
	}
	all := map[string][]place{}
	for _, e := range es {
		all[e.TeacherFP] = append(all[e.TeacherFP], place{e.Name, "teacher", false})
		for _, ctl := range e.Controls {
			all[ctl.FP] = append(all[ctl.FP], place{e.Name, controlRole(ctl), ctl.Role != store.RoleReference})
		}
	}
	out := make(map[string]enrolledModel, len(all))
	for fp, ps := range all {
		slices.SortStableFunc(ps, func(a, b place) int { return strings.Compare(a.enrolment, b.enrolment) })
		m := enrolledModel{enrolment: ps[0].enrolment, role: ps[0].role, control: true}
		for i, p := range ps {
			m.control = m.control && p.control
			if i > 0 {
				m.others = append(m.others, p.role+" of "+p.enrolment)
			}
		}
		out[fp] = m
	}
	return out, nil
}

// controlRole is a control's role as a similarity matrix names it: with
// its half, "positive (calibration)".
func controlRole(ctl store.Control) string {
	if ctl.Half != "" {
		return ctl.Role + " (" + ctl.Half + ")"
	}
	return ctl.Role
}
