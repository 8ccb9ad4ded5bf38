package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
	"github.com/spf13/cobra"
)

// reportOptions are the flags of `lineage report`.
type reportOptions struct {
	suite     string
	statistic string
	plot      string
	matrix    string // --plot-matrix: a heat map of each similarity matrix
	controls  bool   // include the controls in the similarity matrix
	format    report.Format
}

// newReportCommand builds `lineage report`.
func newReportCommand(g *globalOptions) *cobra.Command {
	o := &reportOptions{format: report.FormatTable}
	c := &cobra.Command{
		Use:   "report [--suite NAME] [--plot FILE.png|FILE.svg]",
		Short: "Summarise enrolled teachers, similarity matrices and the verdicts of audited suspects",
		Long: `report reads the database (read-only) and prints, for every enrolled teacher (or only the
one whose suite --suite names):
  - a summary: suite, probes, controls, null size, calibration TPR/FPR and AUC, suspects
    audited and flagged;
  - the similarity matrix of the teacher, its references and every suspect fingerprinted on
    the suite (and with --controls every control): top-1 agreement, or mean JS divergence
    with --statistic js; when several enrolments share the suite, the others' teachers and
    references (and with --controls their controls) are in it under their role "of" their
    enrolment, never as suspects;
  - the verdict table of the recorded audits (see 'lineage audit'): one row per suspect per
    teacher it was fingerprinted for (not those it got INCONCLUSIVE from only for having no
    fingerprint on their suite), from its latest audit.
A suspect audited as a model against several teachers is listed under its name, not as its
fingerprints NAME@TEACHER, however it was audited since (an audit of NAME@TEACHER is one of
NAME's); in a matrix its row shows the fingerprint its verdict was measured on.
With --plot, a figure per teacher shows the null distribution (calibration negatives and, as
squares, the references that serve probabilities), the calibration half's positive controls and
each audited suspect on the lineage score, or on the replica residual when that decided more of the teacher's
audits than the score did; with several teachers the files are named FILE-TEACHER.png.
With --plot-matrix, a heat map per teacher draws its similarity matrix (named the same way).`,
		Example: `  lineage --db case.db report --format markdown
  lineage --db case.db report --suite acme --plot null.png
  lineage --db case.db report --statistic js --plot-matrix similarity.svg`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runReport(c.Context(), c, g, o) },
	}
	g.bindDB(c, dbUsage)
	f := c.Flags()
	f.StringVar(&o.suite, "suite", "", "only this teacher's suite (enrolment name, suite hash or its first 8+ digits)")
	f.StringVar(&o.statistic, "statistic", "agreement", "similarity shown in the matrix: agreement or js")
	f.BoolVar(&o.controls, "controls", false, "include every control model in the similarity matrix (144 with enroll's defaults)")
	f.StringVar(&o.plot, "plot", "", "write a null-distribution figure per teacher to this .png or .svg file")
	f.StringVar(&o.matrix, "plot-matrix", "", "write a heat map of each teacher's similarity matrix to this .png or .svg file")
	f.Var(&o.format, "format", "output format: table, json, markdown or csv")
	return c
}

// reportDoc is the JSON form of the report.
type reportDoc struct {
	Teachers []teacherSummary `json:"teachers"`
	Matrices []similarityDoc  `json:"similarity"`
	Verdicts []verdictRow     `json:"verdicts"`
	Figures  []string         `json:"figures,omitempty"`
}

type teacherSummary struct {
	Teacher    string            `json:"teacher"`
	Suite      string            `json:"suite"`
	Probes     int               `json:"probes"`
	Positives  int               `json:"positives"`
	Negatives  int               `json:"negatives"`
	References int               `json:"references"`
	NullSize   int               `json:"null_size"`
	NullSizeLO int               `json:"null_size_label_only"`
	Rates      []compare.Rate    `json:"rates"`
	AUC        float64           `json:"auc"`
	Audited    int               `json:"suspects_audited"`
	Derived    int               `json:"suspects_derived"`
	Comp       map[string]int    `json:"composition"`
	statistics []string          // the enrolment's statistics
	fig        report.NullFigure // filled when plotting
}

type similarityDoc struct {
	Teacher   string      `json:"teacher"`
	Suite     string      `json:"suite"`
	Statistic string      `json:"statistic"`
	Models    []modelRole `json:"models"`
	Values    [][]float64 `json:"values"`
}

type modelRole struct {
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

// roleText is mr's role as the table and the heat map show it: with the
// enrolment it belongs to when that is not the matrix's teacher's
// ("teacher of beta"), and its places in further enrolments
// ("reference of beta; reference of gamma").
func roleText(mr modelRole) string {
	r := mr.Role
	if mr.Enrolment != "" {
		r += " of " + mr.Enrolment
	}
	for _, o := range mr.Others {
		r += "; " + o
	}
	return r
}

// enrolledModel is the place of a fingerprint in the enrolments: its
// teacher's, or a control's (a reference included), in the first
// enrolment by name, and its places in the others.
type enrolledModel struct {
	enrolment string
	role      string   // "teacher", or the control's role with its half
	control   bool     // a positive or negative control in every enrolment it is in: shown only with --controls
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

type verdictRow struct {
	Suspect     string           `json:"suspect"`
	Teacher     string           `json:"teacher"`
	Fingerprint string           `json:"fingerprint,omitempty"` // the suspect's fingerprint measured
	Audit       string           `json:"audit"`                 // the audit record the verdict comes from
	Verdict     string           `json:"verdict"`
	PValue      float64          `json:"p_value"`
	Best        string           `json:"best_statistic,omitempty"`
	EffectSize  float64          `json:"effect_size"`
	Nearest     *audit.Neighbour `json:"nearest_control,omitempty"` // as in audit's JSON
	Reason      string           `json:"reason,omitempty"`
	x           map[string]float64
	alpha       float64 // the audit's α
}

func runReport(ctx context.Context, c *cobra.Command, g *globalOptions, o *reportOptions) error {
	if o.statistic != "agreement" && o.statistic != "js" {
		return usageError{fmt.Errorf("--statistic %q: want agreement or js", o.statistic)}
	}
	for _, f := range []struct{ flag, path string }{{"--plot", o.plot}, {"--plot-matrix", o.matrix}} {
		if f.path == "" {
			continue
		}
		if _, err := report.ParseImageFormat(filepath.Ext(f.path)); err != nil {
			return usageError{fmt.Errorf("%s %q: the file must end in .png or .svg", f.flag, f.path)}
		}
	}
	if o.plot != "" && o.matrix != "" && filepath.Clean(o.plot) == filepath.Clean(o.matrix) {
		return usageError{fmt.Errorf("--plot and --plot-matrix name the same file %q", o.plot)}
	}
	db, err := openDB(g, true)
	if err != nil {
		return err
	}
	defer db.Close()
	fpEntries, err := db.List(ctx, store.TypeFingerprint)
	if err != nil {
		return err
	}
	doc := reportDoc{Teachers: []teacherSummary{}, Matrices: []similarityDoc{}, Verdicts: []verdictRow{}}
	err = db.View(ctx, func(tx *store.Tx) error {
		var names []string
		if o.suite != "" {
			h, err := tx.SuiteHash(o.suite)
			if err != nil {
				return fmt.Errorf("%w (enrolled: %s)", err, enrolledNames(tx))
			}
			es, err := tx.Enrolments()
			if err != nil {
				return err
			}
			for _, e := range es {
				if e.Suite == h {
					names = append(names, e.Name)
				}
			}
			if len(names) == 0 {
				return fmt.Errorf("suite %q belongs to no enrolment", o.suite)
			}
		}
		if o.suite == "" {
			if es, err := tx.Enrolments(); err == nil && len(es) == 0 {
				return nil // an empty database: an empty report
			}
		}
		cases, err := loadCases(tx, names)
		if err != nil {
			return err
		}
		suiteOf := map[string]string{} // teacher in the report → its suite
		for _, cs := range cases {
			suiteOf[cs.Enrolment.Name] = cs.Suite.Hash
		}
		// Verdicts from the audit records: one per suspect per teacher it
		// was measured against (a teacher the suspect was not fingerprinted
		// for gets no row, no count and no mark in its figure).
		found, err := audit.ReadFindings(tx, suiteOf)
		if err != nil {
			return err
		}
		enrolled, err := enrolledModels(tx)
		if err != nil {
			return err
		}
		for _, f := range found.List {
			v := verdictRow{Suspect: f.Suspect, Teacher: f.Teacher, Verdict: string(f.Verdict), PValue: f.PValue,
				Best: f.Best, EffectSize: f.EffectSize, Reason: f.Reason, Fingerprint: f.Fingerprint, Audit: f.Audit,
				x: map[string]float64{}, alpha: f.Alpha}
			v.Nearest = f.Nearest
			for k, s := range f.Statistics {
				v.x[k] = s.Similarity
			}
			doc.Verdicts = append(doc.Verdicts, v)
		}
		for _, cs := range cases {
			ts, sim, err := teacherReport(tx, cs, fpEntries, enrolled, found, doc.Verdicts, o)
			if err != nil {
				return err
			}
			doc.Teachers = append(doc.Teachers, ts)
			doc.Matrices = append(doc.Matrices, sim)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var nullPaths, matrixPaths []string
	if o.plot != "" {
		nullPaths = figurePaths(o.plot, doc.Teachers)
	}
	if o.matrix != "" {
		matrixPaths = figurePaths(o.matrix, doc.Teachers)
	}
	// With several teachers the two flags' files are named per teacher,
	// and with teacher names such as "x" and "a-x" one flag's file can be
	// the other's: refuse before writing either.
	if p, ok := sharedPath(nullPaths, matrixPaths); ok {
		return usageError{fmt.Errorf("--plot and --plot-matrix would both write %q", p)}
	}
	if o.plot != "" {
		paths := nullPaths
		for i := range doc.Teachers {
			if err := report.SaveFigure(paths[i], doc.Teachers[i].fig); err != nil {
				return fmt.Errorf("--plot %s: %w", paths[i], err)
			}
			doc.Figures = append(doc.Figures, paths[i])
		}
	}
	if o.matrix != "" {
		paths := matrixPaths
		for i, m := range doc.Matrices {
			if err := report.SaveFigure(paths[i], matrixFigure(m)); err != nil {
				return fmt.Errorf("--plot-matrix %s: %w", paths[i], err)
			}
			doc.Figures = append(doc.Figures, paths[i])
		}
	}
	if o.format == report.FormatJSON {
		return writeJSON(c.OutOrStdout(), doc)
	}
	return report.RenderAll(c.OutOrStdout(), reportTables(&doc), o.format)
}

// teacherReport builds one teacher's summary (with its figure) and the
// similarity matrix of every model fingerprinted on its suite, a suspect
// once however many of its fingerprints are on the suite. A teacher or
// control of another enrolment on the suite (enrolled) is shown with its
// role in that enrolment, as the teacher's own are: never as a suspect.
func teacherReport(tx *store.Tx, cs *audit.Case, fpEntries []store.Entry, enrolled map[string]enrolledModel, found *audit.Findings, verdicts []verdictRow, o *reportOptions) (teacherSummary, similarityDoc, error) {
	e := cs.Enrolment
	ts := teacherSummary{Teacher: e.Name, Suite: e.Suite, Probes: cs.Suite.Len(), Comp: map[string]int{}, Rates: []compare.Rate{},
		NullSize: cs.NullSize(false), NullSizeLO: cs.NullSize(true)}
	for _, k := range cs.Suite.Kinds {
		ts.Comp[string(k)]++
	}
	var rep audit.EnrolReport
	if len(e.Report) > 0 {
		if err := json.Unmarshal(e.Report, &rep); err != nil {
			return ts, similarityDoc{}, fmt.Errorf("enrolment %q: report: %w: %v", e.Name, store.ErrCorrupt, err)
		}
	}
	ts.Rates, ts.AUC, ts.statistics = rep.Calibration.Rates, rep.Calibration.AUC, rep.Statistics
	if ts.Rates == nil {
		ts.Rates = []compare.Rate{}
	}
	models := []modelRole{{ID: e.TeacherFP, Role: "teacher"}}
	fps := []*fingerprint.Fingerprint{cs.Teacher}
	known := map[string]bool{e.TeacherFP: true}
	for i, ctl := range e.Controls {
		switch ctl.Role {
		case store.RolePositive:
			ts.Positives++
		case store.RoleNegative:
			ts.Negatives++
		case store.RoleReference:
			ts.References++
		}
		known[ctl.FP] = true
		if !o.controls && ctl.Role != store.RoleReference {
			continue
		}
		models = append(models, modelRole{ID: ctl.FP, Role: controlRole(ctl)})
		fps = append(fps, cs.Controls[i])
	}
	onSuite := map[string]*fingerprint.Fingerprint{}
	var ids []string
	for _, en := range fpEntries {
		if known[en.ID] {
			continue
		}
		fp, err := tx.Fingerprint(en.ID)
		if err != nil {
			return ts, similarityDoc{}, err
		}
		if fp.Suite != e.Suite {
			continue
		}
		if m, ok := enrolled[en.ID]; ok {
			if m.control && !o.controls {
				continue
			}
			models = append(models, modelRole{ID: en.ID, Role: m.role, Enrolment: m.enrolment, Others: m.others})
			fps = append(fps, fp)
			continue
		}
		onSuite[en.ID] = fp
		ids = append(ids, en.ID)
	}
	for _, s := range found.Suspects(e.Name, ids) {
		models = append(models, modelRole{ID: s.Fingerprint, Role: "suspect", Suspect: s.Name, Also: s.Also})
		fps = append(fps, onSuite[s.Fingerprint])
	}
	for _, v := range verdicts {
		if v.Teacher == e.Name {
			ts.Audited++
			if v.Verdict == string(audit.Derived) {
				ts.Derived++
			}
		}
	}
	// Similarity matrix (symmetric statistics).
	n := len(fps)
	vals := make([][]float64, n)
	for i := range vals {
		vals[i] = make([]float64, n)
	}
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			v := pairStat(fps[i], fps[j], o.statistic)
			vals[i][j], vals[j][i] = v, v
		}
	}
	sim := similarityDoc{Teacher: e.Name, Suite: e.Suite, Statistic: o.statistic, Models: models, Values: vals}
	if o.plot != "" {
		fig, err := nullFigure(cs, verdicts)
		if err != nil {
			return ts, sim, err
		}
		ts.fig = fig
	}
	return ts, sim, nil
}

// nearestCell shows a verdict's nearest control as the table does: its ID
// without the teacher's prefix, and its role.
func nearestCell(n *audit.Neighbour, teacher string) report.Cell {
	if n == nil {
		return report.Cell{}
	}
	return report.Text(shortID(n.FP, teacher) + " (" + n.Role + ")")
}

// matrixFigure draws a similarity matrix as a heat map, its models named
// as in the table, with their roles.
func matrixFigure(m similarityDoc) report.Matrix {
	names := make([]string, len(m.Models))
	for i, mr := range m.Models {
		names[i] = matrixName(mr, m.Teacher)
		if r := roleText(mr); names[i] != r {
			names[i] += " (" + r + ")"
		}
	}
	stat := "top-1 agreement"
	if m.Statistic == "js" {
		stat = "mean JS divergence (bits)"
	}
	return report.Matrix{Title: "Similarity on the suite of " + m.Teacher, Statistic: stat,
		Rows: names, Cols: names, Values: m.Values}
}

// matrixName is the name a similarity matrix's table and heat map give
// model mr of teacher's matrix: the suspect's name for a suspect's
// fingerprint (s2, not s2@acme), else the ID without the teacher's prefix.
func matrixName(mr modelRole, teacher string) string {
	if mr.Suspect != "" {
		return mr.Suspect
	}
	return shortID(mr.ID, teacher)
}

// pairStat is top-1 agreement or mean JS divergence between two
// fingerprints on the same suite.
func pairStat(a, b *fingerprint.Fingerprint, stat string) float64 {
	if a.P.Rows != b.P.Rows || a.P.Cols != b.P.Cols || a.P.Rows == 0 {
		return math.NaN()
	}
	var sum float64
	for i := 0; i < a.P.Rows; i++ {
		if stat == "js" {
			sum += compare.JSDivergence(a.Row(i), b.Row(i))
		} else if compare.Top1(a.Row(i)) == compare.Top1(b.Row(i)) {
			sum++
		}
	}
	return sum / float64(a.P.Rows)
}

// nullFigure draws the teacher's null on the statistic that decided most of
// its audits (the lineage score, or the replica residual; the score when
// there are none).
func nullFigure(cs *audit.Case, verdicts []verdictRow) (report.NullFigure, error) {
	count := map[string]int{}
	for _, v := range verdicts {
		if v.Teacher == cs.Enrolment.Name && v.Best != "" {
			count[v.Best]++
		}
	}
	stat, best := audit.StatScore, count[audit.StatScore]
	for _, k := range audit.StatisticKeys(cs.Suite, false) {
		if count[k] > best {
			stat, best = k, count[k]
		}
	}
	fig := report.NullFigure{Teacher: cs.Enrolment.Name, Statistic: stat, Higher: "closer to the teacher",
		Alpha: commonAlpha(cs.Enrolment.Name, verdicts)}
	byRole, err := cs.RoleValues(stat)
	if err != nil {
		return fig, err
	}
	fig.Null, fig.References, fig.Positives = byRole[store.RoleNegative], byRole[store.RoleReference], byRole[store.RolePositive]
	for _, v := range verdicts {
		if v.Teacher != cs.Enrolment.Name {
			continue
		}
		x, ok := v.x[stat]
		if !ok {
			x = math.NaN()
		}
		m := report.Marked{Name: v.Suspect, Value: x, Verdict: v.Verdict}
		if v.Best != "" && v.Best != stat {
			m.DecidedBy = v.Best
		}
		fig.Suspects = append(fig.Suspects, m)
	}
	return fig, nil
}

// commonAlpha returns the α of teacher's verdicts when they all share one,
// else 0 (the figure then names none).
func commonAlpha(teacher string, verdicts []verdictRow) float64 {
	a := 0.0
	for _, v := range verdicts {
		if v.Teacher != teacher {
			continue
		}
		if a != 0 && v.alpha != a {
			return 0
		}
		a = v.alpha
	}
	return a
}

// figurePaths returns a figure path per teacher: plot itself for one
// teacher, else plot with "-NAME" before its extension, NAME made safe for
// a file name; teachers whose safe names collide ("x y", "x_y") get "-2",
// "-3", … after the name, so no figure overwrites another.
func figurePaths(plot string, ts []teacherSummary) []string {
	if len(ts) == 1 {
		return []string{plot}
	}
	ext := filepath.Ext(plot)
	base := strings.TrimSuffix(plot, ext)
	used := map[string]bool{} // lower-cased: case-insensitive file systems
	out := make([]string, len(ts))
	for i, t := range ts {
		name := safeFileName(t.Teacher)
		p := base + "-" + name + ext
		for n := 2; used[strings.ToLower(p)]; n++ {
			p = base + "-" + name + "-" + strconv.Itoa(n) + ext
		}
		used[strings.ToLower(p)] = true
		out[i] = p
	}
	return out
}

// sharedPath returns a path of a that b also has (compared as a
// case-insensitive file system would), if any.
func sharedPath(a, b []string) (string, bool) {
	for _, p := range a {
		for _, q := range b {
			if strings.EqualFold(filepath.Clean(p), filepath.Clean(q)) {
				return p, true
			}
		}
	}
	return "", false
}

// safeFileName keeps a teacher name usable in a file name.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, s)
}

// reportTables lays the report out as tables.
func reportTables(doc *reportDoc) []report.Table {
	sum := report.Table{
		Title: "Enrolled teachers",
		Columns: []report.Column{{Name: "teacher"}, {Name: "suite"}, {Name: "probes"}, {Name: "positives"}, {Name: "negatives"},
			{Name: "references"}, {Name: "null size"}, {Name: "TPR@0.01"}, {Name: "FPR@0.01"}, {Name: "TPR@0.05"}, {Name: "FPR@0.05"},
			{Name: "AUC"}, {Name: "audited"}, {Name: "derived"}},
	}
	for _, t := range doc.Teachers {
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
		if t.NullSizeLO != t.NullSize {
			sum.Notes = append(sum.Notes, fmt.Sprintf("%s: the null of label-only suspects has %d models: the references that answered with labels only join it, not the null of suspects with full outputs", t.Teacher, t.NullSizeLO))
		}
	}
	tables := []report.Table{sum}
	for _, m := range doc.Matrices {
		t := report.Table{
			Title:   fmt.Sprintf("Similarity on the suite of %s (%s)", m.Teacher, m.Statistic),
			Columns: []report.Column{{Name: "#"}, {Name: "model", Align: report.AlignLeft}, {Name: "role"}},
		}
		for j := range m.Models {
			t.Columns = append(t.Columns, report.Column{Name: strconv.Itoa(j + 1)})
		}
		for i, mr := range m.Models {
			row := []report.Cell{report.Int(int64(i + 1)), report.Text(matrixName(mr, m.Teacher)), report.Text(roleText(mr))}
			for j := range m.Models {
				row = append(row, report.Float(m.Values[i][j], 2))
			}
			t.AddRow(row...)
		}
		if m.Statistic == "js" {
			t.Notes = []string{"mean Jensen–Shannon divergence in bits (0 = identical outputs)"}
		} else {
			t.Notes = []string{"fraction of probes on which the two models' top-1 labels agree"}
		}
		tables = append(tables, t)
	}
	v := report.Table{
		Title: "Verdicts of audited suspects",
		Columns: []report.Column{{Name: "suspect"}, {Name: "teacher"}, {Name: "verdict"}, {Name: "p-value"},
			{Name: "best statistic"}, {Name: "effect size (z)"}, {Name: "nearest control"}, {Name: "reason"}},
	}
	for _, r := range doc.Verdicts {
		v.AddRow(report.Text(r.Suspect), report.Text(r.Teacher), report.Text(r.Verdict), report.Fmt(r.PValue, 'g', 3),
			report.Text(r.Best), measuredFloat(r.EffectSize, 2), nearestCell(r.Nearest, r.Teacher), report.Text(r.Reason))
	}
	if len(doc.Verdicts) == 0 {
		v.Notes = []string{"no audit recorded yet: run `lineage audit FINGERPRINT`"}
	}
	tables = append(tables, v)
	if len(doc.Figures) > 0 {
		f := report.Table{Title: "Figures", Columns: []report.Column{{Name: "file"}}}
		for _, p := range doc.Figures {
			f.AddRow(report.Text(p))
		}
		tables = append(tables, f)
	}
	return tables
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
