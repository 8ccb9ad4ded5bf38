package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"gonum.org/v1/gonum/mathext"
)

// DetectReport is the result of Detect. The embedded Rates are lineage's
// own figures (the combined, Holm-adjusted audit p-value); Baseline holds
// the same figures for mistake agreement alone.
type DetectReport struct {
	Experiment string `json:"experiment"` // "detect"
	Seed       uint64 `json:"seed"`
	Dataset    string `json:"dataset"` // the name of DetectOptions.Data
	Quick      bool   `json:"quick"`
	Workers    int    `json:"workers"`
	Rates
	Baseline      BaselineReport  `json:"baseline"`
	Teacher       TeacherSummary  `json:"teacher"`
	Enrolment     EnrolSummary    `json:"enrolment"`
	OtherTeachers int             `json:"other_teachers"`
	Suspects      []SuspectResult `json:"suspects"`
	WallTimeS     float64         `json:"wall_time_s"`
	// Unmet is Shortfalls as of the run, so that the JSON names every
	// criterion missed, every family short of its target, and why.
	Unmet []string `json:"shortfalls"`
}

// Rates are detection figures over all suspects. A suspect is flagged at
// α when its p-value is ≤ α. TPR is the fraction of positives flagged, FPR
// the fraction of negatives flagged and FPRUpper its one-sided 95 %
// Clopper–Pearson upper bound. AUC is the ROC AUC of the score
// −log10(min p) separating all positives from all negatives (ties count ½);
// AUCWithinReach is the same with the positive families that have a
// Family.Limit left out (every negative kept), and equals AUC when no
// family has one. QueriesPerAudit is the number of suspect queries one
// audit needs. BH05 screens every suspect at once: the suspects whose
// Benjamini–Hochberg q-value (over all of them) is at most 0.05, as
// lineage report would list them, and the false discovery proportion
// among them.
type Rates struct {
	AUC             float64        `json:"auc"`
	AUCWithinReach  float64        `json:"auc_within_reach"`
	TPR01           float64        `json:"tpr_at_0.01"`
	TPR05           float64        `json:"tpr_at_0.05"`
	FPR01           float64        `json:"fpr_at_0.01"`
	FPR05           float64        `json:"fpr_at_0.05"`
	FPRUpper01      float64        `json:"fpr_upper95_at_0.01"`
	FPRUpper05      float64        `json:"fpr_upper95_at_0.05"`
	Positives       int            `json:"positives"`
	Negatives       int            `json:"negatives"`
	QueriesPerAudit int            `json:"queries_per_audit"`
	BH05            Screening      `json:"bh_screening_at_q0.05"`
	Families        []FamilyResult `json:"families"`
}

// Screening counts the discoveries of a Benjamini–Hochberg screen at one
// q: Discoveries suspects flagged, False of them negatives, FDP their
// share (0 with no discoveries), TPR the fraction of positives flagged.
type Screening struct {
	Q           float64 `json:"q"`
	Discoveries int     `json:"discoveries"`
	False       int     `json:"false_discoveries"`
	FDP         float64 `json:"fdp"`
	TPR         float64 `json:"tpr"`
}

// screen runs a Benjamini–Hochberg screen at q over the p-values of pos
// and neg together.
func screen(pos, neg []float64, q float64) Screening {
	all := append(slices.Clone(pos), neg...)
	compare.BH(all, all)
	s := Screening{Q: q}
	tp := 0
	for i, v := range all {
		if v > q {
			continue
		}
		s.Discoveries++
		if i < len(pos) {
			tp++
		} else {
			s.False++
		}
	}
	if s.Discoveries > 0 {
		s.FDP = float64(s.False) / float64(s.Discoveries)
	}
	if len(pos) > 0 {
		s.TPR = float64(tp) / float64(len(pos))
	}
	return s
}

// FamilyResult counts one family's suspects flagged at α = 0.01 and 0.05.
// Rate01 and Rate05 are the flagged fractions: the family's TPR for a
// positive family, its FPR for a negative one. MedianP is the median of
// the suspects' decision p-values (how far a family that falls short is
// from the threshold). MeanTestAccuracy is the suspects' mean accuracy on
// the data's test split as served. Limit and Reason are copied from the
// Family.
type FamilyResult struct {
	Name      string `json:"name"`
	Kind      Kind   `json:"kind"`
	N         int    `json:"n"`
	Flagged01 int    `json:"flagged_at_0.01"`
	Flagged05 int    `json:"flagged_at_0.05"`
	// Cautioned01 counts the suspects flagged at 0.01 whose DERIVED
	// verdict carries the audit's caution (audit.TeacherResult.Caution: a
	// label-only verdict by the lineage score alone).
	Cautioned01      int     `json:"cautioned_at_0.01"`
	Rate01           float64 `json:"rate_at_0.01"`
	Rate05           float64 `json:"rate_at_0.05"`
	MedianP          float64 `json:"median_p_value"`
	MeanTestAccuracy float64 `json:"mean_test_accuracy"`
	Note             string  `json:"note,omitempty"`
	Limit            string  `json:"limit,omitempty"`
	Reason           string  `json:"reason,omitempty"`
}

// BaselineReport is the mistake-agreement baseline's figures. Available is
// false (and Problem says why, every rate then 0) when the suite has too
// few teacher-mistake probes. Probes is the number of mistake probes it
// uses, which is also its QueriesPerAudit.
type BaselineReport struct {
	Method    string `json:"method"`
	Available bool   `json:"available"`
	Problem   string `json:"problem,omitempty"`
	Probes    int    `json:"probes"`
	NullSize  int    `json:"null_size"`
	Rates
}

// TeacherSummary describes the protected teacher.
type TeacherSummary struct {
	Hidden       []int            `json:"hidden"`
	Activation   model.Activation `json:"activation"`
	Seed         uint64           `json:"seed"`
	TestAccuracy float64          `json:"test_accuracy"`
	Hash         string           `json:"hash"`
}

// EnrolSummary summarises the enrolment: the suite's commitment hash and
// composition, the controls and the error rates measured on its
// calibration half (at α = 0.01 and 0.05).
type EnrolSummary struct {
	Suite       string             `json:"suite"`
	Probes      int                `json:"probes"`
	Composition map[probe.Kind]int `json:"composition"`
	Positives   int                `json:"positives"`
	Negatives   int                `json:"negatives"`
	NullSize    int                `json:"null_size"`
	// UnderTrained is the number of under-trained negative controls, which
	// join the null of suspects like them (audit.UnderTrainedControls).
	UnderTrained   int            `json:"under_trained"`
	Statistics     []string       `json:"statistics"`
	Calibration    []compare.Rate `json:"calibration"`
	CalibrationAUC float64        `json:"calibration_auc"`
	ElapsedS       float64        `json:"elapsed_s"`
}

// SuspectResult is one audited suspect. P is the audit's combined
// (Holm-adjusted, here single-teacher) p-value and MinP the smallest
// p-value of the statistics it combines (audit.StatisticKeys; the AUC
// score); BaselineP is the baseline's p-value (1 when the baseline is
// unavailable).
type SuspectResult struct {
	Name         string  `json:"name"`
	Family       string  `json:"family"`
	Kind         Kind    `json:"kind"`
	Recipe       string  `json:"recipe"`
	Seed         uint64  `json:"seed"`
	TestAccuracy float64 `json:"test_accuracy"`
	Queries      int     `json:"queries"`
	// Agreement is the share of the suite's probes on which the suspect's
	// top answer is the teacher's (the audit's "agreement" per kind).
	Agreement float64 `json:"agreement"`
	P         float64 `json:"p_value"`
	MinP      float64 `json:"min_p"`
	Best      string  `json:"best_statistic,omitempty"`
	// NullFamily is the family of independent controls whose values set
	// the lineage test's p-value, when they did rather than the pooled
	// null's (audit.TeacherResult.NullFamily); empty otherwise.
	NullFamily string `json:"null_family,omitempty"`
	// Nearest is the role ("positive" or "negative") and family of the
	// enrolment control nearest the suspect (audit.TeacherResult.Nearest),
	// as "positive:kd-t10"; empty when the audit found none.
	Nearest string `json:"nearest_control,omitempty"`
	// Statistics is the evidence behind P: the audit's record of each
	// statistic it combines (audit.StatisticKeys), with the suspect's
	// value, the null's mean and sd, z and the statistic's own p-value.
	Statistics map[string]audit.StatEvidence `json:"statistics,omitempty"`
	Verdict    audit.Verdict                 `json:"verdict"`
	Reason     string                        `json:"reason,omitempty"`
	// Caution reports whether the suspect's DERIVED verdict carries the
	// audit's caution (audit.TeacherResult.Caution).
	Caution   bool    `json:"caution,omitempty"`
	LabelOnly bool    `json:"label_only,omitempty"`
	BaselineP float64 `json:"baseline_p_value"`
}

func enrolSummary(e *audit.Enrolled) EnrolSummary {
	r := e.Report
	rates := slices.Clone(r.Calibration.Rates)
	for i := range rates {
		rates[i].TPR, rates[i].FPR = nanZero(rates[i].TPR), nanZero(rates[i].FPR)
	}
	return EnrolSummary{
		Suite: r.Suite, Probes: r.Probes, Composition: r.Composition,
		Positives: r.Positives, Negatives: r.Negatives, NullSize: r.Null, UnderTrained: r.UnderTrained, Statistics: r.Statistics,
		Calibration: rates, CalibrationAUC: nanZero(r.Calibration.AUC), ElapsedS: r.ElapsedS,
	}
}

// summarize computes the report's rates from the suspects' results.
func summarize(o DetectOptions, res []SuspectResult, bl *baseline) *DetectReport {
	rep := &DetectReport{Experiment: "detect", Seed: o.Seed, Dataset: "digits", Quick: o.Quick, Workers: o.Workers, Suspects: res}
	if o.Data != nil {
		rep.Dataset = o.Data.Name
	}
	queries := 0
	if len(res) > 0 {
		queries = res[0].Queries
	}
	rep.Rates = ComputeRates(o.Families, res, func(s SuspectResult) (p, minP float64) { return s.P, s.MinP })
	rep.QueriesPerAudit = queries
	rep.Baseline = BaselineReport{Method: BaselineMethod, Available: bl.ok(), Problem: bl.problem, Probes: bl.probes, NullSize: len(bl.null)}
	if bl.ok() {
		rep.Baseline.Rates = ComputeRates(o.Families, res, func(s SuspectResult) (p, minP float64) { return s.BaselineP, s.BaselineP })
		rep.Baseline.QueriesPerAudit = bl.probes
	}
	rep.Unmet = rep.Shortfalls()
	return rep
}

// ComputeRates summarises suspects' p-values: pv returns a suspect's
// decision p-value and its ranking p-value (the AUC score is
// −log10(minP)). Families gives the order and notes of the per-family
// rows; families without suspects are left out. Rates that have no
// suspects to count (for example TPR without positives) are 0.
func ComputeRates(fams []Family, res []SuspectResult, pv func(SuspectResult) (p, minP float64)) Rates {
	var r Rates
	var posScore, negScore, posP, negP, reachScore []float64
	byFam := map[string]*FamilyResult{}
	acc := map[string]float64{}
	famP := map[string][]float64{}
	for _, f := range fams {
		byFam[f.Name] = &FamilyResult{Name: f.Name, Kind: f.Kind, Note: f.Note, Limit: f.Limit, Reason: f.Reason}
	}
	for _, s := range res {
		p, minP := pv(s)
		score := -math.Log10(math.Max(minP, 1e-300))
		fr := byFam[s.Family]
		if fr == nil {
			fr = &FamilyResult{Name: s.Family, Kind: s.Kind}
			byFam[s.Family] = fr
			fams = append(fams, Family{Name: s.Family, Kind: s.Kind})
		}
		fr.N++
		acc[s.Family] += s.TestAccuracy
		famP[s.Family] = append(famP[s.Family], p)
		if p <= Alphas[0] {
			fr.Flagged01++
			if s.Caution {
				fr.Cautioned01++
			}
		}
		if p <= Alphas[1] {
			fr.Flagged05++
		}
		if s.Kind == Positive {
			posScore, posP = append(posScore, score), append(posP, p)
			if fr.Limit == "" {
				reachScore = append(reachScore, score)
			}
		} else {
			negScore, negP = append(negScore, score), append(negP, p)
		}
	}
	r.Positives, r.Negatives = len(posP), len(negP)
	rates := compare.RatesOf(posP, negP, Alphas[:2])
	r.TPR01, r.TPR05 = nanZero(rates[0].TPR), nanZero(rates[1].TPR)
	r.FPR01, r.FPR05 = nanZero(rates[0].FPR), nanZero(rates[1].FPR)
	r.FPRUpper01, r.FPRUpper05 = rates[0].FPRUpper, rates[1].FPRUpper
	r.AUC = nanZero(compare.AUC(posScore, negScore))
	r.AUCWithinReach = nanZero(compare.AUC(reachScore, negScore))
	r.BH05 = screen(posP, negP, 0.05)
	seen := map[string]bool{}
	for _, f := range fams {
		fr := byFam[f.Name]
		if seen[f.Name] || fr.N == 0 {
			continue
		}
		seen[f.Name] = true
		fr.Rate01 = float64(fr.Flagged01) / float64(fr.N)
		fr.Rate05 = float64(fr.Flagged05) / float64(fr.N)
		fr.MeanTestAccuracy = acc[f.Name] / float64(fr.N)
		fr.MedianP = median(famP[f.Name])
		r.Families = append(r.Families, *fr)
	}
	return r
}

// why says why a family may fall short: its stated limit, its reason, or
// that none is known.
func (f FamilyResult) why() string {
	switch {
	case f.Limit != "":
		return "limit: " + f.Limit
	case f.Reason != "":
		return "why: " + f.Reason
	}
	return "why: no mechanism known (chance, or in a quick run the small suite)"
}

// limitedFamilies returns the names of the positive families that have a
// stated limit (see Family.Limit).
func (r *Rates) limitedFamilies() []string {
	var out []string
	for _, f := range r.Families {
		if f.Kind == Positive && f.Limit != "" {
			out = append(out, f.Name)
		}
	}
	return out
}

// binomialTail returns P(X ≥ k) for X ~ Binomial(n, p): how often k or
// more of n independent models would be flagged at α = p if their p-values
// were valid.
func binomialTail(k, n int, p float64) float64 {
	if k <= 0 {
		return 1
	}
	if k > n {
		return 0
	}
	// P(X ≥ k) = I_p(k, n − k + 1), the regularised incomplete beta
	// function: exact in the far tail, where 1 − CDF (distuv's Survival)
	// gave 1.1e-16 for 20 of 20 at p = 0.01 (1e-40).
	return mathext.RegIncBeta(float64(k), float64(n-k+1), p)
}

// median returns the median of x (the mean of the middle two for an even
// length; 0 for none). It sorts x in place.
func median(x []float64) float64 {
	n := len(x)
	if n == 0 {
		return 0
	}
	slices.Sort(x)
	if n%2 == 1 {
		return x[n/2]
	}
	return (x[n/2-1] + x[n/2]) / 2
}

func nanZero(v float64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0
	}
	return v
}

// Shortfalls lists the acceptance criteria the report misses, one
// line each (empty when all are met): TPR ≥ 0.95 at α = 0.01 in every
// positive family, FPR ≤ 0.02 overall at α = 0.01 and ≤ 0.05 in every
// negative family, AUC ≥ 0.99, at most 300 queries per audit, and a TPR
// at α = 0.01 above the baseline's at an FPR no higher than it. A family
// that falls short is named with its median p-value and why: its stated
// limit or reason, or that no mechanism is known; a negative family over
// its bound also with the chance of so many flags under valid p-values.
func (r *DetectReport) Shortfalls() []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, f := range r.Families {
		switch {
		case f.Kind == Positive && f.Rate01 < 0.95:
			add("positive family %s: TPR %.2f < 0.95 at α=0.01 (%d/%d, median p %.2g); %s", f.Name, f.Rate01, f.Flagged01, f.N, f.MedianP, f.why())
		case f.Kind == Negative && f.Rate01 > 0.05:
			add("negative family %s: FPR %.2f > 0.05 at α=0.01 (%d/%d, median p %.2g; with valid p-values, %d or more of %d happen with probability %.2g); %s",
				f.Name, f.Rate01, f.Flagged01, f.N, f.MedianP, f.Flagged01, f.N, binomialTail(f.Flagged01, f.N, Alphas[0]), f.why())
		}
	}
	if over := negativeFamiliesOver(r.Families); over > 0 {
		add("%d negative famil%s over FPR 0.05 at α=0.01; with valid p-values, some family of the %d would be over with probability %.2g",
			over, plural(over, "y", "ies"), countKind(r.Families, Negative), someFamilyOver(r.Families))
	}
	if r.FPR01 > 0.02 {
		add("overall FPR %.3f > 0.02 at α=0.01", r.FPR01)
	}
	if r.AUC < 0.99 {
		if lim := r.limitedFamilies(); len(lim) > 0 {
			add("AUC %.3f < 0.99 (%.3f without %s, whose limits are stated)", r.AUC, r.AUCWithinReach, strings.Join(lim, ", "))
		} else {
			add("AUC %.3f < 0.99", r.AUC)
		}
	}
	if r.QueriesPerAudit > 300 {
		add("%d queries per audit > 300", r.QueriesPerAudit)
	}
	if b := r.Baseline; b.Available && !(r.TPR01 > b.TPR01 && r.FPR01 <= b.FPR01) {
		add("does not beat the baseline: TPR %.3f vs %.3f, FPR %.3f vs %.3f at α=0.01", r.TPR01, b.TPR01, r.FPR01, b.FPR01)
	}
	return out
}

// negativeFamiliesOver counts the negative families flagged more often
// than 0.05 at α = 0.01.
func negativeFamiliesOver(fs []FamilyResult) int {
	n := 0
	for _, f := range fs {
		if f.Kind == Negative && f.Rate01 > 0.05 {
			n++
		}
	}
	return n
}

func countKind(fs []FamilyResult, k Kind) int {
	n := 0
	for _, f := range fs {
		if f.Kind == k {
			n++
		}
	}
	return n
}

// someFamilyOver is the chance, under valid independent p-values, that at
// least one negative family is flagged more often than 0.05 at α = 0.01:
// 1 − Π_f P(at most ⌊0.05·N_f⌋ flags of N_f).
func someFamilyOver(fs []FamilyResult) float64 {
	none := 1.0
	for _, f := range fs {
		if f.Kind == Negative && f.N > 0 {
			none *= 1 - binomialTail(int(math.Floor(0.05*float64(f.N)))+1, f.N, Alphas[0])
		}
	}
	return 1 - none
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
