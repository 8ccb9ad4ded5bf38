package distill

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ScheduleKind names a learning-rate schedule.
type ScheduleKind string

// The schedules.
const (
	Constant ScheduleKind = "constant" // lr = Base
	// Step multiplies the rate by Gamma every StepSize steps.
	Step ScheduleKind = "step"
	// Cosine decays from Base to Min along half a cosine over the steps
	// after warm-up.
	Cosine ScheduleKind = "cosine"
)

// Schedule maps an optimizer step (0-based) to a learning rate. Every kind
// first ramps linearly from Base/Warmup to Base over the first Warmup steps
// (Warmup zero: no warm-up). The zero Schedule is constant with Base 0, so
// callers set Base; Gamma zero means 0.1 and StepSize zero means Total/3
// (at least 1).
type Schedule struct {
	Kind     ScheduleKind `json:"kind"`
	Base     float64      `json:"base"`
	Min      float64      `json:"min,omitempty"`       // cosine floor
	Total    int          `json:"total,omitempty"`     // total steps (cosine, default step size)
	Warmup   int          `json:"warmup,omitempty"`    // linear warm-up steps
	StepSize int          `json:"step_size,omitempty"` // step schedule period
	Gamma    float64      `json:"gamma,omitempty"`     // step schedule factor
}

// ParseSchedule parses "constant", "step", "step:GAMMA", "cosine" (the
// empty string means "cosine"); numeric fields other than Gamma are left
// for the caller.
func ParseSchedule(s string) (Schedule, error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	switch ScheduleKind(name) {
	case "", Cosine:
		if !hasArg {
			return Schedule{Kind: Cosine}, nil
		}
	case Constant:
		if !hasArg {
			return Schedule{Kind: Constant}, nil
		}
	case Step:
		if !hasArg {
			return Schedule{Kind: Step}, nil
		}
		g, err := strconv.ParseFloat(arg, 64)
		if err != nil || !(g > 0 && g <= 1) {
			return Schedule{}, fmt.Errorf("schedule %q: gamma must be a number in (0,1]", s)
		}
		return Schedule{Kind: Step, Gamma: g}, nil
	}
	return Schedule{}, fmt.Errorf("schedule %q: want constant, step[:gamma] or cosine", s)
}

// LR returns the learning rate at step t (0-based).
func (s Schedule) LR(t int) float64 {
	if s.Warmup > 0 && t < s.Warmup {
		return s.Base * float64(t+1) / float64(s.Warmup)
	}
	switch s.Kind {
	case Step:
		size := s.StepSize
		if size <= 0 {
			size = max(s.Total/3, 1)
		}
		g := s.Gamma
		if g == 0 {
			g = 0.1
		}
		return s.Base * math.Pow(g, float64((t-s.Warmup)/size))
	case Cosine:
		span := s.Total - s.Warmup
		if span <= 0 {
			return s.Base
		}
		frac := math.Min(float64(t-s.Warmup)/float64(span), 1)
		return s.Min + (s.Base-s.Min)*0.5*(1+math.Cos(math.Pi*frac))
	}
	return s.Base
}
