package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
// It says on stderr what it reused. A missing database holds nothing.
func adoptOlderJournal(ctx context.Context, stderr io.Writer, g *globalOptions, job string, older func(string) string, labels int) error {
	var from, reveal string
	var names map[string]string
	most := 0
	err := viewDBIfExists(ctx, g, func(tx *store.Tx) error {
		for range tx.Answers(job) {
			return nil // job has answers: it is resumed as it is
		}
		names = olderDistillJobs(older, labels, slices.Collect(tx.AnswerJobs()))
		for name, rv := range names {
			n := 0
			for range tx.Answers(name) {
				n++
			}
			if n > most || n == most && n > 0 && name < from {
				from, reveal, most = name, rv, n
			}
		}
		return nil
	})
	if err != nil || most == 0 {
		return err
	}
	moved, dropped := 0, 0
	err = updateDB(ctx, g, func(tx *store.Tx) error {
		moved, dropped = 0, 0
		for range tx.Answers(job) {
			return nil // another run began it meanwhile
		}
		batches := map[int][]byte{}
		for k, data := range tx.Answers(from) {
			if err := tx.PutAnswers(job, k, data); err != nil {
				return err
			}
			batches[k] = data
			moved++
		}
		if err := tx.DeleteAnswers(from); err != nil {
			return err
		}
		// The journals of the same distillation with other --reveal
		// that hold the same batches, byte for byte, are copies.
		for name := range names {
			if name != from && sameBatches(tx, name, batches) {
				if err := tx.DeleteAnswers(name); err != nil {
					return err
				}
				dropped++
			}
		}
		return nil
	})
	if err != nil || moved == 0 {
		return err
	}
	copies := ""
	if dropped > 0 {
		copies = fmt.Sprintf(" (%d copies of them kept under another --reveal were removed)", dropped)
		if dropped == 1 {
			copies = " (a copy of them kept under another --reveal was removed)"
		}
	}
	fmt.Fprintf(stderr, "lineage distill: reusing the %d batches of answers an earlier run with --reveal %s paid for%s: they are the teacher's answers as it gave them, which any --reveal is applied to\n", moved, reveal, copies)
	return nil
}

// sameBatches reports whether job's stored batches are exactly batches.
func sameBatches(tx *store.Tx, job string, batches map[int][]byte) bool {
	n := 0
	for k, data := range tx.Answers(job) {
		if b, ok := batches[k]; !ok || !bytes.Equal(b, data) {
			return false
		}
		n++
	}
	return n == len(batches)
}
