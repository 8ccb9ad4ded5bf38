package distill

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/lineage-audit/lineage/model"
)

// LossKind names the soft term of a distillation objective: how the
// student's output is compared with the teacher's.
type LossKind string

// The loss kinds ParseLoss accepts. P is the teacher's (tempered) distribution,
// Q the student's softmax(z/T), z the student's logits.
const (
	// KL is Hinton's soft-target loss KL(P‖Q)·T².
	KL LossKind = "kl"
	// ReverseKL is KL(Q‖P)·T² (mode seeking).
	ReverseKL LossKind = "rkl"
	// JSD is the generalized Jensen–Shannon divergence JSD_β(P‖Q)·T²; see Loss.Beta.
	JSD LossKind = "jsd"
	// TV is the total variation distance ½Σ|P−Q|·T² with the subgradient
	// sign(Q−P)/2 (sign(0) = 0).
	TV LossKind = "tv"
	// MSE is the mean squared error between the student's logits and the
	// teacher's logits (1/C)Σ(z−t)²; see Objective for how t is obtained.
	MSE LossKind = "mse"
	// CE is the cross-entropy of the student (at T = 1) on the teacher's
	// argmax label.
	CE LossKind = "ce"
)

// DefaultJSDBeta is the β of "jsd" without an explicit value.
const DefaultJSDBeta = 0.5

// ErrUnknownLoss is wrapped by ParseLoss when the loss name is not one of
// kl, rkl, jsd[:β], tv, mse, ce.
var ErrUnknownLoss = errors.New("unknown loss")

// Loss is a soft-term choice. The zero Loss is KL. Beta is used only by JSD
// and must then lie strictly between 0 and 1; zero means DefaultJSDBeta.
//
// The generalized Jensen–Shannon divergence uses this convention, with P
// the teacher and Q the student:
//
//	M = βP + (1−β)Q
//	JSD_β(P‖Q) = [β·KL(P‖M) + (1−β)·KL(Q‖M)] / (β(1−β))
//
// so that JSD_β → KL(P‖Q) as β → 0 and JSD_β → KL(Q‖P) as β → 1; β = ½
// gives four times the ordinary Jensen–Shannon divergence.
type Loss struct {
	Kind LossKind `json:"kind"`
	Beta float64  `json:"beta,omitempty"`
}

// ParseLoss parses "kl", "rkl", "jsd" (β = 0.5), "jsd:β" with 0 < β < 1,
// "tv", "mse" or "ce". The empty string means "kl".
func ParseLoss(s string) (Loss, error) {
	name, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	switch LossKind(name) {
	case "":
		if hasArg {
			break
		}
		return Loss{Kind: KL}, nil
	case KL, ReverseKL, TV, MSE, CE:
		if hasArg {
			return Loss{}, fmt.Errorf("loss %q: %s takes no parameter", s, name)
		}
		return Loss{Kind: LossKind(name)}, nil
	case JSD:
		if !hasArg {
			return Loss{Kind: JSD, Beta: DefaultJSDBeta}, nil
		}
		b, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return Loss{}, fmt.Errorf("loss %q: β must be a number: %w", s, err)
		}
		if !(b > 0 && b < 1) {
			return Loss{}, fmt.Errorf("loss %q: β must lie strictly between 0 and 1", s)
		}
		return Loss{Kind: JSD, Beta: b}, nil
	}
	return Loss{}, fmt.Errorf("loss %q: %w (want kl, rkl, jsd[:β], tv, mse or ce)", s, ErrUnknownLoss)
}

// String returns l in the form ParseLoss accepts.
func (l Loss) String() string {
	switch l.Kind {
	case "":
		return string(KL)
	case JSD:
		return "jsd:" + strconv.FormatFloat(l.beta(), 'g', -1, 64)
	}
	return string(l.Kind)
}

func (l Loss) kind() LossKind {
	if l.Kind == "" {
		return KL
	}
	return l.Kind
}

func (l Loss) beta() float64 {
	if l.Beta == 0 {
		return DefaultJSDBeta
	}
	return l.Beta
}

// lossText describes the loss Row applies to a teacher row, with the
// temperature where it acts: a label-only teacher is fitted by
// cross-entropy on its top label whatever Loss says ("loss=ce(teacher
// labels)"), and ce and mse ignore the temperature.
func (o Objective) lossText() string {
	if o.Reveal.Mode == model.RevealLabel {
		return "loss=ce(teacher labels)"
	}
	if k := o.Loss.kind(); k == CE || k == MSE {
		return "loss=" + o.Loss.String()
	}
	return fmt.Sprintf("loss=%s T=%g", o.Loss, o.temperature())
}
