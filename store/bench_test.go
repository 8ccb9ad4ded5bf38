package store

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/probe"
)

func float32bits(v float32) uint32 { return math.Float32bits(v) }

func BenchmarkPutFingerprint(b *testing.B) {
	s, err := Open(tempPath(b), Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	su := newTestSuite("bench", 500, 8, 1)
	if err := s.PutSuite(ctx, su); err != nil {
		b.Fatal(err)
	}
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
	if err := s.PutSuite(ctx, su); err != nil {
		b.Fatal(err)
	}
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

// BenchmarkOpen opens a store of 2,000 fingerprints of 300 probes × 10
// labels (about 25 MB: a registry of a dozen enrolments and their
// suspects), read-only and read-write; Open walks its page tree.
func BenchmarkOpen(b *testing.B) {
	path := tempPath(b)
	s, err := Open(path, Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	fillBench(b, s, 2000)
	s.Close()
	for _, ro := range []bool{true, false} {
		b.Run(fmt.Sprint("readonly=", ro), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s, err := Open(path, Options{ReadOnly: ro, Timeout: time.Second})
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
			}
		})
	}
}

// BenchmarkUnusedSuites finds the unused suites of a store of 500
// fingerprints of 300 probes × 10 labels, and the users of its suite
// (db rm's check): both read which suite each fingerprint is on.
func BenchmarkUnusedSuites(b *testing.B) {
	s, err := Open(tempPath(b), Options{Timeout: time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	suite := fillBench(b, s, 500)
	b.Run("unused", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.View(ctx, func(tx *Tx) error { tx.UnusedSuites(); return nil })
		}
	})
	b.Run("users", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.View(ctx, func(tx *Tx) error { tx.suiteUsers(suite); return nil })
		}
	})
}

// fillBench stores in s a suite of 300 probes × 10 labels and n
// fingerprints on it, each of its own model, and returns the suite's hash.
func fillBench(b *testing.B, s *Store, n int) string {
	b.Helper()
	su := newTestSuite("bench", 300, 8, 1)
	su.Labels = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	su.Hash = probe.CanonicalHash(su.X, su.Kinds, su.Labels)
	fp := newTestFP("x", su, 1)
	if err := s.Update(ctx, func(tx *Tx) error {
		if err := tx.PutSuite(su); err != nil {
			return err
		}
		for i := range n {
			f := *fp
			f.ID = fmt.Sprint("fp-", i)
			f.Model.Hash = f.ID
			f.Hash = f.ComputeHash()
			if err := tx.PutFingerprint(&f, PutOptions{}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	return su.Hash
}
