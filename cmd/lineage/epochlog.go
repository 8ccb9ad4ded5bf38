package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/lineage-audit/lineage/distill"
)

// epochLog is the --log file: one JSON line per completed epoch, every
// epoch once and in order. distill.Train checkpoints an epoch before it
// reports it, so a process killed in between leaves the log an epoch
// behind its checkpoint; a resumed run therefore rewrites the log from the
// checkpoint's history instead of appending to what is there.
type epochLog struct {
	path  string
	noVal bool // no validation split: val_accuracy and val_loss are null
	f     *os.File
	err   error // the first write error; later lines are dropped
	// failedAt is the epoch whose line could not be written (0 for none,
	// or a failure before any line).
	failedAt int
}

// start (re)writes the log: the file is truncated and holds the lines of
// history, the epochs a resumed checkpoint completed (none for a fresh run).
func (l *epochLog) start(history []distill.EpochStats) error {
	if l.f != nil {
		l.f.Close()
	}
	l.f, l.err = os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o666)
	if l.err != nil {
		l.f = nil
		return fmt.Errorf("open log: %w", l.err)
	}
	for _, s := range history {
		l.add(s)
	}
	if l.err != nil {
		l.failedAt = 0 // no epoch of this run: the resumed run's lines
		return fmt.Errorf("write log %q: %w", l.path, l.err)
	}
	return nil
}

// add appends the line of epoch s and returns the log's first error
// (nil for none); a nil l does nothing. The log is started afresh if a
// resume that was expected did not happen (the checkpoint disappeared
// before Train read it).
func (l *epochLog) add(s distill.EpochStats) error {
	if l == nil {
		return nil
	}
	if l.err != nil {
		return l.err
	}
	defer func() {
		if l.err != nil {
			l.failedAt = s.Epoch
		}
	}()
	if l.f == nil {
		if l.start(nil) != nil {
			return l.err
		}
	}
	var line any = s
	if l.noVal {
		line = noValEpoch{EpochStats: s}
	}
	b, err := json.Marshal(line)
	if err == nil {
		_, err = l.f.Write(append(b, '\n'))
	}
	l.err = err
	return err
}

// noValEpoch is the log line of an epoch no validation split measured:
// its nil fields hide EpochStats' zeros under the same names.
type noValEpoch struct {
	distill.EpochStats
	ValAccuracy *float64 `json:"val_accuracy"`
	ValLoss     *float64 `json:"val_loss"`
}

// close closes the file and returns the first error opening or writing
// it; a nil l does nothing. It may be called again.
func (l *epochLog) close() error {
	if l == nil {
		return nil
	}
	if l.f != nil {
		if err := l.f.Close(); err != nil && l.err == nil {
			l.err = err
		}
		l.f = nil
	}
	if l.err != nil {
		return fmt.Errorf("write log %q: %w", l.path, l.err)
	}
	return nil
}

// failure closes the log and returns the error of one that could not be
// written, saying what the run kept: training stops at the end of the
// epoch whose line failed (a full disk), and the checkpoint, when there is
// one (ckpt), lets --resume continue and rewrite the log from its epochs.
// It returns nil when the log was written whole; a nil l has no failure.
func (l *epochLog) failure(ckpt string) error {
	err := l.close()
	if err == nil {
		return nil
	}
	if ckpt == "" || !fileExists(ckpt) {
		return err
	}
	if l.failedAt == 0 {
		return fmt.Errorf("%w; checkpoint %q kept: rerun with --resume once the log can be written", err, ckpt)
	}
	return fmt.Errorf("%w; training stopped after epoch %d, checkpoint %q kept: rerun with --resume once the log can be written", err, l.failedAt, ckpt)
}

// finished is failure for a run that trained every epoch and saved its
// model to out, a line of its log failing (the last epoch's, say): only
// the log is incomplete, and --resume from the checkpoint kept (ckpt)
// writes it whole, saving the same model again. It returns nil when the
// log was written whole.
func (l *epochLog) finished(out, ckpt string) error {
	err := l.close()
	if err == nil {
		return nil
	}
	if ckpt == "" || !fileExists(ckpt) {
		return fmt.Errorf("%w; training finished and the model is saved to %q, but its log is incomplete", err, out)
	}
	return fmt.Errorf("%w; training finished and the model is saved to %q, but its log is incomplete: checkpoint %q kept, rerun with --resume once the log can be written to write it whole", err, out, ckpt)
}
