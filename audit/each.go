package audit

import (
	"context"
	"fmt"

	"github.com/lineage-audit/lineage/fingerprint"
)

// AuditEach audits suspects[i] against cases[i] where it is not nil: Audit
// on those cases alone (Holm's correction counts only them), and an
// INCONCLUSIVE result for every other case, with "does not fit this
// suite: " and reasons[i] as its reason when set, else "not fingerprinted
// on this suite". Results keep the order of cases.
func AuditEach(cases []*Case, suspects []*fingerprint.Fingerprint, name string, reasons map[int]string, opts Options) (Result, error) {
	return AuditEachContext(context.Background(), cases, suspects, name, reasons, opts)
}

// AuditEachContext is AuditEach, stopping with ctx's error as
// AuditContext does.
func AuditEachContext(ctx context.Context, cases []*Case, suspects []*fingerprint.Fingerprint, name string, reasons map[int]string, opts Options) (Result, error) {
	if len(suspects) != len(cases) {
		panic(fmt.Sprintf("audit: AuditEach with %d suspects for %d cases", len(suspects), len(cases)))
	}
	var in []*Case
	var fps []*fingerprint.Fingerprint
	for i, cs := range cases {
		if suspects[i] != nil {
			in = append(in, cs)
			fps = append(fps, suspects[i])
		}
	}
	res, err := AuditContext(ctx, in, fps, name, opts)
	if err != nil {
		return res, err
	}
	byTeacher := map[string]TeacherResult{}
	for _, tr := range res.Results {
		byTeacher[tr.Teacher] = tr
	}
	out := res
	out.Results = nil
	for i, cs := range cases {
		if tr, ok := byTeacher[cs.Enrolment.Name]; ok && suspects[i] != nil {
			out.Results = append(out.Results, tr)
			continue
		}
		one, err := AuditContext(ctx, []*Case{cs}, []*fingerprint.Fingerprint{nil}, name, opts)
		if err != nil {
			return res, err
		}
		tr := one.Results[0]
		tr.Reason = "not fingerprinted on this suite"
		if r := reasons[i]; r != "" {
			tr.Reason = "does not fit this suite: " + r
		}
		out.Results = append(out.Results, tr)
	}
	return out, nil
}
