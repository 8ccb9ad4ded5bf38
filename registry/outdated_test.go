package registry

import (
	"strings"
	"testing"
)

// TestOutdatedNote: the enrolled teachers' table says when audits refuse
// an enrolment older lineage made, and is silent otherwise.
func TestOutdatedNote(t *testing.T) {
	tests := []struct {
		name     string
		outdated string
		want     string // "" for no note
	}{
		{"outdated", `teacher "acme": enrolment made by older lineage`, `audit refuses "acme", and the verdicts recorded against it were reached without under-trained controls: teacher "acme": enrolment made by older lineage`},
		{"current", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Summary{Teachers: []Teacher{{Teacher: "acme", Outdated: tt.outdated}}}
			notes := s.Tables()[0].Notes
			got := strings.Join(notes, "\n")
			if tt.want == "" && strings.Contains(got, "refuses") || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("notes %q, want %q", notes, tt.want)
			}
		})
	}
}
