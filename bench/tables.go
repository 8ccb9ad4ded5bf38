package bench

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/lineage-audit/lineage/report"
)

// Tables renders the report as tables: a summary (lineage beside the
// baseline), one row per family with both methods' flagged counts, and
// the enrolment's calibration.
func (r *DetectReport) Tables() []report.Table {
	b := r.Baseline
	sum := report.Table{
		Title: fmt.Sprintf("lineage bench detect — seed %d%s, %d positives, %d negatives, %.0f s", r.Seed, quickNote(r.Quick), r.Positives, r.Negatives, r.WallTimeS),
		Columns: []report.Column{
			{Name: "measure", Align: report.AlignLeft}, {Name: "lineage"}, {Name: "baseline"},
		},
	}
	bv := func(v float64, prec int) report.Cell {
		if !b.Available {
			return report.Text("n/a")
		}
		return report.Float(v, prec)
	}
	bvText := func(ok bool, v string) report.Cell {
		if !ok {
			return report.Text("n/a")
		}
		return report.Text(v)
	}
	sum.AddRow(report.Text("AUC"), report.Float(r.AUC, 4), bv(b.AUC, 4))
	if lim := r.limitedFamilies(); len(lim) > 0 {
		sum.AddRow(report.Text("AUC without "+strings.Join(lim, ", ")), report.Float(r.AUCWithinReach, 4), bv(b.AUCWithinReach, 4))
	}
	sum.AddRow(report.Text("TPR at α=0.01"), report.Float(r.TPR01, 3), bv(b.TPR01, 3))
	sum.AddRow(report.Text("TPR at α=0.05"), report.Float(r.TPR05, 3), bv(b.TPR05, 3))
	sum.AddRow(report.Text("FPR at α=0.01"), report.Float(r.FPR01, 3), bv(b.FPR01, 3))
	sum.AddRow(report.Text("FPR at α=0.05"), report.Float(r.FPR05, 3), bv(b.FPR05, 3))
	sum.AddRow(report.Text("FPR 95% upper bound at α=0.01"), report.Float(r.FPRUpper01, 3), bv(b.FPRUpper01, 3))
	sum.AddRow(report.Text("BH screen at q=0.05: flagged (false)"), report.Text(fmt.Sprintf("%d (%d)", r.BH05.Discoveries, r.BH05.False)),
		bvText(b.Available, fmt.Sprintf("%d (%d)", b.BH05.Discoveries, b.BH05.False)))
	sum.AddRow(report.Text("BH screen at q=0.05: TPR / false discovery share"), report.Text(fmt.Sprintf("%.3f / %.3f", r.BH05.TPR, r.BH05.FDP)),
		bvText(b.Available, fmt.Sprintf("%.3f / %.3f", b.BH05.TPR, b.BH05.FDP)))
	sum.AddRow(report.Text("queries per audit"), report.Int(int64(r.QueriesPerAudit)), bv(float64(b.QueriesPerAudit), 0))
	sum.Notes = append(sum.Notes,
		fmt.Sprintf("teacher: %s, hidden %v %s, test accuracy %.4f; suite %s (%d probes)", cmp.Or(r.Dataset, "digits"), r.Teacher.Hidden, r.Teacher.Activation, r.Teacher.TestAccuracy, r.Enrolment.Suite, r.Enrolment.Probes),
		"baseline: "+b.Method)
	if !b.Available {
		sum.Notes = append(sum.Notes, "baseline unavailable: "+b.Problem)
	}
	for _, s := range r.Shortfalls() {
		sum.Notes = append(sum.Notes, "short of target: "+s)
	}
	if n := r.cautionNote(); n != "" {
		sum.Notes = append(sum.Notes, n)
	}
	for _, f := range r.Families {
		// A limited family that falls short has its limit in its
		// shortfall line already.
		if f.Limit != "" && f.Rate01 >= 0.95 {
			sum.Notes = append(sum.Notes, fmt.Sprintf("limit of %s: %s", f.Name, f.Limit))
		}
	}

	fam := report.Table{
		Title: "per family (flagged / n; TPR for positive families, FPR for negative ones)",
		Columns: []report.Column{
			{Name: "family", Align: report.AlignLeft}, {Name: "kind", Align: report.AlignLeft}, {Name: "n"},
			{Name: "lineage α=0.01"}, {Name: "lineage α=0.05"}, {Name: "baseline α=0.01"}, {Name: "baseline α=0.05"},
			{Name: "median p"}, {Name: "test accuracy"},
		},
	}
	bf := map[string]FamilyResult{}
	for _, f := range b.Families {
		bf[f.Name] = f
	}
	frac := func(k, n int) report.Cell { return report.Text(fmt.Sprintf("%d/%d", k, n)) }
	for _, f := range r.Families {
		bc01, bc05 := report.Text("n/a"), report.Text("n/a")
		if g, ok := bf[f.Name]; ok && b.Available {
			bc01, bc05 = frac(g.Flagged01, g.N), frac(g.Flagged05, g.N)
		}
		fam.AddRow(report.Text(f.Name), report.Text(string(f.Kind)), report.Int(int64(f.N)),
			frac(f.Flagged01, f.N), frac(f.Flagged05, f.N), bc01, bc05, report.Fmt(f.MedianP, 'g', 2), report.Float(f.MeanTestAccuracy, 3))
	}

	cal := report.Table{
		Title:   "enrolment calibration (controls' calibration half)",
		Columns: []report.Column{{Name: "α"}, {Name: "TPR"}, {Name: "FPR"}, {Name: "FPR 95% upper"}},
		Notes: []string{fmt.Sprintf("%d positive and %d negative controls, null of %d, calibration AUC %.4f, enrolment %.0f s",
			r.Enrolment.Positives, r.Enrolment.Negatives, r.Enrolment.NullSize, r.Enrolment.CalibrationAUC, r.Enrolment.ElapsedS)},
	}
	for _, c := range r.Enrolment.Calibration {
		cal.AddRow(report.Float(c.Alpha, 2), report.Float(nanZero(c.TPR), 3), report.Float(nanZero(c.FPR), 3), report.Float(c.FPRUpper, 3))
	}
	return []report.Table{sum, fam, cal}
}

func quickNote(q bool) string {
	if q {
		return " (quick)"
	}
	return ""
}

// cautionNote says how many of the suspects flagged at 0.01 carry the
// audit's caution on their DERIVED verdict, derived and independent apart;
// "" when none does.
func (r *DetectReport) cautionNote() string {
	var pos, neg int
	for _, f := range r.Families {
		if f.Kind == Positive {
			pos += f.Cautioned01
		} else {
			neg += f.Cautioned01
		}
	}
	if pos+neg == 0 {
		return ""
	}
	return fmt.Sprintf("caution: %d DERIVED verdicts at α=0.01 rest on a label-only suspect's lineage score without the watermark's support (%d of derived suspects, %d of independent ones)", pos+neg, pos, neg)
}
