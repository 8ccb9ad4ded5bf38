package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lineage-audit/lineage/fingerprint"
	"github.com/lineage-audit/lineage/probe"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/serve"
	"github.com/lineage-audit/lineage/store"
	"gonum.org/v1/gonum/blas/blas32"
)

// TestProbeChosenOutput checks a model with two probability outputs: probe
// reads the first listed and says so on stderr (it said nothing), --output
// reads the other, and a fingerprint read from one output is not taken
// for the other's.
func TestProbeChosenOutput(t *testing.T) {
	answers := map[string][]float32{"uniform": {1. / 3, 1. / 3, 1. / 3}, "calibrated": {0.2, 0.3, 0.5}}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reply := func(v any) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(v)
		}
		switch r.URL.Path {
		case "/v2":
			reply(map[string]any{"name": "two", "extensions": []string{}})
		case "/v2/models/m":
			outs := []map[string]any{{"name": "uniform", "datatype": "FP32", "shape": []int{-1, 3}}, {"name": "calibrated", "datatype": "FP32", "shape": []int{-1, 3}}}
			reply(map[string]any{"name": "m", "inputs": []map[string]any{{"name": "x", "datatype": "FP32", "shape": []int{-1, 2}}}, "outputs": outs,
				"parameters": map[string]any{"labels": []string{"0", "1", "2"}}})
		case "/v2/models/m/infer":
			var req serve.InferenceRequest
			if err := json.NewDecoder(r.Body).Decode(&req); err != nil || len(req.Inputs) != 1 || len(req.Outputs) != 1 || answers[req.Outputs[0].Name] == nil {
				w.WriteHeader(http.StatusBadRequest)
				reply(map[string]string{"error": "want one input and one known output"})
				return
			}
			n := int(req.Inputs[0].Shape[0])
			p := blas32.General{Rows: n, Cols: 3, Stride: 3}
			for range n {
				p.Data = append(p.Data, answers[req.Outputs[0].Name]...)
			}
			w.Header().Set("Content-Type", "application/json")
			w.Write(serve.EncodeResponse(nil, "m", req.ID, p))
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	url := ts.URL + "/v2/models/m"
	path := tinyEnrolments(t, 4, "acme") // 4 probes, 2 inputs, labels 0 1 2
	_, stderr, code := runCLI(t, "--db", path, "probe", url, "--suite", "acme", "--name", "first")
	if want := `lists other outputs lineage could read (calibrated): its answers were read from "uniform" (--output NAME reads another)`; code != 0 || !strings.Contains(stderr, want) {
		t.Errorf("probe: exit %d, stderr %q; want 0 and %q", code, stderr, want)
	}
	_, stderr, code = runCLI(t, "--db", path, "probe", url, "--suite", "acme", "--name", "first", "--output", "calibrated")
	if want := `from output "uniform" (without --output)`; code != 1 || !strings.Contains(stderr, want) {
		t.Errorf("probe --output under the name of the default output's fingerprint: exit %d, stderr %q; want 1 and %q", code, stderr, want)
	}
	if _, stderr, code = runCLI(t, "--db", path, "probe", url, "--suite", "acme", "--name", "chosen", "--output", "calibrated"); code != 0 {
		t.Fatalf("probe --output calibrated: exit %d, stderr %q", code, stderr)
	}
	if _, stderr, code = runCLI(t, "--db", path, "probe", url, "--suite", "acme", "--name", "x", "--output", "nosuch"); code != 1 || !strings.Contains(stderr, `output "nosuch": the model lists no such output (it lists "uniform", "calibrated")`) {
		t.Errorf("probe --output nosuch: exit %d, stderr %q; want 1 naming the outputs", code, stderr)
	}
	db, err := store.Open(path, store.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(context.Background(), func(tx *store.Tx) error {
		for id, want := range map[string]string{"first": "uniform", "chosen": "calibrated"} {
			fp, err := tx.Fingerprint(id)
			if err != nil {
				return err
			}
			if got := fp.Meta[metaOutput]; got != want || !slices.Equal(fp.Row(0), answers[want]) {
				t.Errorf("fingerprint %s: read from %q, row 0 %v; want %q's %v", id, got, fp.Row(0), want, answers[want])
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestJournalOutputDefault checks the journal names of a model listing
// two probability outputs: read by default (the output older lineage read
// too), its journal keeps the name older lineage gave, so an interrupted
// older run's answers are replayed; --output names its journal apart. The
// default read was named "output=uniform", and older runs' answers lost.
func TestJournalOutputDefault(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v2":
			json.NewEncoder(w).Encode(map[string]any{"name": "two", "extensions": []string{}})
		case "/v2/models/m":
			outs := []map[string]any{{"name": "uniform", "datatype": "FP32", "shape": []int{-1, 3}}, {"name": "calibrated", "datatype": "FP32", "shape": []int{-1, 3}}}
			json.NewEncoder(w).Encode(map[string]any{"name": "m", "inputs": []map[string]any{{"name": "x", "datatype": "FP32", "shape": []int{-1, 2}}}, "outputs": outs,
				"parameters": map[string]any{"labels": []string{"0", "1", "2"}}})
		default:
			http.NotFound(w, r)
		}
	}))
	defer ts.Close()
	ref := ts.URL + "/v2/models/m"
	s := &probe.Suite{Hash: "h", Labels: []string{"0", "1", "2"}}
	old := journalJob("probe", ref, "h", "id")
	for _, tt := range []struct {
		output string
		same   bool
	}{{"", true}, {"calibrated", false}, {"uniform", false}} {
		ro := &remoteOptions{output: tt.output}
		m, err := remote.OpenHTTP(context.Background(), ref, remote.Options{Output: tt.output})
		if err != nil {
			t.Fatal(err)
		}
		job := probeJob(ref, s, "id", m.Info().Labels, false, journalOutput(m, ro))
		if (job == old) != tt.same {
			t.Errorf("--output %q: journal %q; older lineage's %q, want the same: %v", tt.output, job, old, tt.same)
		}
		m.Close()
	}
}

// TestWarnTakenManyOutputs checks that the line saying which output was
// read stays short when the model lists many others (256 names of 1 KB
// are allowed): it listed them all on one line.
func TestWarnTakenManyOutputs(t *testing.T) {
	others := make([]string, remote.MaxOutputs-1)
	for i := range others {
		others[i] = strings.Repeat("o", remote.MaxNameBytes)
	}
	fp := &fingerprint.Fingerprint{ID: "x", Meta: map[string]string{metaOutput: "probabilities", metaOtherOutputs: strings.Join(others, ",")}}
	var stderr strings.Builder
	warnTaken(&stderr, fp, "http://host/v2/models/m", nil)
	got := stderr.String()
	if len(got) > 1000 || strings.Count(got, "\n") != 1 {
		t.Errorf("warnTaken wrote %d bytes, %d lines; want one line under 1000 bytes", len(got), strings.Count(got, "\n"))
	}
	if want := `…): its answers were read from "probabilities"`; !strings.Contains(got, want) {
		t.Errorf("got %.200q…, want it to contain %q", got, want)
	}
}
