package probe

import (
	"context"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/dataset"
	"github.com/lineage-audit/lineage/model"
)

// The default candidate counts of Build.
const (
	DefaultData        = 100
	DefaultNoise       = 50
	DefaultBoundary    = 100
	DefaultAdversarial = 100
	DefaultMistake     = 100
)

// BuildOptions configures Build. The zero value means the defaults: seed 0
// and 100 data, 50 noise, 100 boundary, 100 adversarial (white-box
// teachers only) and up to 100 mistake candidates.
type BuildOptions struct {
	// Name names the suite.
	Name string
	// Seed is the build's seed; each generator records its own seed
	// derived from it, so it can be rerun on its own.
	Seed uint64
	// Data, Noise, Boundary, Adversarial and Mistake are the wanted
	// candidate counts per kind; zero means the Default* constant and a
	// negative count skips the kind.
	Data, Noise, Boundary, Adversarial, Mistake int
	// NoiseOptions, BoundaryOptions and AdversarialOptions configure the
	// generators; their zero values mean their defaults.
	NoiseOptions       NoiseOptions
	BoundaryOptions    BoundaryOptions
	AdversarialOptions AdversarialOptions
}

func count(n, def int) int {
	if n == 0 {
		return def
	}
	return max(0, n)
}

// Build generates a candidate pool of probes for teacher from the
// held-out dataset data: data, noise, boundary, adversarial and mistake
// probes in that order (see the *Probes generators), each generator seeded
// with a seed derived from opts.Seed and recorded in the suite. The
// returned suite's Labels are the teacher's output labels and its Hash is
// CanonicalHash; the same teacher, data and options give the same Hash.
//
// Adversarial probes need input gradients: for a teacher that is not a
// *model.MLP they are skipped and the generator record says so in its
// Note (Count 0), as are mistake probes for unlabelled data. Selection
// against control models is a separate step (Select). Build returns an
// error wrapping ErrShape when the teacher's input size differs from the
// data's, and the first generator or teacher error otherwise.
func Build(ctx context.Context, teacher model.Model, data *dataset.Dataset, opts BuildOptions) (*Suite, error) {
	info := teacher.Info()
	if info.InputSize > 0 && info.InputSize != data.Dim() {
		return nil, fmt.Errorf("probe: teacher takes %d features, data has %d: %w", info.InputSize, data.Dim(), ErrShape)
	}
	if len(info.Labels) == 0 {
		return nil, fmt.Errorf("probe: teacher %q declares no output labels: %w", info.Name, ErrInvalid)
	}
	var batches []Batch
	add := func(b Batch, err error) error {
		if err != nil {
			return err
		}
		batches = append(batches, b)
		return ctx.Err()
	}
	seed := func(stream uint64) uint64 { return splitmix(opts.Seed, stream) }

	if n := count(opts.Data, DefaultData); n > 0 {
		if err := add(DataProbes(data, n, seed(streamData)), nil); err != nil {
			return nil, err
		}
	}
	if n := count(opts.Noise, DefaultNoise); n > 0 {
		if err := add(NoiseProbes(data, n, seed(streamNoise), opts.NoiseOptions), nil); err != nil {
			return nil, err
		}
	}
	if n := count(opts.Boundary, DefaultBoundary); n > 0 {
		if err := add(BoundaryProbes(ctx, teacher, data, n, seed(streamBoundary), opts.BoundaryOptions)); err != nil {
			return nil, err
		}
	}
	if n := count(opts.Adversarial, DefaultAdversarial); n > 0 {
		var b Batch
		var err error
		if mlp, ok := teacher.(*model.MLP); ok {
			b, err = AdversarialProbes(ctx, mlp, data, n, seed(streamAdversarial), opts.AdversarialOptions)
		} else {
			b = skipped(Adversarial, seed(streamAdversarial), data.Dim(),
				fmt.Sprintf("skipped: teacher is a black box (%T), adversarial probes need a *model.MLP", teacher))
		}
		if err := add(b, err); err != nil {
			return nil, err
		}
	}
	if n := count(opts.Mistake, DefaultMistake); n > 0 {
		b, err := MistakeProbes(ctx, teacher, data, n, seed(streamMistake))
		if errors.Is(err, ErrUnlabelled) {
			b, err = skipped(Mistake, seed(streamMistake), data.Dim(), "skipped: held-out data is unlabelled"), nil
		}
		if err := add(b, err); err != nil {
			return nil, err
		}
	}
	s, err := Finalize(opts.Name, info.Labels, batches...)
	if err != nil {
		return nil, fmt.Errorf("probe: build: %w", err)
	}
	return s, nil
}

// skipped returns an empty batch recording why a generator did not run.
func skipped(k Kind, seed uint64, dim int, note string) Batch {
	return Batch{X: newMatrix(0, dim), Gen: Generator{Kind: k, Seed: seed, Note: note}}
}
