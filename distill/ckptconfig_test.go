package distill

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestResumeNamesChanges interrupts a distillation, then resumes it with
// one thing changed: the refusal is a *ConfigChangedError listing exactly
// what changed, with both values, and wrapping ErrCheckpoint. It used to
// say only "written by a different configuration, data or teacher".
func TestResumeNamesChanges(t *testing.T) {
	sp, teacher := digits(t)
	path := filepath.Join(t.TempDir(), "run.ckpt")
	cfg := interruptedAt(t, smallConfig(sp, teacher), path, 40)
	other := teacher.Clone()
	other.Theta[0]++
	otherID := recordConfig(Config{Teacher: other}).Teacher.String()
	tests := []struct {
		name   string
		change func(*Config)
		want   []Change
	}{
		{"temperature", func(c *Config) { c.Temperature = 2 }, []Change{{"temperature", "0", "2"}}},
		{"two flags", func(c *Config) { c.Transfer, c.Hidden = "data", []int{8, 8} },
			[]Change{{"hidden", "16", "8,8"}, {"transfer", "data,jitter", "data"}}},
		{"restore best", func(c *Config) { c.RestoreBest = true }, []Change{{"restore_best", "false", "true"}}},
		{"optimizer", func(c *Config) { c.Optimizer = "sgd" }, []Change{{"optimizer", `""`, "sgd"}}},
		{"teacher", func(c *Config) { c.Teacher = other },
			[]Change{{ChangeTeacher, recordConfig(Config{Teacher: teacher}).Teacher.String(), otherID}}},
		{"no validation", func(c *Config) { c.Val = nil }, []Change{{ChangeVal, short(sp.Val.Hash), `""`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			tt.change(&c)
			_, err := Train(context.Background(), c)
			var ce *ConfigChangedError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCheckpoint) {
				t.Fatalf("resume: error %v, want a *ConfigChangedError wrapping ErrCheckpoint", err)
			}
			if ce.Checkpoint != path || !reflect.DeepEqual(ce.Changes, tt.want) {
				t.Errorf("resume: got %q, changes %q; want %q, %q", ce.Checkpoint, ce.Changes, path, tt.want)
			}
			for _, ch := range tt.want {
				if want := ch.Field + " was " + ch.Was + ", now " + ch.Now; !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}

	// A checkpoint of older lineage records no configuration: the
	// refusal says so much, and lists nothing.
	c, ok, err := loadCheckpoint(path)
	if !ok || err != nil {
		t.Fatalf("loadCheckpoint: %v %v", ok, err)
	}
	c.Config = nil
	if err := saveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	changed := cfg
	changed.Seed++
	_, err = Train(context.Background(), changed)
	var ce *ConfigChangedError
	if !errors.As(err, &ce) || len(ce.Changes) != 0 ||
		!strings.Contains(err.Error(), "was written by a different configuration, data or teacher") {
		t.Errorf("resume from an older checkpoint: error %v, want a *ConfigChangedError without changes", err)
	}
	// And it still resumes a run of the same configuration, whose
	// checkpoints then record it.
	if _, err := Train(context.Background(), cfg); err != nil {
		t.Fatalf("resume from an older checkpoint with the same configuration: %v", err)
	}
	if c, _, err := loadCheckpoint(path); err != nil || c.Config == nil {
		t.Errorf("checkpoint of the resumed run: %v, config %v; want one recording its configuration", err, c.Config)
	}
}

// TestResumeStatedDefaults interrupts a run whose epochs, batch size and
// query batch were left at 0 (their defaults) and resumes it with those
// defaults stated, as `--epochs 40` after a run without --epochs: it is the
// same run, so it resumes and ends with the uninterrupted run's weights
// (it was refused: "--epochs was 0, now 40"). A value other than the
// default is still refused.
func TestResumeStatedDefaults(t *testing.T) {
	sp, teacher := digits(t)
	cfg := smallConfig(sp, teacher)
	cfg.Epochs, cfg.BatchSize, cfg.QueryBatch = 0, 0, 0
	want, err := Train(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = interruptedAt(t, cfg, filepath.Join(t.TempDir(), "run.ckpt"), 40)
	other := cfg
	other.BatchSize = 16
	if _, err := Train(context.Background(), other); !errors.Is(err, ErrCheckpoint) {
		t.Errorf("resume with batch size 16 after the default 32: error %v, want ErrCheckpoint", err)
	}
	stated := cfg
	stated.Epochs, stated.BatchSize, stated.QueryBatch = DefaultEpochs, DefaultBatchSize, DefaultQueryBatch
	stated.Optimizer, stated.LR, stated.WeightDecay = "adam", DefaultLR, DefaultWeightDecay
	for _, wrong := range []Config{
		func() Config { c := stated; c.LR = DefaultSGDLR; return c }(), // SGD's default, not Adam's
		func() Config { c := stated; c.Optimizer = "adamw"; return c }(),
		func() Config { c := stated; c.WeightDecay = -1; return c }(), // none, not the default
	} {
		if _, err := Train(context.Background(), wrong); !errors.Is(err, ErrCheckpoint) {
			t.Errorf("resume with optimizer %q, lr %g, weight decay %g after the defaults: error %v, want ErrCheckpoint", wrong.Optimizer, wrong.LR, wrong.WeightDecay, err)
		}
	}
	got, err := Train(context.Background(), stated)
	if err != nil {
		t.Fatalf("resume with the defaults stated: %v", err)
	}
	if !got.Resumed || !reflect.DeepEqual(got.Student.Theta, want.Student.Theta) {
		t.Errorf("resume with the defaults stated: resumed %v, same weights as the uninterrupted run %v; want true, true",
			got.Resumed, reflect.DeepEqual(got.Student.Theta, want.Student.Theta))
	}
}

// TestSameRun checks which differences between a checkpoint's
// configuration and a resumed run's are a default left out on one side
// and stated on the other.
func TestSameRun(t *testing.T) {
	for _, tt := range []struct {
		name      string
		optimizer string
		chs       []Change
		want      bool
	}{
		{"epochs stated", "", []Change{{"epochs", "0", "40"}}, true},
		{"epochs changed", "", []Change{{"epochs", "0", "41"}}, false},
		{"adam's lr stated", "adam", []Change{{"lr", "0", "0.005"}}, true},
		{"sgd's lr stated", "sgd", []Change{{"lr", "0.05", "0"}}, true},
		{"nesterov's lr stated", "nesterov", []Change{{"lr", "0", "0.05"}}, true},
		{"adam's lr for sgd", "sgd", []Change{{"lr", "0", "0.005"}}, false},
		{"optimizer stated", "adam", []Change{{"optimizer", `""`, "adam"}, {"lr", "0", "0.005"}}, true},
		{"other optimizer", "adamw", []Change{{"optimizer", `""`, "adamw"}}, false},
		{"weight decay stated", "", []Change{{"weight_decay", "0", "0.001"}}, true},
		{"no weight decay", "", []Change{{"weight_decay", "0", "-1"}}, false},
		{"one other change", "", []Change{{"epochs", "0", "40"}, {"seed", "7", "8"}}, false},
		{"no change", "", nil, false},
		// Adam and AdamW ignored a momentum that lineage before 7
		// December 2026 took and recorded; SGD uses it.
		{"momentum adam ignored", "", []Change{{"momentum", "0.5", "0"}}, true},
		{"momentum adamw ignored", "adamw", []Change{{"momentum", "0.9", "0"}}, true},
		{"sgd's momentum", "sgd", []Change{{"momentum", "0.5", "0"}}, false},
		{"nesterov's momentum", "nesterov", []Change{{"momentum", "0.5", "0"}}, false},
	} {
		if got := sameRun(tt.chs, tt.optimizer); got != tt.want {
			t.Errorf("%s: sameRun(%v, %q) = %v, want %v", tt.name, tt.chs, tt.optimizer, got, tt.want)
		}
	}
}

// TestResumeAdamMomentum resumes a checkpoint as lineage wrote it before
// 7 December 2026 for Adam with a momentum, which Adam ignored: the
// momentum is in its configuration and its optimizer state. The run is
// the same without it, and resumes to the uninterrupted run's weights;
// it could not be resumed at all ("--momentum was 0.5, now 0", and
// --momentum 0.5 is now refused with Adam).
func TestResumeAdamMomentum(t *testing.T) {
	sp, teacher := digits(t)
	cfg := smallConfig(sp, teacher)
	want, err := Train(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.ckpt")
	cfg = interruptedAt(t, cfg, path, 40)
	c, ok, err := loadCheckpoint(path)
	if !ok || err != nil {
		t.Fatalf("loadCheckpoint: %v %v", ok, err)
	}
	var fields map[string]any
	if err := json.Unmarshal(c.Config.Fields, &fields); err != nil {
		t.Fatal(err)
	}
	fields["momentum"] = 0.5
	if c.Config.Fields, err = json.Marshal(fields); err != nil {
		t.Fatal(err)
	}
	c.ConfigHash = strings.Repeat("0", len(c.ConfigHash)) // the hash of that configuration
	var o Optimizer
	if err := o.UnmarshalBinary(c.opt); err != nil {
		t.Fatal(err)
	}
	o.cfg.Momentum = 0.5
	if c.opt, err = o.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
	if err := saveCheckpoint(path, c); err != nil {
		t.Fatal(err)
	}
	got, err := Train(context.Background(), cfg)
	if err != nil {
		t.Fatalf("resume without the momentum Adam ignored: %v", err)
	}
	if !got.Resumed || !reflect.DeepEqual(got.Student.Theta, want.Student.Theta) {
		t.Errorf("resumed %v, same weights as the uninterrupted run %v; want true, true",
			got.Resumed, reflect.DeepEqual(got.Student.Theta, want.Student.Theta))
	}
}
