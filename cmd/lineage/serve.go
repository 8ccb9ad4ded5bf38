package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/lineage-audit/lineage/model"
	"github.com/lineage-audit/lineage/serve"
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
}

// newServeCommand returns "lineage serve MODEL".
func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve MODEL",
		Short: "Serve a model over the Open Inference Protocol v2 (KServe/Triton REST API)",
		Long: `Serve a model file over the Open Inference Protocol v2 REST API.

The first line printed is "listening on http://ADDR" with the actual port
(use --addr 127.0.0.1:0 for a free one). One JSON access-log line per
request goes to stderr. SIGINT or SIGTERM shuts down gracefully.

The model answers POST /v2/models/NAME/infer with what --reveal allows:
the full distribution, the top K probabilities (the rest spread evenly),
or only the label as a one-hot vector.`,
		Example: `  lineage serve teacher.lnm --name teacher --reveal topk:3
  LINEAGE_KEY=s3cret lineage serve teacher.lnm --require-key-env LINEAGE_KEY --rate-limit 50`,
		Args: cobra.ExactArgs(1),
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
	f.Float64Var(&o.temperature, "temperature", 1, "re-temper outputs: p' ∝ p^(1/T)")
	f.StringVar(&o.requireKeyEnv, "require-key-env", "", "require the API key held in this environment variable (Authorization: Bearer KEY)")
	f.Float64Var(&o.rateLimit, "rate-limit", 0, "inference requests per second allowed (0: unlimited)")
	f.IntVar(&o.maxBatch, "max-batch", serve.DefaultMaxBatch, "largest batch per request")
	return cmd
}

func runServe(ctx context.Context, cmd *cobra.Command, ref string, o serveOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	reveal, err := model.ParseReveal(o.reveal)
	if err != nil {
		return fmt.Errorf("--reveal: %w", err)
	}
	if !(o.temperature > 0) {
		return fmt.Errorf("--temperature %v: want a positive number", o.temperature)
	}
	if o.maxBatch < 1 {
		return fmt.Errorf("--max-batch %d: want at least 1", o.maxBatch)
	}
	var key string
	if o.requireKeyEnv != "" {
		v, ok := os.LookupEnv(o.requireKeyEnv)
		if !ok || v == "" {
			return fmt.Errorf("--require-key-env %s: the environment variable is not set or empty", o.requireKeyEnv)
		}
		key = v
	}
	m, err := model.Open(ref)
	if err != nil {
		return err
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
	}
	srv, err := serve.New(m, serve.Options{
		Name: name, Reveal: reveal, Temperature: o.temperature, APIKey: key,
		RateLimit: o.rateLimit, MaxBatch: o.maxBatch, Log: cmd.ErrOrStderr(),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "listening on http://%s\n", ln.Addr())
	fmt.Fprintf(cmd.ErrOrStderr(), "serving %s as http://%s/v2/models/%s (reveal %s)\n", ref, ln.Addr(), srv.Name(), reveal)
	if err := srv.Serve(ctx, ln); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
