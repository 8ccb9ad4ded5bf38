package audit

import (
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/report"
)

// Tables lays res out for people: the verdict table, with a note per
// teacher on its reason, nearest control, left-out controls, null family
// and watermark test, then for each teacher its statistics table and its
// per-kind values (PerKindTable).
func (res Result) Tables() []report.Table {
	v := report.Table{
		Title: fmt.Sprintf("Audit of %s (α = %g)", res.Suspect, res.Alpha),
		Columns: []report.Column{{Name: "teacher"}, {Name: "verdict"}, {Name: "p-value (Holm)"}, {Name: "p combined"},
			{Name: "best statistic"}, {Name: "effect size (z)"}, {Name: "fitted T"}, {Name: "null size"},
			{Name: "nearest control"}, {Name: "calibration TPR"}, {Name: "calibration FPR"}},
	}
	tables := []report.Table{}
	for _, tr := range res.Results {
		near := report.Cell{}
		if tr.Nearest != nil {
			near = report.Text(fmt.Sprintf("%s (%s, d=%.2f)", ShortID(tr.Nearest.FP, tr.Teacher), tr.Nearest.Role, tr.Nearest.Distance))
		}
		temp := optCell(tr.Temperature, 2)
		if tr.LabelOnly {
			temp = report.Cell{} // labels have no temperature to fit: the 1 stored is no measurement
		}
		v.AddRow(report.Text(tr.Teacher), report.Text(string(tr.Verdict)), report.Fmt(tr.PValue, 'g', 3),
			report.Fmt(tr.PCombined, 'g', 3), report.Text(tr.Best), report.Measured(tr.EffectSize, 2),
			temp, report.Int(int64(tr.NullSize)), near, rateCell(tr.TPR), rateCell(tr.FPR))
		if tr.Reason != "" {
			v.Notes = append(v.Notes, tr.Teacher+": "+tr.Reason)
		}
		if tr.Caution != "" {
			v.Notes = append(v.Notes, tr.Teacher+": caution: "+tr.Caution)
		}
		if tr.LabelMap != "" {
			v.Notes = append(v.Notes, tr.Teacher+": "+labelMapNote(tr.LabelMap))
		}
		if len(tr.NotRuledOut) > 0 {
			v.Notes = append(v.Notes, fmt.Sprintf("%s: NOT_DERIVED: the suspect behaves like the independent models; copies of kinds this suite failed to flag in calibration look like that too, and are not ruled out: %s", tr.Teacher, strings.Join(tr.NotRuledOut, ", ")))
		}
		if tr.Coarse != "" {
			v.Notes = append(v.Notes, tr.Teacher+": "+tr.Coarse)
		} else if tr.LabelOnly {
			v.Notes = append(v.Notes, tr.Teacher+": "+labelOnlyNote)
		}
		if tr.Nearest != nil && tr.Nearest.Recipe != "" {
			v.Notes = append(v.Notes, fmt.Sprintf("%s: nearest control %s was made by: %s", tr.Teacher, tr.Nearest.FP, tr.Nearest.Recipe))
		}
		if len(tr.LeftOut) > 0 {
			v.Notes = append(v.Notes, fmt.Sprintf("%s: left out of the null as the suspect itself (identical outputs, or identical labels for a label-only suspect): %s", tr.Teacher, strings.Join(tr.LeftOut, ", ")))
		}
		if underTrainedSetP(tr) && tr.Outside == "" {
			v.Notes = append(v.Notes, fmt.Sprintf("%s: the suspect follows the teacher's top answer not much more often than the enrolment's %d under-trained controls, and the lineage test with them in the null gave a larger p-value than without them: that is the one used", tr.Teacher, tr.UnderTrained))
		}
		if tr.Outside != "" {
			v.Notes = append(v.Notes, fmt.Sprintf("%s: outside the null: the lineage test's statistics below are shown but not applied; the p-value is the label watermark's test alone, at its share of the combination: min(1, %.3g·p_watermark) (1 without one)", tr.Teacher, 1/WatermarkWeight))
		}
		if tr.NullFamily != "" {
			v.Notes = append(v.Notes, fmt.Sprintf("%s: the lineage test's p-value is set against family %q, the independent controls that score highest on it (the effect size is against the whole null)", tr.Teacher, tr.NullFamily))
		}
		if wm, ok := tr.Statistics[StatWatermark]; ok {
			v.Notes = append(v.Notes, fmt.Sprintf("%s: label watermark p = %s; combined p = min(1, %.3g·p_lineage, %.3g·p_watermark)", tr.Teacher, markPNote(wm), 1/(1-WatermarkWeight), 1/WatermarkWeight))
		}
		if len(tr.Statistics) > 0 {
			tables = append(tables, statisticsTable(tr))
		}
		if len(tr.PerKind) > 0 {
			t := PerKindTable(tr.PerKind, tr.KindProbes)
			t.Title = "Per probe kind, " + res.Suspect + " vs " + tr.Teacher
			t.Notes = []string{PerKindNote("the teacher", "the suspect")}
			tables = append(tables, t)
		}
	}
	v.Notes = append(v.Notes, columnsNote)
	v.Notes = append(v.Notes, fmt.Sprintf("p-value: the lineage test against the independent models, p_lineage = min(1, %.3g·p_score, %.3g·p_replica_residual) (the score alone for label-only suspects or without replicas), combined with the label-watermark test when the teacher has one, Holm-adjusted across teachers; DERIVED when ≤ α.", 1/(1-ResidualWeight), 1/ResidualWeight))
	return append([]report.Table{v}, tables...)
}

// maxLabelMapNote is how much of a label map the verdict table's note
// shows (the JSON holds it whole).
const maxLabelMapNote = 240

// markPNote says what set a watermark row's p-value, wm.P: the real key's
// rank among the decoy keys, or the independent controls' Student-t under
// the real key when that was larger (MethodControlsT), its rank then given
// beside it.
func markPNote(wm StatEvidence) string {
	if wm.Method == MethodControlsT {
		return fmt.Sprintf("%.2g by the independent controls' Student-t under the real key (its rank among %d decoy keys gives %.2g)", wm.P, wm.NullN, wm.PEmpirical)
	}
	return fmt.Sprintf("%.2g over %d decoy keys", wm.P, wm.NullN)
}

// labelMapNote says that the suspect's outputs were relabelled by the
// label map lm (TeacherResult.LabelMap) before they were compared.
func labelMapNote(lm string) string {
	if len(lm) > maxLabelMapNote {
		cut := strings.LastIndexByte(lm[:maxLabelMapNote], ',')
		if cut <= 0 {
			cut = maxLabelMapNote
		}
		lm = strings.ToValidUTF8(lm[:cut], "") + ",… (label_map in JSON lists them all)"
	}
	return "the suspect's outputs were relabelled by the label map the auditor stated (suspect label=teacher label, --label-map), not read by their names: " + lm + "; the verdict holds for that correspondence"
}

// labelOnlyNote says what auditing a suspect that answers with labels only
// means for the table: nothing in its row says so otherwise.
const labelOnlyNote = "the suspect answered with labels only: it is scored on what labels allow (top-1 agreement per kind of probe and the replica contrast of its labels), its js and soft_agreement values compare one-hot answers, and it has no temperature to fit (fitted T empty)"

// columnsNote defines the verdict table's columns that the README's
// statistics sections name only in passing.
const columnsNote = "best statistic: the statistic that set the p-value; effect size (z): its distance above the null's mean in null standard deviations (over the decoy keys for the watermark); nearest control: the control or reference the suspect most resembles, d its Euclidean distance over the score's features, each divided by its spread over those models (a positive one is a known copy, a negative one an independent model)"

// underTrainedSetP reports whether tr's lineage test was set by the run
// with the under-trained controls in the null, which then had more models
// than the trained null alone (see reference.testWhy).
func underTrainedSetP(tr TeacherResult) bool {
	s, ok := tr.Statistics[StatScore]
	return tr.UnderTrained > 0 && ok && s.NullN > tr.NullSize-tr.UnderTrained
}

// statisticsTable lays out tr.Statistics, a row per statistic.
func statisticsTable(tr TeacherResult) report.Table {
	t := report.Table{
		Title: "Statistics vs " + tr.Teacher,
		Columns: []report.Column{{Name: "statistic"}, {Name: "value"}, {Name: "probes"}, {Name: "similarity"},
			{Name: "null mean"}, {Name: "null sd"}, {Name: "null n"}, {Name: "z"}, {Name: "p"}, {Name: "p empirical"}, {Name: "method"}},
	}
	keys := make([]string, 0, len(tr.Statistics))
	for k := range tr.Statistics {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		s := tr.Statistics[k]
		t.AddRow(report.Text(k), report.Float(s.Value, 4), report.Int(int64(s.N)), report.Float(s.Similarity, 3),
			report.Float(s.NullMean, 3), report.Float(s.NullSD, 3), report.Int(int64(s.NullN)), report.Float(s.Z, 2),
			report.Fmt(s.P, 'g', 3), report.Fmt(s.PEmpirical, 'g', 3), report.Text(fmt.Sprint(s.Method)))
	}
	t.Notes = []string{"value: raw statistic (agreements are fractions, js values are divergences in bits); similarity: the scale the null is fitted on (bigger = more similar).",
		"null n: the independent models the row is tested against (for watermark, the decoy keys); z: the suspect's similarity in null standard deviations above the null mean; p: the row's own p-value by its method (t-predictive: a Student-t predictive of the null; worst-family t: the same against the family that scores highest, when larger; decoy keys: the real key's rank among the decoys; controls t: the independent controls' Student-t under the real key, when that is larger than the rank); p empirical: the rank p-value (1 + null members at least as high)/(null n + 1), for comparison."}
	var deciding []string
	decide := []string{StatScore, featResidual, StatWatermark}
	if tr.Outside != "" {
		decide = []string{StatWatermark} // outside the null the lineage test is not applied
	}
	for _, k := range decide {
		if _, ok := tr.Statistics[k]; ok {
			deciding = append(deciding, k)
		}
	}
	if len(deciding) > 0 && len(deciding) < len(keys) {
		t.Notes = append(t.Notes, fmt.Sprintf("the p-value comes from %s alone (see the p-value note above); the other rows are shown to explain it", andList(deciding)))
	}
	if tr.UnderTrained > 0 {
		// A label-only suspect, or an enrolment without replicas, has no
		// replica residual: the note names only the rows shown.
		rows := StatScore
		if _, ok := tr.Statistics[featResidual]; ok {
			rows = fmt.Sprintf("%s, and %s beside it", StatScore, featResidual)
		}
		t.Notes = append(t.Notes, fmt.Sprintf("the lineage test (%s) was run with the %d under-trained controls in the null and without them: its rows are from the run with the larger p-value (null n tells which).", rows, tr.UnderTrained))
	}
	return t
}

// KindProbes returns the number of probes of each kind values (compare's,
// keyed by compare.Key) were measured on, read from the agreement's
// counts, "all" for the whole suite.
func KindProbes(values map[string]compare.Value) map[string]int {
	out := map[string]int{}
	for k, v := range values {
		if s, kind := compare.ParseKey(k); s == compare.StatAgreement {
			out[cmp.Or(string(kind), "all")] = v.N
		}
	}
	return out
}

// PerKindTable lays out values keyed "stat" or "stat/kind" (compare.Key)
// as rows of probe kinds ("all" first) and columns of statistics, the
// common ones first; a missing value is an empty cell. With probes (see
// KindProbes; nil for none) a column n gives each kind's probe count.
func PerKindTable(values map[string]float64, probes map[string]int) report.Table {
	statSet, kindSet := map[string]bool{}, map[string]bool{}
	for k := range values {
		s, kind := compare.ParseKey(k)
		statSet[string(s)] = true
		kindSet[string(kind)] = true
	}
	order := []string{string(compare.StatAgreement), string(compare.StatJS), string(compare.StatJSTFit), string(compare.StatMistakeAgreement)}
	var stats, extra []string
	for _, s := range order {
		if statSet[s] {
			stats = append(stats, s)
		}
	}
	for s := range statSet {
		if !slices.Contains(order, s) {
			extra = append(extra, s)
		}
	}
	sort.Strings(extra)
	stats = append(stats, extra...)
	kinds := make([]string, 0, len(kindSet))
	for k := range kindSet {
		if k != "" {
			kinds = append(kinds, k)
		}
	}
	sort.Strings(kinds)
	if kindSet[""] {
		kinds = append([]string{""}, kinds...)
	}
	t := report.Table{Columns: []report.Column{{Name: "probes"}}}
	if probes != nil {
		t.Columns = append(t.Columns, report.Column{Name: "n"})
	}
	for _, s := range stats {
		t.Columns = append(t.Columns, report.Column{Name: s})
	}
	for _, k := range kinds {
		label := k
		if k == "" {
			label = "all"
		}
		row := []report.Cell{report.Text(label)}
		if probes != nil {
			if n, ok := probes[label]; ok {
				row = append(row, report.Int(int64(n)))
			} else {
				row = append(row, report.Cell{})
			}
		}
		for _, s := range stats {
			if v, ok := values[compare.Key(compare.Stat(s), probe.Kind(k))]; ok {
				row = append(row, report.Float(v, 4))
			} else {
				row = append(row, report.Cell{})
			}
		}
		t.AddRow(row...)
	}
	return t
}

// PerKindNote defines PerKindTable's columns for a table of model b
// against model a (say "the teacher" and "the suspect", or "A" and "B").
func PerKindNote(a, b string) string {
	return fmt.Sprintf("agreement: fraction of probes on which %[2]s's top-1 label is %[1]s's; js: mean Jensen–Shannon divergence between their outputs (bits, 0 = identical); js_tfit: the same after fitting %[2]s's temperature; soft_agreement: the mean probability %[2]s, at that temperature, gives %[1]s's top-1 label; mistake_agreement: agreement on the suite's mistake probes (held-out inputs the teacher gets wrong). Rows are kinds of probe, of unequal numbers (n, when shown; the enrolment's composition): a kind with few probes moves in large steps.", a, b)
}

// andList joins xs as "a", "a and b" or "a, b and c".
func andList(xs []string) string {
	if len(xs) < 2 {
		return strings.Join(xs, "")
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

// rateCell shows a calibration rate, empty when unknown (negative).
func rateCell(v float64) report.Cell {
	if v < 0 {
		return report.Cell{}
	}
	return report.Float(v, 3)
}

// optCell shows v, empty when zero (not measured).
func optCell(v float64, prec int) report.Cell {
	if v == 0 {
		return report.Cell{}
	}
	return report.Float(v, prec)
}
