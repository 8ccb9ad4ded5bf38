package store

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func float32bits(v float32) uint32 { return math.Float32bits(v) }

func BenchmarkPutFingerprint(b *testing.B) {
	s, err := Open(tempPath(b), Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	su := newTestSuite("bench", 500, 8, 1)
	fps := newTestFP("x", su, 1)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fp := *fps
		fp.ID = fmt.Sprint("fp-", i)
		i++
		if err := s.PutFingerprint(ctx, &fp, PutOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetFingerprint(b *testing.B) {
	s, err := Open(tempPath(b), Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	su := newTestSuite("bench", 500, 8, 1)
	if err := s.PutFingerprint(ctx, newTestFP("x", su, 1), PutOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Fingerprint(ctx, "x"); err != nil {
			b.Fatal(err)
		}
	}
}
