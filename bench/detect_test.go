package bench

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"testing"

	"github.com/lineage-audit/lineage/audit"
)

var fullRun = flag.String("bench.full", "", "run the full experiment (seed 1) and write its JSON report to this file")

// TestDetectQuick runs the quick experiment and checks that the report is
// internally consistent. It does not check detection quality: a quick
// enrolment's null is too small for that (see the package documentation).
func TestDetectQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("quick detection experiment takes ~30 s")
	}
	steps, last := 0, 0
	rep, err := Detect(context.Background(), DetectOptions{Seed: 1, Quick: true, Progress: func(_ string, done, total int) {
		steps++
		if done < last || total < done {
			t.Errorf("progress went from %d to %d of %d", last, done, total)
		}
		last = done
	}})
	if err != nil {
		t.Fatal(err)
	}
	if steps == 0 {
		t.Error("no progress reported")
	}
	if got, want := len(rep.Suspects), len(QuickFamilies); got != want {
		t.Fatalf("got %d suspects, want %d (one per quick family)", got, want)
	}
	if rep.Positives+rep.Negatives != len(rep.Suspects) || rep.Positives == 0 || rep.Negatives == 0 {
		t.Errorf("got %d positives + %d negatives for %d suspects", rep.Positives, rep.Negatives, len(rep.Suspects))
	}
	if rep.QueriesPerAudit != rep.Enrolment.Probes || rep.QueriesPerAudit == 0 || rep.QueriesPerAudit > QuickSuiteSize {
		t.Errorf("queries per audit %d, suite has %d probes (asked for %d)", rep.QueriesPerAudit, rep.Enrolment.Probes, QuickSuiteSize)
	}
	if rep.Teacher.TestAccuracy < 0.9 {
		t.Errorf("teacher test accuracy %.3f, want ≥ 0.9", rep.Teacher.TestAccuracy)
	}
	seeds := map[uint64]bool{rep.Teacher.Seed: true}
	flagged := map[string]int{}
	for _, s := range rep.Suspects {
		if s.Seed < seedBase || seeds[s.Seed] {
			t.Errorf("suspect %s: seed %d reused or below %d", s.Name, s.Seed, seedBase)
		}
		seeds[s.Seed] = true
		if !(s.P >= 0 && s.P <= 1) || !(s.MinP >= 0 && s.MinP <= s.P) || !(s.BaselineP >= 0 && s.BaselineP <= 1) {
			t.Errorf("suspect %s: p %g, min p %g, baseline p %g out of range", s.Name, s.P, s.MinP, s.BaselineP)
		}
		if st, ok := s.Statistics[audit.StatScore]; !ok || st.P < s.MinP || (st.NullN != rep.Enrolment.NullSize && st.NullN != rep.Enrolment.NullSize+rep.Enrolment.UnderTrained) {
			t.Errorf("suspect %s: statistics %v, want the lineage score's evidence (p ≥ min p %g, null of %d, or %d with the under-trained controls)", s.Name, s.Statistics, s.MinP, rep.Enrolment.NullSize, rep.Enrolment.NullSize+rep.Enrolment.UnderTrained)
		}
		// min p is the smallest p-value of the lineage statistics (the
		// watermark's aside); DERIVED means p ≤ α = 0.01.
		for k, st := range s.Statistics {
			if k != audit.StatWatermark && st.P < s.MinP {
				t.Errorf("suspect %s: statistic %s has p %g below min p %g", s.Name, k, st.P, s.MinP)
			}
		}
		if s.Verdict == audit.Derived && s.P > Alphas[0] {
			t.Errorf("suspect %s: DERIVED at p %g > α %g", s.Name, s.P, Alphas[0])
		}
		if s.Queries != rep.QueriesPerAudit {
			t.Errorf("suspect %s: %d queries, want %d", s.Name, s.Queries, rep.QueriesPerAudit)
		}
		if s.P <= 0.01 {
			flagged[s.Family]++
		}
		if s.Family == "serve-t2" && s.LabelOnly {
			t.Errorf("suspect %s served at T=2 looks label-only", s.Name)
		}
		if s.Family == "serve-label" && !s.LabelOnly {
			t.Errorf("suspect %s serves labels but was not audited label-only", s.Name)
		}
		if !rep.Baseline.Available && s.BaselineP != 1 {
			t.Errorf("suspect %s: baseline p %g without a baseline, want 1", s.Name, s.BaselineP)
		}
	}
	for _, f := range rep.Families {
		if f.Flagged01 != flagged[f.Name] || f.N != 1 || f.Flagged05 < f.Flagged01 {
			t.Errorf("family %s: n %d flagged %d/%d at 0.01/0.05, recount %d", f.Name, f.N, f.Flagged01, f.Flagged05, flagged[f.Name])
		}
	}
	if !(rep.AUC >= 0 && rep.AUC <= 1) || math.IsNaN(rep.Baseline.AUC) {
		t.Errorf("auc %g, baseline auc %g", rep.AUC, rep.Baseline.AUC)
	}
	if rep.Baseline.Available && (rep.Baseline.QueriesPerAudit != rep.Enrolment.Composition["mistake"] || rep.Baseline.NullSize != rep.Enrolment.NullSize) {
		t.Errorf("baseline uses %d probes and a null of %d; suite has %d mistake probes, audit null %d",
			rep.Baseline.QueriesPerAudit, rep.Baseline.NullSize, rep.Enrolment.Composition["mistake"], rep.Enrolment.NullSize)
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Errorf("report does not encode: %v", err)
	}
}

// TestDetectFull runs the full experiment when -bench.full FILE is given.
func TestDetectFull(t *testing.T) {
	if *fullRun == "" {
		t.Skip("full experiment: pass -bench.full FILE")
	}
	rep, err := Detect(context.Background(), DetectOptions{Seed: 1, Progress: func(d string, done, total int) {
		if done%10 == 0 {
			t.Logf("%d/%d %s", done, total, d)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*fullRun, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wall time %.0f s", rep.WallTimeS)
}
