package bench

// This file is the serving-throughput benchmark behind `lineage bench
// serve` (issue 4, item 6).
//
// # The serve benchmark
//
// ServeThroughput starts a serve.Server (Open Inference Protocol v2 REST,
// access log written to io.Discard, so its formatting cost is paid) for a
// fixed-seed 64-<hidden>-10 relu MLP on a 127.0.0.1 listener in the same
// process, then, for each concurrency C:
//
//  1. the ceiling: C goroutines POST the same pre-encoded inference request
//     of Batch rows, in the wire format lineage uses, in a loop for
//     Duration over one shared http.Client (keep-alive,
//     MaxIdleConnsPerHost ≥ C), draining and closing every body and
//     counting 200 answers. Its requests/s × Batch is the most probes/s
//     any client could get from the server on this machine;
//  2. optionally wrk (ServeOptions.WrkPath): wrk -t1 -cC posting the same
//     body, as an independent ceiling from a C load generator;
//  3. lineage: remote.OpenHTTP with Concurrency C and BatchSize Batch,
//     called the way `lineage probe` calls it: Predict on C×Batch rows
//     (one journal batch: one request per concurrent slot) from two
//     goroutines, so that, as with fingerprint.Options.InFlight = 2, the
//     next batch's requests go out while the previous batch's last
//     answers arrive; over and over for Duration. probes/s is the rows
//     answered (validated distributions) per second.
//
// All of this runs once per wire format (ServeOptions.Wires): "binary",
// the binary tensor data extension that lineage serve lists and
// remote.HTTPModel uses by default (a JSON header, then raw float32
// bytes), and "json", all-JSON bodies (remote.Options.JSONOnly), which is
// what a server without the extension gets.
//
// Each measurement runs Repeats times, interleaved, lineage always between
// the two load generators, whose order alternates (ceiling, lineage, wrk;
// wrk, lineage, ceiling; …), so that neither side of a ratio always goes
// first (scratch runs on a shared 2-core machine hinted at an order effect
// of a few per cent). The report gives each figure's median and range, and
// the ratios as medians of per-repeat ratios (each lineage run over the
// load generator's run next to it), so slow drift cancels. Everything
// shares the machine's cores with the server (wrk is a separate process),
// which is what a user running an audit against a local `lineage serve`
// sees.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/serve"
	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/blas/blas32"
)

// ServeThroughput runs the serve benchmark (see serve.go's file comment).
// It stops with ctx's error when ctx is cancelled.
func ServeThroughput(ctx context.Context, opts ServeOptions) (*ServeReport, error) {
	start := time.Now()
	opts = opts.withDefaults()
	if err := opts.Check(); err != nil {
		return nil, err
	}

	const in = serveIn
	sizes := opts.sizes()
	m := model.NewMLP(sizes, model.ActReLU, nil, rand.New(rand.NewPCG(1, 1)))
	srv, err := serve.New(m, serve.Options{Name: "bench", Log: io.Discard, MaxBatch: max(opts.Batch, serve.DefaultMaxBatch)})
	if err != nil {
		return nil, fmt.Errorf("serve bench: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("serve bench: %w", err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(sctx, ln) }()
	defer func() { stop(); <-served }()
	url := "http://" + ln.Addr().String() + "/v2/models/bench"

	rng := rand.New(rand.NewPCG(7, 7))
	maxC := slices.Max(opts.Concurrency)
	x := blas32.General{Rows: maxC * opts.Batch, Cols: in, Stride: in}
	x.Data = make([]float32, x.Rows*in)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	batch := blas32.General{Rows: opts.Batch, Cols: in, Stride: in, Data: x.Data[:opts.Batch*in]}

	rep := &ServeReport{Experiment: "serve", Model: hiddenString(sizes) + " relu", Batch: opts.Batch,
		DurationS: opts.Duration.Seconds(), Repeats: opts.Repeats, LineageRows: opts.Batch,
		GOMAXPROCS: runtime.GOMAXPROCS(0), CPUs: runtime.NumCPU()}
	for _, wire := range opts.Wires {
		body, headers := requestBody(batch, wire)
		rows, version, err := serveWire(ctx, opts, m, url, wire, body, headers, x)
		if err != nil {
			return nil, fmt.Errorf("serve bench: %s wire: %w", wire, err)
		}
		rep.Rows = append(rep.Rows, rows...)
		rep.Wrk = version
	}
	rep.WallTimeS = time.Since(start).Seconds()
	return rep, nil
}

// serveWire measures every concurrency for one wire format; it returns
// the rows and wrk's version (empty without wrk).
func serveWire(ctx context.Context, opts ServeOptions, m model.Model, url, wire string, body []byte, headers map[string]string, x blas32.General) ([]ServeRow, string, error) {
	var wrk *wrkRunner
	if opts.WrkPath != "" {
		var err error
		wrk, err = newWrkRunner(ctx, opts.WrkPath, url+"/infer", body, headers)
		if err != nil {
			return nil, "", err
		}
		defer wrk.close()
	}
	var rows []ServeRow
	in := x.Cols
	for _, c := range opts.Concurrency {
		xc := blas32.General{Rows: c * opts.Batch, Cols: in, Stride: in, Data: x.Data[:c*opts.Batch*in]}
		rm, err := remote.OpenHTTP(ctx, url, remote.Options{Concurrency: c, BatchSize: opts.Batch, JSONOnly: wire == WireJSON})
		if err != nil {
			return nil, "", err
		}
		defer rm.Close()
		if rm.Binary() != (wire == WireBinary) {
			return nil, "", fmt.Errorf("client speaks binary %v on the %s wire", rm.Binary(), wire)
		}
		if err := checkAnswers(ctx, rm, m, xc); err != nil {
			return nil, "", err
		}
		var ceil, wrkRuns, lin []float64
		ceilingRun := func() error {
			r, err := loadCeiling(ctx, url+"/infer", body, headers, c, opts.Duration)
			if err != nil {
				return fmt.Errorf("ceiling at concurrency %d: %w", c, err)
			}
			ceil = append(ceil, r)
			return nil
		}
		wrkRun := func() error {
			if wrk == nil {
				return nil
			}
			r, err := wrk.run(ctx, c, opts.Duration)
			if err != nil {
				return fmt.Errorf("wrk at concurrency %d: %w", c, err)
			}
			wrkRuns = append(wrkRuns, r)
			return nil
		}
		for i := range opts.Repeats {
			// lineage runs between the two load generators, whose order
			// alternates, so neither side of a ratio always goes first.
			first, last := ceilingRun, wrkRun
			if i%2 == 1 {
				first, last = wrkRun, ceilingRun
			}
			if err := first(); err != nil {
				return nil, "", err
			}
			p, err := lineageRate(ctx, rm, xc, opts.Duration)
			if err != nil {
				return nil, "", fmt.Errorf("lineage at concurrency %d: %w", c, err)
			}
			lin = append(lin, p)
			if err := last(); err != nil {
				return nil, "", err
			}
		}
		rm.Close()
		row := ServeRow{Wire: wire, Concurrency: c, Ceiling: newMeasure(ceil), Lineage: newMeasure(lin)}
		row.Ratio = pairedRatio(lin, ceil, float64(opts.Batch))
		if wrk != nil {
			w := newMeasure(wrkRuns)
			row.Wrk = &w
			row.WrkRatio = pairedRatio(lin, wrkRuns, float64(opts.Batch))
		}
		rows = append(rows, row)
	}
	version := ""
	if wrk != nil {
		version = wrk.version
	}
	return rows, version, nil
}

// requestBody encodes one OIP inference request carrying x the way
// remote.HTTPModel does on the given wire, and the HTTP headers that go
// with it.
func requestBody(x blas32.General, wire string) ([]byte, map[string]string) {
	b, n := serve.EncodeRequest("1", serve.InputName, serve.OutputName, x, wire == WireBinary)
	if wire == WireBinary {
		return b, map[string]string{"Content-Type": serve.BinaryContentType, serve.HeaderLength: strconv.Itoa(n)}
	}
	return b, map[string]string{"Content-Type": "application/json"}
}

// checkAnswers checks that rm answers x as m does locally, so the figures
// are about correct answers.
func checkAnswers(ctx context.Context, rm model.Model, m model.Model, x blas32.General) error {
	got, err := rm.Predict(ctx, x)
	if err != nil {
		return err
	}
	want, err := m.Predict(ctx, x)
	if err != nil {
		return err
	}
	for i := 0; i < want.Rows; i++ {
		for j := 0; j < want.Cols; j++ {
			g, w := got.Data[i*got.Stride+j], want.Data[i*want.Stride+j]
			if math.Abs(float64(g-w)) > 1e-6 {
				return fmt.Errorf("served answer [%d,%d] = %g, local %g", i, j, g, w)
			}
		}
	}
	return nil
}

// loadCeiling posts body to url from c goroutines for d and returns the
// 200 answers per second. Any other status is an error.
func loadCeiling(ctx context.Context, url string, body []byte, headers map[string]string, c int, d time.Duration) (float64, error) {
	tr := &http.Transport{MaxIdleConns: c + 4, MaxIdleConnsPerHost: c + 4, IdleConnTimeout: 90 * time.Second}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	var ok atomic.Int64
	var firstErr error
	var once sync.Once
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fail := func(err error) { once.Do(func() { firstErr = err; cancel() }) }
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for time.Now().Before(deadline) && lctx.Err() == nil {
				req, err := http.NewRequestWithContext(lctx, http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					fail(err)
					return
				}
				for k, v := range headers {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err != nil {
					fail(err)
					return
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					fail(err)
					return
				}
				if resp.StatusCode != http.StatusOK {
					fail(fmt.Errorf("status %d", resp.StatusCode))
					return
				}
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		return 0, firstErr
	}
	return float64(ok.Load()) / elapsed.Seconds(), nil
}

// lineageStreams is the number of Predict calls lineageRate keeps in
// flight: what `lineage probe` does (fingerprint.Options.InFlight).
const lineageStreams = 2

// lineageRate calls rm.Predict(x) from lineageStreams goroutines until d
// has passed and returns the rows answered per second.
func lineageRate(ctx context.Context, rm model.Model, x blas32.General, d time.Duration) (float64, error) {
	start := time.Now()
	var rows atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range lineageStreams {
		g.Go(func() error {
			for time.Since(start) < d {
				if _, err := rm.Predict(gctx, x); err != nil {
					return err
				}
				rows.Add(int64(x.Rows))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return 0, err
	}
	return float64(rows.Load()) / time.Since(start).Seconds(), nil
}
