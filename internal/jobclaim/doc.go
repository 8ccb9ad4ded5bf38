// Package jobclaim keeps two processes from running the same paid job at
// once: a remote probe or an API distillation whose answers lineage
// journals in its store. The journal makes a rerun after a kill ask
// nothing twice, but two runs started together (a script run with xargs
// -P, the same command in two terminals) each find no stored batch and
// each ask, and pay for, every one.
//
// Acquire takes an exclusive advisory lock (flock) on a claim file beside
// the database, named by the SHA-256 of the job's name, and writes the
// holder's process ID and start time in it. A second Acquire of the same
// job waits, polling, until the first releases it (or exits: the kernel
// drops the lock of a process killed with SIGKILL, so a crashed run never
// blocks another), then goes on, and its journal replays what the first
// stored. Where the file system has no flock, Acquire returns
// ErrUnsupported and the job runs unclaimed, as it did before.
package jobclaim

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrUnsupported is returned by Acquire when the claim file cannot be
// locked: the file system (or the system) has no advisory locks.
var ErrUnsupported = errors.New("advisory locks are not supported here")

// Name returns the claim file of job in the database at db: a hidden
// file beside it, ".BASE.job-HASH.claim", HASH the first 16 hex digits
// of the SHA-256 of job. A db that is a symbolic link (or lies under
// one) names the file it leads to, even one not made yet, so that runs
// given the link and the file share one claim.
func Name(db, job string) string {
	db = resolve(db)
	sum := sha256.Sum256([]byte(job))
	return filepath.Join(filepath.Dir(db), "."+filepath.Base(db)+".job-"+hex.EncodeToString(sum[:8])+".claim")
}

// resolve returns the path p leads to through symbolic links: its
// directory's real path and, while p names a link, the link's target,
// also when the target does not exist (a distillation claims its job
// before it opens the database, whose open then refuses such a link). It
// gives up after 40 links (a loop, which the open refuses too), returning
// where it got.
func resolve(p string) string {
	for range 40 {
		if dir, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
			p = filepath.Join(dir, filepath.Base(p))
		}
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p
		}
		target, err := os.Readlink(p)
		if err != nil {
			return p
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		p = target
	}
	return p
}
