package audit

import (
	"errors"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

func TestCheckCurrent(t *testing.T) {
	trained := []store.Control{
		{FP: "acme/control-00", Role: store.RolePositive, Half: store.HalfSelection},
		{FP: "acme/control-01", Role: store.RoleNegative, Half: store.HalfCalibration},
	}
	withUnder := append(append([]store.Control(nil), trained...),
		store.Control{FP: "acme/control-02", Role: store.RoleNegative, Half: store.HalfUnderTrained})
	// The report of lineage of 4 December 2026, shortened: no under_trained.
	const old = `{"name":"acme","suite":"ab","probes":100,"statistics":["lineage_score","replica_residual"],"calibration":{}}`
	const current = `{"name":"acme","suite":"ab","probes":100,"under_trained":8,"outside_rule":true,"calibration":{}}`
	tests := []struct {
		name     string
		report   string
		controls []store.Control
		outdated bool
	}{
		{"report of older lineage", old, trained, true},
		{"current report", current, withUnder, false},
		{"under-trained controls listed", old, withUnder, false},
		{"under-trained counted", current, trained, false},
		{"no report (not made by enroll)", "", trained, false},
		{"report that does not decode", `{"probes":`, trained, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &store.Enrolment{Name: "acme", Controls: tt.controls}
			if tt.report != "" {
				e.Report = []byte(tt.report)
			}
			err := CheckCurrent(e)
			if got := errors.Is(err, ErrOutdated); got != tt.outdated {
				t.Fatalf("CheckCurrent: got %v, want outdated %v", err, tt.outdated)
			}
		})
	}
}

// TestCheckCurrentQuotesName checks that the remedy CheckCurrent names is
// a command a shell reads with the teacher's name as one word: a name
// with a space was printed bare, so the pasted `db rm enrolment` named two
// records.
func TestCheckCurrentQuotesName(t *testing.T) {
	old := []byte(`{"name":"x","suite":"ab","probes":100,"calibration":{}}`)
	for _, tt := range []struct{ name, want string }{
		{"acme", "`lineage db rm enrolment acme --purge`"},
		{"my teacher", "`lineage db rm enrolment 'my teacher' --purge`"},
	} {
		err := CheckCurrent(&store.Enrolment{Name: tt.name, Report: old})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckCurrent of %q: got %v, want it to say %s", tt.name, err, tt.want)
		}
	}
}
