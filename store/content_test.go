package store

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

// TestRecordContent checks that an enrolment or audit record holding what
// no audit can use — a watermark key that is not 64 hex digits, a
// normalisation of another size or with NaN, the teacher as its own
// control, a control listed twice, a report or result that is not a JSON
// object — is refused when stored and, written past the checks without a
// checksum (as a record of an older lineage, or one edited by hand), is
// reported by Verify. Such records imported and verified clean, then failed
// every audit or report.
func TestRecordContent(t *testing.T) {
	enrol := []struct {
		name string
		edit func(e *Enrolment)
		want string
	}{
		{"short key", func(e *Enrolment) { e.Watermark.Key = "zz" }, "watermark key: want 64 hex digits, got 2 characters"},
		{"key not hex", func(e *Enrolment) { e.Watermark.Key = strings.Repeat("g", 64) }, "watermark key: want 64 hex digits, got other characters"},
		{"mean size", func(e *Enrolment) { e.Watermark.Mean = []float32{1} }, "watermark normalisation has 1 means for a suite of 4 inputs"},
		{"std NaN", func(e *Enrolment) { e.Watermark.Std = []float32{1, float32(math.NaN()), 1, 1} }, "watermark normalisation of input 1: standard deviation NaN"},
		{"std negative", func(e *Enrolment) { e.Watermark.Std = []float32{1, 1, -1, 1} }, "watermark normalisation of input 2: standard deviation -1, want a positive number"},
		// A deviation of 0, which the watermark test skips, or one it
		// divides by into overflow: both moved the test's p-value.
		{"std zero", func(e *Enrolment) { e.Watermark.Std = []float32{1, 0, 1, 1} }, "watermark normalisation of input 1: standard deviation 0, want a positive number"},
		{"std subnormal", func(e *Enrolment) { e.Watermark.Std = []float32{1, 1, 1e-45, 1} }, "watermark normalisation of input 2: standard deviation 1e-45, too small: dividing by it overflows float32"},
		{"teacher as control", func(e *Enrolment) { e.Controls[1].FP = "teacher" }, `control "teacher" is the teacher's own fingerprint`},
		{"control twice", func(e *Enrolment) { e.Controls[1].FP = "pos" }, `control "pos" is listed twice`},
		{"report array", func(e *Enrolment) { e.Report = []byte(`[1,2]`) }, "report is not a JSON object"},
		{"report string", func(e *Enrolment) { e.Report = []byte(`"x"`) }, "report is not a JSON object"},
	}
	for _, tc := range enrol {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t, tempPath(t), false)
			populate(t, s)
			err := s.Update(ctx, func(tx *Tx) error {
				e, err := tx.Enrolment("acme")
				if err != nil {
					return err
				}
				tc.edit(e)
				if err := tx.PutEnrolment(e, PutOptions{Replace: true}); err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("PutEnrolment: %v, want %q", err, tc.want)
				}
				e.Checksum = ""
				raw, err := json.Marshal(e)
				if err != nil {
					return nil // NaN: JSON cannot hold it, so no stored record can
				}
				return tx.tx.Bucket(bucketEnrol).Put([]byte("acme"), raw)
			})
			if err != nil {
				t.Fatal(err)
			}
			if tc.name != "std NaN" {
				checkVerifyFinds(t, s, TypeEnrolment, "acme", tc.want)
			}
		})
	}
	for _, result := range []string{`"x"`, `7`, `[{"p":1}]`} {
		t.Run("result "+result, func(t *testing.T) {
			s := openTest(t, tempPath(t), false)
			populate(t, s)
			err := s.Update(ctx, func(tx *Tx) error {
				r := &AuditRecord{ID: "case-2", Suspect: "suspect", Against: []string{"acme"}, Result: json.RawMessage(result)}
				if err := tx.PutAudit(r, PutOptions{}); err == nil || !strings.Contains(err.Error(), "result is not a JSON object") {
					t.Errorf("PutAudit: %v, want the result refused", err)
				}
				raw, err := json.Marshal(r)
				if err != nil {
					return err
				}
				return tx.tx.Bucket(bucketAudits).Put([]byte("case-2"), raw)
			})
			if err != nil {
				t.Fatal(err)
			}
			checkVerifyFinds(t, s, TypeAudit, "case-2", "result is not a JSON object")
			// Verify has reported it: EachContent does not hand it to
			// package audit to report again; the sound record it does.
			var got []string
			s.View(ctx, func(tx *Tx) error {
				tx.EachContent(func(typ, id string, _ *Enrolment, _ json.RawMessage) { got = append(got, typ+" "+id) })
				return nil
			})
			if want := []string{"enrolment acme", "audit case-1"}; !slices.Equal(got, want) {
				t.Errorf("EachContent gave %q, want %q", got, want)
			}
		})
	}
}

// checkVerifyFinds checks that Verify reports the record typ/id with a
// problem containing want.
func checkVerifyFinds(t *testing.T, s *Store, typ, id, want string) {
	t.Helper()
	r, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range r.Problems {
		if p.Type == typ && p.ID == id && strings.Contains(p.Problem, want) {
			return
		}
	}
	t.Errorf("Verify problems %+v, want %s %q: %q", r.Problems, typ, id, want)
}
