package fingerprint

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/model"
	"gonum.org/v1/gonum/blas/blas32"
)

// Fingerprint is one model's recorded output distributions on a probe suite.
// P has one row per probe (in suite order) and one column per label. When
// TopK is 0 the rows are the full distributions the model revealed; when
// TopK > 0 only the K largest entries of each row were kept and the rest of
// the row's mass is spread evenly over the other entries (the same convention
// as model.Reveal), which is how it is stored compactly.
type Fingerprint struct {
	ID      string         `json:"id"`    // user-chosen name, unique in a store
	Suite   string         `json:"suite"` // suite hash
	Model   model.Info     `json:"model"`
	P       blas32.General `json:"-"`
	TopK    int            `json:"top_k,omitempty"`
	Queries int            `json:"queries"` // inputs sent to the model
	// Elapsed is how long Take took. JSON writes it as "elapsed_s", in
	// seconds (see [Fingerprint.MarshalJSON]).
	Elapsed time.Duration `json:"-"`
	// Meta carries free-form provenance such as the endpoint metadata a
	// remote server reported; nil means none.
	Meta map[string]string `json:"meta,omitempty"`
	Hash string            `json:"hash"` // hex SHA-256 of the canonical content
}

// MetaRemote is the Meta key under which a command records that a
// fingerprint was taken from a remote model (an endpoint URL or an exec:
// program), as the kind of reference it was; absent for a model file.
const MetaRemote = "remote"

// Remote reports whether fp was taken from a remote model (MetaRemote).
func (fp *Fingerprint) Remote() bool { return fp.Meta[MetaRemote] != "" }

// MetaVariation is the Meta key under which a command records how a remote
// model answered when asked again for some of the suite's probes: the
// largest total-variation distance between its two answers to one probe
// (0 for a model that answers an input the same way every time), as a
// decimal, or VariationUnmeasured when asking again failed. It is absent
// when nothing was asked again (a model file, a fingerprint of older
// lineage, or one taken with asking again turned off).
const MetaVariation = "answer_variation"

// VariationUnmeasured is MetaVariation's value when the model could not be
// asked again.
const VariationUnmeasured = "unmeasured"

// MetaNearby is the Meta key under which a command records how a remote
// model answered points next to some of the suite's probes (each feature
// moved by probe.NudgeFraction of its range): the largest total-variation
// distance between its answer to a probe and to the point next to it, as a
// decimal, or VariationUnmeasured when asking failed. A trained network
// answers such a point almost as it answered the probe; noise keyed on the
// exact input (seeded by a hash of its bytes, so that asking again returns
// the same answer) does not. It is absent whenever MetaVariation is.
const MetaNearby = "nearby_variation"

// Variation returns the largest total-variation distance recorded under
// MetaVariation, and whether anything is recorded there. A value that is
// not a number in [0, 1] (VariationUnmeasured, or a damaged record) reads
// as 1, the most two answers can differ: whoever acts on it must not take
// the model for one that answers the same way twice.
func (fp *Fingerprint) Variation() (float64, bool) { return fp.metaDistance(MetaVariation) }

// Nearby returns the largest total-variation distance recorded under
// MetaNearby, and whether anything is recorded there, read as Variation
// reads its key.
func (fp *Fingerprint) Nearby() (float64, bool) { return fp.metaDistance(MetaNearby) }

// metaDistance reads a total-variation distance recorded under the Meta
// key k: 1 for anything but a number in [0, 1].
func (fp *Fingerprint) metaDistance(k string) (float64, bool) {
	s, ok := fp.Meta[k]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return 1, true
	}
	return v, true
}

// MetaDefaulted is the Meta key under which a command records the
// metadata keys ("activation", "labels", "normalization") that the model
// file lacked, comma-separated, whose defaults lineage read it with
// (model.MLP.DefaultedMetadata); absent when it lacked none, or was not a
// file with such metadata. A model trained on scaled inputs and read
// without its "normalization" answers wrongly without any other sign, so
// what it says about the model rests on a guess.
const MetaDefaulted = "defaulted_metadata"

// DefaultedMetadata returns the keys recorded under MetaDefaulted, nil
// for none.
func (fp *Fingerprint) DefaultedMetadata() []string {
	s := fp.Meta[MetaDefaulted]
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// MetaLabelMap is the Meta key under which Take records the label map
// its model's answers were read with (Options.LabelMap), as
// model.LabelMap.Format writes it with the model's labels in its own
// order ("zero=0,one=1,..."); absent when the labels were read as the
// model named them. The map is the auditor's statement, not fitted to
// the answers.
const MetaLabelMap = "label_map"

// LabelMap returns the label map recorded under MetaLabelMap, "" for
// none.
func (fp *Fingerprint) LabelMap() string { return fp.Meta[MetaLabelMap] }

// Len returns the number of probes (rows of P).
func (fp *Fingerprint) Len() int { return fp.P.Rows }

// Classes returns the number of labels (columns of P).
func (fp *Fingerprint) Classes() int { return fp.P.Cols }

// Row returns probe i's distribution as a view into P (not a copy).
// It panics if i is out of range.
func (fp *Fingerprint) Row(i int) []float32 {
	if i < 0 || i >= fp.P.Rows {
		panic(fmt.Sprintf("fingerprint: row %d out of range [0,%d)", i, fp.P.Rows))
	}
	return fp.P.Data[i*fp.P.Stride : i*fp.P.Stride+fp.P.Cols]
}

// CheckRows reports whether every row of fp.P is a probability
// distribution (see CheckRow); the error is a *RecordError wrapping
// ErrRows and naming the first row that is not. Take makes no other fingerprint, but a hash is
// easy to recompute: a record written outside lineage with rows raised to
// a power, say, moved an audit from DERIVED (p = 2.3e-05) to INCONCLUSIVE
// (p = 0.075) without a word.
func (fp *Fingerprint) CheckRows() error {
	for i := range fp.P.Rows {
		if err := fp.rowError(i, fp.Row(i)); err != nil {
			return err
		}
	}
	return nil
}

// rowError is CheckRows' error for row i, nil when it is a distribution.
func (fp *Fingerprint) rowError(i int, row []float32) error {
	if problem := CheckRow(row); problem != "" {
		return &RecordError{ID: fp.ID, Err: fmt.Errorf("%w: row %d: %s", ErrRows, i, problem)}
	}
	return nil
}

// Top1 returns the argmax of every row of fp.P (ties go to the lowest
// index); a nil fp or an empty P gives an empty slice.
func Top1(fp *Fingerprint) []int {
	if fp == nil {
		return []int{}
	}
	out := make([]int, fp.P.Rows)
	for i := range out {
		row := fp.P.Data[i*fp.P.Stride : i*fp.P.Stride+fp.P.Cols]
		best := 0
		for j, v := range row {
			if v > row[best] {
				best = j
			}
		}
		out[i] = best
	}
	return out
}

// Clone returns a deep copy of fp (P and Meta are copied).
func (fp *Fingerprint) Clone() *Fingerprint {
	c := *fp
	c.P = blas32.General{Rows: fp.P.Rows, Cols: fp.P.Cols, Stride: fp.P.Cols, Data: make([]float32, fp.P.Rows*fp.P.Cols)}
	for i := 0; i < fp.P.Rows; i++ {
		copy(c.P.Data[i*fp.P.Cols:(i+1)*fp.P.Cols], fp.P.Data[i*fp.P.Stride:i*fp.P.Stride+fp.P.Cols])
	}
	c.Model.Labels = append([]string(nil), fp.Model.Labels...)
	if fp.Meta != nil {
		c.Meta = make(map[string]string, len(fp.Meta))
		for k, v := range fp.Meta {
			c.Meta[k] = v
		}
	}
	return &c
}

func short(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
