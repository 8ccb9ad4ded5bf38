package registry

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/report"
	"github.com/lineage-audit/lineage/store"
)

// Statistics a similarity matrix can show.
const (
	StatAgreement = "agreement" // top-1 agreement: the fraction of probes where the two models' labels agree
	StatJS        = "js"        // mean Jensen–Shannon divergence in bits
)

// Options says what a summary holds. The zero value means top-1
// agreement in the matrices, references but no controls in them, and no
// figures.
type Options struct {
	// Statistic is the similarity in the matrices, StatAgreement or
	// StatJS; "" means StatAgreement.
	Statistic string
	// Controls puts every positive and negative control in the matrices
	// (144 per enrolment with enroll's defaults).
	Controls bool
	// Figures builds each teacher's null figure ([Teacher.NullFigure]).
	Figures bool
	// Narrow computes, in a matrix of more than MaxMatrixColumns models,
	// only the values that TablesFor shows in the table and markdown
	// formats, each model's against the teachers and references (the rest
	// are NaN): n pairs per such column instead of n² pairs, for a
	// caller that prints those formats only.
	Narrow bool
}

// Summary is the summary of a set of enrolments, in JSON as lineage
// report --format json prints it. A nil or empty Summary has no
// teachers, matrices or verdicts.
type Summary struct {
	Teachers []Teacher `json:"teachers"`
	Matrices []Matrix  `json:"similarity"`
	Verdicts []Verdict `json:"verdicts"`
	// Unlisted are the recorded verdicts against teachers that are no
	// longer enrolled on the suite they were measured on (see Unlisted):
	// listed so that removing an enrolment does not make them vanish
	// without a word. A teacher left out by the caller is not one.
	Unlisted []Unlisted `json:"unlisted_verdicts,omitempty"`
	// Figures are the files the caller wrote the figures to, if any.
	Figures []string `json:"figures,omitempty"`
	records int      // audit records in the store, listed or not
}

// Teacher summarises one enrolment: its suite and controls, the
// calibration its enrolment measured, and how many suspects were audited
// against it and found derived.
type Teacher struct {
	Teacher    string         `json:"teacher"`
	Suite      string         `json:"suite"`
	Probes     int            `json:"probes"`
	Positives  int            `json:"positives"`
	Negatives  int            `json:"negatives"`
	References int            `json:"references"`
	NullSize   int            `json:"null_size"`
	NullSizeLO int            `json:"null_size_label_only"`
	Rates      []compare.Rate `json:"rates"`
	AUC        float64        `json:"auc"`
	// Audited and Derived count the suspects audited against the teacher
	// and those found derived, a suspect with another's outputs once
	// (Verdict.SameAs).
	Audited int            `json:"suspects_audited"`
	Derived int            `json:"suspects_derived"`
	Comp    map[string]int `json:"composition"` // probes per kind
	// Outdated, when set, says why audits refuse the enrolment
	// (audit.CheckCurrent): older lineage made it without something
	// verdicts now need, so the verdicts recorded against it were reached
	// without it.
	Outdated string `json:"outdated,omitempty"`
	fig      report.NullFigure
}

// NullFigure is t's null figure, built when the summary's Options.Figures
// was set (else the zero figure): the calibration negatives and the
// references on the statistic that decided most of the teacher's audits,
// the calibration half's positive controls, and each audited suspect.
func (t *Teacher) NullFigure() report.NullFigure { return t.fig }

// Summarize builds the summary of cases (enrolments loaded from tx, in
// the order given) from tx: fps lists the store's fingerprints
// (store.Store.List of store.TypeFingerprint), those on each case's suite
// fill its similarity matrix. Verdicts come from the audit records, one
// per suspect per teacher the suspect was measured against (see
// audit.ReadFindings), each with a Benjamini–Hochberg q-value over all of
// them (a suspect whose outputs are another's counts once, see
// Verdict.SameAs): flagging every pair with q ≤ Q keeps the expected share of
// independent models among those flagged at most Q (for p-values that are
// independent or positively dependent), the error rate to control when a
// registry is screened, where Holm's correction within one audit says
// nothing about the many audits together. An unknown Options.Statistic
// is an error.
func Summarize(tx *store.Tx, cases []*audit.Case, fps []store.Entry, o Options) (*Summary, error) {
	sum, err := Read(tx, cases, fps, o)
	if err != nil {
		return nil, err
	}
	sum.ComputeMatrices()
	return sum, nil
}

// Read is Summarize without the similarity matrices' values, which
// ComputeMatrices then computes from what Read decoded, without tx: a
// caller can let the store go in between. A registry's matrices hold n²
// pairs of n suspects, seconds of work at n = 1,000, during which a writer
// (a probe storing its fingerprint) would wait on the reader and give up.
func Read(tx *store.Tx, cases []*audit.Case, fps []store.Entry, o Options) (*Summary, error) {
	if o.Statistic == "" {
		o.Statistic = StatAgreement
	}
	if o.Statistic != StatAgreement && o.Statistic != StatJS {
		return nil, fmt.Errorf("registry: statistic %q: want %s or %s", o.Statistic, StatAgreement, StatJS)
	}
	sum := &Summary{Teachers: []Teacher{}, Matrices: []Matrix{}, Verdicts: []Verdict{}}
	suiteOf := map[string]string{} // teacher in the summary → its suite
	for _, cs := range cases {
		suiteOf[cs.Enrolment.Name] = cs.Suite.Hash
	}
	// A teacher the suspect was not fingerprinted for gets no row, no
	// count and no mark in its figure.
	found, err := audit.ReadFindings(tx, suiteOf)
	if err != nil {
		return nil, err
	}
	sum.records = found.Records
	enrolled, err := enrolledModels(tx)
	if err != nil {
		return nil, err
	}
	for _, f := range found.List {
		v := Verdict{Suspect: f.Suspect, Teacher: f.Teacher, Verdict: string(f.Verdict), PValue: f.PValue, TeachersTested: f.Tested,
			Best: f.Best, EffectSize: f.EffectSize, Reason: f.Reason, Caution: f.Caution, NotRuledOut: f.NotRuledOut, LabelMap: f.LabelMap, Fingerprint: f.Fingerprint, Audit: f.Audit,
			Nearest: f.Nearest, created: f.Created, x: map[string]float64{}, Alpha: f.Alpha, pPair: f.PCombined, labelOnly: f.LabelOnly}
		for k, s := range f.Statistics {
			v.x[k] = s.Similarity
		}
		v.FingerprintMissing = f.Fingerprint != "" && !tx.HasFingerprint(f.Fingerprint)
		sum.Verdicts = append(sum.Verdicts, v)
	}
	if sum.Unlisted, err = unlisted(tx, found.Unlisted); err != nil {
		return nil, err
	}
	var suites []string
	for _, cs := range cases {
		suites = append(suites, cs.Suite.Hash)
	}
	fpc := newFPCache(tx, suites)
	if err := markSameModels(fpc, sum.Verdicts); err != nil {
		return nil, err
	}
	setQValues(sum.Verdicts)
	for _, cs := range cases {
		ts, sim, err := teacherSummary(cs, fps, fpc, enrolled, found, sum.Verdicts, o)
		if err != nil {
			return nil, err
		}
		sum.Teachers = append(sum.Teachers, ts)
		sum.Matrices = append(sum.Matrices, sim)
	}
	return sum, nil
}

// teacherSummary builds one teacher's summary (with its figure when o asks
// for it) and the similarity matrix of every model fingerprinted on its
// suite, a suspect once however many of its fingerprints are on the
// suite. A teacher or control of another enrolment on the suite
// (enrolled) is shown with its role in that enrolment, as the teacher's
// own are: never as a suspect. fpc, shared by the teachers of a summary,
// decodes each fingerprint once and knows the suite of every one decoded,
// so that the next teacher decodes only those on its suite: a registry
// holds a fingerprint per suspect per suite, and every teacher decoding
// (and hashing) every one made the report's cost grow with teachers ×
// suspects.
func teacherSummary(cs *audit.Case, fpEntries []store.Entry, fpc *fpCache, enrolled map[string]enrolledModel, found *audit.Findings, verdicts []Verdict, o Options) (Teacher, Matrix, error) {
	e := cs.Enrolment
	ts := Teacher{Teacher: e.Name, Suite: e.Suite, Probes: cs.Suite.Len(), Comp: map[string]int{}, Rates: []compare.Rate{},
		NullSize: cs.NullSize(false), NullSizeLO: cs.NullSize(true)}
	for _, k := range cs.Suite.Kinds {
		ts.Comp[string(k)]++
	}
	var rep audit.EnrolReport
	if len(e.Report) > 0 {
		if err := json.Unmarshal(e.Report, &rep); err != nil {
			return ts, Matrix{}, fmt.Errorf("enrolment %q: report: %w: %v", e.Name, store.ErrCorrupt, err)
		}
	}
	ts.Rates, ts.AUC = rep.Calibration.Rates, rep.Calibration.AUC
	if err := audit.CheckCurrent(e); err != nil {
		ts.Outdated = err.Error()
	}
	if ts.Rates == nil {
		ts.Rates = []compare.Rate{}
	}
	models := []ModelRole{{ID: e.TeacherFP, Role: "teacher"}}
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
		if !o.Controls && ctl.Role != store.RoleReference {
			continue
		}
		models = append(models, ModelRole{ID: ctl.FP, Role: controlRole(ctl)})
		fps = append(fps, cs.Controls[i])
	}
	onSuite := map[string]*fingerprint.Fingerprint{}
	var ids []string
	for _, en := range fpEntries {
		if known[en.ID] || fpc.elsewhere(en.ID, e.Suite) {
			continue
		}
		fp, err := fpc.get(en.ID)
		if err != nil {
			return ts, Matrix{}, err
		}
		if fp.Suite != e.Suite {
			continue
		}
		if m, ok := enrolled[en.ID]; ok {
			if m.control && !o.Controls {
				continue
			}
			models = append(models, ModelRole{ID: en.ID, Role: m.role, Enrolment: m.enrolment, Others: m.others})
			fps = append(fps, fp)
			continue
		}
		onSuite[en.ID] = fp
		ids = append(ids, en.ID)
	}
	for _, s := range found.Suspects(e.Name, ids) {
		models = append(models, ModelRole{ID: s.Fingerprint, Role: "suspect", Suspect: s.Name, Also: s.Also})
		fps = append(fps, onSuite[s.Fingerprint])
	}
	for _, v := range verdicts {
		if v.Teacher == e.Name && v.SameAs == "" {
			ts.Audited++
			if v.Verdict == string(audit.Derived) {
				ts.Derived++
			}
		}
	}
	var keep func(int) bool
	if o.Narrow && len(models) > MaxMatrixColumns {
		keep = func(j int) bool { return models[j].column() }
	}
	sim := Matrix{Teacher: e.Name, Suite: e.Suite, Statistic: o.Statistic, Models: models, fps: fps, keep: keep}
	if o.Figures {
		fig, err := nullFigure(cs, verdicts)
		if err != nil {
			return ts, sim, err
		}
		ts.fig = fig
	}
	return ts, sim, nil
}

// unlisted returns the findings of fs (audit.Findings.Unlisted) whose
// teacher is no longer enrolled on the suite they were measured on, saying
// why; one whose teacher is enrolled on it was left out by the caller
// (report --suite) and is not listed.
func unlisted(tx *store.Tx, fs []audit.Finding) ([]Unlisted, error) {
	var out []Unlisted
	for _, f := range fs {
		why := "enrolled anew on another suite"
		e, err := tx.Enrolment(f.Teacher)
		switch {
		case errors.Is(err, store.ErrNotFound):
			why = "enrolment removed"
		case err != nil:
			return nil, err
		case e.Suite == f.Suite:
			continue
		}
		out = append(out, Unlisted{Suspect: f.Suspect, Teacher: f.Teacher, Audit: f.Audit, Verdict: string(f.Verdict), PValue: f.PValue, Why: why})
	}
	return out, nil
}

// ComputeMatrices computes the values of the similarity matrices of a
// summary Read built (those computed already are left as they are).
func (s *Summary) ComputeMatrices() {
	for i := range s.Matrices {
		m := &s.Matrices[i]
		if m.Values == nil {
			m.Values = similarities(m.fps, m.Statistic, m.keep)
			m.fps, m.keep = nil, nil
		}
	}
}
