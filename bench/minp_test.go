package bench

import (
	"maps"
	"slices"
	"testing"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/compare"
)

// TestMinP checks the per-suspect score bench detect's AUC ranks on
// hand-built audit results: it starts from the combined p-value (not the
// verdict's p-value), takes the minimum over the combined statistics only
// (not the watermark, not informational statistics, not the residual of a
// label-only suspect), and is the combined p-value alone for a suspect
// outside the null. The statistics map keeps the watermark's evidence.
func TestMinP(t *testing.T) {
	ev := func(p float64) audit.StatEvidence { return audit.StatEvidence{P: p} }
	soft := string(compare.StatSoftAgreement)
	tests := []struct {
		name      string
		tr        audit.TeacherResult
		want      float64
		wantStats []string
	}{
		{
			name: "starts from the combined p-value",
			tr: audit.TeacherResult{PValue: 0.5, PCombined: 0.02,
				Statistics: map[string]audit.StatEvidence{audit.StatScore: ev(0.3), audit.StatResidual: ev(0.4)}},
			want:      0.02,
			wantStats: []string{audit.StatResidual, audit.StatScore},
		},
		{
			name: "smallest combined statistic",
			tr: audit.TeacherResult{PValue: 0.01, PCombined: 0.2,
				Statistics: map[string]audit.StatEvidence{audit.StatScore: ev(0.3), audit.StatResidual: ev(0.004)}},
			want:      0.004,
			wantStats: []string{audit.StatResidual, audit.StatScore},
		},
		{
			name: "outside the null",
			tr: audit.TeacherResult{PValue: 0.4, PCombined: 0.4, Outside: "accuracy far below the controls",
				Statistics: map[string]audit.StatEvidence{audit.StatScore: ev(0.001), audit.StatResidual: ev(0.002)}},
			want:      0.4,
			wantStats: []string{audit.StatResidual, audit.StatScore},
		},
		{
			name: "watermark aside",
			tr: audit.TeacherResult{PValue: 0.1, PCombined: 0.1,
				Statistics: map[string]audit.StatEvidence{audit.StatScore: ev(0.2), audit.StatResidual: ev(0.3), audit.StatWatermark: ev(1e-4)}},
			want:      0.1,
			wantStats: []string{audit.StatResidual, audit.StatScore, audit.StatWatermark},
		},
		{
			name: "informational statistics aside",
			tr: audit.TeacherResult{PValue: 0.3, PCombined: 0.3,
				Statistics: map[string]audit.StatEvidence{audit.StatScore: ev(0.5), soft: ev(1e-5)}},
			want:      0.3,
			wantStats: []string{audit.StatScore},
		},
		{
			name: "label-only suspect: residual aside",
			tr: audit.TeacherResult{PValue: 0.3, PCombined: 0.3, LabelOnly: true,
				Statistics: map[string]audit.StatEvidence{audit.StatScore: ev(0.25), audit.StatResidual: ev(1e-3)}},
			want:      0.25,
			wantStats: []string{audit.StatScore},
		},
		{
			name:      "no statistics",
			tr:        audit.TeacherResult{PValue: 0.7, PCombined: 0.6},
			want:      0.6,
			wantStats: []string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stats := minP(&tt.tr, nil)
			if got != tt.want {
				t.Errorf("minP = %v, want %v", got, tt.want)
			}
			if keys := slices.Sorted(maps.Keys(stats)); !slices.Equal(keys, slices.Sorted(slices.Values(tt.wantStats))) {
				t.Errorf("statistics kept = %v, want %v", keys, tt.wantStats)
			}
			for k, st := range stats {
				if st != tt.tr.Statistics[k] {
					t.Errorf("statistics[%s] = %+v, want %+v", k, st, tt.tr.Statistics[k])
				}
			}
		})
	}
}
