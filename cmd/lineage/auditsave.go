package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/internal/jsonnum"
	"github.com/lineage-audit/lineage/internal/shellword"
	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/store"
)

// checkSaveNames checks, for audit MODEL --save, the names the audit will
// store under: a fingerprint stored under ids[i] (or, when none is, under
// the ID an audit against one teacher or several gave it, NAME or
// NAME@TEACHER, which then replaces ids[i]) taken from this model (info,
// opened from ref) on case i's suite is put in suspects[i], to be used as
// it is; one of another model or suite is an error, and so is an
// audit record named name that measured another model (replacing it would
// drop that model's results, or merge two models into one suspect).
func checkSaveNames(tx *store.Tx, ref string, info model.Info, rd reading, name string, cases []*audit.Case, ids []string, suspects []*fingerprint.Fingerprint) error {
	for i, id := range ids {
		if !tx.HasFingerprint(id) {
			// An earlier audit under this name against one teacher stored
			// NAME, against several NAME@TEACHER: the same model's answers
			// on this suite under the other ID serve as well.
			alt := name
			if id == name {
				alt = name + "@" + cases[i].Enrolment.Name
			}
			if fp, err := tx.Fingerprint(alt); err == nil && takenFrom(fp, cases[i].Suite.Hash, ref, info, 0, rd) {
				suspects[i], ids[i] = fp, alt
			}
			continue
		}
		fp, err := tx.Fingerprint(id)
		if err != nil {
			return suiteGone(fmt.Errorf("--save: %w", err), func(rm string) string {
				return "choose another --name, or remove it with `" + rm + "`"
			})
		}
		if !takenFrom(fp, cases[i].Suite.Hash, ref, info, 0, rd) {
			return fmt.Errorf("--save: fingerprint %q: %w (taken from %s on suite %.12s%s); choose another --name, or remove it with `%s`",
				id, store.ErrExists, cmp.Or(fp.Model.Source, "model "+fp.Model.Name), fp.Suite, outputsNote(fp, ref, rd), shellword.Command("lineage db rm fingerprint", id))
		}
		suspects[i] = fp
	}
	other, err := otherModelIn(tx, name, func(fp *fingerprint.Fingerprint) bool { return sameModel(fp, ref, info) })
	if err != nil || other == nil {
		return err
	}
	return fmt.Errorf("--save: suspect name %q is taken by the audit record of another model (fingerprint %q, taken from %s); choose another --name, or remove the record with `%s`",
		name, other.ID, cmp.Or(other.Model.Source, "model "+other.Model.Name), shellword.Command("lineage db rm audit", name))
}

// otherModelIn returns the first stored fingerprint the audit record name
// measured that is not of the model same recognises, or nil (also when
// there is no such record). A fingerprint no longer stored cannot tell,
// and does not count.
func otherModelIn(tx *store.Tx, name string, same func(*fingerprint.Fingerprint) bool) (*fingerprint.Fingerprint, error) {
	old, err := tx.Audit(name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, id := range old.Measured() {
		if fp, err := tx.Fingerprint(id); err == nil && !same(fp) {
			return fp, nil
		}
	}
	return nil, nil
}

// saves reports whether the audit is recorded: always for a stored
// fingerprint (unless --dry-run), and with --save for a model (its
// fingerprints too).
func (o *auditOptions) saves(storedFP bool) bool {
	return !o.dryRun && (storedFP || o.save)
}

// saveAudit records the audit when o.saves, and calls dones (which drop
// the journals of the fingerprints taken) in the same transaction.
func saveAudit(ctx context.Context, g *globalOptions, o *auditOptions, storedFP bool, res audit.Result, suspects []*fingerprint.Fingerprint, dones []func(*store.Tx) error, work time.Duration) error {
	if !o.saves(storedFP) {
		return nil
	}
	var first string
	for _, fp := range suspects {
		if fp != nil {
			first = fp.ID
			break
		}
	}
	if first == "" {
		return nil // nothing was fingerprinted on any teacher's suite
	}
	raw, err := jsonnum.MarshalIndent(res)
	if err != nil {
		return err
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return err
	}
	rec := &store.AuditRecord{ID: res.Suspect, Suspect: first, Result: compact.Bytes(),
		Created: time.Now().UTC().Format(time.RFC3339Nano)}
	for i, tr := range res.Results {
		// The teachers the suspect was measured against, and on which of
		// its fingerprints: `db ls audit` lists them, an audit says nothing
		// about the others, and the report tells the suspect's
		// fingerprints from other suspects by them.
		if tr.Measured() && suspects[i] != nil {
			rec.Against = append(rec.Against, tr.Teacher)
			rec.Fingerprints = append(rec.Fingerprints, suspects[i].ID)
		}
	}
	return commitDB(ctx, g, work, func(tx *store.Tx) error {
		if !storedFP {
			for _, fp := range suspects {
				if fp == nil {
					continue
				}
				// The same model's fingerprint again is a no-op; another
				// model's stored under this ID is not silently replaced.
				if err := tx.PutFingerprint(fp, store.PutOptions{}); err != nil {
					if errors.Is(err, store.ErrExists) {
						return fmt.Errorf("--save: %w; remove it with `%s` and rerun (a remote model's answers are kept, and the rerun asks it nothing again), or choose another --name", err, shellword.Command("lineage db rm fingerprint", fp.ID))
					}
					return err
				}
			}
		}
		if storedFP {
			if err := checkRecordModel(tx, res.Suspect, suspects); err != nil {
				return err
			}
		}
		id, err := auditRecordID(tx, res.Suspect, rec.Against)
		if err != nil {
			return err
		}
		rec.ID = id
		if err := tx.PutAudit(rec, store.PutOptions{Replace: true}); err != nil {
			return fmt.Errorf("record the audit: %w", err)
		}
		// In the transaction that stores the fingerprints: an interruption
		// between the two would leave a journal whose rerun clashes with
		// the stored fingerprints.
		for _, done := range dones {
			if err := done(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// checkRecordModel fails when the audit record named name holds the
// results of another model than the stored fingerprint audited (the first
// of suspects): recording this audit would replace them.
func checkRecordModel(tx *store.Tx, name string, suspects []*fingerprint.Fingerprint) error {
	i := slices.IndexFunc(suspects, func(fp *fingerprint.Fingerprint) bool { return fp != nil })
	if i < 0 {
		return nil
	}
	cur := suspects[i]
	other, err := otherModelIn(tx, name, func(fp *fingerprint.Fingerprint) bool { return fp.ID == cur.ID || sameInfo(fp.Model, cur.Model) })
	if err != nil || other == nil {
		return err
	}
	return fmt.Errorf("audit record %q holds the results of another model (fingerprint %q) under the suspect name %q: recording this audit would replace them or mix the two models in the report; remove it with `%s`, or audit with --dry-run", name, other.ID, name, shellword.Command("lineage db rm audit", name))
}

// auditRecordID returns the ID an audit of suspect measured against
// teachers is recorded under: the suspect's name, which a later audit of
// it replaces, unless the record of that name holds results for teachers
// this audit leaves out (an audit restricted with --against), which
// replacing it would drop from the report. Then it is "NAME against
// T1,T2" (the teachers in order, a name holding a comma or a quote quoted
// as store.JoinNames does; the report shows the latest result per suspect
// and teacher across records), or, when that is longer than a name may be
// or names a record of other teachers, "NAME against" the teachers'
// SHA-256 prefix.
func auditRecordID(tx *store.Tx, suspect string, teachers []string) (string, error) {
	old, err := tx.Audit(suspect)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return suspect, nil
	case err != nil:
		return "", err
	}
	covered := true
	for _, t := range old.Against {
		// A teacher removed since holds nothing the report would show.
		_, gone := tx.Enrolment(t)
		covered = covered && (slices.Contains(teachers, t) || errors.Is(gone, store.ErrNotFound))
	}
	if covered {
		return suspect, nil
	}
	sorted := slices.Sorted(slices.Values(teachers))
	id := suspect + " against " + store.JoinNames(sorted, ",")
	if legacy := suspect + " against " + strings.Join(sorted, ","); legacy != id {
		// Recorded before names holding a comma were quoted: the same
		// teachers' record is replaced, not left beside the new one.
		if r, err := tx.Audit(legacy); err == nil && slices.Equal(slices.Sorted(slices.Values(r.Against)), sorted) {
			return legacy, nil
		}
	}
	// A record of other teachers under that ID (one recorded before
	// quoting, for a teacher named "x,y" where these are x and y) is kept.
	if r, err := tx.Audit(id); len(id) > store.MaxNameBytes || err == nil && !slices.Equal(slices.Sorted(slices.Values(r.Against)), sorted) {
		sum := sha256.Sum256([]byte(strings.Join(sorted, "\x00")))
		id = fmt.Sprintf("%s against %x", strings.ToValidUTF8(suspect[:min(len(suspect), store.MaxNameBytes-30)], ""), sum[:6])
	}
	return id, nil
}
