package tmpfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
)

// TestClaim: a second claim on a path fails at once while the first is
// held, a claim file a forced exit left is taken over, neither Write nor
// RemoveStale removes a held claim, and release removes it.
func TestClaim(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no advisory locks here")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.lnm")
	claim := ClaimName(path)
	if !Match("m.lnm")(filepath.Base(claim)) {
		t.Fatalf("claim file %q is not named as m.lnm's temporaries are", claim)
	}

	release, err := Claim(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Claim(path); !errors.Is(err, ErrClaimed) {
		t.Errorf("second Claim while the first is held: %v, want ErrClaimed", err)
	}
	if err := Write(path, 0o644, func(w io.Writer) error { _, err := io.WriteString(w, "model"); return err }); err != nil {
		t.Fatal(err)
	}
	if removed := RemoveStale(dir, Match("m.lnm")); len(removed) > 0 {
		t.Errorf("RemoveStale removed %q, a held claim", removed)
	}
	if _, err := os.Stat(claim); err != nil {
		t.Errorf("held claim file: %v", err)
	}
	release()
	if got := dirNames(t, dir); !slices.Equal(got, []string{"m.lnm"}) {
		t.Errorf("after release: %q, want only the model", got)
	}

	// A forced exit leaves the claim file, unlocked: the next claim takes it.
	if err := os.WriteFile(claim, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	release, err = Claim(path)
	if err != nil {
		t.Fatalf("Claim beside a stale claim file: %v", err)
	}
	if _, err := Claim(path); !errors.Is(err, ErrClaimed) {
		t.Errorf("Claim while a taken-over claim is held: %v, want ErrClaimed", err)
	}
	release()
	if _, err := os.Stat(claim); err == nil {
		t.Error("release left the claim file")
	}
}
