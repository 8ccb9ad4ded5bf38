package audit

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// withReport stores the enrolment report calibrationReport measures on c's
// calibration half, as Enroll does, so that audits know the suite's power.
func withReport(t *testing.T, c *Case) {
	t.Helper()
	rep, err := calibrationReport(context.Background(), c, make([]Recipe, len(c.Controls)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Enrolment.Report, err = json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
}

// TestPowerGuard checks that a non-significant suspect is NOT_DERIVED only
// when the calibration controls show the suite detecting at least MinPower
// of derived controls at the audit's own α — at any α, not only at the
// levels whose rates the report lists — and INCONCLUSIVE when that power is
// low or unknown, or counted on fewer than MinPowerControls positives.
func TestPowerGuard(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	fp := &fingerprint.Fingerprint{ID: "s", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.4)}
	neg := []float64{0.3, 0.5, 0.7, 0.9, 1}
	lowRates := []compare.Rate{{Alpha: 0.01, TPR: 0.2}, {Alpha: 0.05, TPR: 0.3}}
	highRates := []compare.Rate{{Alpha: 0.01, TPR: 0.9}, {Alpha: 0.05, TPR: 1}}
	// All six detected at α ≥ 0.005, only one at α = 0.001.
	steep := []float64{0.0005, 0.004, 0.004, 0.004, 0.004, 0.004}
	tests := []struct {
		name    string
		cal     *compare.Calibration // nil: no report
		alpha   float64
		want    Verdict
		wantTPR float64
	}{
		{"no report", nil, 0.01, Inconclusive, -1},
		{"rates only, at α", &compare.Calibration{Rates: highRates}, 0.01, NotDerived, 0.9},
		{"rates only, low, at α", &compare.Calibration{Rates: lowRates}, 0.05, Inconclusive, 0.3},
		{"rates only, not at α", &compare.Calibration{Rates: highRates}, 0.02, Inconclusive, -1},
		{"low rates only, not at α", &compare.Calibration{Rates: lowRates}, 0.001, Inconclusive, -1},
		// Stored p-values decide over stale or missing rates.
		{"p-values, α=0.01", &compare.Calibration{PosP: steep, NegP: neg, Rates: lowRates}, 0.01, NotDerived, 1},
		{"p-values, α=0.02", &compare.Calibration{PosP: steep, NegP: neg}, 0.02, NotDerived, 1},
		{"p-values, α=0.001", &compare.Calibration{PosP: steep, NegP: neg, Rates: highRates}, 0.001, Inconclusive, 1.0 / 6},
		{"p-values, half detected", &compare.Calibration{PosP: []float64{0.001, 0.001, 0.5, 0.5}, NegP: neg}, 0.01, NotDerived, 0.5},
		{"p-values, a third detected", &compare.Calibration{PosP: []float64{0.001, 0.5, 0.5}, NegP: neg}, 0.01, Inconclusive, 1.0 / 3},
		// Power measured on fewer than MinPowerControls positives clears no one.
		{"p-values, two positives", &compare.Calibration{PosP: []float64{0.001, 0.001}, NegP: neg}, 0.01, Inconclusive, 1},
		{"p-values, three of three", &compare.Calibration{PosP: []float64{0.001, 0.001, 0.001}, NegP: neg}, 0.01, Inconclusive, 1},
		{"negatives only", &compare.Calibration{NegP: neg}, 0.01, Inconclusive, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Enrolment.Report = nil
			if tt.cal != nil {
				b, err := json.Marshal(EnrolReport{Calibration: *tt.cal})
				if err != nil {
					t.Fatal(err)
				}
				c.Enrolment.Report = b
			}
			res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, "s", Options{Alpha: tt.alpha})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Results[0]
			if r.PValue <= 0.05 {
				t.Fatalf("the independent suspect has p = %.3g; the test needs one above every α it uses", r.PValue)
			}
			if r.Verdict != tt.want || r.TPR != tt.wantTPR {
				t.Errorf("verdict %s (reason %q), TPR %v; want %s, TPR %v", r.Verdict, r.Reason, r.TPR, tt.want, tt.wantTPR)
			}
			if r.Verdict == Inconclusive && !strings.Contains(r.Reason, "derived controls") {
				t.Errorf("reason %q does not name the suite's power", r.Reason)
			}
			if _, err := json.Marshal(res); err != nil {
				t.Errorf("result does not encode: %v", err)
			}
		})
	}
}

// TestIdenticalNegatives audits against a case whose selection half's
// independent controls are all the same model: no direction can be fitted
// from them, and the verdict says so instead of fitting rounding noise.
func TestIdenticalNegatives(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	c := synthCase(t, rng, 6, 24)
	var first blas32.General
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role != store.RoleNegative || ctl.Half != store.HalfSelection {
			continue
		}
		if first.Data == nil {
			first = c.Controls[i].P
		}
		c.Controls[i].P = first
	}
	got := auditSuspect(t, c, "suspect", follow(rng, c.Teacher.P, 0.4))
	if got.Verdict != Inconclusive || !strings.Contains(got.Reason, "independent controls do not vary") {
		t.Errorf("verdict = %s (%s), want INCONCLUSIVE because the independent controls do not vary", got.Verdict, got.Reason)
	}
}

// TestNotRuledOut checks that a NOT_DERIVED verdict lists the recipe
// families of the calibration positives the suite did not flag at the
// audit's α, each once, and that a DERIVED one lists none.
func TestNotRuledOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	c := synthCase(t, rng, 6, 24)
	fams := []string{"kd-t1", "kd-t4", "kd-t1", "extract-label", "kd-t10", "kd-t4"}
	k := 0
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive && ctl.Half == store.HalfCalibration {
			c.Enrolment.Controls[i].Recipe = fams[k] + " seed=1"
			k++
		}
	}
	if k != len(fams) {
		t.Fatalf("%d calibration positives, want %d", k, len(fams))
	}
	b, err := json.Marshal(EnrolReport{Calibration: compare.Calibration{
		PosP: []float64{0.3, 0.001, 0.02, 0.04, 0.004, 0.001},
		NegP: []float64{0.3, 0.5, 0.7, 0.9, 1},
	}})
	if err != nil {
		t.Fatal(err)
	}
	c.Enrolment.Report = b
	independent := &fingerprint.Fingerprint{ID: "s", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.4)}
	derived := &fingerprint.Fingerprint{ID: "d", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.95)}
	for _, tt := range []struct {
		fp    *fingerprint.Fingerprint
		alpha float64
		want  Verdict
		fams  []string
	}{
		{independent, 0.01, NotDerived, []string{"extract-label", "kd-t1"}},
		{independent, 0.03, NotDerived, []string{"extract-label", "kd-t1"}},
		{independent, 0.05, NotDerived, []string{"kd-t1"}},
		{derived, 0.01, Derived, nil},
	} {
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{tt.fp}, tt.fp.ID, Options{Alpha: tt.alpha})
		if err != nil {
			t.Fatal(err)
		}
		r := res.Results[0]
		if r.Verdict != tt.want || !slices.Equal(r.NotRuledOut, tt.fams) {
			t.Errorf("%s at α=%g: verdict %s (%s), not ruled out %q; want %s and %q", tt.fp.ID, tt.alpha, r.Verdict, r.Reason, r.NotRuledOut, tt.want, tt.fams)
		}
		var back Result
		if b, err := json.Marshal(res); err != nil {
			t.Fatal(err)
		} else if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if got := back.Results[0].NotRuledOut; !slices.Equal(got, tt.fams) {
			t.Errorf("%s at α=%g: not_ruled_out after a JSON round trip %q, want %q", tt.fp.ID, tt.alpha, got, tt.fams)
		}
		if notes := strings.Join(res.Tables()[0].Notes, "\n"); (len(tt.fams) > 0) != strings.Contains(notes, "not ruled out: "+strings.Join(tt.fams, ", ")) {
			t.Errorf("%s at α=%g: notes %q; want the families not ruled out named only for NOT_DERIVED", tt.fp.ID, tt.alpha, notes)
		}
	}
	if got := missedFamilies([]float64{0.5}, []string{"a", "b"}, 0.01); got != nil {
		t.Errorf("missedFamilies with p-values and families that do not line up = %q, want nil", got)
	}
	// A positive at p = α exactly is flagged (p ≤ α), so its family is not missed.
	if got, want := missedFamilies([]float64{0.01, 0.0100001, 0.001}, []string{"at", "above", "below"}, 0.01), []string{"above"}; !slices.Equal(got, want) {
		t.Errorf("missedFamilies at the α boundary = %q, want %q", got, want)
	}
}

// TestLowPowerCaution checks that a suspect with full outputs found
// DERIVED by a suite of measured power below MinPower carries a caution
// saying so, and that one found by a suite of enough or unknown power
// carries none.
func TestLowPowerCaution(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	c := synthCase(t, rng, 6, 24)
	copyP := follow(rng, c.Teacher.P, 0.97)
	neg := []float64{0.3, 0.5, 0.7, 0.9, 1}
	tests := []struct {
		name    string
		cal     *compare.Calibration // nil: no report
		caution string               // a part of the caution; "" for none
	}{
		{"no report", nil, ""},
		{"half detected", &compare.Calibration{PosP: []float64{0.001, 0.001, 0.5, 0.5}, NegP: neg}, ""},
		{"a quarter detected", &compare.Calibration{PosP: []float64{0.001, 0.5, 0.5, 0.5}, NegP: neg}, "detected only 25% of its 4 calibration copies at α = 0.01"},
		// Two copies: the enrolment report has no low-power note to point to.
		{"none detected", &compare.Calibration{PosP: []float64{0.2, 0.5}, NegP: neg}, "detected only 0% of its 2 calibration copies at α = 0.01: "},
		{"rates only, low", &compare.Calibration{Rates: []compare.Rate{{Alpha: 0.01, TPR: 0.2}}}, "detected only 20% of its calibration copies at α = 0.01: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Enrolment.Report = nil
			if tt.cal != nil {
				b, err := json.Marshal(EnrolReport{Calibration: *tt.cal, OutsideRule: true})
				if err != nil {
					t.Fatal(err)
				}
				c.Enrolment.Report = b
			}
			got := auditSuspect(t, c, "copy", copyP)
			if got.Verdict != Derived {
				t.Fatalf("verdict %s (p %.3g, reason %q), want DERIVED", got.Verdict, got.PValue, got.Reason)
			}
			if tt.caution == "" && got.Caution != "" || !strings.Contains(got.Caution, tt.caution) {
				t.Errorf("caution %q, want one containing %q", got.Caution, tt.caution)
			}
		})
	}
}
