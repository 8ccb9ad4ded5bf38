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
//
// The server also speaks the binary tensor data extension (listed as
// "binary_tensor_data" by GET /v2): a request with the
// Inference-Header-Content-Length header carries that many bytes of JSON
// followed by the input as little-endian FP32 (or FP64) bytes, declared
// by the input's "binary_data_size" parameter; a request asking for
// binary output ("binary_data": true on the output, or
// "binary_data_output": true on the request) gets the same form back.
// ParseRequest and EncodeBinaryResponse are the codec.
package serve
