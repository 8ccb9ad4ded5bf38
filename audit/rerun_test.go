package audit

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
	"github.com/lineage-audit/lineage/watermark"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestRerun checks which stored enrolments a rerun of enroll takes for its
// own (and prints) and which it refuses, naming the difference: every
// setting that changes the suite or the controls must count.
func TestRerun(t *testing.T) {
	labels := []string{"a", "b"}
	rng := rand.New(rand.NewPCG(1, 2))
	teacher := model.NewMLP([]int{2, 3, 2}, model.ActReLU, labels, rng)
	other := model.NewMLP([]int{2, 3, 2}, model.ActReLU, labels, rng)
	newData := func(name string, v float32) *dataset.Dataset {
		d, err := dataset.New(name, blas32.General{Rows: 2, Cols: 2, Stride: 2, Data: []float32{0, 1, v, 0}}, []int{0, 1}, labels)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	data, otherData := newData("digits", 1), newData("digits", 2)
	key := watermark.DeriveKey(teacher)
	keyText, _ := key.MarshalText()
	var otherKey watermark.Key
	otherKey[0] = 1

	// The enrolment of teacher from data with 4 controls, 60 probes (18
	// watermark probes asked), seed 7.
	stored := func(edit func(r *EnrolReport, e *store.Enrolment)) *store.Enrolment {
		r := EnrolReport{Name: "acme", Teacher: teacher.Info(), Data: &DataRef{Name: "digits", Hash: data.Hash},
			Seed: 7, Positives: 4, UnderTrained: UnderTrainedControls(4), Probes: 60, WatermarkProbes: 18}
		e := &store.Enrolment{Name: "acme", Watermark: &store.Watermark{Key: string(keyText)}}
		if edit != nil {
			edit(&r, e)
		}
		var err error
		if e.Report, err = json.Marshal(r); err != nil {
			t.Fatal(err)
		}
		return e
	}
	opts := EnrollOptions{Controls: 4, SuiteSize: 60, Seed: 7}
	for _, tt := range []struct {
		name    string
		e       *store.Enrolment
		teacher *model.MLP
		data    *dataset.Dataset
		edit    func(o *EnrollOptions)
		want    string // "" for the same enrolment, else a part of the difference
	}{
		{name: "same", e: stored(nil)},
		{name: "odd --controls rounded up", e: stored(nil), edit: func(o *EnrollOptions) { o.Controls = 3 }},
		{name: "explicit watermark count", e: stored(nil), edit: func(o *EnrollOptions) { o.Watermark = 18 }},
		{name: "explicit key, the derived one", e: stored(nil), edit: func(o *EnrollOptions) { o.WatermarkKey = &key }},
		{name: "more controls", e: stored(nil), edit: func(o *EnrollOptions) { o.Controls = 5 }, want: "4 positive controls, not 6"},
		{name: "fewer controls", e: stored(nil), edit: func(o *EnrollOptions) { o.Controls = 2 }, want: "positive controls"},
		{name: "seed", e: stored(nil), edit: func(o *EnrollOptions) { o.Seed = 8 }, want: "seed 7, not 8"},
		{name: "suite size", e: stored(nil), edit: func(o *EnrollOptions) { o.SuiteSize = 80 }, want: "60 probes, not 80"},
		{name: "teacher", e: stored(nil), teacher: other, want: "another teacher"},
		{name: "data of the same name", e: stored(nil), data: otherData, want: `made from dataset "digits"`},
		{name: "no watermark", e: stored(nil), edit: func(o *EnrollOptions) { o.Watermark = -1 }, want: "18 watermark probes, not 0"},
		{name: "other watermark count", e: stored(nil), edit: func(o *EnrollOptions) { o.Watermark = 10 }, want: "not 10"},
		{name: "other watermark key", e: stored(nil), edit: func(o *EnrollOptions) { o.WatermarkKey = &otherKey }, want: "another watermark key"},
		{name: "stored without watermark", e: stored(func(r *EnrolReport, e *store.Enrolment) { r.WatermarkProbes, e.Watermark = 0, nil }),
			edit: func(o *EnrollOptions) { o.Watermark = -1 }},
		{name: "before under-trained controls", e: stored(func(r *EnrolReport, _ *store.Enrolment) { r.UnderTrained = 0 }), want: "positive controls"},
		{name: "report naming no data", e: stored(func(r *EnrolReport, _ *store.Enrolment) { r.Data = nil }), want: "does not name its dataset"},
		{name: "report missing", e: &store.Enrolment{Name: "acme"}, want: "does not decode"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			o := opts
			if tt.edit != nil {
				tt.edit(&o)
			}
			te, d := teacher, data
			if tt.teacher != nil {
				te = tt.teacher
			}
			if tt.data != nil {
				d = tt.data
			}
			rep, diff := Rerun(tt.e, te, d, o)
			switch {
			case tt.want == "" && (rep == nil || diff != ""):
				t.Errorf("Rerun = %v, %q; want the report, \"\"", rep, diff)
			case tt.want != "" && (rep != nil || !strings.Contains(diff, tt.want)):
				t.Errorf("Rerun = %v, %q; want nil and a difference containing %q", rep, diff, tt.want)
			}
		})
	}
}
