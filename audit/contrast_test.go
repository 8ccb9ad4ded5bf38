package audit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/compare"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// replicaWorld makes answers on nProbes probes: softmax(task + quirks),
// where task is shared by every model and quirks are a model's own logit
// noise; a student mixes the teacher's quirks into its own.
type replicaWorld struct {
	rng  *rand.Rand
	task []float64
}

func newReplicaWorld(rng *rand.Rand) *replicaWorld {
	w := &replicaWorld{rng: rng, task: make([]float64, nProbes*nClasses)}
	for i := range w.task {
		w.task[i] = 2 * rng.NormFloat64()
	}
	return w
}

func (w *replicaWorld) quirks() []float64 {
	q := make([]float64, len(w.task))
	for i := range q {
		q[i] = w.rng.NormFloat64()
	}
	return q
}

// answers returns softmax((task + Σ_k a_k·q_k)/T) row by row.
func (w *replicaWorld) answers(T float64, a []float64, qs ...[]float64) blas32.General {
	p := blas32.General{Rows: nProbes, Cols: nClasses, Stride: nClasses, Data: make([]float32, nProbes*nClasses)}
	z := make([]float32, nClasses)
	for i := range nProbes {
		for j := range nClasses {
			v := w.task[i*nClasses+j]
			for k, q := range qs {
				v += a[k] * q[i*nClasses+j]
			}
			z[j] = float32(v / T)
		}
		model.Softmax(p.Data[i*nClasses:(i+1)*nClasses], z)
	}
	return p
}

// addControl appends to c a control with outputs p, of the recipe family
// fam.
func addControl(c *Case, id, role, half, fam string, p blas32.General) {
	c.Controls = append(c.Controls, &fingerprint.Fingerprint{ID: id, P: p})
	c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: id, Role: role, Half: half, Recipe: fam + " seed=1"})
}

// replicaCase is a case with a teacher, nRep replicas in the selection
// half and nothing else; every probe is a mixup probe.
func replicaCase(w *replicaWorld, teacherQ []float64, nRep int) *Case {
	kinds := make([]probe.Kind, nProbes)
	for i := range kinds {
		kinds[i] = probe.Mixup
	}
	s := &probe.Suite{Name: "replicas", Labels: model.DefaultLabels(nClasses),
		X: blas32.General{Rows: nProbes, Cols: 1, Stride: 1, Data: make([]float32, nProbes)}, Kinds: kinds}
	c := &Case{Suite: s, Teacher: &fingerprint.Fingerprint{ID: "t", P: w.answers(1, []float64{1}, teacherQ)},
		Enrolment: &store.Enrolment{Name: "replicas"}}
	for r := range nRep {
		fp := &fingerprint.Fingerprint{ID: "replica-" + string(rune('a'+r)), P: w.answers(1, []float64{1}, w.quirks())}
		c.Controls = append(c.Controls, fp)
		c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: fp.ID, Role: store.RoleNegative,
			Half: store.HalfSelection, Recipe: ReplicaFamily + " seed=1"})
	}
	return c
}

func TestContrastSeparates(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := newReplicaWorld(rng)
	tq := w.quirks()
	c := replicaCase(w, tq, 8)
	cp := c.contrast()
	if cp == nil {
		t.Fatal("contrast: got no panel, want one (8 replicas, 120 mixup probes)")
	}
	var indep []float64
	for range 40 {
		indep = append(indep, cp.value("indep", w.answers(1, []float64{1}, w.quirks())))
	}
	var mean, sd float64
	for _, v := range indep {
		mean += v / float64(len(indep))
	}
	for _, v := range indep {
		sd += (v - mean) * (v - mean) / float64(len(indep)-1)
	}
	sd = math.Sqrt(sd)
	if math.Abs(mean) > 3*sd/math.Sqrt(float64(len(indep))) {
		t.Errorf("independent models: mean contrast got %.4f, want 0 ± %.4f", mean, 3*sd/math.Sqrt(float64(len(indep))))
	}
	for _, T := range []float64{1, 0.5, 2} {
		// A student keeps 60 % of the teacher's quirks; it may serve at any temperature.
		v := cp.value("student", w.answers(T, []float64{0.6, 0.6}, tq, w.quirks()))
		if z := (v - mean) / sd; z < 4 {
			t.Errorf("student served at T=%g: contrast z got %.1f, want ≥ 4", T, z)
		}
	}
}

func TestContrastLeaveOneOut(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	w := newReplicaWorld(rng)
	c := replicaCase(w, w.quirks(), 4)
	cp := c.contrast()
	// The first replica is measured against the other three alone.
	want := 0.0
	prof, tp, rp := make([]float64, nClasses), make([]float64, nClasses), make([]float64, nClasses)
	row := func(p blas32.General, i int) []float32 { return p.Data[i*p.Stride : i*p.Stride+p.Cols] }
	mean := make([]float64, nClasses)
	for i := range nProbes {
		compare.RankProfile(prof, row(c.Controls[0].P, i))
		compare.RankProfile(tp, row(c.Teacher.P, i))
		clear(mean)
		for r := 1; r < 4; r++ {
			compare.RankProfile(rp, row(c.Controls[r].P, i))
			for j := range rp {
				mean[j] += rp[j] / 3
			}
		}
		for j := range prof {
			want += prof[j] * (tp[j] - mean[j]) / nProbes
		}
	}
	if got := cp.value(c.Controls[0].ID, c.Controls[0].P); math.Abs(got-want) > 1e-9 {
		t.Errorf("replica: got %.12f, want %.12f (the other replicas' mean)", got, want)
	}
}

func TestContrastNeedsReplicas(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	w := newReplicaWorld(rng)
	if cp := replicaCase(w, w.quirks(), MinReplicas-1).contrast(); cp != nil {
		t.Errorf("%d replica(s): got a panel, want none", MinReplicas-1)
	}
	c := replicaCase(w, w.quirks(), 4)
	for i := range c.Suite.Kinds {
		c.Suite.Kinds[i] = probe.Conferrable
	}
	if cp := c.contrast(); cp != nil {
		t.Error("no contrast probes: got a panel, want none")
	}
}

// TestRelativeFeatures checks that with replicas every feature is the
// suspect's similarity to the teacher minus its mean similarity to the
// replicas: a copy of the teacher scores above zero on each, a copy of a
// replica below, and a replica is not compared with itself.
func TestRelativeFeatures(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	w := newReplicaWorld(rng)
	c := replicaCase(w, w.quirks(), 4)
	fs := features(c, false)
	if len(fs) < 3 || fs[len(fs)-2].key != featContrast || fs[len(fs)-1].key != featResidual {
		t.Fatalf("features: got %v, want agreement features, then the replica contrast and residual", fs)
	}
	vec := func(id string, p blas32.General) []float64 {
		t.Helper()
		st, err := compare.Compute(c.Teacher.P, p, c.Suite.Kinds)
		if err != nil {
			t.Fatal(err)
		}
		v, err := featureVector(c, fs, st, id, p)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for i, x := range vec("copy-of-teacher", c.Teacher.P) {
		if !(x > 0) {
			t.Errorf("copy of the teacher: feature %s got %.3f, want > 0", fs[i].key, x)
		}
	}
	for i, x := range vec("copy-of-replica", c.Controls[0].P) {
		// The replica residual of a replica measured against a mean that
		// includes it is zero in expectation, not below it (see own below).
		if fs[i].key != featResidual && !(x < 0) {
			t.Errorf("copy of a replica: feature %s got %.3f, want < 0", fs[i].key, x)
		}
	}
	// The replica itself is measured against the other three only: like
	// any independent model, not far below zero.
	own := vec(c.Controls[0].ID, c.Controls[0].P)
	cp := vec("copy-of-replica", c.Controls[0].P)
	for i := range own {
		if !(own[i] > cp[i]) {
			t.Errorf("replica leave-one-out: feature %s got %.3f, want above %.3f (compared with itself)", fs[i].key, own[i], cp[i])
		}
	}
}

// TestNullCalibrationReplicas audits fresh independent suspects against
// cases with replicas (so every feature is relative and the replica
// contrast is scored) and checks that the fraction flagged stays within
// binomial slack of α. A p-value's promise is over the draw of the
// enrolment too, so the suspects are spread over ten enrolments. Independent
// models come in three families: the teacher's recipe, another recipe
// (weaker quirks), and a sharper model.
func TestNullCalibrationReplicas(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const cases, perCase = 10, 40
	flagged := map[float64]int{}
	caught := 0
	for range cases {
		w := newReplicaWorld(rng)
		tq := w.quirks()
		c := replicaCase(w, tq, 0)
		indep := func(fam int) blas32.General {
			switch fam {
			case 0:
				return w.answers(1, []float64{1}, w.quirks())
			case 1:
				return w.answers(1, []float64{0.7}, w.quirks())
			default:
				return w.answers(0.6, []float64{1}, w.quirks())
			}
		}
		student := func() blas32.General { return w.answers(1, []float64{0.6, 0.6}, tq, w.quirks()) }
		add := func(id, role, half, fam string, p blas32.General) { addControl(c, id, role, half, fam, p) }
		for _, half := range []string{store.HalfSelection, store.HalfCalibration} {
			for i := range 6 {
				add(fmt.Sprintf("%s-student-%d", half, i), store.RolePositive, half, "student", student())
			}
			for f, name := range []string{ReplicaFamily, "other-recipe", "sharp"} {
				for i := range 8 {
					add(fmt.Sprintf("%s-%s-%d", half, name, i), store.RoleNegative, half, name, indep(f))
				}
			}
		}
		if c.contrast() == nil {
			t.Fatal("contrast: got no panel, want one (8 replicas in the selection half)")
		}
		audit := func(p blas32.General) float64 {
			res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{{ID: "suspect", P: p}}, "suspect", Options{})
			if err != nil {
				t.Fatal(err)
			}
			return res.Results[0].PValue
		}
		for i := range perCase {
			countFlags(flagged, audit(indep(i%3)))
		}
		for range 2 {
			if audit(student()) <= 0.01 {
				caught++
			}
		}
	}
	n := cases * perCase
	checkFlagRates(t, flagged, n)
	// The test has power too: students of the teacher are flagged.
	if caught < 2*cases-2 {
		t.Errorf("students flagged at α=0.01: got %d of %d, want at least %d", caught, 2*cases, 2*cases-2)
	}
	t.Logf("independent suspects flagged: %v of %d; students: %d of %d", flagged, n, caught, 2*cases)
}

// TestAuditReplicaByOutputs checks that the replica contrast leaves a
// replica out by its outputs, not by the suspect's name: a replica audited
// under another name gets the audit of its own fingerprint, and another
// model audited under a replica's name gets the audit of any other name.
func TestAuditReplicaByOutputs(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	w := newReplicaWorld(rng)
	tq := w.quirks()
	c := replicaCase(w, tq, 0)
	for _, half := range []string{store.HalfSelection, store.HalfCalibration} {
		for i := range 6 {
			addControl(c, fmt.Sprintf("%s-student-%d", half, i), store.RolePositive, half, "student", w.answers(1, []float64{0.6, 0.6}, tq, w.quirks()))
		}
		for i := range 10 {
			addControl(c, fmt.Sprintf("%s-replica-%d", half, i), store.RoleNegative, half, ReplicaFamily, w.answers(1, []float64{1}, w.quirks()))
		}
	}
	if c.contrast() == nil {
		t.Fatal("contrast: got no panel, want one")
	}
	withReport(t, c)
	audit := func(id string, p blas32.General) TeacherResult {
		t.Helper()
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{{ID: id, P: p}}, id, Options{})
		if err != nil {
			t.Fatal(err)
		}
		return res.Results[0]
	}
	same := func(a, b TeacherResult) bool {
		return a.PCombined == b.PCombined && a.Verdict == b.Verdict
	}
	replica := c.Controls[slices.IndexFunc(c.Controls, func(fp *fingerprint.Fingerprint) bool { return fp.ID == "selection-replica-0" })]
	own, renamed := audit(replica.ID, replica.P), audit("renamed", replica.P)
	if !same(own, renamed) {
		t.Errorf("replica audited as %q: got %s, p %g; want its own audit's %s, p %g",
			"renamed", renamed.Verdict, renamed.PCombined, own.Verdict, own.PCombined)
	}
	if own.Verdict != NotDerived {
		t.Errorf("replica audited: got %s (%s), want NOT_DERIVED", own.Verdict, own.Reason)
	}
	// Its labels are the replica's too.
	labels := &fingerprint.Fingerprint{ID: "renamed", P: oneHot(replica.P)}
	if got := c.replicaOf(labels); got != replica.ID {
		t.Errorf("replicaOf(the replica's labels) = %q, want %q", got, replica.ID)
	}
	other := w.answers(1, []float64{1}, w.quirks())
	if got := c.replicaOf(&fingerprint.Fingerprint{ID: replica.ID, P: other}); got != "" {
		t.Errorf("replicaOf(another model named %s) = %q, want none", replica.ID, got)
	}
	named, plain := audit(replica.ID, other), audit("other", other)
	if !same(named, plain) {
		t.Errorf("another model audited as %q: got %s, p %g; want the audit under another name, %s, p %g",
			replica.ID, named.Verdict, named.PCombined, plain.Verdict, plain.PCombined)
	}
}
