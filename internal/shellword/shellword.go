// Package shellword writes the words of the POSIX shell commands lineage's
// messages suggest (`lineage db rm fingerprint NAME`), so that a name a
// user chose reaches the command as one word, itself, when the command is
// pasted into a shell.
package shellword

import "strings"

// Quote returns s between apostrophes, each apostrophe of s closing the
// quotes, escaped, and reopening them: one word for a POSIX shell, whatever
// s holds.
func Quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// plain holds the bytes no POSIX shell gives a meaning inside a word.
const plain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/:@%+,-"

// Arg returns s as one word: as it is when it holds only letters, digits
// and the marks that no shell gives a meaning there (so a plain name reads
// as it is), quoted by Quote otherwise (a name with a space, an apostrophe
// or a '$', say, or the empty name).
func Arg(s string) string {
	if s == "" || strings.TrimLeft(s, plain) != "" {
		return Quote(s)
	}
	return s
}
