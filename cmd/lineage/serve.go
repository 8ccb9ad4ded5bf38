package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/remote"
	"github.com/lineage-audit/lineage/serve"
	"github.com/lineage-audit/lineage/watermark"
	"github.com/spf13/cobra"
)

// serveOptions are the flags of "lineage serve".
type serveOptions struct {
	addr          string
	name          string
	reveal        string
	temperature   float64
	requireKeyEnv string
	rateLimit     float64
	maxBatch      int
	watermark     string
	epsilon       float64
	markKeyEnv    string
}

// newServeCommand returns "lineage serve MODEL".
func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve MODEL",
		Short: "Serve a model over the Open Inference Protocol v2 (KServe/Triton REST API)",
		Long: `Serve a model file over the Open Inference Protocol v2 REST API.

The first line printed is "listening on http://ADDR" with the actual port
(use --addr 127.0.0.1:0 for a free one); when it cannot be written, serve
exits 1 before serving. One JSON access-log line per
request goes to stderr. SIGINT or SIGTERM shuts down gracefully.

The model answers POST /v2/models/NAME/infer with what --reveal allows:
the full distribution, the top K probabilities (the rest spread evenly),
or only the label as a one-hot vector.

With --reveal label the server marks its labels (--watermark auto, the
default, for native model files): where the model nearly ties between two
classes it answers with the one a secret key favours (package watermark).
Students extracted through the API learn the mark and "lineage audit"
tests for it; the key is derived from the model's weights, so "lineage
enroll" with the same model file knows it without being told. The mark
changes about 3 % of a digits teacher's labels, all near-ties
(--watermark-epsilon 0.5 changes half as many and leaves students half the
trace); use --watermark off to serve the plain argmax.`,
		Example: `  lineage serve teacher.lnm --name teacher --reveal topk:3
  LINEAGE_KEY=s3cret lineage serve teacher.lnm --require-key-env LINEAGE_KEY --rate-limit 50`,
		Args: exactArgs(1, "MODEL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, cmd, args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	f.StringVar(&o.name, "name", "", "model name in URLs (default: the file name without extension)")
	f.StringVar(&o.reveal, "reveal", "full", "what the API reveals: full, topk:K or label")
	f.Float64Var(&o.temperature, "temperature", 1, "re-temper outputs: p' ∝ p^(1/T) (T at least 0.001)")
	f.StringVar(&o.requireKeyEnv, "require-key-env", "", "require the API key held in this environment variable (Authorization: Bearer KEY)")
	f.Float64Var(&o.rateLimit, "rate-limit", 0, "inference requests per second allowed (0: unlimited)")
	f.IntVar(&o.maxBatch, "max-batch", serve.DefaultMaxBatch, "largest batch per request")
	f.StringVar(&o.watermark, "watermark", "auto", "label watermark with --reveal label: auto (on for native models) or off")
	f.Float64Var(&o.epsilon, "watermark-epsilon", watermark.DefaultEpsilon, "the label watermark's tilt, with --reveal label (larger: easier to detect, more labels changed)")
	f.StringVar(&o.markKeyEnv, "watermark-key-env", "", "with --reveal label: take the watermark key (64 hex digits) from this environment variable instead of deriving it from the weights")
	return cmd
}

func runServe(ctx context.Context, cmd *cobra.Command, ref string, o serveOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	reveal, err := model.ParseReveal(o.reveal)
	if err != nil {
		return usageError{fmt.Errorf("--reveal: %w", err)}
	}
	if !(o.temperature >= serve.MinTemperature) || math.IsInf(o.temperature, 0) {
		return usageError{fmt.Errorf("--temperature %v: want a finite number of at least %g", o.temperature, serve.MinTemperature)}
	}
	if !(o.rateLimit >= 0) || math.IsInf(o.rateLimit, 0) {
		return usageError{fmt.Errorf("--rate-limit %v: want a finite number of requests per second ≥ 0 (0: unlimited)", o.rateLimit)}
	}
	if o.maxBatch < 1 {
		return usageError{fmt.Errorf("--max-batch %d: want at least 1", o.maxBatch)}
	}
	if err := checkAddr(o.addr); err != nil {
		return usageError{err}
	}
	var key string
	if o.requireKeyEnv != "" {
		v, ok := os.LookupEnv(o.requireKeyEnv)
		if !ok || v == "" {
			return usageError{fmt.Errorf("--require-key-env %s: the environment variable is not set or empty", o.requireKeyEnv)}
		}
		if err := serve.CheckAPIKey(v); err != nil {
			return usageError{fmt.Errorf("--require-key-env %s: %w", o.requireKeyEnv, err)}
		}
		key = v
	}
	if o.watermark != "auto" && o.watermark != "off" {
		return usageError{fmt.Errorf("--watermark %q: want auto or off", o.watermark)}
	}
	// Before their values are checked: a key variable not set yet is
	// beside the point where no key is used.
	if err := checkMarkFlags(cmd, reveal, o.watermark); err != nil {
		return err
	}
	if !(o.epsilon > 0) || math.IsInf(o.epsilon, 0) {
		return usageError{fmt.Errorf("--watermark-epsilon %v: want a positive number", o.epsilon)}
	}
	markKey, err := watermarkKey(o.markKeyEnv)
	if err != nil {
		return usageError{err}
	}
	if o.name != "" {
		if err := serve.CheckName(o.name); err != nil {
			return usageError{fmt.Errorf("--name: %w", err)}
		}
	}
	if r, err := remote.ParseRef(ref); err == nil && r.Kind != remote.RefFile {
		return fmt.Errorf("serve needs the model's weights: %q is %s, not a model file; pass its .lnm or .safetensors file", remote.StripCredentials(ref), remoteKind(r.Kind))
	}
	m, err := model.Open(ref)
	if err != nil {
		return err
	}
	noteDefaultedMetadata(cmd.ErrOrStderr(), ref, m)
	if n := len(m.Info().Labels); reveal.Mode == model.RevealTopK && n > 0 && reveal.K >= n {
		return usageError{fmt.Errorf("--reveal topk:%d keeps every one of the model's %d labels: that is --reveal full", reveal.K, n)}
	}
	var mark *watermark.Mark
	if mlp, ok := m.(*model.MLP); ok && o.watermark == "auto" && reveal.Mode == model.RevealLabel {
		if markKey == nil {
			mark = watermark.ForModel(mlp)
		} else {
			mark = watermark.New(*markKey, mlp.Sizes[0], mlp.Sizes[len(mlp.Sizes)-1], mlp.Norm)
		}
	}
	name := o.name
	if name == "" {
		name = strings.TrimSuffix(filepath.Base(ref), filepath.Ext(ref))
		name = strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
				return r
			}
			return '-'
		}, name)
		if serve.CheckName(name) != nil {
			name = "" // a file named ..lnm: the model's own name, or "model"
		}
	}
	srv, err := serve.New(m, serve.Options{
		Name: name, Reveal: reveal, Temperature: o.temperature, APIKey: key,
		RateLimit: o.rateLimit, MaxBatch: o.maxBatch, Log: cmd.ErrOrStderr(),
		Watermark: mark, WatermarkEpsilon: o.epsilon,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if _, err := fmt.Fprintf(cmd.OutOrStdout(), "listening on http://%s\n", ln.Addr()); err != nil {
		// The address is what a script reads (of --addr HOST:0 above
		// all): a server nobody can find is not started.
		ln.Close()
		return fmt.Errorf("writing the address it listens on: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "serving %s as http://%s/v2/models/%s (reveal %s)\n", ref, ln.Addr(), srv.Name(), reveal)
	if mark != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "labels carry a watermark (ε %g); --watermark off serves the plain argmax\n", o.epsilon)
	}
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// checkMarkFlags refuses --watermark, --watermark-epsilon and
// --watermark-key-env where no label is marked: with a --reveal other
// than label, and the last two with --watermark off. They were accepted
// and ignored, so that a server started with a key of its own served no
// watermark without a word (and --watermark until 7 December 2026).
func checkMarkFlags(cmd *cobra.Command, reveal model.Reveal, watermark string) error {
	for _, f := range []string{"watermark", "watermark-epsilon", "watermark-key-env"} {
		switch {
		case !cmd.Flags().Changed(f):
		case reveal.Mode != model.RevealLabel:
			return usageError{fmt.Errorf("--%s has no effect with --reveal %s: the watermark marks labels only (--reveal label)", f, reveal)}
		case f != "watermark" && watermark == "off":
			return usageError{fmt.Errorf("--%s has no effect with --watermark off", f)}
		}
	}
	return nil
}

// watermarkKey reads a watermark key from the environment variable env;
// nil when env is empty. The key is never printed.
func watermarkKey(env string) (*watermark.Key, error) {
	if env == "" {
		return nil, nil
	}
	v, ok := os.LookupEnv(env)
	if !ok || v == "" {
		return nil, fmt.Errorf("--watermark-key-env %s: the environment variable is not set or empty", env)
	}
	var k watermark.Key
	if err := k.UnmarshalText([]byte(strings.TrimSpace(v))); err != nil {
		return nil, fmt.Errorf("--watermark-key-env %s: %w", env, err)
	}
	return &k, nil
}

// checkAddr checks that addr is host:port with a port number in 0–65535
// (or a service name), so that a mistyped --addr is a usage error rather
// than a failure to listen.
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: want host:port: %w", addr, err)
	}
	if n, err := strconv.Atoi(port); (err == nil && (n < 0 || n > 65535)) || errors.Is(err, strconv.ErrRange) {
		return fmt.Errorf("--addr %q: port %s is not in 0–65535", addr, port)
	}
	return nil
}
