package registry

import "testing"

// TestVerdictsTitle: the report's verdicts table gave no α, where the
// audit table's title does; it now names the α its verdicts share, and
// none when they differ (alphaNote says so) or a record does not say.
func TestVerdictsTitle(t *testing.T) {
	tests := []struct {
		alphas []float64
		want   string
	}{
		{nil, "Verdicts of audited suspects"},
		{[]float64{0.01, 0.01}, "Verdicts of audited suspects (α = 0.01)"},
		{[]float64{0.05}, "Verdicts of audited suspects (α = 0.05)"},
		{[]float64{0.01, 0.05}, "Verdicts of audited suspects"},
		{[]float64{0.01, 0}, "Verdicts of audited suspects"},
	}
	for _, tt := range tests {
		var vs []Verdict
		for _, a := range tt.alphas {
			vs = append(vs, Verdict{Alpha: a})
		}
		if got := verdictsTitle(vs); got != tt.want {
			t.Errorf("verdictsTitle(%v) = %q, want %q", tt.alphas, got, tt.want)
		}
	}
}
