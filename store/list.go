package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/fingerprint"
)

// Entry is one row of a store listing: the record type (TypeSuite, ...),
// its key, its stored size in bytes and a one-line human summary.
type Entry struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Size   int    `json:"size"`
	Detail string `json:"detail"`
}

// List returns the records of type typ ("" for all types, in Types()
// order), each type sorted by key.
func (s *Store) List(ctx context.Context, typ string) ([]Entry, error) {
	types, err := selectTypes(typ)
	if err != nil {
		return nil, err
	}
	var out []Entry
	err = s.View(ctx, func(tx *Tx) error {
		for _, ty := range types {
			es, err := tx.list(ty)
			if err != nil {
				return err
			}
			out = append(out, es...)
		}
		return nil
	})
	return out, err
}

func selectTypes(typ string) ([]string, error) {
	if typ == "" {
		return Types(), nil
	}
	if !slices.Contains(Types(), typ) {
		return nil, fmt.Errorf("unknown record type %q (want one of %s)", typ, strings.Join(Types(), ", "))
	}
	return []string{typ}, nil
}

func (t *Tx) list(typ string) ([]Entry, error) {
	var out []Entry
	add := func(id string, size int, detail string) {
		out = append(out, Entry{Type: typ, ID: id, Size: size, Detail: detail})
	}
	var err error
	switch typ {
	case TypeSuite:
		names := map[string][]string{}
		t.tx.Bucket(bucketNames).ForEach(func(k, v []byte) error {
			names[string(v)] = append(names[string(v)], string(k))
			return nil
		})
		err = t.tx.Bucket(bucketSuites).ForEach(func(k, v []byte) error {
			d := "undecodable"
			if su, err := DecodeSuite(v); err == nil {
				d = fmt.Sprintf("%d probes × %d inputs, %d labels", su.Len(), su.Dim(), len(su.Labels))
			}
			if n := names[string(k)]; len(n) > 0 {
				d = JoinNames(n, ",") + ": " + d
			}
			add(string(k), len(v), d)
			return nil
		})
	case TypeFingerprint:
		err = t.tx.Bucket(bucketFPs).ForEach(func(k, v []byte) error {
			d := "undecodable"
			// The header alone: the matrix is not listed.
			if fp, err := fingerprint.DecodeHeader(v); err == nil {
				d = fmt.Sprintf("model %s, suite %.12s, %d×%d", fp.Model.Name, fp.Suite, fp.Len(), fp.Classes())
				if fp.TopK > 0 {
					d += fmt.Sprintf(" top-%d", fp.TopK)
				}
			}
			add(string(k), len(v), d)
			return nil
		})
	case TypeEnrolment:
		err = t.tx.Bucket(bucketEnrol).ForEach(func(k, v []byte) error {
			d := "undecodable"
			var e Enrolment
			if json.Unmarshal(v, &e) == nil {
				d = fmt.Sprintf("teacher fp %s, suite %.12s, %d controls", e.TeacherFP, e.Suite, len(e.Controls))
			}
			add(string(k), len(v), d)
			return nil
		})
	case TypeAudit:
		err = t.tx.Bucket(bucketAudits).ForEach(func(k, v []byte) error {
			d := "undecodable"
			var r AuditRecord
			if json.Unmarshal(v, &r) == nil {
				// A model audited against several suites was measured
				// once per suite: name every fingerprint, not the first.
				// (Suites shared by teachers share a fingerprint.)
				if m := uniqueNames(r.Measured()); len(m) > 1 {
					d = fmt.Sprintf("fingerprints %s against %s", JoinNames(m, ","), JoinNames(r.Against, ","))
				} else {
					d = fmt.Sprintf("suspect %s against %s", r.Suspect, JoinNames(r.Against, ","))
				}
			}
			add(string(k), len(v), d)
			return nil
		})
	case TypeAnswers:
		err = t.tx.Bucket(bucketAnswers).ForEachBucket(func(k []byte) error {
			n, size := 0, 0
			t.tx.Bucket(bucketAnswers).Bucket(k).ForEach(func(_, v []byte) error {
				n++
				size += len(v)
				return nil
			})
			add(string(k), size, fmt.Sprintf("%d batches", n))
			return nil
		})
	}
	return out, err
}

// RedactedKey replaces an enrolment's watermark key in Show's output; the
// key itself is only in the database and in exports.
const RedactedKey = "(secret: see db export)"

// Show returns one record as indented JSON. For suites and fingerprints the
// metadata is shown with the matrix shape instead of the numbers. An empty
// typ searches enrolments, fingerprints, suites, audits and answers in
// that order. A watermark key is shown as RedactedKey.
func (s *Store) Show(ctx context.Context, typ, id string) ([]byte, error) {
	types := showOrder
	if typ != "" {
		var err error
		if types, err = selectTypes(typ); err != nil {
			return nil, err
		}
	}
	var v any
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		for _, ty := range types {
			if v, err = tx.show(ty, id); err == nil || !isNotFound(err) {
				return err
			}
		}
		if typ == "" {
			return notFound("record", id)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(v, "", "  ")
}

// showOrder is the order in which Show searches the record types when
// none is given.
var showOrder = []string{TypeEnrolment, TypeFingerprint, TypeSuite, TypeAudit, TypeAnswers}

// TypesOf returns the record types holding a record with the ID id, in the
// order Show without a type searches them (the first is the one it
// shows); none when there is no such record.
func (s *Store) TypesOf(ctx context.Context, id string) ([]string, error) {
	var out []string
	err := s.View(ctx, func(tx *Tx) error {
		for _, ty := range showOrder {
			_, err := tx.show(ty, id)
			if err == nil {
				out = append(out, ty)
			} else if !isNotFound(err) {
				return err
			}
		}
		return nil
	})
	return out, err
}

func (t *Tx) show(typ, id string) (any, error) {
	switch typ {
	case TypeSuite:
		su, err := t.Suite(id)
		if err != nil {
			return nil, err
		}
		return struct {
			Type string `json:"type"`
			suiteHeader
		}{typ, suiteHeader{Suite: *su, Rows: su.Len(), Cols: su.Dim()}}, nil
	case TypeFingerprint:
		// Checked as Fingerprint checks it, but a row at a time and not
		// against its suite's shape: the matrix is not shown, and a
		// fingerprint whose suite was removed (db rm suite --force) is
		// shown too.
		b := t.tx.Bucket(bucketFPs).Get([]byte(id))
		if b == nil {
			return nil, notFound("fingerprint", id)
		}
		fp, err := fingerprint.VerifyEncoded(b)
		if err != nil {
			return nil, fmt.Errorf("fingerprint %q: %w: %w (run `lineage db verify`)", id, ErrCorrupt, recordProblem(id, err))
		}
		if fp.ID != id {
			return nil, fmt.Errorf("fingerprint %q: %w: stored under %q but its ID is %q", id, ErrCorrupt, id, fp.ID)
		}
		return fingerprintView(fp)
	case TypeEnrolment:
		e, err := t.Enrolment(id)
		if err != nil {
			return nil, err
		}
		if e.Watermark != nil {
			w := *e.Watermark
			w.Key = RedactedKey
			e.Watermark = &w
		}
		return struct {
			Type string `json:"type"`
			*Enrolment
		}{typ, e}, nil
	case TypeAudit:
		r, err := t.Audit(id)
		if err != nil {
			return nil, err
		}
		return struct {
			Type string `json:"type"`
			*AuditRecord
		}{typ, r}, nil
	default:
		var batches []int
		size := 0
		for b, d := range t.Answers(id) {
			batches = append(batches, b)
			size += len(d)
		}
		if batches == nil {
			return nil, notFound("answers job", id)
		}
		return map[string]any{"type": typ, "job": id, "batches": batches, "size": size}, nil
	}
}

// fingerprintView is fp as Show prints it: {"type": "fingerprint"},
// then fp's own JSON fields (Elapsed as "elapsed_s", in seconds), then its
// shape "rows" and "cols". Embedding fp in a struct would not do: its
// MarshalJSON would be promoted and write fp alone.
func fingerprintView(fp *fingerprint.Fingerprint) (json.RawMessage, error) {
	b, err := json.Marshal(fp)
	if err != nil {
		return nil, err
	}
	fields := bytes.TrimSuffix(bytes.TrimPrefix(b, []byte("{")), []byte("}"))
	out := fmt.Appendf(nil, `{"type":%q,`, TypeFingerprint)
	out = append(out, fields...)
	return fmt.Appendf(out, `,"rows":%d,"cols":%d}`, fp.Len(), fp.Classes()), nil
}

func isNotFound(err error) bool {
	_, ok := err.(*NotFoundError)
	return ok
}

// RemoveOptions tunes Remove. The zero value refuses to remove records
// other records refer to.
type RemoveOptions struct {
	// Force removes a record even when others refer to it, leaving them
	// dangling (Verify will report them).
	Force bool
}

// Remove deletes the record of type typ with key id in one transaction.
// Removing a fingerprint referenced by an enrolment or by an audit (as its
// suspect), or a suite referenced by an enrolment or a fingerprint, gives an
// *InUseError unless opts.Force. Removing a suite also removes its names;
// removing an enrolment keeps the audits that name it (they are history).
func (s *Store) Remove(ctx context.Context, typ, id string, opts RemoveOptions) error {
	if _, err := selectTypes(typ); err != nil || typ == "" {
		return fmt.Errorf("remove: unknown record type %q", typ)
	}
	return s.Update(ctx, func(tx *Tx) error { return tx.Remove(typ, id, opts) })
}

// Remove deletes one record; see Store.Remove.
func (t *Tx) Remove(typ, id string, opts RemoveOptions) error {
	var users []string
	switch typ {
	case TypeFingerprint:
		if !t.HasFingerprint(id) {
			return notFound("fingerprint", id)
		}
		users = t.fingerprintUsers(id)
	case TypeSuite:
		h, err := t.SuiteHash(id)
		if err != nil {
			return err
		}
		users = t.suiteUsers(h)
		if len(users) == 0 || opts.Force {
			var names [][]byte
			t.tx.Bucket(bucketNames).ForEach(func(k, v []byte) error {
				if string(v) == h {
					names = append(names, append([]byte(nil), k...))
				}
				return nil
			})
			for _, n := range names {
				if err := t.tx.Bucket(bucketNames).Delete(n); err != nil {
					return err
				}
			}
			return t.tx.Bucket(bucketSuites).Delete([]byte(h))
		}
	case TypeEnrolment:
		if t.tx.Bucket(bucketEnrol).Get([]byte(id)) == nil {
			return notFound("teacher", id)
		}
	case TypeAudit:
		if t.tx.Bucket(bucketAudits).Get([]byte(id)) == nil {
			return notFound("audit", id)
		}
	case TypeAnswers:
		if t.tx.Bucket(bucketAnswers).Bucket([]byte(id)) == nil {
			return notFound("answers job", id)
		}
		return t.DeleteAnswers(id)
	}
	if len(users) > 0 && !opts.Force {
		return &InUseError{Kind: typ, Name: id, By: users}
	}
	return t.tx.Bucket(bucketFor(typ)).Delete([]byte(id))
}

func bucketFor(typ string) []byte {
	switch typ {
	case TypeSuite:
		return bucketSuites
	case TypeFingerprint:
		return bucketFPs
	case TypeEnrolment:
		return bucketEnrol
	case TypeAudit:
		return bucketAudits
	}
	return bucketAnswers
}

// fingerprintUsers lists the enrolments and audits referring to fp id.
func (t *Tx) fingerprintUsers(id string) []string {
	users := t.fingerprintEnrolments(id)
	t.eachJSON(bucketAudits, func(k []byte, _ *Enrolment, r *AuditRecord) {
		if slices.Contains(r.Measured(), id) || r.Suspect == id {
			users = append(users, "audit "+string(k))
		}
	})
	return users
}

// fingerprintEnrolments lists the enrolments referring to fp id (as
// teacher or control), each as "enrolment NAME".
func (t *Tx) fingerprintEnrolments(id string) []string {
	var users []string
	t.eachJSON(bucketEnrol, func(k []byte, e *Enrolment, _ *AuditRecord) {
		uses := e.TeacherFP == id
		for _, c := range e.Controls {
			uses = uses || c.FP == id
		}
		if uses {
			users = append(users, "enrolment "+string(k))
		}
	})
	return users
}

// eachJSON decodes every enrolment or audit record, skipping undecodable
// ones (Verify reports those).
func (t *Tx) eachJSON(bucket []byte, fn func(k []byte, e *Enrolment, r *AuditRecord)) {
	t.tx.Bucket(bucket).ForEach(func(k, v []byte) error {
		var e Enrolment
		var r AuditRecord
		if string(bucket) == string(bucketEnrol) {
			if json.Unmarshal(v, &e) == nil {
				fn(k, &e, nil)
			}
		} else if json.Unmarshal(v, &r) == nil {
			fn(k, nil, &r)
		}
		return nil
	})
}

// uniqueNames returns names without repeats, in the order of their first
// appearance.
func uniqueNames(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
