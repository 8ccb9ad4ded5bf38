package bench

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var fullRun = flag.String("bench.full", "", "run the full experiment (seed 1) and write its JSON report to this file")

// TestDetectFull runs the full experiment when -bench.full FILE is given.
func TestDetectFull(t *testing.T) {
	if *fullRun == "" {
		t.Skip("full experiment: pass -bench.full FILE")
	}
	rep, err := Detect(context.Background(), DetectOptions{Seed: 1, Progress: func(d string, done, total int) {
		if done%10 == 0 {
			t.Logf("%d/%d %s", done, total, d)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*fullRun, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wall time %.0f s", rep.WallTimeS)
}
