package tmpfile

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"
)

// Match returns a predicate for the names of target base's temporaries:
// Prefix(base) (for most targets "." + base + ".tmp"), or "." + base +
// ".tmp" for a long base whose temporaries earlier versions named so,
// followed by one or more digits or lower-case ASCII letters
// (os.CreateTemp's "*" and strconv.FormatUint(n, 36) both give such
// suffixes), or the legacy form "." + base + ".tmp-" and digits that model
// files were written under before they followed this protocol (Legacy).
func Match(base string) func(name string) bool {
	prefixes := []string{Prefix(base)}
	if full := "." + base + ".tmp"; full != prefixes[0] {
		prefixes = append(prefixes, full)
	}
	return func(name string) bool {
		for _, prefix := range prefixes {
			if matchSuffix(name, prefix) {
				return true
			}
		}
		return false
	}
}

// matchSuffix reports whether name is prefix followed by a temporary's
// suffix (see Match).
func matchSuffix(name, prefix string) bool {
	if len(name) <= len(prefix) || name[:len(prefix)] != prefix {
		return false
	}
	suffix, digits := name[len(prefix):], false
	if suffix[0] == '-' {
		suffix, digits = suffix[1:], true
	}
	if suffix == "" {
		return false
	}
	for _, c := range suffix {
		if !('0' <= c && c <= '9' || !digits && 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// maxName is the longest file name (path component) in bytes common file
// systems take, and maxSuffix the longest random suffix a temporary's
// name gets (13 base-36 digits of a uint64; os.CreateTemp's are at most
// 10 decimal digits).
const maxName, maxSuffix = 255, 13

// Prefix returns the name of target base's temporaries without their
// random suffix: "." + base + ".tmp", with base cut by FitName when the
// longest suffix would not fit in a file name otherwise (a target of 238
// bytes or more; a target name of up to 255 bytes could not be written).
func Prefix(base string) string {
	return "." + FitName(base, maxName-maxSuffix-len(".")-len(".tmp")) + ".tmp"
}

// FitName returns name cut to at most room bytes (on a rune boundary),
// ending with "~" and 8 hex digits of its SHA-256 when cut, so that long
// names that share a beginning stay apart. When room is too small for
// that, name is returned whole (the file system's error then names it).
func FitName(name string, room int) string {
	const tag = len("~") + 8
	if len(name) <= room || room <= tag {
		return name
	}
	cut := room - tag
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(name))
	return name[:cut] + "~" + hex.EncodeToString(sum[:4])
}

// LegacyAge is how long a legacy temporary (".BASE.tmp-" and digits) must
// have gone unmodified before RemoveStale removes it: the versions that
// wrote those names did not lock them, so a lock free to take does not
// show that their writer is gone.
const LegacyAge = time.Hour

// EmptyAge is how long an empty temporary whose lock is free must have
// gone unmodified before RemoveStale removes it: a writer locks its
// temporary straight after creating it, and a forced exit between the two
// (or before the first byte was flushed) left an empty temporary that no
// later write removed.
const EmptyAge = 10 * time.Second

// legacy reports whether name is a legacy temporary's (see Match).
func legacy(name string) bool {
	return strings.Contains(name, ".tmp-")
}

// RemoveStale removes the stale temporaries among the files of dir whose
// names match: regular files whose lock no process holds and that hold
// data or have been empty for EmptyAge (legacy ones also unmodified for
// LegacyAge). It is best-effort (a file it cannot open, lock or remove is left)
// and returns the paths it removed. Where advisory locks are not available
// it removes nothing.
func RemoveStale(dir string, match func(name string) bool) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var removed []string
	for _, e := range ents {
		if !e.Type().IsRegular() || !match(e.Name()) {
			continue
		}
		minAge := time.Duration(0)
		if legacy(e.Name()) {
			minAge = LegacyAge
		}
		if p := filepath.Join(dir, e.Name()); removeIfStale(p, minAge) {
			removed = append(removed, p)
		}
	}
	return removed
}
