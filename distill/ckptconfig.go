package distill

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// The fields of a Change that are not Config's JSON fields: the identities
// of the data, the teacher and the initial student, which the
// configuration hash covers too.
const (
	ChangeTrain   = "train"   // the training split's content hash
	ChangeVal     = "val"     // the validation split's content hash ("" for none)
	ChangeTeacher = "teacher" // the teacher's name, source and content hash
	ChangeStudent = "student" // the initial student's weights and shape ("" for a new one)
)

// Change is one difference between the run a checkpoint was written by
// and the run that resumes from it.
type Change struct {
	// Field is the name of Config's field as JSON ("temperature",
	// "jitter_scale"), or one of ChangeTrain, ChangeVal, ChangeTeacher
	// and ChangeStudent.
	Field string
	// Was and Now are the field's values in the checkpoint's run and in
	// this one, as text: numbers and booleans as Go prints them, strings
	// as they are ("" quoted), layer sizes comma-separated, identities as
	// the first 16 hex digits of hashes (a teacher's as "source (sha256
	// HASH)").
	Was, Now string
}

// ConfigChangedError is the error of a Resume from a checkpoint written by
// a run with another Config, data or teacher. It wraps ErrCheckpoint.
type ConfigChangedError struct {
	// Checkpoint is the checkpoint file.
	Checkpoint string
	// Changes lists what differs, in Config's field order then the data,
	// teacher and student; it is empty for a checkpoint that does not
	// record its run's configuration (written by lineage before
	// 7 December 2026), of which only the hash is known to differ.
	Changes []Change
}

// Error names the checkpoint and each change with both its values.
func (e *ConfigChangedError) Error() string {
	if len(e.Changes) == 0 {
		return fmt.Sprintf("checkpoint %s was written by a different configuration, data or teacher: %v", e.Checkpoint, ErrCheckpoint)
	}
	parts := make([]string, len(e.Changes))
	for i, c := range e.Changes {
		parts[i] = fmt.Sprintf("%s was %s, now %s", c.Field, c.Was, c.Now)
	}
	return fmt.Sprintf("checkpoint %s was written by a different run (%s): %v", e.Checkpoint, strings.Join(parts, "; "), ErrCheckpoint)
}

// Unwrap returns ErrCheckpoint.
func (e *ConfigChangedError) Unwrap() error { return ErrCheckpoint }

// ckptConfig is a checkpoint's record of the run that wrote it: what
// configHash hashes, kept so that a refused resume can say what changed.
type ckptConfig struct {
	Fields  json.RawMessage `json:"fields"` // Config as JSON
	Train   string          `json:"train"`
	Val     string          `json:"val,omitempty"`
	Teacher *teacherID      `json:"teacher,omitempty"`
	Student string          `json:"student,omitempty"` // SHA-256 of the initial weights, sizes and activation
}

// teacherID is what configHash hashes of a teacher.
type teacherID struct {
	Name   string `json:"name"`
	Source string `json:"source"`
	Hash   string `json:"hash"`
}

// String is "source (sha256 HASH)", or the name when the source is empty.
func (t *teacherID) String() string {
	if t == nil {
		return `""`
	}
	s := t.Source
	if s == "" {
		s = t.Name
	}
	if t.Hash == "" {
		return s
	}
	return fmt.Sprintf("%s (sha256 %s)", s, short(t.Hash))
}

// recordConfig returns cfg's record for a checkpoint.
func recordConfig(cfg Config) *ckptConfig {
	j, _ := json.Marshal(cfg) // only plain fields are tagged for JSON
	rec := &ckptConfig{Fields: j}
	if cfg.Train != nil {
		rec.Train = cfg.Train.Hash
	}
	if cfg.Val != nil {
		rec.Val = cfg.Val.Hash
	}
	if cfg.Teacher != nil {
		info := cfg.Teacher.Info()
		rec.Teacher = &teacherID{info.Name, info.Source, info.Hash}
	}
	if cfg.Student != nil {
		h := sha256.New()
		writeStudent(h, cfg.Student)
		rec.Student = hex.EncodeToString(h.Sum(nil))
	}
	return rec
}

// changes lists how now differs from was, the record of the checkpoint's
// run (nil for a checkpoint without one: nothing is known).
func changes(was, now *ckptConfig) []Change {
	if was == nil {
		return nil
	}
	var out []Change
	var wc, nc Config
	// A field the checkpoint's lineage did not know keeps its zero value:
	// the default, which is what that lineage ran with.
	if json.Unmarshal(was.Fields, &wc) == nil && json.Unmarshal(now.Fields, &nc) == nil {
		wv, nv := reflect.ValueOf(wc), reflect.ValueOf(nc)
		for i := range wv.NumField() {
			f := wv.Type().Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			a, b := wv.Field(i), nv.Field(i)
			if !reflect.DeepEqual(a.Interface(), b.Interface()) {
				out = append(out, Change{name, showValue(a), showValue(b)})
			}
		}
	}
	text := func(s string) string {
		if s == "" {
			return `""`
		}
		return short(s)
	}
	if was.Train != now.Train {
		out = append(out, Change{ChangeTrain, text(was.Train), text(now.Train)})
	}
	if was.Val != now.Val {
		out = append(out, Change{ChangeVal, text(was.Val), text(now.Val)})
	}
	if !reflect.DeepEqual(was.Teacher, now.Teacher) {
		a, b := was.Teacher.String(), now.Teacher.String()
		if a == b { // the same source and content under another name
			a, b = fmt.Sprintf("%s named %q", a, was.Teacher.Name), fmt.Sprintf("%s named %q", b, now.Teacher.Name)
		}
		out = append(out, Change{ChangeTeacher, a, b})
	}
	if was.Student != now.Student {
		out = append(out, Change{ChangeStudent, text(was.Student), text(now.Student)})
	}
	return out
}

// zeroMeans returns, for a Config field (by its JSON name) whose zero
// value stands for a default, that default as a Change shows it, given
// the run's optimizer (the learning rate's default is the optimizer's):
// a run that states the default and a checkpoint written with the zero
// value (the flag left out), or the reverse, are the same run. ok is
// false for the other fields.
func zeroMeans(field, optimizer string) (d string, ok bool) {
	num := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch field {
	case "epochs":
		return strconv.Itoa(DefaultEpochs), true
	case "batch_size":
		return strconv.Itoa(DefaultBatchSize), true
	case "query_batch":
		return strconv.Itoa(DefaultQueryBatch), true
	case "weight_decay":
		return num(DefaultWeightDecay), true
	case "optimizer":
		return string(Adam), true
	case "lr":
		if o, err := ParseOptimizer(optimizer); err == nil && o.Kind == SGD {
			return num(DefaultSGDLR), true
		}
		return num(DefaultLR), true
	}
	return "", false
}

// sameRun reports whether chs, which must not be empty, are all a field's
// zero value against the default it stands for (see zeroMeans) in a run
// with the given optimizer, or a momentum that optimizer ignores: before
// 7 December 2026 Adam and AdamW took a momentum and trained without it,
// and their checkpoints record it, which the run resuming them can no
// longer pass.
func sameRun(chs []Change, optimizer string) bool {
	for _, c := range chs {
		if c.Field == "momentum" && !takesMomentum(optimizer) {
			continue
		}
		d, ok := zeroMeans(c.Field, optimizer)
		resolve := func(v string) string {
			if v == "0" || v == `""` {
				return d
			}
			return v
		}
		if !ok || resolve(c.Was) != resolve(c.Now) {
			return false
		}
	}
	return len(chs) > 0
}

// takesMomentum reports whether the optimizer named optimizer ("" for
// the default) uses Config.Momentum: SGD and Nesterov do, Adam and AdamW
// do not. An unknown name counts as one that does, so that nothing is
// set aside for it.
func takesMomentum(optimizer string) bool {
	o, err := ParseOptimizer(optimizer)
	return err != nil || o.Kind == SGD
}

// short is a hash's first 16 hex digits, enough to tell two apart.
func short(hash string) string { return hash[:min(16, len(hash))] }

// showValue formats a Config field's value for a Change.
func showValue(v reflect.Value) string {
	switch v.Kind() {
	case reflect.String:
		if v.String() == "" {
			return `""`
		}
		return v.String()
	case reflect.Slice:
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = showValue(v.Index(i))
		}
		if len(parts) == 0 {
			return `""`
		}
		return strings.Join(parts, ",")
	case reflect.Float32, reflect.Float64:
		return strconv.FormatFloat(v.Float(), 'g', -1, 64)
	}
	return fmt.Sprint(v.Interface())
}
