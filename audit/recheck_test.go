package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
)

// recheckCase returns a synthetic case as Enroll leaves it: controls of
// named recipe families, three under-trained negatives, and the report
// calibrationReport measures on it stored in its enrolment.
func recheckCase(t *testing.T) *Case {
	t.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	c := synthCase(t, rng, 6, 12)
	// A calibration positive barely like the teacher, which the
	// enrolment misses.
	weak := &fingerprint.Fingerprint{ID: "weak", Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.42)}
	c.Controls = append(c.Controls, weak)
	c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: weak.ID, Role: store.RolePositive, Half: store.HalfCalibration})
	for i := range 3 {
		fp := &fingerprint.Fingerprint{ID: fmt.Sprintf("under-%d", i), Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.2)}
		c.Controls = append(c.Controls, fp)
		c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: store.RoleNegative, Half: store.HalfUnderTrained})
	}
	storeFamilies(t, c, []string{"kd", "extract"}, []string{"kd", "extract", "independent", "half-data"}, " hidden=64")
	return c
}

// storeFamilies gives each of c's controls a recipe of a family — the
// positives' from pos and the other negatives' from neg, by index, the
// under-trained ones "under-trained" — with extra after its seed, and
// stores the report calibrationReport measures on c, which it returns.
func storeFamilies(t *testing.T, c *Case, pos, neg []string, extra string) EnrolReport {
	t.Helper()
	recipes := make([]Recipe, len(c.Controls))
	for i := range c.Enrolment.Controls {
		ctl := &c.Enrolment.Controls[i]
		fam := neg[(i%2*2+i/2%2)%len(neg)]
		if ctl.Role == store.RolePositive {
			fam = pos[i%len(pos)]
		} else if ctl.Half == store.HalfUnderTrained {
			fam = "under-trained"
		}
		ctl.Recipe = fmt.Sprintf("%s seed=%d%s", fam, i, extra)
		recipes[i] = Recipe{Family: fam}
	}
	rep, err := calibrationReport(context.Background(), c, recipes)
	if err != nil {
		t.Fatal(err)
	}
	if c.Enrolment.Report, err = json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// editReport returns a copy of c whose stored report is edited by edit.
func editReport(t *testing.T, c *Case, edit func(*EnrolReport)) *Case {
	t.Helper()
	var rep EnrolReport
	if err := json.Unmarshal(c.Enrolment.Report, &rep); err != nil {
		t.Fatal(err)
	}
	edit(&rep)
	e := *c.Enrolment
	var err error
	if e.Report, err = json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	return &Case{Enrolment: &e, Suite: c.Suite, Teacher: c.Teacher, Controls: c.Controls}
}

// TestRecheckAgrees checks that the report enrolment stored recomputes to
// itself, also once references are added (enrolment had none: with them
// in the null every negative's p-value moves), and that an enrolment
// without a report has nothing to recompute.
func TestRecheckAgrees(t *testing.T) {
	c := recheckCase(t)
	refs := withRefs(rand.New(rand.NewPCG(5, 6)), c)
	none := editReport(t, c, func(*EnrolReport) {})
	none.Enrolment.Report = nil
	for name, c := range map[string]*Case{"as enrolled": c, "with references": refs, "no report": none} {
		if note, err := c.Recheck(context.Background()); note != "" || err != nil {
			t.Errorf("%s: Recheck = %q, %v; want no note and no error", name, note, err)
		}
	}
}

// TestRecheckEdited checks that a report edited consistently (what the
// range checks of CheckEnrolment accept) is found, naming the first field
// that differs, and that numbers within RecheckTolerance agree.
func TestRecheckEdited(t *testing.T) {
	c := recheckCase(t)
	if err := CheckEnrolment(c.Enrolment); err != nil {
		t.Fatalf("CheckEnrolment of the report as enrolled: %v", err)
	}
	var rep EnrolReport
	if err := json.Unmarshal(c.Enrolment.Report, &rep); err != nil {
		t.Fatal(err)
	}
	// The first calibration positive the enrolment missed at 0.01, and
	// its family.
	missed := slices.IndexFunc(rep.Calibration.PosP, func(p float64) bool { return p > 0.01 })
	if missed < 0 {
		t.Fatal("every calibration positive detected: the case tests nothing")
	}
	var posFam []string
	for _, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RolePositive && ctl.Half == store.HalfCalibration {
			posFam = append(posFam, familyOf(ctl))
		}
	}
	tests := []struct {
		name  string
		edit  func(*EnrolReport)
		field string // "" for none
	}{
		{"pos_p lowered, rates and families to match", func(r *EnrolReport) {
			r.Calibration.PosP[missed] = 0.0001
			r.Calibration.Rates = compare.RatesOf(r.Calibration.PosP, r.Calibration.NegP, DefaultAlphas)
			f := r.Families[posFam[missed]]
			f.Flagged++
			r.Families[posFam[missed]] = f
		}, fmt.Sprintf("calibration.pos_p[%d]", missed)},
		{"pos_p dropped, rates kept", func(r *EnrolReport) { r.Calibration.PosP = nil }, "calibration.pos_p"},
		{"neg_p raised", func(r *EnrolReport) { r.Calibration.NegP[1] = 0.999 }, "calibration.neg_p[1]"},
		{"neg_p with a value added", func(r *EnrolReport) { r.Calibration.NegP = append(r.Calibration.NegP, 0.5) }, "calibration.neg_p"},
		{"neg_p with its last value dropped", func(r *EnrolReport) { r.Calibration.NegP = r.Calibration.NegP[:len(r.Calibration.NegP)-1] }, "calibration.neg_p"},
		{"rates edited", func(r *EnrolReport) { r.Calibration.Rates[0].TPR = 1 }, "calibration.rates[0].tpr"},
		{"auc edited", func(r *EnrolReport) { r.Calibration.AUC = 1 }, "calibration.auc"},
		{"families edited", func(r *EnrolReport) {
			f := r.Families["independent"]
			f.Flagged++
			r.Families["independent"] = f
		}, "families.independent.flagged_at_0.01"},
		{"family added", func(r *EnrolReport) { r.Families["zz"] = FamilyRate{Role: "negative", N: 1} }, "families.zz"},
		{"discriminant weight", func(r *EnrolReport) { r.Discriminant.W[0] += 0.5 }, "discriminant.weights[0]"},
		{"outside rule dropped", func(r *EnrolReport) { r.OutsideRule = false }, "outside_rule"},
		{"null size", func(r *EnrolReport) { r.Null++ }, "null_size"},
		{"within tolerance", func(r *EnrolReport) { r.Calibration.PosP[missed] *= 1 + 1e-12 }, ""},
		{"beyond tolerance", func(r *EnrolReport) { r.Calibration.PosP[missed] *= 1 + 1e-7 }, fmt.Sprintf("calibration.pos_p[%d]", missed)},
		{"not measured: seed and time", func(r *EnrolReport) { r.Seed, r.ElapsedS = 99, 1 }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := editReport(t, c, tt.edit)
			note, err := e.Recheck(context.Background())
			if note != "" {
				t.Errorf("note %q, want none", note)
			}
			var re *RecheckError
			switch {
			case tt.field == "" && err != nil:
				t.Errorf("Recheck: %v, want no error", err)
			case tt.field == "":
			case !errors.As(err, &re):
				t.Errorf("Recheck: %v, want a *RecheckError for %s", err, tt.field)
			case re.Field != tt.field || re.Enrolment != "synth":
				t.Errorf("Recheck: field %q of %q (%v), want %q of synth", re.Field, re.Enrolment, err, tt.field)
			}
		})
	}
}

// TestRecheckErrorMessage pins the message: the enrolment, the field and
// both values.
func TestRecheckErrorMessage(t *testing.T) {
	c := recheckCase(t)
	var stored float64
	e := editReport(t, c, func(r *EnrolReport) {
		stored = r.Calibration.PosP[0]
		r.Calibration.PosP[0] = 0.0004
	})
	_, err := e.Recheck(context.Background())
	want := fmt.Sprintf(`enrolment "synth": report calibration.pos_p[0] is 0.0004, but its fingerprints give %s`, jsonOf(t, stored))
	if err == nil || err.Error() != want {
		t.Errorf("Recheck: %v\nwant %s", err, want)
	}
	e = editReport(t, c, func(r *EnrolReport) { r.Calibration.PosP = nil })
	_, err = e.Recheck(context.Background())
	want = fmt.Sprintf(`enrolment "synth": report calibration.pos_p is null, but its fingerprints give a list of %d`, 7)
	if err == nil || err.Error() != want {
		t.Errorf("Recheck: %v\nwant %s", err, want)
	}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRecheckOutdated checks that a report of an enrolment without
// under-trained controls (made before them) is not recomputed, edited or
// not: a note says so, and there is no error.
func TestRecheckOutdated(t *testing.T) {
	c := recheckCase(t)
	old := editReport(t, c, func(r *EnrolReport) {
		r.UnderTrained = 0
		r.Calibration.PosP[0] = 0
	})
	old.Enrolment.Controls = slices.DeleteFunc(slices.Clone(old.Enrolment.Controls), func(ctl store.Control) bool { return ctl.Half == store.HalfUnderTrained })
	old.Controls = old.Controls[:len(old.Enrolment.Controls)]
	note, err := old.Recheck(context.Background())
	if err != nil || !strings.Contains(note, `enrolment "synth" was made before the under-trained controls`) {
		t.Errorf("Recheck = %q, %v; want the note and no error", note, err)
	}
}

// TestRecheckCancelled checks that Recheck stops with ctx's error.
func TestRecheckCancelled(t *testing.T) {
	c := recheckCase(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Recheck(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Recheck with a cancelled context: %v, want context.Canceled", err)
	}
}

// TestNewReferenceCancelled checks that fitting the discriminant and the
// controls' vectors, most of a recomputation's time (seconds for the
// demo's enrolment, where db import went on for up to 6 s after Ctrl-C),
// stops with ctx's error, unwrapped, as calibrationReport's callers test
// it.
func TestNewReferenceCancelled(t *testing.T) {
	c := recheckCase(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, labelOnly := range []bool{false, true} {
		if _, err := fitDiscriminant(ctx, c, labelOnly); err != context.Canceled {
			t.Errorf("fitDiscriminant(labelOnly=%v) with a cancelled context: %v, want context.Canceled", labelOnly, err)
		}
		if _, err := c.newReference(ctx, labelOnly); err != context.Canceled {
			t.Errorf("newReference(labelOnly=%v) with a cancelled context: %v, want context.Canceled", labelOnly, err)
		}
	}
	if _, err := c.newReference(context.Background(), false); err != nil {
		t.Errorf("newReference: %v", err)
	}
}

// TestRecheckFirstRule checks that a report measured by lineage of 5
// December 2026 10:35–10:59, whose test of the controls kept the
// under-trained ones in the null wherever nullFor did (not the larger
// p-value with them or without), is not called a forgery: a note says so.
func TestRecheckFirstRule(t *testing.T) {
	c := recheckCase(t)
	recipes := make([]Recipe, len(c.Controls))
	for i, ctl := range c.Enrolment.Controls {
		recipes[i] = Recipe{Family: familyOf(ctl)}
	}
	first := &Case{Enrolment: c.Enrolment, Suite: c.Suite, Teacher: c.Teacher, Controls: c.Controls, firstRule: true}
	rep, err := calibrationReport(context.Background(), first, recipes)
	if err != nil {
		t.Fatal(err)
	}
	old := editReport(t, c, func(r *EnrolReport) { *r = rep })
	if d, err := diffReports(measured(&rep), measured(mustReport(t, c))); err != nil || d == nil {
		t.Fatal("both rules give the same report: the case tests nothing")
	}
	note, err := old.Recheck(context.Background())
	if err != nil || !strings.Contains(note, "10:35–10:59") {
		t.Errorf("Recheck = %q, %v; want the note and no error", note, err)
	}
}

func mustReport(t *testing.T, c *Case) *EnrolReport {
	t.Helper()
	var rep EnrolReport
	if err := json.Unmarshal(c.Enrolment.Report, &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestDiffReportsNotFinite checks that a recomputed report with no JSON (a
// discriminant mean that is NaN, which records crafted for it could give)
// is an error naming which report, not a panic.
func TestDiffReportsNotFinite(t *testing.T) {
	good := measuredReport{Discriminant: &Discriminant{Mean: []float64{1}}}
	bad := measuredReport{Discriminant: &Discriminant{Mean: []float64{math.NaN()}}}
	for _, tc := range []struct {
		name        string
		stored, got measuredReport
		want        string
	}{
		{"recomputed", good, bad, "recomputed report: "},
		{"stored", bad, good, "stored report: "},
	} {
		d, err := diffReports(tc.stored, tc.got)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || d != nil {
			t.Errorf("%s: diffReports = %v, %v; want nil and an error starting %q", tc.name, d, err, tc.want)
		}
	}
}

// TestRecheckWatermarkEdited checks that the watermark's record in the
// report is recomputed too: an enrolment with a label watermark agrees
// with itself, and one whose watermark record was edited is found.
func TestRecheckWatermarkEdited(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	c, _ := markCase(t, rng, 60)
	for i := range 3 {
		fp := &fingerprint.Fingerprint{ID: fmt.Sprintf("under-%d", i), Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, 0.2)}
		c.Controls = append(c.Controls, fp)
		c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: store.RoleNegative, Half: store.HalfUnderTrained})
	}
	if rep := storeFamilies(t, c, []string{"kd"}, []string{"independent"}, ""); rep.Watermark == nil {
		t.Fatal("set-up: the report has no watermark record")
	}
	if note, err := c.Recheck(context.Background()); err != nil || note != "" {
		t.Fatalf("Recheck of the report as enrolled: note %q, %v; want none", note, err)
	}
	for _, tt := range []struct {
		name  string
		edit  func(*EnrolReport)
		field string
	}{
		{"flagged", func(r *EnrolReport) { r.Watermark.Flagged++ }, "watermark.flagged"},
		{"min p", func(r *EnrolReport) { r.Watermark.MinP /= 2 }, "watermark.min_p"},
		{"dropped", func(r *EnrolReport) { r.Watermark = nil }, "watermark"},
	} {
		_, err := editReport(t, c, tt.edit).Recheck(context.Background())
		var re *RecheckError
		if !errors.As(err, &re) || re.Field != tt.field {
			t.Errorf("%s: Recheck: %v, want a RecheckError naming %q", tt.name, err, tt.field)
		}
	}
}
