package bench

import (
	"context"
	"encoding/json"
	"testing"
	"time"
)

func TestDetectQuick(t *testing.T) {
	start := time.Now()
	rep, err := Detect(context.Background(), DetectOptions{Seed: 1, Quick: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	t.Logf("%s", b)
	t.Logf("elapsed %v", time.Since(start))
}
