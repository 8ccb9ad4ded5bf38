// Package tmpfile tells the temporary files of interrupted atomic writes
// from those a live process is still writing, and removes the first.
//
// An atomic write builds its output under a temporary name beside the
// target (".BASE.tmp", shortened for a long BASE, see Prefix, and a
// random suffix of digits and lower-case letters) and renames or links it into place; a forced exit (a second
// Ctrl-C, SIGKILL, a crash) leaves the temporary behind. A writer that
// follows this package's protocol holds an exclusive advisory lock (flock)
// on its temporary from before its first byte until the temporary has
// been put in place or removed: Lock for a plain file, bbolt's own lock for
// a database file it opens read-write. RemoveStale removes only temporaries
// whose lock it can take at once and that hold data, or are empty and
// have not been modified for EmptyAge, so it never takes the temporary of
// a live writer: an empty one may be a writer's that has created it and
// not locked it yet, which takes microseconds.
package tmpfile
