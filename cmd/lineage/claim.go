package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/lineage-audit/lineage/internal/jobclaim"
)

// errStoredMeanwhile is returned by fingerprintJournaled when the
// fingerprint it is to take was stored by the run of the same job it
// waited for: the command's checks of a stored fingerprint apply again.
var errStoredMeanwhile = errors.New("stored meanwhile by the run this one waited for")

// claimJob claims the remote job (a journal's name) in the database for
// the command cmd (jobclaim.Acquire), so that two runs of the same job at
// once do not both pay for its answers: a run that finds the job claimed
// says so on stderr and waits for the other to end, then replays what it
// stored. release ends the claim; waited reports whether there was a
// wait. Ctrl-C while waiting returns an interrupted error saying nothing
// was asked. Where the job cannot be claimed (no advisory locks on the
// database's file system, no claim file beside it), the job runs
// unclaimed, with a note.
func claimJob(ctx context.Context, stderr io.Writer, cmd string, g *globalOptions, job string) (release func(), waited bool, err error) {
	holder := ""
	release, waited, err = jobclaim.Acquire(ctx, g.dbPath(), job, "lineage "+cmd, func(h string) {
		if h == "" {
			h = "another process"
		}
		holder = h
		fmt.Fprintf(stderr, "lineage %s: another run is asking the same model the same questions (%s); waiting for it to end so that they are not paid for twice, then its answers are replayed from %s (Ctrl-C stops waiting)\n", cmd, h, g.dbPath())
	})
	switch {
	case err == nil:
		return release, waited, nil
	case waited && ctx.Err() != nil:
		return nil, waited, interrupted{fmt.Sprintf("nothing was asked while waiting for the other run of the same job (%s)", holder), err}
	case ctx.Err() != nil:
		return nil, waited, err
	}
	// No lock on this file system, or no claim file beside the database
	// (a directory this user cannot write, where the database file is
	// writable, or a claim path that is a directory): the job runs as it
	// did before claims, and can store its answers, so the note is all
	// the user sees. A database that cannot be written (a missing
	// directory, a link leading to no file) was refused before the claim
	// (checkWritable), in one line without this note.
	fmt.Fprintf(stderr, "lineage %s: %v: two runs of this job at once would each ask the model everything\n", cmd, err)
	return func() {}, false, nil
}

// probeClaim names the claim of the remote probe of ref on the suite
// suiteHash under the fingerprint ID id: the job without the parts for the
// labels and outputs (see fingerprintJournaled), so that two runs of one
// fingerprint ID clash whatever they read.
func probeClaim(ref, suiteHash, id string) string { return journalJob("probe", ref, suiteHash, id) }

// claimOrder returns the indices 0 to n-1 in the order of the claims
// claim(i) names: the order in which a command that holds each claim until
// it has taken the next (an audit with --save of a remote model against
// several teachers) must take them. Two such runs that took them in their
// own orders (--against acme,beta and --against beta,acme) each held one
// and waited, for ever, for the one the other held.
func claimOrder(n int, claim func(i int) string) []int {
	order := make([]int, n)
	keys := make([]string, n)
	for i := range order {
		order[i], keys[i] = i, claim(i)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(keys[a], keys[b]) })
	return order
}
