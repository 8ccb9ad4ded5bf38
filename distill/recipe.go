package distill

import (
	"fmt"
	"strings"
)

// recipe is a one-line human-readable summary of the run's settings.
func (p *plan) recipe(queries int) string {
	var b strings.Builder
	hid := make([]string, len(p.hidden))
	for i, h := range p.hidden {
		hid[i] = fmt.Sprint(h)
	}
	if p.cfg.Student != nil {
		hid = hid[:0]
		for _, h := range p.cfg.Student.Sizes[1 : len(p.cfg.Student.Sizes)-1] {
			hid = append(hid, fmt.Sprint(h))
		}
	}
	if p.distill {
		b.WriteString("distill " + p.obj.lossText())
		fmt.Fprintf(&b, " alpha=%g reveal=%s transfer=%s queries=%d ",
			p.obj.Alpha, p.obj.Reveal, p.transfer, queries)
	} else {
		b.WriteString("train loss=ce(labels) ")
	}
	fmt.Fprintf(&b, "hidden=%s act=%s epochs=%d batch=%d opt=%s lr=%g sched=%s",
		strings.Join(hid, ","), p.act, p.epochs, p.batch, p.opt.Kind, p.lr, p.sched.Kind)
	if p.sched.Gamma > 0 {
		fmt.Fprintf(&b, ":%g", p.sched.Gamma) // --schedule step:GAMMA
	}
	if p.sched.Warmup > 0 {
		fmt.Fprintf(&b, " warmup=%d", p.sched.Warmup)
	}
	if p.opt.Momentum > 0 {
		fmt.Fprintf(&b, " momentum=%g", p.opt.Momentum)
	}
	if p.opt.Nesterov {
		b.WriteString(" nesterov")
	}
	if p.opt.WeightDecay > 0 {
		fmt.Fprintf(&b, " wd=%g", p.opt.WeightDecay)
	}
	if p.cfg.ClipNorm > 0 {
		fmt.Fprintf(&b, " clip=%g", p.cfg.ClipNorm)
	}
	if p.cfg.Init == "uniform" && p.cfg.Student == nil {
		b.WriteString(" init=uniform")
	}
	fmt.Fprintf(&b, " seed=%d", p.cfg.Seed)
	return b.String()
}
