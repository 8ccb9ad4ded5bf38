package store

import (
	"context"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
)

// The methods below each run one Tx method in its own transaction; use
// Update to group several writes atomically.

// PutSuite stores s; see Tx.PutSuite.
func (s *Store) PutSuite(ctx context.Context, su *probe.Suite) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.PutSuite(su) })
}

// Suite returns the suite named or hashed ref; see Tx.Suite.
func (s *Store) Suite(ctx context.Context, ref string) (su *probe.Suite, err error) {
	err = s.View(ctx, func(tx *Tx) error { su, err = tx.Suite(ref); return err })
	return su, err
}

// PutFingerprint stores fp; see Tx.PutFingerprint.
func (s *Store) PutFingerprint(ctx context.Context, fp *fingerprint.Fingerprint, opts PutOptions) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.PutFingerprint(fp, opts) })
}

// Fingerprint returns the fingerprint with the given ID.
func (s *Store) Fingerprint(ctx context.Context, id string) (fp *fingerprint.Fingerprint, err error) {
	err = s.View(ctx, func(tx *Tx) error { fp, err = tx.Fingerprint(id); return err })
	return fp, err
}

// Enrolment returns the enrolment of the teacher named name.
func (s *Store) Enrolment(ctx context.Context, name string) (e *Enrolment, err error) {
	err = s.View(ctx, func(tx *Tx) error { e, err = tx.Enrolment(name); return err })
	return e, err
}

// Enrolments returns every enrolment in name order.
func (s *Store) Enrolments(ctx context.Context) (es []Enrolment, err error) {
	err = s.View(ctx, func(tx *Tx) error { es, err = tx.Enrolments(); return err })
	return es, err
}

// AddReference appends a reference control; see Tx.AddReference.
func (s *Store) AddReference(ctx context.Context, name string, c Control) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.AddReference(name, c) })
}

// PutAudit stores r; see Tx.PutAudit.
func (s *Store) PutAudit(ctx context.Context, r *AuditRecord, opts PutOptions) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.PutAudit(r, opts) })
}

// Audit returns the audit record with the given ID.
func (s *Store) Audit(ctx context.Context, id string) (r *AuditRecord, err error) {
	err = s.View(ctx, func(tx *Tx) error { r, err = tx.Audit(id); return err })
	return r, err
}

// PutAnswers stores one batch of a resumable job; see Tx.PutAnswers.
func (s *Store) PutAnswers(ctx context.Context, job string, batch int, data []byte) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.PutAnswers(job, batch, data) })
}

// Answers returns the stored batches of job in batch order (nil for an
// unknown job).
func (s *Store) Answers(ctx context.Context, job string) (out []Answer, err error) {
	err = s.View(ctx, func(tx *Tx) error {
		for b, d := range tx.Answers(job) {
			out = append(out, Answer{Batch: b, Data: d})
		}
		return nil
	})
	return out, err
}

// DeleteAnswers removes a job's batches, typically once the job is done.
func (s *Store) DeleteAnswers(ctx context.Context, job string) error {
	return s.Update(ctx, func(tx *Tx) error { return tx.DeleteAnswers(job) })
}
