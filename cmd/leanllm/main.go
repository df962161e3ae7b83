package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// Exit codes a script can trust.
const (
	exitOK       = 0
	exitError    = 1
	exitUsage    = 2
	exitNotFound = 3
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// run is main without os.Exit: the tests call it. It stops on SIGINT and
// SIGTERM (serve and logs --follow shut down cleanly).
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runContext(ctx, args, stdout, stderr)
}

// runContext runs one subcommand and returns its exit code.
func runContext(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := &app{stdout: stdout, stderr: stderr, getenv: os.Getenv, now: time.Now}
	return app.main(ctx, args)
}

// app is what every subcommand gets: its outputs and its environment.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
}

type command struct {
	name    string
	summary string
	run     func(a *app, ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"demo", "run a short scripted demo against the built-in offline provider", (*app).demo},
		{"logs", "list stored events (table or --json), --follow to tail", (*app).logs},
		{"show", "show one event in full", (*app).show},
		{"trace", "draw the execution tree of a correlation id", (*app).trace},
		{"stats", "cost, tokens, errors and latency by model, provider, label or day", (*app).stats},
		{"replay", "re-run a stored call (optionally with another model or parameters) and diff", (*app).replay},
		{"migrate", "apply (up) or list (status) schema migrations", (*app).migrate},
		{"serve", "web dashboard + remote collector (POST /v1/events), /healthz, /metrics", (*app).serve},
		{"version", "print the build version", (*app).version},
	}
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintf(w, `leanllm — record, inspect and serve LLM call events.

Usage:
  leanllm <command> [flags] [args]

Commands:
`)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
	fmt.Fprintf(w, `
Every command takes --db URL (default $LEANLLM_DATABASE_URL, then %s)
and --help. Exit codes: 0 ok, 1 runtime error, 2 usage error, 3 not found.

Start with:
  leanllm demo            write a few events to ./leanllm_events.db
  leanllm logs            list them
  leanllm serve           open the dashboard on http://127.0.0.1:8080
`, defaultDatabaseURL)
}

func (a *app) main(ctx context.Context, args []string) int {
	if len(args) == 0 {
		a.usage(a.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if name == "help" && len(args) > 1 {
			return a.main(ctx, []string{args[1], "--help"})
		}
		a.usage(a.stdout)
		return exitOK
	case "-v", "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name == name {
			return a.exit(c.run(a, ctx, args[1:]))
		}
	}
	fmt.Fprintf(a.stderr, "leanllm: unknown command %q\n\n", name)
	a.usage(a.stderr)
	return exitUsage
}

// exit prints err and maps it to an exit code.
func (a *app) exit(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *cliError
	if errors.As(err, &ce) {
		if ce.err != nil && !errors.Is(ce.err, errSilent) {
			fmt.Fprintf(a.stderr, "leanllm: %v\n", ce.err)
		}
		return ce.code
	}
	fmt.Fprintf(a.stderr, "leanllm: %v\n", err)
	if isNotFound(err) {
		return exitNotFound
	}
	return exitError
}

// cliError carries an exit code.
type cliError struct {
	code int
	err  error
}

func (e *cliError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *cliError) Unwrap() error { return e.err }

// errSilent marks an error already reported (a flag error printed with the
// command's usage).
var errSilent = errors.New("already reported")

// usageErr is a usage error (exit 2).
func usageErr(format string, args ...any) error {
	return &cliError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// notFound is a not-found error (exit 3).
func notFound(err error) error { return &cliError{code: exitNotFound, err: err} }

// flagSet is a FlagSet with a usage text, whose flags may come after
// positional arguments ("show ID --json").
type flagSet struct {
	*flag.FlagSet
	a        *app
	synopsis string // "leanllm show [flags] ID"
	about    string // a paragraph after the synopsis
	db       *string
}

func (a *app) newFlags(name, synopsis, about string) *flagSet {
	fs := flag.NewFlagSet("leanllm "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := &flagSet{FlagSet: fs, a: a, synopsis: synopsis, about: about}
	return f
}

// withDB adds --db.
func (f *flagSet) withDB() *flagSet {
	f.db = f.String("db", "", "database URL: sqlite:///rel.db, sqlite:////abs.db, postgres://… (default $LEANLLM_DATABASE_URL, then "+defaultDatabaseURL+")")
	return f
}

func (f *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage:\n  %s\n\n", f.synopsis)
	if f.about != "" {
		fmt.Fprintf(w, "%s\n\n", strings.TrimSpace(f.about))
	}
	fmt.Fprintf(w, "Flags:\n")
	f.SetOutput(w)
	f.PrintDefaults()
	f.SetOutput(io.Discard)
}

// parse parses args, allowing flags after positional arguments, and returns
// the positional arguments. --help prints the usage to stdout and returns
// a cliError with exit code 0; a bad flag prints the error and the usage to
// stderr (exit 2).
func (f *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := f.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				f.printUsage(f.a.stdout)
				return nil, &cliError{code: exitOK}
			}
			fmt.Fprintf(f.a.stderr, "leanllm: %v\n\n", err)
			f.printUsage(f.a.stderr)
			return nil, &cliError{code: exitUsage, err: errSilent}
		}
		rest := f.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// Parse stops at "--" (consumed) or at the first non-flag.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// dbURL is --db, else LEANLLM_DATABASE_URL, else the default.
func (f *flagSet) dbURL() string { return f.a.databaseURL(*f.db) }

func (a *app) databaseURL(flagValue string) string {
	if v := strings.TrimSpace(flagValue); v != "" {
		return v
	}
	if v := strings.TrimSpace(a.getenv("LEANLLM_DATABASE_URL")); v != "" {
		return v
	}
	return defaultDatabaseURL
}

// wantArgs checks the number of positional arguments.
func wantArgs(pos []string, n int, what string) error {
	switch {
	case len(pos) < n:
		return usageErr("missing %s (see --help)", what)
	case len(pos) > n:
		return usageErr("unexpected argument %q (see --help)", pos[n])
	}
	return nil
}

func (a *app) version(_ context.Context, args []string) error {
	f := a.newFlags("version", "leanllm version", "Print the module version and build settings.")
	pos, err := f.parse(args)
	if err != nil {
		return err
	}
	if err := wantArgs(pos, 0, ""); err != nil {
		return err
	}
	v := "(devel)"
	goVersion := ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			v = bi.Main.Version
		}
		goVersion = bi.GoVersion
	}
	fmt.Fprintf(a.stdout, "leanllm %s %s\n", v, goVersion)
	return nil
}
