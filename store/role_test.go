package store

import (
	"strings"
	"testing"
)

// TestCheckRole checks the roles and halves a stored control may have:
// under-trained controls (HalfUnderTrained) are negatives of neither half.
func TestCheckRole(t *testing.T) {
	tests := []struct {
		c       Control
		wantErr string
	}{
		{Control{FP: "a", Role: RolePositive, Half: HalfSelection}, ""},
		{Control{FP: "a", Role: RoleNegative, Half: HalfCalibration}, ""},
		{Control{FP: "a", Role: RoleNegative, Half: HalfUnderTrained}, ""},
		{Control{FP: "a", Role: RoleReference}, ""},
		{Control{FP: "a", Role: RolePositive, Half: HalfUnderTrained}, `is a positive in half "under-trained", which holds negative controls only`},
		{Control{FP: "a", Role: RoleNegative, Half: "label-null"}, `has half "label-null", want selection, calibration or under-trained`},
		{Control{FP: "a", Role: "judge", Half: HalfSelection}, `has role "judge"`},
	}
	for _, tt := range tests {
		err := checkRole("acme", tt.c)
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("checkRole(%+v) = %v, want nil", tt.c, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("checkRole(%+v) = %v, want an error containing %q", tt.c, err, tt.wantErr)
		}
	}
}
