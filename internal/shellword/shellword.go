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

// Command returns the command line a message suggests to act on the
// record name: cmd (its words as they are, such as "lineage db rm
// enrolment"), name as one word (Arg) and flags, in that order. A name
// starting with '-' (which only older stores or imports hold) would be read
// as a flag, so the command then puts the flags first and "--" before the
// name: "lineage db rm enrolment --purge -- -x".
func Command(cmd, name string, flags ...string) string { return command(cmd, name, Arg(name), flags) }

// QuotedCommand is Command with name always between apostrophes (Quote),
// as a journal's name is written.
func QuotedCommand(cmd, name string, flags ...string) string {
	return command(cmd, name, Quote(name), flags)
}

// command joins cmd, word (name as the caller quoted it) and flags, putting
// the flags and "--" before word when name starts with '-'.
func command(cmd, name, word string, flags []string) string {
	words := []string{cmd}
	if strings.HasPrefix(name, "-") {
		words = append(append(words, flags...), "--", word)
	} else {
		words = append(append(words, word), flags...)
	}
	return strings.Join(words, " ")
}
