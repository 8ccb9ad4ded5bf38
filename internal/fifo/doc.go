// Package fifo makes named pipes for tests that check how lineage treats a
// path that is not a regular file. Make returns an error wrapping
// errors.ErrUnsupported on systems without named pipes (Windows), so that
// such tests skip there and the packages' tests still build.
package fifo
