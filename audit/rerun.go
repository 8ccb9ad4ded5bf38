package audit

// This file decides whether a stored enrolment is the one Enroll would
// make again, so that a rerun prints it instead of training anew.

import (
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
	"github.com/lineage-audit/lineage/watermark"
)

// DataRef names the dataset an enrolment was made from: its name as given
// and its content hash (dataset.Dataset.Hash), which decides.
type DataRef struct {
	Name string `json:"name"`
	Hash string `json:"sha256"`
}

// watermarkProbes is the number of watermark probes o asks of a suite of
// n probes: 0 when o asks for none.
func (o EnrollOptions) watermarkProbes(n int) int {
	nw := o.Watermark
	if nw == 0 {
		nw = int(DefaultWatermark * float64(n))
	}
	return max(0, min(nw, n/2))
}

// MadeWith reports whether r is the report of an enrolment made from data
// with o's seed, number of controls, suite size and number of watermark
// probes (their defaults filled in) by this version of lineage's recipes:
// the same teacher enrolled so again makes the same suite and controls.
// An enrolment made before the under-trained controls
// (UnderTrainedControls), or before reports named their data, was not.
// The watermark key is not in the report: Rerun checks it.
func (r *EnrolReport) MadeWith(data *dataset.Dataset, o EnrollOptions) bool {
	return r.differs(data, o) == ""
}

// differs says how r differs from an enrolment made from data with o
// (as "it was made with seed 2"), or returns "".
func (r *EnrolReport) differs(data *dataset.Dataset, o EnrollOptions) string {
	k := cmp.Or(o.Controls, DefaultControls)
	n := cmp.Or(o.SuiteSize, DefaultSuiteSize)
	switch {
	case r.Data == nil:
		return "its report, made by older lineage, does not name its dataset"
	case r.Data.Hash != data.Hash:
		return fmt.Sprintf("it was made from dataset %q (sha256 %s…), not %q (%s…)", r.Data.Name, short(r.Data.Hash), data.Name, short(data.Hash))
	case r.Seed != o.Seed:
		return fmt.Sprintf("it was made with seed %d, not %d", r.Seed, o.Seed)
	case r.Positives != PositiveControls(k) || r.UnderTrained != UnderTrainedControls(k):
		return fmt.Sprintf("it was made with %d positive controls, not %d", r.Positives, PositiveControls(k))
	case r.Probes != n:
		return fmt.Sprintf("its suite has %d probes, not %d", r.Probes, n)
	case r.WatermarkProbes != o.watermarkProbes(n):
		return fmt.Sprintf("it asked for %d watermark probes, not %d", r.WatermarkProbes, o.watermarkProbes(n))
	}
	return ""
}

// short returns the first 12 characters of a hex hash.
func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// Rerun returns the report of e when Enroll(ctx, e.Name, teacher, data,
// o) would make e again: the same teacher (by hash), data (by hash),
// seed, controls, suite size and watermark (the number of probes and the
// key, o.WatermarkKey or the one derived from the teacher's weights).
// Otherwise it returns nil and says how e differs, as "it was made with
// seed 2, not 1".
func Rerun(e *store.Enrolment, teacher *model.MLP, data *dataset.Dataset, o EnrollOptions) (*EnrolReport, string) {
	var rep EnrolReport
	if len(e.Report) == 0 || json.Unmarshal(e.Report, &rep) != nil {
		return nil, "its report does not decode"
	}
	if rep.Teacher.Hash != teacher.Info().Hash {
		return nil, fmt.Sprintf("it was made from another teacher (sha256 %s…)", short(rep.Teacher.Hash))
	}
	if d := rep.differs(data, o); d != "" {
		return nil, d
	}
	if e.Watermark != nil {
		key := o.WatermarkKey
		if key == nil {
			k := watermark.DeriveKey(teacher)
			key = &k
		}
		if text, _ := key.MarshalText(); string(text) != e.Watermark.Key {
			return nil, "it was made with another watermark key"
		}
	}
	return &rep, ""
}
