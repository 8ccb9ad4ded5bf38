package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

const python = "/usr/bin/python3"

// needNumpy skips the test when python cannot import numpy (.ci/run
// installs python3-numpy) or in -short mode.
func needNumpy(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the Python recomputation in -short mode")
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("skipping: %s not found", python)
	}
	if out, err := exec.Command(python, "-c", "import numpy").CombinedOutput(); err != nil {
		t.Skipf("skipping: %s cannot import numpy: %s", python, strings.TrimSpace(string(out)))
	}
}

// recompute runs testdata/recompute.py on the results (after flags, say
// --export FILE) and returns its output and whether it exited 0 (every
// check agreed).
func recompute(t *testing.T, results []Result, flags ...string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"testdata/recompute.py"}, flags...)
	for _, r := range results {
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, strings.ReplaceAll(r.Suspect, "/", "_")+".json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		if _, ok := err.(*exec.ExitError); !ok {
			t.Fatalf("run recompute.py: %v", err)
		}
		return string(out), false
	}
	return string(out), true
}

// TestRecomputePython checks that the audit's combined p-values, Holm's
// correction across two teachers, verdicts and t-predictive p-values are
// what README.md says, recomputed apart from Go by testdata/recompute.py
// (which also recomputes the per-kind statistics and mistake agreement from
// a `lineage db export`; see the script's head), and that the script flags
// a result edited to disagree.
func TestRecomputePython(t *testing.T) {
	needNumpy(t)
	rng := rand.New(rand.NewPCG(29, 1))
	a := synthCase(t, rng, 6, 24)
	b := synthCase(t, rng, 6, 24)
	b.Enrolment.Name = "synth-b"
	withReport(t, a)
	withReport(t, b)
	suspects := []struct {
		name string
		of   func(teacher blas32.General) blas32.General
	}{
		{"copy-of-a", func(tp blas32.General) blas32.General { return follow(rng, tp, 0.9) }},
		{"weak-copy-of-a", func(tp blas32.General) blas32.General { return follow(rng, tp, 0.6) }},
		{"independent", func(tp blas32.General) blas32.General { return follow(rng, tp, 0.4) }},
		{"label-only-copy", func(tp blas32.General) blas32.General { return oneHot(follow(rng, tp, 0.9)) }},
	}
	var results []Result
	for _, s := range suspects {
		// The suspect copies (or not) teacher a; against b it is an independent model.
		fa := &fingerprint.Fingerprint{ID: s.name, Suite: a.Suite.Hash, P: s.of(a.Teacher.P)}
		fb := &fingerprint.Fingerprint{ID: s.name, Suite: b.Suite.Hash, P: follow(rng, b.Teacher.P, 0.4)}
		res, err := Audit([]*Case{a, b}, []*fingerprint.Fingerprint{fa, fb}, s.name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	if got := results[0].Results[0].Verdict; got != Derived {
		t.Fatalf("copy-of-a against a: verdict %s, want DERIVED (the Holm check needs a p below 1)", got)
	}
	out, ok := recompute(t, results)
	if !ok || !strings.Contains(out, "all checks agree") {
		t.Fatalf("recompute.py disagrees with Audit:\n%s", out)
	}

	edits := []struct {
		name string
		edit func(r *TeacherResult)
	}{
		{"p_combined", func(r *TeacherResult) { r.PCombined *= 1.001 }},
		{"verdict", func(r *TeacherResult) { r.Verdict = NotDerived }},
		{"score p", func(r *TeacherResult) { s := r.Statistics[StatScore]; s.P /= 2; r.Statistics[StatScore] = s }},
	}
	for _, e := range edits {
		t.Run("edited "+e.name, func(t *testing.T) {
			var r Result
			b, _ := json.Marshal(results[0])
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			e.edit(&r.Results[0])
			if out, ok := recompute(t, []Result{r}); ok {
				t.Errorf("recompute.py agreed with a result whose %s was edited:\n%s", e.name, out)
			}
		})
	}
}

// TestRecomputePythonExport checks the statistics recompute.py rebuilds
// from a `lineage db export` of a synthetic enrolment: the per-kind
// agreement and JS, the temperature fit, mistake agreement, soft agreement
// and JS after the fit with their nulls and robust predictive p-values, the
// lineage score of the suspect and of each null model, and the score's
// p-value (robust predictive or worst family, whichever is larger) from the
// null's scores, computed or, where given, taken from audits of the
// calibration negatives.
func TestRecomputePythonExport(t *testing.T) {
	needNumpy(t)
	rng := rand.New(rand.NewPCG(29, 2))
	c := synthCase(t, rng, 6, 24)
	c.Enrolment.TeacherFP = c.Teacher.ID
	fams := []string{"indep-a", "indep-b", "indep-c"}
	for i := range c.Enrolment.Controls {
		ctl := &c.Enrolment.Controls[i]
		ctl.Recipe = fmt.Sprintf("%s seed=%d", fams[i%len(fams)], i)
		switch {
		case ctl.Role == store.RolePositive:
			ctl.Recipe = fmt.Sprintf("kd seed=%d", i)
		case ctl.Half == store.HalfSelection && i%3 == 0:
			// replicas: the score gets the replica contrast and residual
			ctl.Recipe = fmt.Sprintf("%s seed=%d", ReplicaFamily, i)
		}
	}
	// A reference queried for labels only: in the null of label-only
	// suspects, not in that of suspects with probabilities.
	ref := &fingerprint.Fingerprint{ID: "label-reference", Suite: c.Suite.Hash, P: oneHot(follow(rng, c.Teacher.P, 0.4))}
	c.Controls = append(c.Controls, ref)
	c.Enrolment.Controls = append(c.Enrolment.Controls, store.Control{FP: ref.ID, Role: store.RoleReference})
	withReport(t, c)
	labels := model.DefaultLabels(nClasses)
	named := func(fp *fingerprint.Fingerprint) *fingerprint.Fingerprint {
		fp.Queries = nProbes
		fp.Model = model.Info{Name: fp.ID, Kind: model.Classifier, InputSize: 2, Labels: labels, Hash: "h-" + fp.ID}
		fp.Hash = fp.ComputeHash()
		return fp
	}
	fps := append([]*fingerprint.Fingerprint{named(c.Teacher)}, c.Controls...)
	for _, fp := range c.Controls {
		named(fp)
	}
	var results []Result
	audit := func(fp *fingerprint.Fingerprint) {
		res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, fp.ID, Options{})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
	}
	for i, p := range []float64{0.9, 0.6, 0.4} {
		fp := named(&fingerprint.Fingerprint{ID: fmt.Sprintf("suspect-%d", i), Suite: c.Suite.Hash, P: follow(rng, c.Teacher.P, p)})
		fps = append(fps, fp)
		audit(fp)
	}
	// A copy that answers with labels: scored on the discriminant of
	// labels, which the script fits from the selection half's controls.
	lab := named(&fingerprint.Fingerprint{ID: "suspect-labels", Suite: c.Suite.Hash, P: oneHot(follow(rng, c.Teacher.P, 0.9))})
	fps = append(fps, lab)
	audit(lab)
	for i, ctl := range c.Enrolment.Controls {
		if ctl.Role == store.RoleNegative && ctl.Half == store.HalfCalibration {
			audit(c.Controls[i])
		}
	}
	path := exportCase(t, c, fps)
	out, ok := recompute(t, results, "--export", path)
	for _, want := range []string{"suspect-0/synth lineage_score p from the null's values", "suspect-0/synth replica_residual p from the null's values",
		"suspect-2/synth soft_agreement p (t-predictive)", "suspect-2/synth outside the null", "suspect-2/synth degenerate outputs",
		"suspect-2/synth reason", "suspect-labels/synth lineage_score value from the fingerprints",
		"suspect-labels/synth lineage_score p from the null's values"} {
		if !strings.Contains(out, "ok   "+want) {
			t.Errorf("recompute.py did not check %q", want)
		}
	}
	if !ok || !strings.Contains(out, "all checks agree") {
		t.Fatalf("recompute.py disagrees with Audit:\n%s", out)
	}
	// Without the null models' audits the script computes their scores
	// from the fingerprints and the enrolment's discriminant.
	out, ok = recompute(t, results[:4], "--export", path)
	if !ok || !strings.Contains(out, "ok   suspect-0/synth lineage_score value from the fingerprints") ||
		!strings.Contains(out, "from 0 models' audits, 24 computed from the fingerprints") {
		t.Fatalf("recompute.py, scoring the null itself, disagrees with Audit:\n%s", out)
	}
	// One null model's score edited: the recomputed p-values must move.
	var edited Result
	b, _ := json.Marshal(results[len(results)-1])
	if err := json.Unmarshal(b, &edited); err != nil {
		t.Fatal(err)
	}
	s := edited.Results[0].Statistics[StatScore]
	s.Value += 3
	edited.Results[0].Statistics[StatScore] = s
	if out, ok := recompute(t, append(results[:len(results)-1:len(results)-1], edited), "--export", path); ok {
		t.Errorf("recompute.py agreed with a null model's score raised by 3:\n%s", out)
	}
}

// exportCase stores the case's suite, enrolment and the fingerprints fps
// (the teacher's, the controls' and the suspects') and returns the path of
// the store's `db export`.
func exportCase(t *testing.T, c *Case, fps []*fingerprint.Fingerprint) string {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "case.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(context.Background(), func(tx *store.Tx) error {
		if err := tx.PutSuite(c.Suite); err != nil {
			return err
		}
		for _, fp := range fps {
			if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
				return err
			}
		}
		return tx.PutEnrolment(c.Enrolment, store.PutOptions{})
	})
	if err != nil {
		t.Fatal(err)
	}
	var exp bytes.Buffer
	if err := db.Export(context.Background(), &exp); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "export.jsonl")
	if err := os.WriteFile(path, exp.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
