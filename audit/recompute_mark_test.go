package audit

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestRecomputePythonWatermark checks the watermark row recompute.py
// rebuilds from a `db export` — the real key's statistic, the 9,999 decoy
// keys' mean and sd, z, and the p-value, the larger of the rank among the
// decoys and the controls' Student-t — for suspects with full outputs and
// with labels, against a synthetic enrolment with a watermark key.
func TestRecomputePythonWatermark(t *testing.T) {
	needNumpy(t)
	rng := rand.New(rand.NewPCG(29, 4))
	c := synthCase(t, rng, 6, 12)
	// Probes 100–119 become watermark probes with inputs of their own.
	s := *c.Suite
	s.Kinds = append([]probe.Kind(nil), s.Kinds...)
	s.X = blas32.General{Rows: nProbes, Cols: 2, Stride: 2, Data: make([]float32, 2*nProbes)}
	for i := range s.X.Data {
		s.X.Data[i] = float32(rng.NormFloat64())
	}
	for i := 100; i < nProbes; i++ {
		s.Kinds[i] = probe.Watermark
	}
	s.Hash = probe.CanonicalHash(s.X, s.Kinds, s.Labels)
	c.Suite = &s
	var key [32]byte
	for i := range key {
		key[i] = byte(rng.IntN(256))
	}
	c.Enrolment.Suite, c.Enrolment.TeacherFP = s.Hash, c.Teacher.ID
	c.Enrolment.Watermark = &store.Watermark{Key: hex.EncodeToString(key[:]), Mean: []float32{0.1, -0.2}, Std: []float32{1.5, 0.5}}
	labels := model.DefaultLabels(nClasses)
	named := func(fp *fingerprint.Fingerprint) *fingerprint.Fingerprint {
		fp.Suite, fp.Queries = s.Hash, nProbes
		fp.Model = model.Info{Name: fp.ID, Kind: model.Classifier, InputSize: 2, Labels: labels, Hash: "h-" + fp.ID}
		fp.Hash = fp.ComputeHash()
		return fp
	}
	fps := []*fingerprint.Fingerprint{named(c.Teacher)}
	for _, fp := range c.Controls {
		fps = append(fps, named(fp))
	}
	withReport(t, c)
	var results []Result
	for i, p := range []float64{0.9, 0.4} {
		for _, hard := range []bool{false, true} {
			P := follow(rng, c.Teacher.P, p)
			name := fmt.Sprintf("suspect-%d", i)
			if hard {
				P, name = oneHot(P), name+"-labels"
			}
			fp := named(&fingerprint.Fingerprint{ID: name, Suite: s.Hash, P: P})
			fps = append(fps, fp)
			res, err := Audit([]*Case{c}, []*fingerprint.Fingerprint{fp}, name, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := res.Results[0].Statistics[StatWatermark]; !ok {
				t.Fatalf("%s: no watermark row in %+v", name, res.Results[0])
			}
			results = append(results, res)
		}
	}
	out, ok := recompute(t, results, "--export", exportCase(t, c, fps))
	for _, r := range results {
		for _, want := range []string{"watermark value", "watermark null_sd", "watermark z", "watermark p"} {
			if !strings.Contains(out, "ok   "+r.Suspect+"/synth "+want) {
				t.Errorf("recompute.py did not check %s's %s", r.Suspect, want)
			}
		}
	}
	for _, kind := range []string{"outputs", "labels"} {
		if !strings.Contains(out, "ok   synth watermark whitens the leans of its "+kind) {
			t.Errorf("recompute.py did not check whether the %s' leans are whitened", kind)
		}
	}
	if !ok || !strings.Contains(out, "all checks agree") {
		t.Fatalf("recompute.py disagrees with Audit:\n%s", out)
	}
}
