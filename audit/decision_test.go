package audit

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/stat"
)

func TestDecisionStats(t *testing.T) {
	tests := []struct {
		name     string
		features []string
		want     []decisionStat
	}{
		{"no residual", []string{"agreement/mixup", featContrast}, []decisionStat{{StatScore, 1, -1}}},
		{"residual", []string{"agreement/mixup", featContrast, featResidual}, []decisionStat{{StatScore, 1 - ResidualWeight, -1}, {StatResidual, ResidualWeight, 2}}},
	}
	for _, tt := range tests {
		got := decisionStats(&Discriminant{Features: tt.features})
		if len(got) != len(tt.want) {
			t.Fatalf("%s: got %d statistics, want %d", tt.name, len(got), len(tt.want))
		}
		var sum float64
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%s: statistic %d: got %+v, want %+v", tt.name, i, got[i], tt.want[i])
			}
			sum += got[i].weight
		}
		if math.Abs(sum-1) > 1e-12 {
			t.Errorf("%s: weights sum to %g, want 1", tt.name, sum)
		}
	}
	d := &Discriminant{Features: []string{"a", featResidual}, Mean: []float64{0, 0}, SD: []float64{1, 1}, W: []float64{2, 0}}
	x := decisionValues(d, decisionStats(d), []float64{1.5, 0.25})
	if x[0] != 3 || x[1] != 0.25 {
		t.Errorf("decisionValues: got %v, want [3 0.25]", x)
	}
}

// TestDecide checks the lineage test's combination against its formula:
// each statistic's p-value is compare.Test's or the worst family's,
// whichever is larger, and the result is min(1, min_j p_j/w_j).
func TestDecide(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	ds := []decisionStat{{StatScore, 0.8, -1}, {StatResidual, 0.2, 0}}
	var null [][]float64
	var fam []string
	for i := range 40 {
		f := []string{"a", "b"}[i%2]
		shift := 0.0
		if f == "b" {
			shift = 1 // family b sits higher on the residual
		}
		null = append(null, []float64{rng.NormFloat64(), rng.NormFloat64() + shift})
		fam = append(fam, f)
	}
	tests := []struct {
		name     string
		x        []float64
		wantBest int
	}{
		{"score far out", []float64{6, 0}, 0},
		{"residual far out", []float64{0, 8}, 1},
		{"neither", []float64{0, 0}, 0},
	}
	for _, tt := range tests {
		got, err := decide(ds, null, fam, tt.x)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		res, err := compare.Test(null, tt.x, compare.Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := 1.0
		for j := range ds {
			col := make([]float64, len(null))
			for i := range null {
				col[i] = null[i][j]
			}
			p := res.Stats[j].P
			if pf, _, ok := worstFamilyP(col, fam, tt.x[j]); ok && pf > p {
				p = pf
				if got.Worst[j] == "" {
					t.Errorf("%s: statistic %d: got no worst family, want one (its p %g > pooled %g)", tt.name, j, pf, res.Stats[j].P)
				}
			}
			if math.Abs(got.Stats[j].P-p) > 1e-12 {
				t.Errorf("%s: statistic %d: got p %g, want %g", tt.name, j, got.Stats[j].P, p)
			}
			want = math.Min(want, p/ds[j].weight)
		}
		if math.Abs(got.P-want) > 1e-12 {
			t.Errorf("%s: got combined p %g, want %g", tt.name, got.P, want)
		}
		if got.Best != tt.wantBest {
			t.Errorf("%s: got best statistic %d, want %d", tt.name, got.Best, tt.wantBest)
		}
	}
	// Family b is the hardest on the residual: a value that is far out for
	// the pooled null but ordinary for b must not be flagged.
	got, err := decide(ds, null, fam, []float64{0, 2})
	if err != nil {
		t.Fatal(err)
	}
	if got.Worst[1] != "b" || got.P < 0.05 {
		t.Errorf("residual at family b's level: got p %g (worst family %q), want p ≥ 0.05 set by family \"b\"", got.P, got.Worst[1])
	}
	// Every null model a family of its own: worstFamilyP has no degrees
	// of freedom, so each statistic keeps the pooled null's p-value.
	single := make([]string, len(null))
	for i := range single {
		single[i] = fmt.Sprint("f", i)
	}
	x := []float64{3, 0}
	got, err = decide(ds, null, single, x)
	if err != nil {
		t.Fatal(err)
	}
	pooled, err := compare.Test(null, x, compare.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for j := range ds {
		if got.Stats[j].P != pooled.Stats[j].P || got.Worst[j] != "" {
			t.Errorf("one model per family: statistic %d: got p %g (worst family %q), want the pooled p %g and no family", j, got.Stats[j].P, got.Worst[j], pooled.Stats[j].P)
		}
	}
	// Too small a null: an error wrapping compare.ErrInsufficientNull and p = 1.
	got, err = decide(ds, null[:2], fam[:2], []float64{9, 9})
	if !errors.Is(err, compare.ErrInsufficientNull) || got.P != 1 {
		t.Errorf("null of 2: got p %g, err %v; want p 1 and compare.ErrInsufficientNull", got.P, err)
	}
}

// TestAuditDecision audits through a case with replicas: the result holds
// both decision statistics, its p-value is their weighted Bonferroni
// combination, and ControlValues gives the null and positives a figure
// draws for each.
func TestAuditDecision(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	w := newReplicaWorld(rng)
	tq := w.quirks()
	c := replicaCase(w, tq, 0)
	student := func() blas32.General { return w.answers(1, []float64{0.5, 0.7}, tq, w.quirks()) }
	nNeg := 0
	for _, half := range []string{store.HalfSelection, store.HalfCalibration} {
		for i := range 6 {
			id := fmt.Sprintf("%s-student-%d", half, i)
			c.Controls = append(c.Controls, &fingerprint.Fingerprint{ID: id, P: student()})
			c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: id, Role: store.RolePositive, Half: half, Recipe: "student seed=1"})
		}
		for f, name := range []string{ReplicaFamily, "other-recipe"} {
			for i := range 8 {
				id := fmt.Sprintf("%s-%s-%d", half, name, i)
				c.Controls = append(c.Controls, &fingerprint.Fingerprint{ID: id, P: w.answers(1, []float64{1 - 0.3*float64(f)}, w.quirks())})
				c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: id, Role: store.RoleNegative, Half: half, Recipe: name + " seed=1"})
				if half == store.HalfCalibration {
					nNeg++
				}
			}
		}
	}
	res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{{ID: "suspect", P: student()}}, "suspect", Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr := res.Results[0]
	ps, okS := tr.Statistics[StatScore]
	pr, okR := tr.Statistics[StatResidual]
	if !okS || !okR {
		t.Fatalf("statistics: got %v, want %s and %s", keysOf(tr.Statistics), StatScore, StatResidual)
	}
	if want := math.Min(1, math.Min(ps.P/(1-ResidualWeight), pr.P/ResidualWeight)); math.Abs(tr.PCombined-want) > 1e-12 {
		t.Errorf("combined p: got %g, want min(1, %g/%g, %g/%g) = %g", tr.PCombined, ps.P, 1-ResidualWeight, pr.P, ResidualWeight, want)
	}
	if tr.Verdict != Derived {
		t.Errorf("student: got %s (p %g), want %s", tr.Verdict, tr.PValue, Derived)
	}
	null, pos, err := c.ControlValues(StatScore)
	if err != nil {
		t.Fatal(err)
	}
	sNull, sPos, err := c.ControlScores()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(null, sNull) || !slices.Equal(pos, sPos) {
		t.Errorf("ControlValues(%s) differs from ControlScores", StatScore)
	}
	null, pos, err = c.ControlValues(StatResidual)
	if err != nil {
		t.Fatal(err)
	}
	if len(null) != nNeg || len(pos) != 6 {
		t.Errorf("ControlValues(%s): got %d null and %d positive values, want %d and 6", StatResidual, len(null), len(pos), nNeg)
	}
	if mn, mp := stat.Mean(null, nil), stat.Mean(pos, nil); !(mp > mn) {
		t.Errorf("residual: positives' mean %.3f, want above the null's %.3f", mp, mn)
	}
	if _, _, err := c.ControlValues("nope"); !errors.Is(err, ErrUnknownStatistic) {
		t.Errorf("ControlValues(nope): got %v, want ErrUnknownStatistic", err)
	}
}

func keysOf(m map[string]StatEvidence) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
