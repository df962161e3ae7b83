package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/collector"
	"github.com/leanllm/leanllm-go/cmd/leanllm/internal/dashboard"
	"github.com/leanllm/leanllm-go/persist"
)

const serveAbout = `Serve the web dashboard and the remote collector on one address.

  GET  /                 overview: calls, errors, cost, tokens over time; by model
                         and label; latency percentiles; delivery health
  GET  /events           events with filters and paging; /events/ID one event
  GET  /traces           recent traces; /traces/ID the execution tree
  POST /v1/events        the collector (LeanLLM remote protocol; Bearer key)
  GET  /healthz          200 {"status":"ok"} when the store answers, else 503
  GET  /metrics          Prometheus text format

The collector accepts the keys given with --api-key (repeatable) and in
LEANLLM_COLLECTOR_KEYS (comma-separated). With no key it stays off (answers
503) unless --insecure-no-auth is given. Batches go through the SDK's
writer (batched, retried, idempotent on event_id) into --db.

The dashboard is open to whoever reaches the address (loopback by
default); --protect-dashboard requires one of the keys: a Bearer header, or
a login at /login or with ?key=KEY that sets a session cookie.
On SIGINT/SIGTERM serve stops accepting, flushes the writer and exits.`

// sizeFlag is a byte size: 10485760, 10MiB, 512KiB, 1MB.
type sizeFlag int64

func (s *sizeFlag) String() string { return strconv.FormatInt(int64(*s), 10) }

func (s *sizeFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if strings.HasSuffix(strings.ToUpper(v), strings.ToUpper(u.suffix)) {
			v, mult = strings.TrimSpace(v[:len(v)-len(u.suffix)]), u.m
			break
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return errors.New("want a positive size such as 10MiB or 1048576")
	}
	*s = sizeFlag(n * mult)
	return nil
}

type serveConfig struct {
	addr, db         string
	keys             []string
	insecure         bool
	protect          bool
	noDashboard      bool
	maxBody          int64
	batchSize        int
	flushInterval    time.Duration
	ackTimeout       time.Duration
	shutdownTimeout  time.Duration
	spoolDir         string
	autoMigrate      bool
	queueMaxSize     int
	queueMaxBytes    int
	retryMaxAttempts int
}

func (a *app) serve(ctx context.Context, args []string) error {
	f := a.newFlags("serve", "leanllm serve [flags]", serveAbout).withDB()
	cfg := serveConfig{maxBody: collector.DefaultMaxBodyBytes}
	var keys stringsFlag
	f.StringVar(&cfg.addr, "addr", "127.0.0.1:8080", "listen address (host:port; port 0 picks a free one)")
	f.Var(&keys, "api-key", "a Bearer key the collector accepts (repeatable; adds to $LEANLLM_COLLECTOR_KEYS)")
	f.BoolVar(&cfg.insecure, "insecure-no-auth", false, "run the collector without keys: anyone who reaches the address can write events")
	f.BoolVar(&cfg.protect, "protect-dashboard", false, "require one of the keys for the dashboard and /metrics")
	f.BoolVar(&cfg.noDashboard, "no-dashboard", false, "serve only the collector, /healthz and /metrics")
	mb := sizeFlag(cfg.maxBody)
	f.Var(&mb, "max-body", "largest accepted request body, after gzip decoding (e.g. 10MiB)")
	f.IntVar(&cfg.batchSize, "batch-size", 0, "events per store write (default $LEANLLM_BATCH_SIZE, then 100)")
	f.DurationVar(&cfg.flushInterval, "flush-interval", time.Second, "longest time an event waits in the queue")
	f.DurationVar(&cfg.ackTimeout, "ack-timeout", 5*time.Second, "how long a POST waits for its batch to be stored before answering 202 (0 = answer when queued)")
	f.DurationVar(&cfg.shutdownTimeout, "shutdown-timeout", 15*time.Second, "on SIGINT/SIGTERM, how long to wait for requests and the final flush")
	f.StringVar(&cfg.spoolDir, "spool-dir", "", "keep batches the store refused in this directory and replay them (default $LEANLLM_SPOOL_DIR)")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	cfg.maxBody = int64(mb)
	cfg.db = f.dbURL()
	cfg.keys = append(collector.SplitKeys(a.getenv("LEANLLM_COLLECTOR_KEYS")), keys...)
	if err := a.serveEnv(&cfg); err != nil {
		return err
	}
	switch {
	case cfg.batchSize < 0:
		return usageErr("--batch-size must be > 0")
	case cfg.flushInterval <= 0:
		return usageErr("--flush-interval must be > 0")
	case cfg.ackTimeout < 0, cfg.shutdownTimeout <= 0:
		return usageErr("--ack-timeout must be >= 0 and --shutdown-timeout > 0")
	case cfg.protect && collector.NewKeys(cfg.keys...).Len() == 0:
		return usageErr("--protect-dashboard needs at least one key (--api-key or LEANLLM_COLLECTOR_KEYS)")
	}
	if _, memory, ok := sqlitePath(cfg.db); ok && memory {
		fmt.Fprintf(a.stderr, "leanllm serve: warning: %s keeps events only while serve runs\n", cfg.db)
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	return a.runServer(ctx, ln, cfg)
}

// serveEnv reads the writer settings serve shares with the SDK.
func (a *app) serveEnv(cfg *serveConfig) error {
	envInt := func(name string, dst *int) error {
		v := strings.TrimSpace(a.getenv(name))
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return fmt.Errorf("%s=%q: accepts an integer >= 1", name, v)
		}
		*dst = n
		return nil
	}
	if cfg.batchSize == 0 {
		cfg.batchSize = persist.DefaultBatchSize
		if err := envInt("LEANLLM_BATCH_SIZE", &cfg.batchSize); err != nil {
			return err
		}
	}
	cfg.queueMaxSize = persist.DefaultQueueMaxSize
	if err := envInt("LEANLLM_QUEUE_MAX_SIZE", &cfg.queueMaxSize); err != nil {
		return err
	}
	qb := int(persist.DefaultQueueMaxBytes)
	if err := envInt("LEANLLM_QUEUE_MAX_BYTES", &qb); err != nil {
		return err
	}
	cfg.queueMaxBytes = qb
	cfg.retryMaxAttempts = persist.DefaultRetryMaxAttempts
	if err := envInt("LEANLLM_RETRY_MAX_ATTEMPTS", &cfg.retryMaxAttempts); err != nil {
		return err
	}
	if cfg.spoolDir == "" {
		cfg.spoolDir = strings.TrimSpace(a.getenv("LEANLLM_SPOOL_DIR"))
	}
	cfg.autoMigrate = true
	if v := strings.ToLower(strings.TrimSpace(a.getenv("LEANLLM_AUTO_MIGRATE"))); v != "" {
		switch v {
		case "1", "true", "yes", "on":
		case "0", "false", "no", "off":
			cfg.autoMigrate = false
		default:
			return fmt.Errorf("LEANLLM_AUTO_MIGRATE=%q: accepts true/false, 1/0, yes/no, on/off", v)
		}
	}
	return nil
}

// pinger is implemented by *persist.SQLStore.
type pinger interface {
	Ping(ctx context.Context) error
}

// runServer serves on ln until ctx ends, then shuts down: the HTTP server
// first (no new requests), then the writer (flush, close the store).
func (a *app) runServer(ctx context.Context, ln net.Listener, cfg serveConfig) (err error) {
	defer ln.Close()
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	store, err := openStore(ctx, cfg.db)
	if err != nil {
		return err
	}
	reader, ok := store.(persist.Reader)
	if !ok {
		store.Close()
		return fmt.Errorf("the store at %s cannot be queried", redactURL(cfg.db))
	}
	if cfg.autoMigrate {
		if m, ok := store.(persist.Migrator); ok {
			mctx, cancel := context.WithTimeout(ctx, persist.DefaultMigrateTimeout)
			err := m.Migrate(mctx)
			cancel()
			if err != nil {
				store.Close()
				return fmt.Errorf("migrating %s: %w", redactURL(cfg.db), err)
			}
		}
	}
	metrics := &collector.Metrics{}
	writer := persist.NewWriter(&collector.TimedStore{Store: store, M: metrics}, persist.WriterConfig{
		QueueMaxSize:     cfg.queueMaxSize,
		QueueMaxBytes:    cfg.queueMaxBytes,
		BatchSize:        cfg.batchSize,
		FlushInterval:    cfg.flushInterval,
		RetryMaxAttempts: cfg.retryMaxAttempts,
		SpoolDir:         cfg.spoolDir,
		Logger:           logger,
	})
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
		defer cancel()
		if cerr := writer.Close(cctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the writer: %w", cerr))
		}
	}()

	keys := collector.NewKeys(cfg.keys...)
	collectorOn := keys.Len() > 0 || cfg.insecure
	state := "off (no keys)"
	switch {
	case keys.Len() > 0:
		state = fmt.Sprintf("on, %d key(s)", keys.Len())
		if cfg.insecure {
			fmt.Fprintf(a.stderr, "leanllm serve: --insecure-no-auth is ignored: keys are configured, so the collector requires one\n")
		}
	case cfg.insecure:
		state = "on, no auth (--insecure-no-auth)"
	}
	coll := collector.New(collector.Config{
		Keys: keys, Insecure: cfg.insecure && keys.Len() == 0, MaxBodyBytes: cfg.maxBody,
		Sink: writer, AckTimeout: cfg.ackTimeout, Metrics: metrics, Logger: logger,
	})
	ping := func(ctx context.Context) error {
		if p, ok := store.(pinger); ok {
			return p.Ping(ctx)
		}
		return nil
	}

	mux := http.NewServeMux()
	if collectorOn {
		mux.Handle(collector.Path, coll)
	} else {
		mux.HandleFunc(collector.Path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": "the collector is off: start serve with --api-key KEY (or LEANLLM_COLLECTOR_KEYS), or --insecure-no-auth"})
		})
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		pctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		st := writer.Stats()
		body := map[string]any{"status": "ok", "store": "ok", "collector": state,
			"queue": st.QueueLen, "stored": st.Stored, "dropped": st.DroppedTotal}
		code := http.StatusOK
		if err := ping(pctx); err != nil {
			body["status"], body["store"] = "unavailable", err.Error()
			code = http.StatusServiceUnavailable
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(code)
		_ = json.NewEncoder(w).Encode(body)
	})
	metricsHandler := collector.MetricsHandler(metrics, writer.Stats)
	var dash *dashboard.Dashboard
	if !cfg.noDashboard {
		dash, err = dashboard.New(dashboard.Config{
			Reader: reader, Stats: writer.Stats, Metrics: metrics, Ping: ping,
			Keys: keys, Protect: cfg.protect, DB: redactURL(cfg.db), Collector: state, Logger: logger,
		})
		if err != nil {
			return err
		}
		mux.Handle("/", dash)
	}
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if cfg.protect && !keys.ValidRequest(r) && (dash == nil || !dash.Authorized(r)) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="leanllm"`)
			http.Error(w, "unauthorized: send Authorization: Bearer <key>", http.StatusUnauthorized)
			return
		}
		metricsHandler.ServeHTTP(w, r)
	}))

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	url := "http://" + ln.Addr().String()
	fmt.Fprintf(a.stdout, "leanllm serve: listening on %s\n", url)
	if !cfg.noDashboard {
		prot := ""
		if cfg.protect {
			prot = " (protected: log in with a key)"
		}
		fmt.Fprintf(a.stdout, "  dashboard  %s/%s\n", url, prot)
	}
	fmt.Fprintf(a.stdout, "  collector  POST %s%s: %s\n", url, collector.Path, state)
	fmt.Fprintf(a.stdout, "  database   %s\n", redactURL(cfg.db))
	if !collectorOn {
		fmt.Fprintf(a.stderr, "leanllm serve: the collector is off: give --api-key KEY (or LEANLLM_COLLECTOR_KEYS) to accept events, or --insecure-no-auth\n")
	}
	if cfg.insecure && keys.Len() == 0 && !isLoopback(ln.Addr()) {
		fmt.Fprintf(a.stderr, "leanllm serve: warning: the collector accepts events without a key on %s, which is not a loopback address\n", ln.Addr())
	}
	if !cfg.protect && !cfg.noDashboard && !isLoopback(ln.Addr()) {
		fmt.Fprintf(a.stderr, "leanllm serve: warning: the dashboard is open to anyone who reaches %s: consider --protect-dashboard\n", ln.Addr())
	}

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
		return nil
	case <-ctx.Done():
	}
	fmt.Fprintf(a.stdout, "leanllm serve: shutting down (flushing the writer)\n")
	coll.Shutdown()
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		_ = srv.Close()
		<-errc
		return fmt.Errorf("shutdown: %w", err)
	}
	<-errc
	return nil
}

func isLoopback(addr net.Addr) bool {
	if ta, ok := addr.(*net.TCPAddr); ok {
		return ta.IP.IsLoopback()
	}
	return false
}
