package model

import (
	"context"

	"gonum.org/v1/gonum/blas/blas32"
)

// Kind says what a model's inputs and outputs are.
type Kind string

// The kinds of model lineage knows. Only classifiers are built today; the
// language-model kind is reserved for token-sequence models (GGUF Llama,
// OpenAI-compatible endpoints), whose output vocabulary is their tokens.
const (
	Classifier    Kind = "classifier"
	LanguageModel Kind = "language-model"
)

// Info is a model's metadata. A zero Hash means the content is unknown
// (for example a remote model that does not publish its weights); a zero
// Params likewise means the parameter count is unknown.
type Info struct {
	Name      string   `json:"name"`
	Kind      Kind     `json:"kind"`
	InputSize int      `json:"input_size"` // features per input; 0 for token models
	Labels    []string `json:"labels"`     // the declared, finite output vocabulary
	Params    int      `json:"params"`
	Hash      string   `json:"hash,omitempty"`   // hex SHA-256 of the model content
	Source    string   `json:"source,omitempty"` // file path or URL, credentials stripped
}

// Model is anything that maps a batch of inputs to one probability
// distribution per input over Info().Labels.
//
// Predict takes x as a row-major batch (x.Rows inputs of x.Cols =
// Info().InputSize raw features each, before any normalisation the model
// applies itself) and returns a new x.Rows × len(Info().Labels) matrix whose
// rows are probability distributions. It must be safe for concurrent use.
type Model interface {
	Info() Info
	Predict(ctx context.Context, x blas32.General) (blas32.General, error)
}
