package audit

import (
	"github.com/lineage-audit/lineage/fingerprint"
)

// MinDataProbes is the number of held-out data probes among the contrast
// probes that dataContrastP needs.
const MinDataProbes = 10

// dataContrastP returns the p-value of the replica contrast of suspect
// measured on the held-out data probes alone (contrastPanel.dataValue)
// against the trained null of r (its independent controls and references,
// the under-trained ones left out): the larger of the robust predictive
// p-value (compare.Test) and the hardest family's (worstFamilyP). ok is
// false when the case has no replica contrast, fewer than MinDataProbes
// data probes, or too few null models.
//
// Why: a server that answers the inputs its copy is unsure of with another
// model, and the rest with the copy, answers nearly the whole suite (chosen
// near the teacher's boundaries) with the other model, and was cleared (an
// evasion hunt: three KD copies routed to a 91 %-accurate model at a top-2
// gap of 0.9, p 0.18–0.39, at 3 points of accuracy). On the data probes
// such a server answers with the copy, and a copy there still sides with
// the teacher rather than its replicas (z 3.1–4.4 against the independent
// controls, whose largest was 3.0). Audits read it before clearing a
// suspect (see TeacherResult.DataP), never to find one derived.
func (c *Case) dataContrastP(r *reference, suspect *fingerprint.Fingerprint) (p float64, ok bool, err error) {
	cp := c.contrast()
	if cp == nil || len(cp.data) < MinDataProbes {
		return 1, false, nil
	}
	return c.guardP(r, suspect, cp.dataValue, nil)
}
