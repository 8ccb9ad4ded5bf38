package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/lineage-audit/lineage/store"
)

// A suspect is audited under a name, and each audit measures one stored
// fingerprint of it per teacher. Audited as a model against several
// teachers it has a fingerprint per suite, stored as NAME@TEACHER; an audit
// of one of those later (`lineage audit NAME@TEACHER`) is recorded under
// the fingerprint's ID, and a fingerprint stored by an earlier audit of the
// same name (NAME, against one teacher) may sit on the same suite. Each is
// still the suspect NAME: Findings lists every suspect once per teacher.

// Finding is the latest recorded result of one suspect against one
// teacher. Fingerprint is the stored fingerprint the result was measured
// on ("" when a record of older lineage does not tell).
type Finding struct {
	Suspect     string  // the suspect's name
	Fingerprint string  // the suspect's fingerprint measured
	Audit       string  // the ID of the audit record it comes from
	Alpha       float64 // the audit's α
	// Tested is the number of teachers the audit measured the suspect
	// against, over which Holm's correction adjusted PValue.
	Tested int
	// Created is when the audit was recorded; the zero time for a record
	// of older lineage without it.
	Created time.Time
	TeacherResult
}

// Findings are the recorded results on a set of teachers (see
// ReadFindings).
type Findings struct {
	// List has one finding per suspect per teacher the suspect was
	// measured against, ordered by suspect, then teacher.
	List []Finding
	// Records is the number of audit records read, listed or not.
	Records int
	// Unlisted has, in List's order, the latest result per suspect and
	// teacher that List leaves out because its teacher is not among the
	// suites asked for, or its suite is not the teacher's present one, and
	// that List has no finding for: results a report cannot show, because
	// their teacher was removed or enrolled anew (or left out by the
	// caller, which tells those apart).
	Unlisted []Finding
	owner    map[string]string // fingerprint ID → suspect name, when not its own ID
}

// ReadFindings reads the audit records of tx and returns the findings on
// the teachers of suites (enrolment name → its suite hash). A result
// counts when the suspect was measured against the teacher (see
// TeacherResult.Measured) on the teacher's present suite (not an earlier
// enrolment's of the name). The measured fingerprint's suspect is the name
// of the audit that stored it as NAME@TEACHER, or else the audit's own
// suspect name. When several audits measured a suspect
// against one teacher, the latest recorded (AuditRecord.Created; a record
// without it counts as older) gives the finding; between records of equal
// time, the audit of the suspect by its own name, then the first by ID.
func ReadFindings(tx *store.Tx, suites map[string]string) (*Findings, error) {
	recs, err := tx.Audits()
	if err != nil {
		return nil, err
	}
	type row struct {
		Finding
		name   string // the audit's suspect name
		listed bool   // measured on a suite of suites, its teacher's
	}
	var rows []row
	claims := map[string]row{} // fingerprint → the latest audit that stored it under another name
	for i := range recs {
		rec := &recs[i]
		var res Result
		if err := json.Unmarshal(rec.Result, &res); err != nil {
			return nil, fmt.Errorf("audit %q: %w: %v", rec.ID, store.ErrCorrupt, err)
		}
		created, _ := time.Parse(time.RFC3339Nano, rec.Created) // the zero time when missing
		tested := 0
		for _, tr := range res.Results {
			if tr.Measured() {
				tested++
			}
		}
		for _, tr := range res.Results {
			if !tr.Measured() {
				continue
			}
			s, ok := suites[tr.Teacher]
			r := row{Finding{Suspect: res.Suspect, Fingerprint: measuredFP(tx, rec, res.Suspect, tr.Teacher),
				Audit: rec.ID, Alpha: res.Alpha, Tested: tested, Created: created, TeacherResult: tr}, res.Suspect, ok && tr.Suite == s}
			rows = append(rows, r)
			if r.listed && r.Fingerprint == r.name+"@"+r.Teacher {
				if c, ok := claims[r.Fingerprint]; !ok || later(r.Created, r.Audit, c.Created, c.Audit) {
					claims[r.Fingerprint] = r
				}
			}
		}
	}
	v := &Findings{Records: len(recs), owner: map[string]string{}}
	for fp, c := range claims {
		v.owner[fp] = c.name
	}
	best := map[[2]string]row{}     // (suspect, teacher) → its latest listed row
	unlisted := map[[2]string]row{} // the same of the rows not listed
	for _, r := range rows {
		switch {
		case r.listed || r.Fingerprint != r.name+"@"+r.Teacher:
			if r.Fingerprint != "" {
				r.Suspect = v.SuspectOf(r.Fingerprint)
			}
		default: // stored by its audit as NAME@TEACHER: NAME's
			r.Suspect = r.name
		}
		k, in := [2]string{r.Suspect, r.Teacher}, best
		if !r.listed {
			in = unlisted
		}
		b, ok := in[k]
		if !ok || r.Created.After(b.Created) || r.Created.Equal(b.Created) && prefer(r.Suspect, r.Audit, b.Audit) {
			in[k] = r
		}
	}
	for _, r := range best {
		v.List = append(v.List, r.Finding)
	}
	for k, r := range unlisted {
		if _, ok := best[k]; !ok {
			v.Unlisted = append(v.Unlisted, r.Finding)
		}
	}
	for _, l := range [][]Finding{v.List, v.Unlisted} {
		slices.SortFunc(l, func(a, b Finding) int {
			return cmp.Or(cmp.Compare(a.Suspect, b.Suspect), cmp.Compare(a.Teacher, b.Teacher))
		})
	}
	return v, nil
}

// measuredFP returns the fingerprint rec measured against teacher: its
// Fingerprints entry, or for a record without them the one lineage audit
// stored for suspect name on several suites (name@teacher) if stored, else
// rec.Suspect for the first teacher of Against, which it was measured
// against; "" when unknown.
func measuredFP(tx *store.Tx, rec *store.AuditRecord, name, teacher string) string {
	i := slices.Index(rec.Against, teacher)
	switch {
	case len(rec.Fingerprints) > 0:
		if i >= 0 && i < len(rec.Fingerprints) {
			return rec.Fingerprints[i]
		}
		return ""
	case tx.HasFingerprint(name + "@" + teacher):
		return name + "@" + teacher
	case i == 0:
		return rec.Suspect
	}
	return ""
}

// later reports whether the record (t, id) counts as later than (u, other).
func later(t time.Time, id string, u time.Time, other string) bool {
	return t.After(u) || t.Equal(u) && id < other
}

// prefer breaks a tie between two audits of suspect recorded at the same
// time: the audit of the suspect by its own name, then the first by ID.
func prefer(suspect, id, other string) bool {
	if (id == suspect) != (other == suspect) {
		return id == suspect
	}
	return id < other
}

// SuspectOf returns the suspect the stored fingerprint fp belongs to: the
// name of the audit that stored it as NAME@TEACHER (the latest, should
// several), or else fp itself.
func (v *Findings) SuspectOf(fp string) string {
	if s, ok := v.owner[fp]; ok {
		return s
	}
	return fp
}

// Suspect is one suspect's row of a teacher's similarity matrix.
type Suspect struct {
	Name        string   // the suspect's name
	Fingerprint string   // the fingerprint shown
	Also        []string // the suspect's other fingerprints on the suite
}

// Suspects groups fps, the IDs of stored suspect fingerprints taken on
// teacher's suite, by suspect (see SuspectOf): one row each, in the order
// of their first fingerprint in fps, showing the fingerprint the suspect's
// finding against teacher was measured on, or else its first.
func (v *Findings) Suspects(teacher string, fps []string) []Suspect {
	measured := map[string]string{}
	for _, vd := range v.List {
		if vd.Teacher == teacher {
			measured[vd.Suspect] = vd.Fingerprint
		}
	}
	var out []Suspect
	at := map[string]int{}
	for _, fp := range fps {
		name := v.SuspectOf(fp)
		i, ok := at[name]
		if !ok {
			at[name] = len(out)
			out = append(out, Suspect{Name: name, Fingerprint: fp})
			continue
		}
		if measured[name] == fp {
			out[i].Also = append(out[i].Also, out[i].Fingerprint)
			out[i].Fingerprint = fp
		} else {
			out[i].Also = append(out[i].Also, fp)
		}
	}
	for i := range out {
		slices.Sort(out[i].Also)
	}
	return out
}
