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

// TestUnlistedNoteQuotes checks that the note on a verdict not shown (its
// teacher's enrolment removed) suggests a `db show audit` command a shell
// reads as one word, the record's ID: an ID with a space was printed bare,
// so the pasted command asked for two records.
func TestUnlistedNoteQuotes(t *testing.T) {
	tests := []struct{ audit, want string }{
		{"s2", "`lineage db show audit s2`"},
		{"my suspect", "`lineage db show audit 'my suspect'`"},
		{"o'brien", "`lineage db show audit 'o'\\''brien'`"},
	}
	for _, tt := range tests {
		s := Summary{Unlisted: []Unlisted{{Suspect: tt.audit, Teacher: "gone", Audit: tt.audit, Verdict: "DERIVED", PValue: 0.01, Why: "enrolment removed"}}}
		var notes []string
		for _, tab := range s.Tables() {
			notes = append(notes, tab.Notes...)
		}
		if got := strings.Join(notes, "\n"); !strings.Contains(got, tt.want) {
			t.Errorf("audit %q: notes %q, want %s", tt.audit, notes, tt.want)
		}
	}
}
