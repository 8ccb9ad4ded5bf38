package fingerprint

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/probe"
	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/blas/blas32"
)

// DefaultBatchSize is the number of probes Take sends per Predict call when
// Options.BatchSize is 0.
const DefaultBatchSize = 256

// RowSumTolerance is how far from 1 a returned distribution may sum.
const RowSumTolerance = 1e-3

// Options tunes Take. The zero value means the defaults.
type Options struct {
	// ID is the new fingerprint's ID; empty leaves it for the caller.
	ID string
	// BatchSize is the number of probes per Predict call; 0 means
	// DefaultBatchSize.
	BatchSize int
	// TopK, when > 0, compacts the result to the K largest entries per row
	// (see Compact) before hashing.
	TopK int
	// Meta is copied into the fingerprint's Meta (nil means none), whose
	// MetaHashRule Take sets to HashRuleHeader.
	Meta map[string]string
	// InFlight is the number of Predict calls Take keeps in flight at once;
	// 0 and 1 mean one at a time. More pipelines the batches of a remote
	// model (no idle gap while a batch's last answers arrive); a model
	// whose answers depend on the order of its calls must then implement
	// BatchPredictor.
	InFlight int
	// Progress, when non-nil, is called after every batch with the number
	// of probes done and the total (from one goroutine at a time).
	Progress func(done, total int)
	// Now returns the current time for Elapsed; nil means time.Now.
	Now func() time.Time
	// LabelMap, when not zero, says which of the suite's labels each of
	// the model's labels stands for, as the auditor stated it: the model's
	// labels are read under those names (then aligned by name as any
	// other order), and the map is recorded under MetaLabelMap. A map
	// that does not name each of the model's labels, and them alone, is
	// refused with a *MismatchError.
	LabelMap model.LabelMap
}

// BatchPredictor is a model that answers batch number k of a sequence
// (such as a journal.Model, which replays stored batches by number). Take
// calls PredictBatch with k = the batch's index, so batches may run
// concurrently (Options.InFlight) without changing which answer belongs to
// which batch.
type BatchPredictor interface {
	PredictBatch(ctx context.Context, k int, x blas32.General) (blas32.General, error)
}

// Take queries m on every probe of s and returns its fingerprint. The model
// must take s.Dim() inputs and declare the suite's labels, each once, in
// the suite's order or any other (else a *MismatchError); every answer
// must be a Rows×len(labels) matrix of finite, non-negative rows summing
// to 1 within RowSumTolerance (else an *AnswerError naming the probe).
// Answers of a model that lists the labels in another order are aligned
// to the suite's by label name: the fingerprint's columns always follow
// the suite's labels, and its Model.Labels keeps the model's own order
// (see Reordered). With Options.LabelMap the model's labels are read under
// the names the map gives them, and may then be in any order too.
// The fingerprint's Meta holds MetaHashRule = HashRuleHeader: its hash
// covers its model header. Cancelling ctx stops between batches.
func Take(ctx context.Context, m model.Model, s *probe.Suite, opts Options) (*Fingerprint, error) {
	if m == nil || s == nil {
		panic("fingerprint: Take needs a model and a suite")
	}
	info := m.Info()
	suiteName := s.Name
	hash := s.Hash
	if hash == "" {
		hash = probe.CanonicalHash(s.X, s.Kinds, s.Labels)
	}
	if suiteName == "" {
		suiteName = short(hash)
	}
	if info.InputSize != s.Dim() {
		return nil, &MismatchError{What: "inputs", Model: info.Name, Suite: suiteName,
			Want: strconv.Itoa(s.Dim()), Got: strconv.Itoa(info.InputSize)}
	}
	cols, err := labelColumns(info, s.Labels, suiteName, opts.LabelMap)
	if err != nil {
		return nil, err
	}
	if s.Len() == 0 {
		return nil, fmt.Errorf("fingerprint: suite %q has no probes", suiteName)
	}
	bs := opts.BatchSize
	if bs <= 0 {
		bs = DefaultBatchSize
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	n, d, c := s.Len(), s.Dim(), len(s.Labels)
	p := blas32.General{Rows: n, Cols: c, Stride: c, Data: make([]float32, n*c)}
	start := now()
	bp, numbered := m.(BatchPredictor)
	var mu sync.Mutex // guards done and Progress calls
	done := 0
	batch := func(ctx context.Context, b int) error {
		lo := b * bs
		hi := min(lo+bs, n)
		x := blas32.General{Rows: hi - lo, Cols: d, Stride: s.X.Stride,
			Data: s.X.Data[lo*s.X.Stride : (hi-1)*s.X.Stride+d]}
		var y blas32.General
		var err error
		if numbered {
			y, err = bp.PredictBatch(ctx, b, x)
		} else {
			y, err = m.Predict(ctx, x)
		}
		if err != nil {
			// A model's own NaN output names the model and the row in
			// its batch: said once, with the probe's number.
			var nf *model.NotFiniteError
			if errors.As(err, &nf) && nf.Model == info.Name && nf.Row >= 0 && nf.Row < hi-lo {
				return fmt.Errorf("fingerprint of model %q, probe %d (in probes %d-%d): %w: %s", info.Name, lo+nf.Row, lo, hi-1, model.ErrNotFinite, nf.Cause)
			}
			var row interface{ BatchRow() int }
			if errors.As(err, &row) && row.BatchRow() >= 0 && row.BatchRow() < hi-lo {
				return fmt.Errorf("fingerprint of model %q, probe %d (in probes %d-%d): %w", info.Name, lo+row.BatchRow(), lo, hi-1, err)
			}
			return fmt.Errorf("fingerprint of model %q, probes %d-%d: %w", info.Name, lo, hi-1, err)
		}
		if y.Rows != hi-lo || y.Cols != c || y.Stride < y.Cols || len(y.Data) < (y.Rows-1)*y.Stride+y.Cols {
			return &AnswerError{Model: info.Name, Probe: lo,
				Problem: fmt.Sprintf("answer is %d×%d for a batch of %d probes, want %d×%d", y.Rows, y.Cols, hi-lo, hi-lo, c)}
		}
		for i := 0; i < y.Rows; i++ {
			row := y.Data[i*y.Stride : i*y.Stride+c]
			if err := CheckRow(row); err != "" {
				return &AnswerError{Model: info.Name, Probe: lo + i, Problem: err}
			}
			if dst := p.Data[(lo+i)*c : (lo+i+1)*c]; cols == nil {
				copy(dst, row)
			} else {
				for j, v := range row {
					dst[cols[j]] = v
				}
			}
		}
		mu.Lock()
		defer mu.Unlock()
		done += hi - lo
		if opts.Progress != nil {
			opts.Progress(done, n)
		}
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, opts.InFlight))
	for b := 0; b*bs < n; b++ {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return batch(gctx, b) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("fingerprint of model %q: %w", info.Name, err)
	}
	fp := &Fingerprint{
		ID:      opts.ID,
		Suite:   hash,
		Model:   storedHeader(info),
		P:       p,
		Queries: n,
		Elapsed: now().Sub(start),
	}
	fp.Meta = make(map[string]string, len(opts.Meta)+2)
	for k, v := range opts.Meta {
		fp.Meta[k] = v
	}
	if !opts.LabelMap.IsZero() {
		fp.Meta[MetaLabelMap] = opts.LabelMap.Format(info.Labels)
	}
	// Its hash covers the model header, which audits act on and show.
	fp.Meta[MetaHashRule] = HashRuleHeader
	if opts.TopK > 0 && opts.TopK < c {
		fp = fp.Compact(opts.TopK)
	}
	fp.Hash = fp.ComputeHash()
	return fp, nil
}

// labelColumns returns, for each of the model's labels (read under the
// names lm gives them, when lm is not zero), the column of the suite's
// labels want with that name, nil when they are want in its order; a
// *MismatchError when they are not want's labels, each once.
func labelColumns(info model.Info, want []string, suiteName string, lm model.LabelMap) ([]int, error) {
	labels := info.Labels
	mismatch := &MismatchError{What: "labels", Model: info.Name, Suite: suiteName,
		Want: joinLabels(want), Got: joinLabels(info.Labels), GotN: len(info.Labels), WantN: len(want)}
	if !lm.IsZero() {
		renamed, err := lm.Rename(info.Labels)
		if err != nil {
			mismatch.Diff = err.Error()
			return nil, mismatch
		}
		labels = renamed
		mismatch.Mapped = joinLabels(renamed)
	}
	cols, ok := model.LabelColumns(labels, want)
	if !ok {
		mismatch.Diff = labelsDiff(labels, want)
		return nil, mismatch
	}
	return cols, nil
}

// CheckRow returns "" when row is a probability distribution (finite,
// non-negative, summing to 1 within RowSumTolerance), else the
// problem.
func CheckRow(row []float32) string {
	var sum float64
	for j, v := range row {
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Sprintf("entry %d is %v", j, v)
		}
		if v < 0 {
			return fmt.Sprintf("entry %d is negative (%g)", j, v)
		}
		sum += f
	}
	if math.Abs(sum-1) > RowSumTolerance {
		return fmt.Sprintf("row sums to %.6g, want 1 ± %g", sum, RowSumTolerance)
	}
	return ""
}

// labelsDiff says how a model's labels got differ from a suite's labels
// want, for a *MismatchError: for lists of one length, which Take aligns
// when they hold the same labels, a label got lists twice and the first
// of want's labels it lacks; for others, model.LabelDiff.
func labelsDiff(got, want []string) string {
	if len(got) != len(want) {
		return model.LabelDiff(got, want)
	}
	var parts []string
	seen := make(map[string]bool, len(got))
	for _, l := range got {
		if seen[l] {
			parts = append(parts, fmt.Sprintf("label %q listed twice", l))
			break
		}
		seen[l] = true
	}
	for _, l := range want {
		if !seen[l] {
			parts = append(parts, fmt.Sprintf("no label %q", l))
			break
		}
	}
	if len(parts) == 0 {
		return model.LabelDiff(got, want)
	}
	return strings.Join(parts, ", ")
}

// Reordered reports whether fp's model listed the suite's labels, want,
// in another order, so that Take aligned its answers to want by label
// name.
func (fp *Fingerprint) Reordered(want []string) bool {
	return len(fp.Model.Labels) == len(want) && !slices.Equal(fp.Model.Labels, want)
}

// storedHeader returns info as a fingerprint's encodings keep it, its
// Labels copied: both (Encode's header and the JSON form) are JSON, which
// writes each byte of a string that is not UTF-8 as U+FFFD. Its hash
// covers the header (HashRuleHeader), so a header holding such a byte (a
// model file's path on a file system of another encoding) must be hashed
// as it will be read back, or the stored record fails Verify.
func storedHeader(info model.Info) model.Info {
	m := info
	m.Name, m.Source, m.Hash = jsonString(info.Name), jsonString(info.Source), jsonString(info.Hash)
	m.Kind = model.Kind(jsonString(string(info.Kind)))
	m.Labels = nil
	for _, l := range info.Labels {
		m.Labels = append(m.Labels, jsonString(l))
	}
	return m
}

// jsonString returns s as encoding/json writes it and reads it back: each
// byte that does not begin a valid UTF-8 sequence becomes U+FFFD.
func jsonString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
