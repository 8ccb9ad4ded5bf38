// Package model holds lineage's models: the Model interface every
// classifier (local or remote) implements, the MLP that lineage trains and
// distills, its numeric kernels, serving-time wrappers and file formats.
//
// # MLP
//
// An MLP is a fully connected network with ReLU, tanh or GELU hidden
// layers (GELU is the exact erf form x·Φ(x), like PyTorch's default
// nn.GELU) and a softmax output. Its parameters live in one flat []float32,
// Theta, laid out W0, B0, W1, B1, ... with each weight out×in row-major
// (PyTorch nn.Linear layout), so optimisers can work on a single slice.
// Inputs are normalised by (x-Mean)/Std before layer 0.
//
// Forward and Backward run a batch through the network with a reusable
// Tape, which does not allocate in steady state; Backward accumulates
// dL/dTheta and, on request, dL/dx in raw input space (for adversarial
// probes). Matrix products go through gonum's blas32.Gemm: pure Go by
// default, OpenBLAS when built with -tags openblas (cgo and
// libopenblas-dev; see BLASImplementation). In the pure-Go build on amd64
// with AVX, Backward's two products (aᵀ·b for the weights, a·b for the
// inputs) run on AVX kernels of this package instead (gemm.go), which give
// gonum's bits exactly, several times faster on training's small matrices;
// -tags purego leaves them to gonum too.
//
// Predict is the serving path: it is safe for concurrent use, checks its
// context between chunks of rows and returns softmax probabilities.
//
// # Kernels
//
// LogSoftmax, Softmax, SoftmaxRows, SoftmaxT and Retemper are stable
// (max-subtracted, float64 sums) and finite for huge logits.
//
// # Wrappers
//
// WithReveal restricts what a model reveals (full distribution, top-k,
// label only; see ParseReveal), WithTemperature re-tempers its outputs.
//
// # Files
//
// The native format, .lnm (Save, Load, Encode, Decode), is: the 8 magic
// bytes "LNM1\n\x00\x00\x00", a uint32 little-endian format version (1), a
// uint32 little-endian header length, a JSON header (name, sizes,
// activation, labels, normalization, provenance, params, in that order),
// len(Theta) little-endian float32s and the SHA-256 of all preceding
// bytes. Encoding is deterministic, and Info().Hash is the SHA-256 of it.
// Malformed files give a *FormatError wrapping ErrMagic, ErrVersion,
// ErrTruncated, ErrChecksum or ErrHeader.
//
// Safetensors files (SaveSafetensors, LoadSafetensors) hold the tensors
// layers.{i}.weight [out, in] and layers.{i}.bias [out]; lineage's
// metadata (activation, labels, normalization, ...) travels in
// __metadata__ and defaults to relu, labels "0".."K-1" and no
// normalisation when absent, so plain PyTorch exports load too.
//
// Open opens a model file by extension; a Resolver adds URL schemes (for
// remote models) and further formats without global registration.
package model
