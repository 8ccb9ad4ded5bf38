package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/distill"
)

// configFlags names, for each distill.Change field, what sets it on the
// command line of train and distill.
var configFlags = map[string]string{
	"name":                "--name (by default the --out file's base name)",
	"hidden":              "--hidden",
	"activation":          "--activation",
	"init":                "--init",
	"loss":                "--loss",
	"temperature":         "--temperature",
	"alpha":               "--alpha",
	"reveal":              "--reveal",
	"transfer":            "--transfer",
	"jitter_scale":        "--jitter",
	"queries":             "--queries",
	"epochs":              "--epochs",
	"batch_size":          "--batch-size",
	"optimizer":           "--optimizer",
	"lr":                  "--lr",
	"momentum":            "--momentum",
	"weight_decay":        "--weight-decay",
	"clip_norm":           "--clip",
	"schedule":            "--schedule",
	"warmup":              "--warmup",
	"patience":            "--patience",
	"restore_best":        "--restore-best",
	"seed":                "--seed",
	"query_batch":         "the teacher's batch (--remote-batch × --concurrency)",
	distill.ChangeTrain:   "the training split of --data (sha256)",
	distill.ChangeVal:     "the validation split of --data (sha256)",
	distill.ChangeTeacher: "--teacher",
	distill.ChangeStudent: "the initial student",
}

// distillOnly are the distill.Change fields that only distill sets.
var distillOnly = map[string]bool{
	"loss": true, "temperature": true, "alpha": true, "reveal": true, "transfer": true,
	"jitter_scale": true, "queries": true, "query_batch": true,
}

// resumeChanged rewrites a refusal to resume from a checkpoint another
// run wrote (distill.ConfigChangedError) as one line naming the flags
// that differ with both their values and what to do; other errors are
// returned as they are.
func resumeChanged(err error) error {
	var ce *distill.ConfigChangedError
	if !errors.As(err, &ce) {
		return err
	}
	what := "it was written with other flags, data or teacher (this checkpoint does not record which)"
	if len(ce.Changes) > 0 {
		// A distillation's checkpoint resumed by train, or the reverse:
		// the flags train does not take are not worth listing.
		kindChanged := slices.ContainsFunc(ce.Changes, func(c distill.Change) bool {
			return c.Field == distill.ChangeTeacher && (c.Was == `""` || c.Now == `""`)
		})
		var parts []string
		for _, c := range ce.Changes {
			switch {
			case kindChanged && c.Field == distill.ChangeTeacher && c.Now == `""`:
				parts = slices.Insert(parts, 0, fmt.Sprintf("it is a distillation's, from --teacher %s, and this is hard-label training", c.Was))
				continue
			case kindChanged && c.Field == distill.ChangeTeacher:
				parts = slices.Insert(parts, 0, fmt.Sprintf("it is hard-label training's, and this is a distillation from --teacher %s", c.Now))
				continue
			case kindChanged && distillOnly[c.Field]:
				continue
			}
			flag := configFlags[c.Field]
			if flag == "" {
				flag = c.Field // a field added to distill.Config without a flag here
			}
			parts = append(parts, fmt.Sprintf("%s was %s, now %s", flag, c.Was, c.Now))
		}
		what = strings.Join(parts, "; ")
	}
	return resumeError{fmt.Sprintf("resume %q: %s; rerun with the same flags to continue it, or remove the checkpoint to start afresh", ce.Checkpoint, what), err}
}

// resumeError is a refused resume: its message says what changed, and it
// wraps the distill error (errors.Is(err, distill.ErrCheckpoint) holds).
type resumeError struct {
	msg string
	err error
}

func (e resumeError) Error() string { return e.msg }
func (e resumeError) Unwrap() error { return e.err }
