package audit

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/store"
)

// TestCheckResult checks the stored results CheckResult refuses (each
// passed import and db verify, then failed or misled every report) and
// that results as audits write them pass.
func TestCheckResult(t *testing.T) {
	tests := []struct {
		name, raw, want string
	}{
		{"as written", `{"suspect":"s","alpha":0.01,"results":[{"teacher":"acme","suite":"x","verdict":"DERIVED","p_value":0.001,"p_combined":0.001,"effect_size":null,"statistics":{},"null_size":8,"calibration_tpr":null,"calibration_fpr":null}]}`, ""},
		{"no teachers", `{"suspect":"s","alpha":0.05,"results":[]}`, ""},
		{"missing", ``, "result: missing"},
		{"p-value a string", `{"alpha":0.01,"results":[{"teacher":"acme","verdict":"DERIVED","p_value":"abc"}]}`, "cannot unmarshal string"},
		{"results a string", `{"alpha":0.01,"results":"x"}`, "cannot unmarshal string"},
		{"negative p-value", `{"alpha":0.01,"results":[{"teacher":"acme","verdict":"DERIVED","p_value":-5,"p_combined":0.1}]}`, "p-value -5 (combined 0.1), want them in [0, 1]"},
		{"p-value above 1", `{"alpha":0.01,"results":[{"teacher":"acme","verdict":"NOT_DERIVED","p_value":0.5,"p_combined":3}]}`, "want them in [0, 1]"},
		{"unknown verdict", `{"alpha":0.01,"results":[{"teacher":"acme","verdict":"PWNED"}]}`, `verdict "PWNED"`},
		{"no teacher", `{"alpha":0.01,"results":[{"verdict":"DERIVED"}]}`, "result 0 names no teacher"},
		{"alpha 0", `{"alpha":0,"results":[]}`, "α 0, want it in (0, 1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckResult(json.RawMessage(tt.raw))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckResult: %v, want nil", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("CheckResult: %v, want %q", err, tt.want)
			}
		})
	}
	for _, tt := range []struct{ raw, want string }{
		{``, ""}, {`{}`, ""}, {`{"discriminant":"x"}`, "report: json: cannot unmarshal string"}, {`[1,2]`, "cannot unmarshal array"},
	} {
		err := CheckReport(json.RawMessage(tt.raw))
		if (tt.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.want) {
			t.Errorf("CheckReport(%s): %v, want %q", tt.raw, err, tt.want)
		}
	}
}

// TestCheckRecords checks that CheckRecords names the audit record whose
// result no audit writes, and only it.
func TestCheckRecords(t *testing.T) {
	db, suites := findingsStore(t, map[string]string{"s1": "acme", "s2": "acme"})
	putRecord(t, db, suites, "good", "s1", "", []string{"acme"}, []string{"s1"}, 0.5, false)
	bad := &store.AuditRecord{ID: "bad", Suspect: "s2", Against: []string{"acme"},
		Result: json.RawMessage(`{"alpha":0.01,"results":[{"teacher":"acme","verdict":"PWNED","p_value":0.5}]}`)}
	if err := db.PutAudit(context.Background(), bad, store.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []store.Problem
	if err := db.View(context.Background(), func(tx *store.Tx) error { got = CheckRecords(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Type != store.TypeAudit || got[0].ID != "bad" || !strings.Contains(got[0].Problem, `verdict "PWNED"`) {
		t.Errorf("CheckRecords = %+v, want one problem for audit bad's verdict", got)
	}
}
