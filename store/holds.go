package store

import (
	"bytes"
	"context"
)

// Holds reports whether the store holds exactly the records of x, byte
// for byte, and no others: importing x would add nothing and the store
// is what importing x into an empty one makes (as when `db import` is run
// again after it completed). Records that differ only in how their JSON is
// written count as different.
func (s *Store) Holds(ctx context.Context, x *Records) (bool, error) {
	same := false
	err := s.View(ctx, func(tx *Tx) error {
		n := 0
		for _, b := range [][]byte{bucketSuites, bucketNames, bucketFPs, bucketEnrol, bucketAudits} {
			if err := tx.tx.Bucket(b).ForEach(func(_, _ []byte) error { n++; return ctx.Err() }); err != nil {
				return err
			}
		}
		answers := tx.tx.Bucket(bucketAnswers)
		if err := answers.ForEachBucket(func(job []byte) error {
			return answers.Bucket(job).ForEach(func(k, _ []byte) error {
				if len(k) == 8 {
					n++
				}
				return ctx.Err()
			})
		}); err != nil {
			return err
		}
		if n != x.n {
			return nil
		}
		for typ, items := range x.byType {
			for _, it := range items {
				if !tx.holds(typ, it.l) {
					return nil
				}
			}
		}
		same = true
		return nil
	})
	return same, err
}

// holds reports whether tx holds the record l of type typ as it is.
func (t *Tx) holds(typ string, l line) bool {
	same := func(bucket []byte, want []byte) bool {
		v := t.tx.Bucket(bucket).Get([]byte(l.ID))
		return v != nil && bytes.Equal(v, want)
	}
	switch typ {
	case TypeSuite:
		return same(bucketSuites, l.Data)
	case typeSuiteName:
		return same(bucketNames, []byte(l.Suite))
	case TypeFingerprint:
		return same(bucketFPs, l.Data)
	case TypeEnrolment:
		return same(bucketEnrol, l.Record)
	case TypeAudit:
		return same(bucketAudits, l.Record)
	case TypeAnswers:
		for b, v := range t.Answers(l.ID) {
			if l.Batch != nil && uint64(b) == *l.Batch {
				return bytes.Equal(v, l.Data)
			}
		}
	}
	return false
}
