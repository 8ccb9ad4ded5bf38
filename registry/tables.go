package registry

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/report"
)

// Tables lays s out as tables: the enrolled teachers, a similarity matrix
// per teacher, the verdicts, and the figures' files when there are any.
// Every matrix is whole; see TablesFor.
func (s *Summary) Tables() []report.Table { return s.tables(false) }

// MaxMatrixColumns is the most models a similarity matrix shows as columns
// in the formats read on a screen (see TablesFor): twelve columns of 0.00
// beside the names fill a terminal's width.
const MaxMatrixColumns = 12

// TablesFor lays s out as tables for format f: as Tables, but in the table
// and markdown formats, which people read, a similarity matrix of more than
// MaxMatrixColumns models keeps a row per model and only the columns of the
// teachers and references in it (what a suspect's row is read against),
// saying so in a note; a registry's matrix has a column per suspect, a
// thousand of them after a year, which no screen shows. CSV and JSON, read
// by programs, hold every matrix whole.
func (s *Summary) TablesFor(f report.Format) []report.Table {
	return s.tables(f == report.FormatTable || f == report.FormatMarkdown)
}

// tables is Tables, or with narrow TablesFor a format read on a screen.
func (s *Summary) tables(narrow bool) []report.Table {
	sum := report.Table{
		Title: "Enrolled teachers",
		Columns: []report.Column{{Name: "teacher"}, {Name: "suite"}, {Name: "probes"}, {Name: "positives"}, {Name: "negatives"},
			{Name: "references"}, {Name: "null size"}, {Name: "TPR@0.01"}, {Name: "FPR@0.01"}, {Name: "TPR@0.05"}, {Name: "FPR@0.05"},
			{Name: "AUC"}, {Name: "audited"}, {Name: "derived"}},
	}
	for _, t := range s.Teachers {
		row := []report.Cell{report.Text(t.Teacher), report.Text(shortHash(t.Suite)), report.Int(int64(t.Probes)),
			report.Int(int64(t.Positives)), report.Int(int64(t.Negatives)), report.Int(int64(t.References)), report.Int(int64(t.NullSize))}
		for _, a := range []float64{0.01, 0.05} {
			tpr, fpr := report.Cell{}, report.Cell{}
			for _, r := range t.Rates {
				if r.Alpha == a {
					tpr, fpr = report.Float(r.TPR, 3), report.Float(r.FPR, 3)
				}
			}
			row = append(row, tpr, fpr)
		}
		row = append(row, report.Float(t.AUC, 3), report.Int(int64(t.Audited)), report.Int(int64(t.Derived)))
		sum.AddRow(row...)
		if t.Outdated != "" {
			sum.Notes = append(sum.Notes, fmt.Sprintf("audit refuses %q, and the verdicts recorded against it were reached without under-trained controls: %s", t.Teacher, t.Outdated))
		}
		if t.NullSizeLO != t.NullSize {
			sum.Notes = append(sum.Notes, fmt.Sprintf("%s: the null of label-only suspects has %d models: the references that answered with labels only join it, not the null of suspects with full outputs", t.Teacher, t.NullSizeLO))
		}
	}
	tables := []report.Table{sum}
	for _, m := range s.Matrices {
		tables = append(tables, m.table(narrow))
	}
	v := report.Table{
		Title: verdictsTitle(s.Verdicts),
		Columns: []report.Column{{Name: "suspect"}, {Name: "teacher"}, {Name: "verdict"}, {Name: "p-value (Holm)"},
			{Name: "q-value (BH)"}, {Name: "best statistic"}, {Name: "effect size (z)"}, {Name: "nearest control"}, {Name: "reason"}},
	}
	for _, r := range s.Verdicts {
		v.AddRow(report.Text(r.Suspect), report.Text(r.Teacher), report.Text(r.Verdict), report.Fmt(r.PValue, 'g', 3),
			report.Fmt(r.QValue, 'g', 3), report.Text(r.Best), report.Measured(r.EffectSize, 2), nearestCell(r.Nearest, r.Teacher), report.Text(reasonCell(r)))
	}
	switch {
	case len(s.Verdicts) == 0 && s.records > 0 && len(s.Unlisted) > 0:
		v.Notes = []string{fmt.Sprintf("none of the %d audit records measured a suspect against a teacher enrolled here now", s.records)}
	case len(s.Verdicts) == 0 && s.records > 0:
		v.Notes = []string{fmt.Sprintf("none of the %d audit records measured a suspect against a teacher listed here (their teachers were removed, enrolled anew on another suite, or left out by --suite)", s.records)}
	case len(s.Verdicts) == 0:
		v.Notes = []string{"no audit recorded yet: run `lineage audit FINGERPRINT`"}
	default:
		v.Notes = []string{fmt.Sprintf("q-value: Benjamini–Hochberg over the %d suspect–teacher pairs above, from each pair's p-value before Holm's correction; flagging every pair with q ≤ Q keeps the expected share of independent models among those flagged at most Q (a screening rate across the registry; the verdict and its p-value are the audit's)", distinct(s.Verdicts))}
		v.Notes = append(v.Notes, sameNotes(s.Verdicts)...)
		v.Notes = append(v.Notes, missingNotes(s.Verdicts)...)
		v.Notes = append(v.Notes, labelMapNotes(s.Verdicts)...)
		if n := holmNote(s.Verdicts); n != "" {
			v.Notes = append(v.Notes, n)
		}
		if n := alphaNote(s.Verdicts); n != "" {
			v.Notes = append(v.Notes, n)
		}
	}
	v.Notes = append(v.Notes, unlistedNotes(s.Unlisted)...)
	tables = append(tables, v)
	if len(s.Figures) > 0 {
		f := report.Table{Title: "Figures", Columns: []report.Column{{Name: "file"}}}
		for _, p := range s.Figures {
			f.AddRow(report.Text(p))
		}
		tables = append(tables, f)
	}
	return tables
}

// verdictsTitle titles the verdicts table, with the α of its verdicts when
// they share one (as the audit table's title gives its own); alphaNote
// says when they do not.
func verdictsTitle(vs []Verdict) string {
	const t = "Verdicts of audited suspects"
	if a := sharedAlpha(vs, nil); a > 0 {
		return fmt.Sprintf("%s (α = %g)", t, a)
	}
	return t
}

// table lays m out: a row per model, numbered, with its name and role,
// and a column per model, or with narrow and more than MaxMatrixColumns
// models a column per teacher and reference only (see TablesFor).
func (m Matrix) table(narrow bool) report.Table {
	t := report.Table{
		Title:   fmt.Sprintf("Similarity on the suite of %s (%s)", m.Teacher, m.Statistic),
		Columns: []report.Column{{Name: "#"}, {Name: "model", Align: report.AlignLeft}, {Name: "role"}},
	}
	cols := make([]int, 0, len(m.Models))
	for j, mr := range m.Models {
		if !narrow || len(m.Models) <= MaxMatrixColumns || mr.column() {
			cols = append(cols, j)
		}
	}
	for _, j := range cols {
		t.Columns = append(t.Columns, report.Column{Name: strconv.Itoa(j + 1)})
	}
	// A registry's matrix has millions of cells: they are made a row at
	// a time as the row is written (report.RowSource).
	t.More = report.RowSource{N: len(m.Models), Row: func(i int, row []report.Cell) []report.Cell {
		mr := m.Models[i]
		row = append(row[:0], report.Int(int64(i+1)), report.Text(mr.Name(m.Teacher)), report.Text(mr.RoleText()))
		for _, j := range cols {
			row = append(row, report.Float(m.Values[i][j], 2))
		}
		return row
	}}
	if m.Statistic == StatJS {
		t.Notes = []string{"mean Jensen–Shannon divergence in bits (0 = identical outputs)"}
	} else {
		t.Notes = []string{"fraction of probes on which the two models' top-1 labels agree"}
	}
	if len(cols) < len(m.Models) {
		t.Notes = append(t.Notes, fmt.Sprintf("%d models, too many columns to read: only the columns of the teacher and the references are shown (numbered as the rows); --format csv or json writes the whole %d×%d matrix", len(m.Models), len(m.Models), len(m.Models)))
	}
	return t
}

// nearestCell shows a verdict's nearest control as the audit table does:
// its ID without the teacher's prefix, and its role.
func nearestCell(n *audit.Neighbour, teacher string) report.Cell {
	if n == nil {
		return report.Cell{}
	}
	return report.Text(audit.ShortID(n.FP, teacher) + " (" + n.Role + ")")
}

// shortHash is the first 12 digits of a suite hash.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// holmNote says, when the verdicts come from audits against different
// numbers of teachers, that each p-value is corrected over its own audit's
// teachers, and how many pairs come from audits of each size: the same
// evidence gives a smaller p-value in an audit against fewer teachers.
// It is empty when every audit tested the same number.
func holmNote(vs []Verdict) string {
	parts := countsBy(vs, func(v Verdict) int { return v.TeachersTested }, func(k, n int) string {
		unit := "teachers"
		if k == 1 {
			unit = "teacher"
		}
		return fmt.Sprintf("%d from audits against %d %s", n, k, unit)
	})
	if parts == nil {
		return ""
	}
	return "p-value: Holm-adjusted across the teachers its audit tested the suspect against (" + strings.Join(parts, ", ") + "); the same evidence gives a smaller p-value in an audit against fewer teachers, so compare verdicts of one audit, or audit again against the same teachers (teachers_tested in JSON)"
}

// countsBy counts vs by key and describes each key, in increasing order,
// with its count; nil when all of vs share one key.
func countsBy[K cmp.Ordered](vs []Verdict, key func(Verdict) K, describe func(k K, n int) string) []string {
	count := map[K]int{}
	for _, v := range vs {
		count[key(v)]++
	}
	if len(count) < 2 {
		return nil
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(count)) {
		parts = append(parts, describe(k, count[k]))
	}
	return parts
}

// missingNotes says, for each verdict whose measured fingerprint is no
// longer stored (db rm fingerprint --force), that the row is its audit
// record's alone: the suspect is in no similarity matrix, and db verify
// lists the record as dangling.
func missingNotes(vs []Verdict) []string {
	var out []string
	for _, v := range vs {
		if v.FingerprintMissing {
			out = append(out, fmt.Sprintf("%s (against %s): its fingerprint %s is no longer stored (removed with db rm --force), so it is in no similarity matrix; the verdict is that of audit record %s, which `lineage db verify` reports as dangling", v.Suspect, v.Teacher, v.Fingerprint, v.Audit))
		}
	}
	return out
}

// maxLabelMapNote is how much of a label map a note shows (the JSON
// holds it whole).
const maxLabelMapNote = 240

// labelMapNotes says, for each verdict whose suspect's labels were read by
// a label map the auditor stated (audit --label-map), that map: the row's
// verdict holds for that correspondence, as the audit's own table says.
func labelMapNotes(vs []Verdict) []string {
	var out []string
	for _, v := range vs {
		if v.LabelMap == "" {
			continue
		}
		lm := v.LabelMap
		if len(lm) > maxLabelMapNote {
			cut := strings.LastIndexByte(lm[:maxLabelMapNote], ',')
			if cut <= 0 {
				cut = maxLabelMapNote
			}
			lm = strings.ToValidUTF8(lm[:cut], "") + ",… (label_map in JSON lists them all)"
		}
		out = append(out, fmt.Sprintf("%s (against %s): its outputs were relabelled by the label map the auditor stated (suspect label=teacher label, --label-map), not read by their names: %s; the verdict holds for that correspondence", v.Suspect, v.Teacher, lm))
	}
	return out
}

// unlistedNotes says, for each recorded verdict against a teacher no
// longer enrolled on its suite, that it is not shown and where it is kept.
func unlistedNotes(us []Unlisted) []string {
	var out []string
	for _, u := range us {
		why := fmt.Sprintf("enrolment %s was removed", u.Teacher)
		if u.Why != "enrolment removed" {
			why = fmt.Sprintf("%s was enrolled anew on another suite", u.Teacher)
		}
		out = append(out, fmt.Sprintf("%s (against %s): its verdict is not shown because %s; audit record %s still holds it (%s, p-value %.3g): `%s`",
			u.Suspect, u.Teacher, why, u.Audit, u.Verdict, u.PValue, shellword.Command("lineage db show audit", u.Audit)))
	}
	return out
}

// alphaNote says, when the verdicts come from audits at different
// significance levels (audit --alpha), how many come from each: a verdict
// is DERIVED when its p-value is at most its own audit's α, so the same
// p-value can be DERIVED in one row and INCONCLUSIVE in another. It is
// empty when every audit used the same α.
func alphaNote(vs []Verdict) string {
	parts := countsBy(vs, func(v Verdict) float64 { return v.Alpha }, func(a float64, n int) string {
		if a == 0 { // a record that does not say
			return fmt.Sprintf("%d at an unrecorded α", n)
		}
		return fmt.Sprintf("%d at α = %g", n, a)
	})
	if parts == nil {
		return ""
	}
	return "α: the verdicts come from audits at different significance levels (" + strings.Join(parts, ", ") + "); each is DERIVED when its p-value is at most its own audit's α, so compare verdicts of one level, or audit again at the same --alpha (alpha in JSON)"
}

// reasonCell is a verdict's reason, or for a DERIVED one the audit's
// caution on it, or for a NOT_DERIVED one the kinds of copy it does not
// rule out, if any.
func reasonCell(v Verdict) string {
	switch {
	case v.Reason != "":
		return v.Reason
	case v.Caution != "":
		return "caution: " + v.Caution
	case len(v.NotRuledOut) > 0:
		return "not ruled out: " + strings.Join(v.NotRuledOut, ", ")
	}
	return ""
}
