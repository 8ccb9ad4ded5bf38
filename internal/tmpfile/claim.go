package tmpfile

import (
	"errors"
	"path/filepath"
)

// ErrClaimed is returned by Claim when another live process holds the
// claim on the path: it is writing that file, over a run that takes a
// while (a training run's model, checkpoint and log).
var ErrClaimed = errors.New("another process is writing it")

// ClaimName returns the name of the claim file of path: an empty file
// beside it, named as its temporaries are (Prefix and "run"), that Claim
// holds locked for as long as a run writes path. Being one of path's
// temporaries, a claim file a forced exit left is taken over by the next
// Claim, or removed by the next Write of path once EmptyAge old (RemoveStale).
func ClaimName(path string) string {
	return filepath.Join(filepath.Dir(path), Prefix(filepath.Base(path))+"run")
}
