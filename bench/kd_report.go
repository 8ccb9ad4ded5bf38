package bench

// This file holds the KD experiment's tables (kd.go).

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/distill"
	"github.com/lineage-audit/lineage/report"
)

// Tables returns one report table per dataset. With split false the mean
// and standard deviation share a text cell ("0.9712 ± 0.0031", for the
// table and markdown formats); with split true they are separate numeric
// columns (for CSV and JSON).
func (r *KDResult) Tables(split bool) []report.Table {
	ts := make([]report.Table, 0, len(r.Datasets))
	for _, d := range r.Datasets {
		sp := d.Spec
		arch := func(h []int) string {
			return fmt.Sprintf("%d-%s-%d", d.InputDim, hiddenString(h), d.Classes)
		}
		t := report.Table{
			Title: fmt.Sprintf("%s: teacher %s, student %s, %d epochs, seeds %s",
				sp.Dataset, arch(sp.TeacherHidden), arch(sp.StudentHidden), epochsOf(d), seedList(r.Seeds)),
			Notes: []string{
				fmt.Sprintf("Mean ± sample sd over %d seed(s); last-epoch weights, no early stopping or best-epoch selection.", len(r.Seeds)),
				fmt.Sprintf("Train %d rows, test %d rows; test errors are counts on the test split; agreement is top-1 agreement with the same seed's teacher on the test split.", d.TrainRows, d.TestRows),
				fmt.Sprintf("Teacher on the training split (= transfer set): accuracy %.4f, mean top-1 probability %.4f.", d.TeacherTrainAccuracy, d.TeacherTrainConfidence),
				fmt.Sprintf("Machine: %d CPUs, BLAS %s; whole bench wall time %.0f s.", r.CPUs, r.BLAS, r.Elapsed),
				fmt.Sprintf("KD: Hinton KL at temperature T with the T² factor, α = %g soft + %.3g hard-label cross-entropy, transfer set = training inputs, full teacher distribution; hard-label and KD students share their initial weights per seed.", r.Alpha, 1-r.Alpha),
			},
		}
		if split {
			t.Columns = []report.Column{{Name: "model"}, {Name: "params"},
				{Name: "test accuracy mean"}, {Name: "test accuracy sd"}, {Name: "test errors mean"},
				{Name: "agreement mean"}, {Name: "agreement sd"}, {Name: "train time mean", Unit: "s"}}
		} else {
			t.Columns = []report.Column{{Name: "model"}, {Name: "params"},
				{Name: "test accuracy", Align: report.AlignRight}, {Name: "test errors"},
				{Name: "agreement with teacher", Align: report.AlignRight}, {Name: "train time", Unit: "s"}}
		}
		for _, row := range d.Rows {
			if split {
				t.AddRow(report.Text(row.Label), report.Int(int64(row.Params)),
					report.Float(row.AccMean, 4), report.Float(row.AccSD, 4), report.Float(row.ErrorsMean, 1),
					report.Float(row.AgreeMean, 4), report.Float(row.AgreeSD, 4), report.Float(row.TrainSeconds, 1))
				continue
			}
			agree := report.Text(pm(row.AgreeMean, row.AgreeSD))
			if strings.HasPrefix(row.Label, "teacher") {
				agree = report.Text("—")
			}
			t.AddRow(report.Text(row.Label), report.Int(int64(row.Params)),
				report.Text(pm(row.AccMean, row.AccSD)), report.Float(row.ErrorsMean, 1),
				agree, report.Float(row.TrainSeconds, 1))
		}
		ts = append(ts, t)
	}
	return ts
}

func epochsOf(d KDDatasetResult) int {
	if len(d.Runs) > 0 {
		return d.Runs[0].Epochs
	}
	if d.Spec.Epochs > 0 {
		return d.Spec.Epochs
	}
	return distill.DefaultEpochs
}

// pm formats mean ± sd, or the mean alone when sd is NaN (one seed).
func pm(mean, sd float64) string {
	if math.IsNaN(sd) {
		return strconv.FormatFloat(mean, 'f', 4, 64)
	}
	return strconv.FormatFloat(mean, 'f', 4, 64) + " ± " + strconv.FormatFloat(sd, 'f', 4, 64)
}
