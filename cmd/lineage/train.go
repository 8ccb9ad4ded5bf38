package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/lineage-audit/lineage/eval"
	"github.com/lineage-audit/lineage/internal/tmpfile"
	"github.com/spf13/cobra"
)

// newTrainCommand builds `lineage train`: a model from hard labels.
func newTrainCommand() *cobra.Command {
	o := &trainOptions{}
	c := &cobra.Command{
		Use:   "train --out MODEL.lnm [--data D] [--hidden H]",
		Short: "Train a model on hard labels (a teacher or an independent model)",
		Example: `  lineage train --data digits --hidden 256,256 --seed 1 --out teacher.lnm
  lineage train --data fashion-mnist --hidden 512,512 --epochs 20 --out fm.lnm --format json`,
		Args: noArgs,
		RunE: func(c *cobra.Command, _ []string) error { return runTrain(c.Context(), c, o) },
	}
	o.bind(c, "256,256")
	return c
}

func runTrain(ctx context.Context, c *cobra.Command, o *trainOptions) error {
	if o.out == "" {
		return usageError{errors.New("--out is required (the model file to write)")}
	}
	if err := o.checkApart(dataFiles(o.data)...); err != nil {
		return err
	}
	sp, err := loadSplit(ctx, c.ErrOrStderr(), o.data)
	if err != nil {
		return err
	}
	cfg, err := o.config(sp.Train, sp.Val)
	if err != nil {
		return err
	}
	if err := validateConfig(c.Flags(), cfg); err != nil {
		return err
	}
	if err := checkTestSplit(sp, o.data); err != nil {
		return err
	}
	res, err := o.runTraining(ctx, c, cfg, "train")
	if err != nil {
		return err
	}
	m, err := eval.Evaluate(ctx, res.Student, sp.Test, nil)
	if err != nil {
		return err
	}
	r := newTrainingReport(o.out, res, m)
	return printResult(c.OutOrStdout(), o.format, r, r.kv())
}

// claimOut claims out, the model file of a training run, for the run
// (tmpfile.Claim): a second run writing the same file at the same time
// is refused, where it overwrote the first's checkpoint and model (the
// first then printed the hash of a model no longer there) and both wrote
// their epochs into one --log.
func claimOut(out string) (release func(), err error) {
	release, err = tmpfile.Claim(out)
	if errors.Is(err, tmpfile.ErrClaimed) {
		return nil, fmt.Errorf("--out %q: %w: let that run (another lineage train or distill) end, or choose another --out", out, err)
	}
	return release, err
}
