package demo

import (
	"encoding/json"

	"github.com/lineage-audit/lineage/audit"
	"github.com/lineage-audit/lineage/store"
)

// putAudit stores an audit result as an AuditRecord keyed by the suspect.
func putAudit(tx *store.Tx, id string, r audit.Result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	against := make([]string, len(r.Results))
	for i, t := range r.Results {
		against[i] = t.Teacher
	}
	return tx.PutAudit(&store.AuditRecord{ID: id, Suspect: id, Against: against, Result: b}, store.PutOptions{})
}
