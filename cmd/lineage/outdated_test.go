package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/store"
)

// TestOutdatedEnrolment: audit and reference add refuse an enrolment made
// by lineage before the under-trained controls (its report counts none and
// no control is one), saying what to do, before any model is read; report
// still shows it, with a note saying so; the same enrolment with a current report is audited.
func TestOutdatedEnrolment(t *testing.T) {
	tests := []struct {
		name    string
		report  string
		refused bool
	}{
		{"report of older lineage", `{"name":"acme","probes":60,"statistics":["lineage_score"],"calibration":{}}`, true},
		{"current report", `{"name":"acme","probes":60,"under_trained":4,"outside_rule":true,"calibration":{}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := synthEnrolment(t, 60)
			updateStore(t, path, func(tx *store.Tx) error {
				e, err := tx.Enrolment("acme")
				if err != nil {
					return err
				}
				e.Report = []byte(tt.report)
				if err := tx.PutEnrolment(e, store.PutOptions{Replace: true}); err != nil {
					return err
				}
				fp, err := tx.Fingerprint(e.Controls[len(e.Controls)-1].FP)
				if err != nil {
					return err
				}
				fp.ID = "suspect"
				return tx.PutFingerprint(fp, store.PutOptions{})
			})

			_, stderr, code := runCLI(t, "--db", path, "audit", "suspect", "--dry-run")
			if tt.refused {
				for _, want := range []string{`teacher "acme"`, audit.ErrOutdated.Error(), "under-trained controls", "`lineage db rm enrolment acme --purge`"} {
					if code != 1 || !strings.Contains(stderr, want) {
						t.Errorf("audit: got exit %d, stderr %q; want exit 1 and %q", code, stderr, want)
					}
				}
				missing := filepath.Join(t.TempDir(), "missing.lnm")
				_, stderr, code = runCLI(t, "--db", path, "reference", "add", "vendor", "--for", "acme", "--model", missing)
				if code != 1 || !strings.Contains(stderr, audit.ErrOutdated.Error()) {
					t.Errorf("reference add: got exit %d, stderr %q; want exit 1 naming the enrolment as outdated before reading the model", code, stderr)
				}
			} else if code != 0 {
				t.Errorf("audit: got exit %d, stderr %q; want 0", code, stderr)
			}
			stdout, stderr, code := runCLI(t, "--db", path, "report")
			if code != 0 {
				t.Errorf("report: got exit %d, stderr %q; want 0", code, stderr)
			}
			if got := strings.Contains(stdout, `audit refuses "acme"`); got != tt.refused {
				t.Errorf("report: note on the outdated enrolment shown %v, want %v:\n%s", got, tt.refused, stdout)
			}
		})
	}
}
