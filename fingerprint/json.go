package fingerprint

// This file holds Fingerprint's JSON form, which `lineage db show` prints:
// Elapsed in seconds under "elapsed_s", like every other duration lineage
// writes. The binary encoding (encode.go) keeps the integer nanoseconds
// under "elapsed" that format version 1 has always stored.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/model"
)

// fingerprintJSON is Fingerprint's JSON form: its fields in the same order,
// but P, with Elapsed as seconds. OldElapsed is only read: JSON written
// before "elapsed_s" held Elapsed in nanoseconds under "elapsed".
type fingerprintJSON struct {
	ID         string            `json:"id"`
	Suite      string            `json:"suite"`
	Model      model.Info        `json:"model"`
	TopK       int               `json:"top_k,omitempty"`
	Queries    int               `json:"queries"`
	ElapsedS   json.Number       `json:"elapsed_s"`
	OldElapsed *time.Duration    `json:"elapsed,omitempty"`
	Meta       map[string]string `json:"meta,omitempty"`
	Hash       string            `json:"hash"`
}

// MarshalJSON writes fp as a JSON object with the fields' tags, but P,
// which is not written, and Elapsed, written as "elapsed_s": seconds with
// up to nine decimals, exact to the nanosecond.
func (fp Fingerprint) MarshalJSON() ([]byte, error) {
	return json.Marshal(fingerprintJSON{ID: fp.ID, Suite: fp.Suite, Model: fp.Model, TopK: fp.TopK, Queries: fp.Queries,
		ElapsedS: json.Number(seconds(fp.Elapsed)), Meta: fp.Meta, Hash: fp.Hash})
}

// UnmarshalJSON reads MarshalJSON's output back (P is left empty), and
// also JSON written by older versions, which held Elapsed in nanoseconds
// under "elapsed".
func (fp *Fingerprint) UnmarshalJSON(b []byte) error {
	var w fingerprintJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	var elapsed time.Duration
	switch {
	case w.ElapsedS != "":
		d, err := durationOf(string(w.ElapsedS))
		if err != nil {
			return fmt.Errorf("fingerprint %q: elapsed_s: %w", w.ID, err)
		}
		elapsed = d
	case w.OldElapsed != nil:
		elapsed = *w.OldElapsed
	}
	*fp = Fingerprint{ID: w.ID, Suite: w.Suite, Model: w.Model, TopK: w.TopK, Queries: w.Queries,
		Elapsed: elapsed, Meta: w.Meta, Hash: w.Hash}
	return nil
}

// seconds returns d in seconds as a JSON number with at most nine decimals
// and no trailing zeros ("1.5", "0.000000007", "-2"), exact to the
// nanosecond, where d.Seconds() is rounded for long durations.
func seconds(d time.Duration) string {
	sign := ""
	u := uint64(d)
	if d < 0 {
		sign, u = "-", uint64(-(d+1))+1 // -MinInt64 overflows int64, not uint64
	}
	s := sign + strconv.FormatUint(u/uint64(time.Second), 10)
	if frac := u % uint64(time.Second); frac != 0 {
		s += strings.TrimRight(fmt.Sprintf(".%09d", frac), "0")
	}
	return s
}

// durationOf parses a JSON number of seconds: exactly when it is a decimal
// with at most nine decimals (what [seconds] writes), else rounded to the
// nanosecond. A number outside time.Duration's range is an error.
func durationOf(s string) (time.Duration, error) {
	if d, ok := exactSeconds(s); ok {
		return d, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, err
	}
	ns := math.Round(v * float64(time.Second))
	// float64(MaxInt64) rounds up to 2^63, which is out of range.
	if !(ns >= math.MinInt64 && ns < math.MaxInt64) {
		return 0, fmt.Errorf("%s seconds is out of range", s)
	}
	return time.Duration(ns), nil
}

// exactSeconds parses s when it is [-]digits[.digits] with at most nine
// decimals and fits a time.Duration, and reports whether it did.
func exactSeconds(s string) (time.Duration, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 9 || !allDigits(whole) || !allDigits(frac) {
		return 0, false
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, false
	}
	var f uint64
	if frac != "" {
		f, _ = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	const limit = uint64(math.MaxInt64) + 1 // the magnitude of MinInt64
	if w > limit/uint64(time.Second) {
		return 0, false
	}
	u := w*uint64(time.Second) + f
	switch {
	case u < limit && neg:
		return -time.Duration(u), true
	case u < limit:
		return time.Duration(u), true
	case u == limit && neg:
		return math.MinInt64, true
	}
	return 0, false
}

// allDigits reports whether s holds only ASCII digits (true for "").
func allDigits(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < '0' || r > '9' })
}
