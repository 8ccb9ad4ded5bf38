package main

import (
	"context"
	"errors"

	"github.com/lineage-audit/lineage/eval"
	"github.com/spf13/cobra"
)

// newTrainCommand builds `lineage train`: a model from hard labels.
func newTrainCommand() *cobra.Command {
	o := &trainOptions{}
	c := &cobra.Command{
		Use:   "train --data D --hidden H --out MODEL.lnm",
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
	sp, err := loadSplit(ctx, o.data)
	if err != nil {
		return err
	}
	cfg, err := o.config(sp.Train, sp.Val)
	if err != nil {
		return err
	}
	if err := validateConfig(cfg); err != nil {
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
