// Command report runs LeanLLM's comparative benchmarks (package bench), one
// process per comparison so that the ratios inside each hold, and writes
// their tables into docs/PERFORMANCE.md between the markers
// <!-- report:NAME --> and <!-- /report:NAME -->.
//
//	go run ./bench/cmd/report                      # everything, writes the doc
//	go run ./bench/cmd/report -only overhead,e2e   # some comparisons
//	go run ./bench/cmd/report -n                   # print, do not write
//
// Run it from the module root. The Postgres ingest comparison needs
// LEANLLM_TEST_POSTGRES_URL (the Makefile sets it).
package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// group is one comparison: one process running one benchmark function.
type group struct {
	name    string
	bench   string // -test.bench regexp
	time    string // -test.benchtime
	count   int
	render  func(r results) string
	section string // marker name in the doc
}

var groups = []group{
	{name: "overhead", bench: "^BenchmarkOverhead$", time: "200ms", count: 10, render: renderOverhead},
	{name: "e2e", bench: "^BenchmarkE2E$", time: "2s", count: 3, render: renderE2E},
	{name: "ingest-sqlite", bench: "^BenchmarkIngestSQLite$", time: "20x", count: 1, render: renderIngest("SQLite (file, WAL)", "one prepared INSERT per row, one transaction per batch, rows pre-encoded")},
	{name: "ingest-postgres", bench: "^BenchmarkIngestPostgres$", time: "20x", count: 1, render: renderIngest("Postgres", "pgx CopyFrom, one COPY per batch, rows pre-encoded")},
	{name: "ingest-remote", bench: "^BenchmarkIngestRemote$", time: "10x", count: 1, render: renderIngest("remote collector (loopback)", "plain http.Client POST of the same batches")},
	{name: "scale-prompt", bench: "^BenchmarkScalePrompt$", time: "300ms", count: 3, render: renderPrompt},
	{name: "scale-labels", bench: "^BenchmarkScaleLabels$", time: "200ms", count: 5, render: renderLabels},
	{name: "scale-goroutines", bench: "^BenchmarkScaleGoroutines$", time: "300ms", count: 3, render: renderGoroutines},
	{name: "scale-queue", bench: "^BenchmarkScaleQueueMemory$", time: "3x", count: 1, render: renderQueue},
}

func main() {
	only := flag.String("only", "", "comma-separated comparisons to run (default all): "+names())
	doc := flag.String("o", "docs/PERFORMANCE.md", "document to update")
	dry := flag.Bool("n", false, "print the tables, do not write the document")
	rawOut := flag.String("raw", "", "also append the raw benchmark output to this file")
	flag.Parse()
	if err := run(*only, *doc, *dry, *rawOut); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for _, g := range groups {
		n = append(n, g.name)
	}
	return strings.Join(n, ",")
}

func run(only, doc string, dry bool, rawOut string) error {
	selected := groups
	if only != "" {
		selected = nil
		for _, n := range strings.Split(only, ",") {
			i := slices.IndexFunc(groups, func(g group) bool { return g.name == strings.TrimSpace(n) })
			if i < 0 {
				return fmt.Errorf("unknown comparison %q (have %s)", n, names())
			}
			selected = append(selected, groups[i])
		}
	}
	tmp, err := os.MkdirTemp("", "leanllm-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bench.test")
	fmt.Fprintln(os.Stderr, "report: building the benchmark binary")
	build := exec.Command("go", "test", "-c", "-o", bin, "./bench/")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("go test -c ./bench/: %w", err)
	}
	var raw io.Writer = io.Discard
	if rawOut != "" {
		f, err := os.OpenFile(rawOut, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		raw = f
	}
	sections := map[string]string{"machine": machine(selected)}
	for _, g := range selected {
		args := []string{"-test.run=^$", "-test.bench=" + g.bench, "-test.benchmem",
			"-test.benchtime=" + g.time, "-test.count=" + strconv.Itoa(g.count), "-test.timeout=30m"}
		fmt.Fprintf(os.Stderr, "report: %s: bench.test %s\n", g.name, strings.Join(args, " "))
		cmd := exec.Command(bin, args...)
		cmd.Dir = "bench"
		var out bytes.Buffer
		cmd.Stdout = io.MultiWriter(&out, os.Stderr, raw)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("%s: %w", g.name, err)
		}
		r := parse(out.String())
		var body string
		if len(r) == 0 {
			body = "_Not run: " + skipReason(out.String()) + "_\n"
		} else {
			body = g.render(r)
		}
		runs := "one run"
		if g.count > 1 {
			runs = fmt.Sprintf("median of %d runs", g.count)
		}
		body += fmt.Sprintf("\n<sub>`go test -run '^$' -bench '%s' -benchmem -benchtime %s -count %d ./bench/` — %s</sub>\n",
			g.bench, g.time, g.count, runs)
		sections[g.name] = body
		fmt.Println("## " + g.name + "\n\n" + body)
	}
	if dry {
		return nil
	}
	return updateDoc(doc, sections)
}

func skipReason(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "--- SKIP") || strings.Contains(l, "LEANLLM_TEST_POSTGRES_URL") {
			return strings.TrimSpace(l)
		}
	}
	return "no benchmark result"
}

// machine describes where and when the figures were taken.
func machine(selected []group) string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	load := "n/a"
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			load = strings.Join(f[:3], " ")
		}
	}
	var names []string
	for _, g := range selected {
		names = append(names, g.name)
	}
	return fmt.Sprintf("| | |\n|---|---|\n| date | %s |\n| CPU | %s, %d cores (GOMAXPROCS %d) |\n| Go | %s %s/%s |\n| load average at start | %s (a machine shared with other builds: read ratios, not absolutes) |\n| command | `make bench` (`go run ./bench/cmd/report`); comparisons: %s |\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), cpu, runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, load, strings.Join(names, ", "))
}

// updateDoc replaces each section's text between its markers.
func updateDoc(path string, sections map[string]string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s := string(b)
	for name, body := range sections {
		begin, end := "<!-- report:"+name+" -->", "<!-- /report:"+name+" -->"
		i := strings.Index(s, begin)
		j := strings.Index(s, end)
		if i < 0 || j < i {
			return fmt.Errorf("%s: markers %s … %s not found", path, begin, end)
		}
		s = s[:i+len(begin)] + "\n" + body + s[j:]
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "report: wrote", path)
	return nil
}

// results maps a benchmark name (without "Benchmark" and the -N suffix) to
// its metrics by unit, each the median of the runs.
type results map[string]map[string]float64

func parse(out string) results {
	all := map[string]map[string][]float64{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		if all[name] == nil {
			all[name] = map[string][]float64{}
		}
		for k := 2; k+1 < len(f); k += 2 {
			v, err := strconv.ParseFloat(f[k], 64)
			if err != nil {
				continue
			}
			all[name][f[k+1]] = append(all[name][f[k+1]], v)
		}
	}
	r := results{}
	for name, units := range all {
		r[name] = map[string]float64{}
		for u, vs := range units {
			slices.Sort(vs)
			r[name][u] = vs[len(vs)/2]
		}
	}
	return r
}

func (r results) get(name, unit string) (float64, error) {
	m, ok := r[name]
	if !ok {
		return 0, errors.New("missing " + name)
	}
	v, ok := m[unit]
	if !ok {
		return 0, errors.New("missing " + name + " " + unit)
	}
	return v, nil
}

func (r results) v(name, unit string) float64 {
	v, _ := r.get(name, unit)
	return v
}

func ns(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2f ms", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.1f µs", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.2f µs", v/1e3)
	case v >= 10:
		return fmt.Sprintf("%.0f ns", v)
	}
	return fmt.Sprintf("%.1f ns", v)
}

func num(v float64) string {
	s := strconv.FormatFloat(v, 'f', 0, 64)
	// thousands separators
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func bytesStr(v float64) string {
	switch {
	case v >= 1<<20:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}
