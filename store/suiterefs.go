package store

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/lineage-audit/lineage/fingerprint"
)

// recordSuites returns the suites v, a stored fingerprint (fp true) or
// enrolment record, refers to: the one it decodes to or, for a damaged
// record (damaged true), every suite hash a "suite" field it still shows
// names, so that a record damaged elsewhere keeps its suite in use. A
// damaged record that shows none may refer to any suite.
func recordSuites(v []byte, fp bool) (suites []string, damaged bool) {
	if fp {
		if s, err := fingerprint.SuiteOf(v); err == nil { // not the outputs
			return []string{s}, false
		}
	} else {
		var e Enrolment
		if json.Unmarshal(v, &e) == nil {
			return []string{e.Suite}, false
		}
	}
	return suiteFields(v), true
}

// suiteFields returns the values of the "suite" fields, as JSON encodes
// them without spaces, that are suite hashes (64 lower-case hex digits)
// in v, a record too damaged to decode.
func suiteFields(v []byte) []string {
	const key, n = `"suite":"`, 64
	var out []string
	for rest := v; ; {
		i := bytes.Index(rest, []byte(key))
		if i < 0 {
			return out
		}
		rest = rest[i+len(key):]
		if len(rest) > n && rest[n] == '"' && len(bytes.Trim(rest[:n], "0123456789abcdef")) == 0 {
			out = append(out, string(rest[:n]))
		}
	}
}

// suiteUsers lists the enrolments and fingerprints that use the suite
// hash, each as "enrolment NAME" or "fingerprint ID". A damaged record
// (recordSuites) is listed, as "damaged enrolment NAME" or "damaged
// fingerprint ID", when a "suite" field it still shows names hash, or
// when it shows none, since it may then use any suite: a purge keeps the
// suite, and `db rm suite` removes it only with --force.
func (t *Tx) suiteUsers(hash string) []string {
	var users []string
	list := func(kind string, fp bool) func(k, v []byte) error {
		return func(k, v []byte) error {
			suites, damaged := recordSuites(v, fp)
			switch {
			case !damaged && suites[0] == hash:
				users = append(users, kind+" "+string(k))
			case damaged && (len(suites) == 0 || slices.Contains(suites, hash)):
				users = append(users, "damaged "+kind+" "+string(k))
			}
			return nil
		}
	}
	t.tx.Bucket(bucketEnrol).ForEach(list("enrolment", false))
	t.tx.Bucket(bucketFPs).ForEach(list("fingerprint", true))
	return users
}
