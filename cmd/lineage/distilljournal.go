package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"iter"
	"maps"
	"slices"
	"strings"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/store"
)

// distillJob names the journal of an API distillation of teacher on the
// training split trainHash (see journalJob). The journal keeps the
// teacher's answers as it gave them (after the softmax of --logits, from
// the output --output chose): --reveal is applied to them afterwards, so
// the journal serves a distillation with any --reveal, and its name has
// no part for it. reveal, when not "", puts that part back, as lineage
// before 7 December 2026 named the journal ("reveal=full").
func distillJob(o *distillOptions, teacher remote.Model, trainHash, reveal string) string {
	parts := []string{trainHash[:16], "transfer=" + o.transfer}
	if reveal != "" {
		parts = append(parts, "reveal="+reveal)
	}
	parts = append(parts, fmt.Sprintf("queries=%d:jitter=%g:seed=%d", o.queries, o.jitter, o.seed))
	if o.remote.logits {
		parts = append(parts, "outputs=logits") // answers are journalled after the softmax
	}
	if read := journalOutput(teacher, &o.remote); read != "" {
		parts = append(parts, "output="+read) // another output's answers are not these
	}
	return journalJob("distill", o.teacher, parts...)
}

// olderDistillJobs returns the names older lineage gave the journal job
// (distillJob), one per --reveal (every one ParseReveal takes for a
// teacher of labels labels, and any other spelling found among jobs, the
// store's journals), with the reveal each stands for.
func olderDistillJobs(older func(reveal string) string, labels int, jobs []string) map[string]string {
	out := map[string]string{}
	add := func(rv string) {
		if _, err := model.ParseReveal(rv); err == nil {
			out[older(rv)] = rv
		}
	}
	add("full")
	add("label")
	for k := 1; k <= labels; k++ {
		add(fmt.Sprintf("topk:%d", k))
	}
	// A name too long for a key is hashed whole: only the spellings
	// above are found then.
	if pre, suf, ok := strings.Cut(older("\x00"), "\x00"); ok {
		for _, j := range jobs {
			if len(j) > len(pre)+len(suf) && strings.HasPrefix(j, pre) && strings.HasSuffix(j, suf) {
				if rv := j[len(pre) : len(j)-len(suf)]; older(rv) == j {
					add(rv)
				}
			}
		}
	}
	return out
}

// adoptOlderJournal moves into job the journal older lineage kept of the
// same distillation under another name (see distillJob) when job has no
// answers yet: the batches of the one with the most, in one transaction.
// It also removes the other older journals all of whose batches job then
// holds, byte for byte (heldBy: a copy, or the part a run with another
// --reveal paid for before it stopped), whether or not job had answers
// before; an older journal with a batch job lacks is kept, since those
// answers were paid for. It says on stderr what it reused and removed. A
// missing database holds nothing.
func adoptOlderJournal(ctx context.Context, stderr io.Writer, g *globalOptions, job string, older func(string) string, labels int) error {
	var from, reveal string
	var names map[string]string
	most, held := 0, 0
	err := viewDBIfExists(ctx, g, func(tx *store.Tx) error {
		names = olderDistillJobs(older, labels, slices.Collect(tx.AnswerJobs()))
		var have map[int][]byte // job's batches, read once an older journal is found
		for name, rv := range names {
			n := 0
			for range tx.Answers(name) {
				n++
			}
			if n > 0 && have == nil {
				have = batchesOf(tx, job)
			}
			switch {
			case n == 0:
			case len(have) > 0:
				if heldBy(tx, name, have) {
					held++
				}
			case n > most || n == most && name < from:
				from, reveal, most = name, rv, n
			}
		}
		return nil
	})
	if err != nil || most == 0 && held == 0 {
		return err
	}
	moved, dropped := 0, 0
	err = updateDB(ctx, g, func(tx *store.Tx) error {
		moved, dropped = 0, 0
		have := batchesOf(tx, job)
		if len(have) == 0 && from != "" { // else another run began it meanwhile
			for k, data := range tx.Answers(from) {
				if err := tx.PutAnswers(job, k, data); err != nil {
					return err
				}
				have[k] = data
				moved++
			}
			if err := tx.DeleteAnswers(from); err != nil {
				return err
			}
		}
		for name := range names {
			if name != from && heldBy(tx, name, have) {
				if err := tx.DeleteAnswers(name); err != nil {
					return err
				}
				dropped++
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	removed := ""
	switch dropped {
	case 0:
	case 1:
		removed = "a journal kept under another --reveal, all of whose answers this one holds, was removed"
	default:
		removed = fmt.Sprintf("%d journals kept under other --reveal, all of whose answers this one holds, were removed", dropped)
	}
	switch {
	case moved > 0 && removed != "":
		removed = " (" + removed + ")"
	case removed != "":
		fmt.Fprintf(stderr, "lineage distill: %s\n", removed)
	}
	if moved > 0 {
		fmt.Fprintf(stderr, "lineage distill: reusing the %d batches of answers an earlier run with --reveal %s paid for%s: they are the teacher's answers as it gave them, which any --reveal is applied to\n", moved, reveal, removed)
	}
	return nil
}

// batchesOf returns job's stored batches by number (empty, not nil, for a
// job with none).
func batchesOf(tx *store.Tx, job string) map[int][]byte {
	out := map[int][]byte{}
	for k, data := range tx.Answers(job) {
		out[k] = data
	}
	return out
}

// heldBy reports whether job has stored batches and batches holds every
// one of them, byte for byte: removing job then loses no answer.
func heldBy(tx *store.Tx, job string, batches map[int][]byte) bool {
	n := 0
	for k, data := range tx.Answers(job) {
		if b, ok := batches[k]; !ok || !bytes.Equal(b, data) {
			return false
		}
		n++
	}
	return n > 0
}

// sharedDistillJob returns the name of the journal every --reveal shares
// (distillJob with reveal "") for job, the name older lineage gave a
// distillation's journal with its --reveal, and false for any other name
// (one hashed whole shows no reveal part).
func sharedDistillJob(job string) (string, bool) {
	if !strings.HasPrefix(job, "distill:") {
		return "", false
	}
	t := strings.Index(job, ":transfer=")
	if t < 0 {
		return "", false
	}
	r := strings.Index(job[t+1:], ":reveal=")
	if r < 0 {
		return "", false
	}
	r += t + 1
	q := strings.Index(job[r+1:], ":queries=")
	if q < 0 {
		return "", false
	}
	q += r + 1
	if _, err := model.ParseReveal(job[r+len(":reveal=") : q]); err != nil {
		return "", false
	}
	return job[:r] + job[q:], true
}

// heldDistillJournals lists, in key order, the journals older lineage kept
// of a distillation with its --reveal whose every batch the journal of the
// same distillation that every --reveal shares now holds, byte for byte:
// nothing resumes them (a distillation reads the shared one) and removing
// them loses no answer. adoptOlderJournal removes them when that
// distillation runs again.
func heldDistillJournals(tx *store.Tx) []string {
	return heldJournalsBy(tx.AnswerJobs(), func(job string) map[int][]byte { return batchesOf(tx, job) },
		func(job string, batches map[int][]byte) bool { return heldBy(tx, job, batches) })
}

// heldJournalsBy is heldDistillJournals over the journal names jobs, with
// read returning a journal's batches and held reporting whether batches
// hold every one of job's. The older journals are grouped by the shared
// journal they point to first, so that each shared journal is read once
// and only one's batches are held at a time: a store of several large
// distillations needs the memory of the largest, not of their sum.
func heldJournalsBy(jobs iter.Seq[string], read func(job string) map[int][]byte, held func(job string, batches map[int][]byte) bool) []string {
	groups := map[string][]string{} // shared journal → its older journals
	for job := range jobs {
		if shared, ok := sharedDistillJob(job); ok {
			groups[shared] = append(groups[shared], job)
		}
	}
	var out []string
	for _, shared := range slices.Sorted(maps.Keys(groups)) {
		batches := read(shared)
		for _, job := range groups[shared] {
			if held(job, batches) {
				out = append(out, job)
			}
		}
	}
	slices.Sort(out)
	return out
}
