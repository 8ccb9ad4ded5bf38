// Package serve is an Open Inference Protocol v2 REST server (the
// KServe / Triton / MLServer "V2" API) for any model.Model:
//
//	GET  /v2/health/live             {"live":true}
//	GET  /v2/health/ready            {"ready":true}
//	GET  /v2                         server metadata
//	GET  /v2/models/NAME             model metadata (input "input" FP32 [-1,D],
//	                                 output "probabilities" FP32 [-1,K],
//	                                 parameters: labels, kind, reveal, max_batch)
//	GET  /v2/models/NAME/ready
//	POST /v2/models/NAME/infer       one FP32 input [batch,D], data flat or nested
//
// (each model endpoint also answers under /versions/V). The answer is
// what Options.Reveal reveals of the (re-tempered) distributions. Errors
// are JSON {"error":"…"}: 400 for malformed requests (bad JSON, wrong
// datatype or shape, non-finite values), 401 without the API key, 404 for
// unknown models or paths, 413 beyond the body or batch limits, 429 with
// Retry-After beyond the rate limit. Floats are written in the shortest
// form that parses back to the same float32, so clients see exactly the
// model's outputs.
package serve
