package audit

// This file holds the fingerprint IDs Enroll gives a teacher and its
// controls.

import (
	"fmt"
	"strings"
)

// TeacherID is the ID Enroll gives the fingerprint of the teacher it
// enrols under name.
func TeacherID(name string) string { return name + "/teacher" }

// ShortID is id, a fingerprint ID, without the "TEACHER/" prefix Enroll
// gives the fingerprints of the teacher it enrols as teacher (the name
// tables show them by); another ID is returned as it is.
func ShortID(id, teacher string) string { return strings.TrimPrefix(id, teacher+"/") }

// ControlID is the ID Enroll gives the fingerprint of control i of the
// teacher it enrols under name.
func ControlID(name string, i int) string { return fmt.Sprintf("%s/control-%02d", name, i) }

// FingerprintIDs returns the IDs of the fingerprints Enroll stores when it
// enrols a teacher under name with options o: the teacher's (TeacherID)
// and one per control (ControlID), so that a caller can refuse a name
// whose IDs are taken before the training, not when it saves.
func (o EnrollOptions) FingerprintIDs(name string) []string {
	n := len(o.Recipes)
	if o.Recipes == nil {
		k := o.Controls
		if k == 0 {
			k = DefaultControls
		}
		n = NumControls(k)
	}
	ids := []string{TeacherID(name)}
	for i := range n {
		ids = append(ids, ControlID(name, i))
	}
	return ids
}
