package audit

import (
	"context"
	"encoding/json"
	"fmt"
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

// TestCheckReportCalibration checks that CheckReport refuses a calibration
// record holding what no enrolment writes: audits read their TPR and FPR
// from it without recomputing them, and a TPR of 2 (or positives' p-values
// of -1) turned INCONCLUSIVE into NOT_DERIVED for every suspect.
func TestCheckReportCalibration(t *testing.T) {
	tests := []struct{ name, cal, want string }{
		{"as written", `{"pos_p":[1,0.006],"neg_p":[1,0.58],"rates":[{"alpha":0.01,"tpr":0.5,"fpr":0,"fpr_upper95":0.14}],"auc":0.9}`, ""},
		{"unknown values", `{"pos_p":[null],"neg_p":[],"rates":[{"alpha":0.05,"tpr":null,"fpr":null,"fpr_upper95":null}],"auc":null}`, ""},
		{"pos_p negative", `{"pos_p":[-1,0.5]}`, "report: calibration pos_p[0] is -1, want a p-value in [0, 1]"},
		{"neg_p above 1", `{"neg_p":[0.5,2]}`, "report: calibration neg_p[1] is 2, want a p-value in [0, 1]"},
		{"tpr 2", `{"rates":[{"alpha":0.01,"tpr":2,"fpr":0,"fpr_upper95":0.1}]}`, "report: calibration rates[0]: tpr 2, want a rate in [0, 1]"},
		{"fpr negative", `{"rates":[{"alpha":0.01,"tpr":1,"fpr":-0.5,"fpr_upper95":0.1}]}`, "report: calibration rates[0]: fpr -0.5, want a rate in [0, 1]"},
		{"alpha 1", `{"rates":[{"alpha":0.01,"tpr":1,"fpr":0,"fpr_upper95":0},{"alpha":1,"tpr":1,"fpr":0,"fpr_upper95":0}]}`, "report: calibration rates[1]: alpha 1, want it in (0, 1)"},
		{"auc", `{"auc":1.5}`, "report: calibration auc 1.5, want it in [0, 1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckReport(json.RawMessage(`{"calibration":` + tt.cal + `}`))
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckReport: %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("CheckReport: %v, want %q", err, tt.want)
			}
		})
	}
}

// TestCheckEnrolment checks that CheckEnrolment refuses a report whose
// counts disagree with the enrolment's controls (a positive control made
// negative moved a derived suspect's p-value from 0.024 to 1; p-values
// added to pos_p cleared suspects an enrolment of too few derived controls
// could not; a recipe family renamed moved a p-value from 0.36 to 0.020),
// and passes one as enroll writes it, with a reference added later and
// with no report at all. A selection-half recipe edited passes: the report
// does not count that half's families, so nothing says what they were.
func TestCheckEnrolment(t *testing.T) {
	controls := func() []store.Control {
		return []store.Control{
			{FP: "p1", Role: store.RolePositive, Half: store.HalfSelection, Recipe: "kd-t1 seed=1"},
			{FP: "p2", Role: store.RolePositive, Half: store.HalfCalibration, Recipe: "kd-t1 seed=2"},
			{FP: "n1", Role: store.RoleNegative, Half: store.HalfSelection, Recipe: "independent-h64 seed=3"},
			{FP: "n2", Role: store.RoleNegative, Half: store.HalfCalibration, Recipe: "independent-h64 seed=4"},
			{FP: "n3", Role: store.RoleNegative, Half: store.HalfUnderTrained, Recipe: "under-trained seed=5"},
			{FP: "r1", Role: store.RoleReference, Recipe: "anything"},
		}
	}
	const report = `{"positives":2,"negatives":3,"under_trained":1,"calibration":{"pos_p":%s,"neg_p":%s},` +
		`"families":{"kd-t1":{"role":"positive","n":1},"independent-h64":{"role":"negative","n":1},"under-trained":{"role":"negative","n":1}}}`
	tests := []struct {
		name     string
		edit     func([]store.Control) []store.Control
		pos, neg string
		noReport bool
		want     string
	}{
		{"as written", nil, `[0.001]`, `[0.5,0.9]`, false, ""},
		{"no report", nil, ``, ``, true, ""},
		{"role swapped", func(c []store.Control) []store.Control { c[1].Role = store.RoleNegative; return c }, `[0.001]`, `[0.5,0.9]`, false,
			"report: counts 2 positive and 3 negative controls (1 under-trained), but the enrolment lists 1 and 4 (1)"},
		{"half changed", func(c []store.Control) []store.Control { c[3].Half = store.HalfUnderTrained; return c }, `[0.001]`, `[0.5,0.9]`, false,
			"report: counts 2 positive and 3 negative controls (1 under-trained), but the enrolment lists 2 and 3 (2)"},
		{"negative removed", func(c []store.Control) []store.Control { return append(c[:3], c[4:]...) }, `[0.001]`, `[0.5,0.9]`, false,
			"report: counts 2 positive and 3 negative controls (1 under-trained), but the enrolment lists 2 and 2 (1)"},
		{"pos_p padded", nil, `[0,0,0,0]`, `[0.5,0.9]`, false,
			"report: calibration pos_p holds 4 p-values, but the enrolment's calibration half has 1 positive controls"},
		{"neg_p padded", nil, `[0.001]`, `[0.5,0.9,1]`, false,
			"report: calibration neg_p holds 3 p-values, but the enrolment's calibration half has 2 negative controls"},
		{"recipe renamed", func(c []store.Control) []store.Control { c[3].Recipe = "one " + c[3].Recipe; return c }, `[0.001]`, `[0.5,0.9]`, false,
			`report: families count 0 calibration controls of family "one", but the enrolment lists 1`},
		{"recipes merged", func(c []store.Control) []store.Control { c[3].Recipe = "under-trained seed=4"; return c }, `[0.001]`, `[0.5,0.9]`, false,
			`report: families count 1 calibration controls of family "under-trained", but the enrolment lists 2`},
		{"selection recipe renamed", func(c []store.Control) []store.Control { c[2].Recipe = "other"; return c }, `[0.001]`, `[0.5,0.9]`, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := &store.Enrolment{Name: "acme", Controls: controls()}
			if tt.edit != nil {
				e.Controls = tt.edit(e.Controls)
			}
			if !tt.noReport {
				e.Report = json.RawMessage(fmt.Sprintf(report, tt.pos, tt.neg))
			}
			err := CheckEnrolment(e)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("CheckEnrolment: %v, want nil", err)
			case tt.want != "" && (err == nil || err.Error() != tt.want):
				t.Errorf("CheckEnrolment: %v, want %q", err, tt.want)
			}
		})
	}
}
