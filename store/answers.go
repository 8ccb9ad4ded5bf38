package store

import (
	"encoding/binary"
	"fmt"
	"iter"
)

// PutAnswers stores data as batch number batch of the resumable job (for
// example a remote probe or a distillation's teacher queries), replacing
// any earlier data of that batch. Keys are the uint64 BE batch index inside
// a bucket per job, so batches iterate in order.
func (t *Tx) PutAnswers(job string, batch int, data []byte) error {
	if err := CheckName("answers job", job); err != nil {
		return err
	}
	if batch < 0 {
		return fmt.Errorf("answers job %q: negative batch %d", job, batch)
	}
	b, err := t.tx.Bucket(bucketAnswers).CreateBucketIfNotExists([]byte(job))
	if err != nil {
		return fmt.Errorf("answers job %q: %w", job, err)
	}
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], uint64(batch))
	if err := b.Put(k[:], append([]byte(nil), data...)); err != nil {
		return fmt.Errorf("answers job %q batch %d: %w", job, batch, err)
	}
	return nil
}

// Answers iterates over the stored batches of job in batch order, yielding
// each batch index and a copy of its data. An unknown job yields nothing.
func (t *Tx) Answers(job string) iter.Seq2[int, []byte] {
	return func(yield func(int, []byte) bool) {
		b := t.tx.Bucket(bucketAnswers).Bucket([]byte(job))
		if b == nil {
			return
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				continue
			}
			if !yield(int(binary.BigEndian.Uint64(k)), append([]byte(nil), v...)) {
				return
			}
		}
	}
}

// DeleteAnswers removes every batch of job; an unknown job is not an error.
func (t *Tx) DeleteAnswers(job string) error {
	b := t.tx.Bucket(bucketAnswers)
	if b.Bucket([]byte(job)) == nil {
		return nil
	}
	return b.DeleteBucket([]byte(job))
}

// AnswerJobs iterates over the names of the jobs that have stored
// answers, in key order.
func (t *Tx) AnswerJobs() iter.Seq[string] {
	return func(yield func(string) bool) {
		c := t.tx.Bucket(bucketAnswers).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil && !yield(string(k)) { // a job is a nested bucket
				return
			}
		}
	}
}
