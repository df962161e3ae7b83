package main

import (
	"fmt"
	"strings"
)

func renderOverhead(r results) string {
	var b strings.Builder
	type row struct{ name, label, raw string }
	rows := []row{
		{"Overhead/raw", "raw model (zero-latency static llms.Model)", "Overhead/raw"},
		{"Overhead/leanllm/content_off", "**LeanLLM, logged call, content off**", "Overhead/raw"},
		{"Overhead/leanllm/sampled_out", "LeanLLM, sampled out (sampling_rate 0)", "Overhead/raw"},
		{"Overhead/leanllm/otel_export", "LeanLLM, content off, OTel export on (export/otel as the store)", "Overhead/raw"},
		{"Overhead/otel/span", "**OTel span** (batch processor, no-op exporter)", "Overhead/raw"},
		{"Overhead/otel/span_genai_attrs", "OTel span + 6 GenAI attributes", "Overhead/raw"},
		{"Overhead/langchaingo/LogHandler_devnull", "langchaingo callbacks.LogHandler → /dev/null", "Overhead/raw"},
		{"Overhead/raw/1KiB", "raw model, 1 KiB prompt", "Overhead/raw/1KiB"},
		{"Overhead/leanllm/1KiB_capture_redacted", "LeanLLM, 1 KiB prompt captured, redaction_mode redacted", "Overhead/raw/1KiB"},
	}
	b.WriteString("| case | ns/op | added over raw | B/op | allocs/op | ratio to raw |\n|---|---:|---:|---:|---:|---:|\n")
	for _, x := range rows {
		v, err := r.get(x.name, "ns/op")
		if err != nil {
			fmt.Fprintf(&b, "| %s | not run | | | | |\n", x.label)
			continue
		}
		raw := r.v(x.raw, "ns/op")
		added := "—"
		ratio := "1×"
		if x.name != x.raw {
			added = ns(v - raw)
			ratio = fmt.Sprintf("%.0f×", v/raw)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.0f | %s |\n", x.label, ns(v), added,
			r.v(x.name, "B/op"), r.v(x.name, "allocs/op"), ratio)
	}
	lean := r.v("Overhead/leanllm/content_off", "ns/op") - r.v("Overhead/raw", "ns/op")
	span := r.v("Overhead/otel/span", "ns/op") - r.v("Overhead/raw", "ns/op")
	attrs := r.v("Overhead/otel/span_genai_attrs", "ns/op") - r.v("Overhead/raw", "ns/op")
	if lean > 0 && span > 0 {
		verdict := "**met**"
		if lean > span {
			verdict = "**not met**"
		}
		fmt.Fprintf(&b, "\nGoal (a logged call, content off, costs no more than the OTel span baseline): %s — LeanLLM adds %s per call, "+
			"a bare OTel span %s (%.2f× LeanLLM's), an OTel span with GenAI attributes %s. The ratio to raw is large only because the raw "+
			"static model costs a few nanoseconds; a real provider call costs 10⁵–10⁹ ns.\n",
			verdict, ns(lean), ns(span), span/lean, ns(attrs))
	}
	if v, err := r.get("Overhead/leanllm/otel_export", "ns/op"); err == nil {
		fmt.Fprintf(&b, "\nWith OTel export on, LeanLLM's call costs %s over raw: the spans and metrics are made on the worker goroutine, "+
			"but on 2 cores that worker competes with the calling loop, so part of its cost shows here.\n", ns(v-r.v("Overhead/raw", "ns/op")))
	}
	return b.String()
}

func renderE2E(r results) string {
	var b strings.Builder
	const alt = "E2E/openai_loopback/alternating"
	b.WriteString("| langchaingo openai client → loopback server | p50 | p99 |\n|---|---:|---:|\n")
	fmt.Fprintf(&b, "| raw | %s | %s |\n", ns(r.v(alt, "raw-p50-ns")), ns(r.v(alt, "raw-p99-ns")))
	fmt.Fprintf(&b, "| through LeanLLM (content off) | %s | %s |\n", ns(r.v(alt, "leanllm-p50-ns")), ns(r.v(alt, "leanllm-p99-ns")))
	fmt.Fprintf(&b, "| **difference** | **%s** | **%s** |\n", ns(r.v(alt, "delta-p50-ns")), ns(r.v(alt, "delta-p99-ns")))
	b.WriteString("\n| separately | ns/op | B/op | allocs/op |\n|---|---:|---:|---:|\n")
	for _, n := range []string{"raw", "leanllm"} {
		k := "E2E/openai_loopback/" + n
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f |\n", n, ns(r.v(k, "ns/op")), r.v(k, "B/op"), r.v(k, "allocs/op"))
	}
	return b.String()
}

func renderIngest(what, raw string) func(r results) string {
	return func(r results) string {
		var b strings.Builder
		fmt.Fprintf(&b, "%s; raw baseline: %s.\n\n", what, raw)
		b.WriteString("| batch | Writer events/s | raw events/s | Writer % of raw (wall) | Writer % of raw (CPU) | goal ≥ 80 % |\n|---:|---:|---:|---:|---:|---|\n")
		for _, batch := range []string{"100", "1000"} {
			var k string
			for name := range r {
				if strings.HasSuffix(name, "/batch="+batch) {
					k = name
				}
			}
			if k == "" {
				continue
			}
			pct := r.v(k, "writer-%-of-raw")
			goal := "met"
			if pct < 80 {
				goal = "not met"
			}
			cpu := "n/a"
			if v, err := r.get(k, "writer-%-of-raw-cpu"); err == nil {
				cpu = fmt.Sprintf("%.0f %%", v)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %.0f %% | %s | %s |\n", batch, num(r.v(k, "writer-events/s")),
				num(r.v(k, "raw-events/s")), pct, cpu, goal)
		}
		return b.String()
	}
}

func renderPrompt(r results) string {
	var b strings.Builder
	b.WriteString("| prompt | raw ns/op | LeanLLM ns/op (capture, redacted) | added | B/op | allocs/op |\n|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range []string{"1KiB", "16KiB", "128KiB", "1MiB"} {
		raw, lean := r.v("ScalePrompt/raw/"+s, "ns/op"), r.v("ScalePrompt/leanllm/"+s, "ns/op")
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %.0f |\n", s, ns(raw), ns(lean), ns(lean-raw),
			bytesStr(r.v("ScalePrompt/leanllm/"+s, "B/op")), r.v("ScalePrompt/leanllm/"+s, "allocs/op"))
	}
	return b.String()
}

func renderLabels(r results) string {
	var b strings.Builder
	b.WriteString("| labels on the context | ns/op | B/op | allocs/op |\n|---:|---:|---:|---:|\n")
	for _, n := range []string{"0", "3", "30"} {
		k := "ScaleLabels/leanllm/labels=" + n
		fmt.Fprintf(&b, "| %s | %s | %.0f | %.0f |\n", n, ns(r.v(k, "ns/op")), r.v(k, "B/op"), r.v(k, "allocs/op"))
	}
	return b.String()
}

func renderGoroutines(r results) string {
	var b strings.Builder
	b.WriteString("| goroutines | raw ns/op | LeanLLM ns/op | LeanLLM B/op | allocs/op |\n|---:|---:|---:|---:|---:|\n")
	for _, g := range []string{"1", "2", "8", "32", "64"} {
		lk := "ScaleGoroutines/leanllm/goroutines=" + g
		if _, err := r.get(lk, "ns/op"); err != nil {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %.0f | %.0f |\n", g, ns(r.v("ScaleGoroutines/raw/goroutines="+g, "ns/op")),
			ns(r.v(lk, "ns/op")), r.v(lk, "B/op"), r.v(lk, "allocs/op"))
	}
	b.WriteString("\nns/op is wall time per call over all goroutines (2 cores).\n")
	return b.String()
}

func renderQueue(r results) string {
	k := "ScaleQueueMemory"
	return fmt.Sprintf("| queued events | content per event | live heap held by the full queue | per event | queue_max_bytes accounting |\n|---:|---:|---:|---:|---:|\n"+
		"| 10,000 (default queue_max_size) | 2 KiB prompt + response, redaction_mode full | %s | %s | %s |\n",
		bytesStr(r.v(k, "heap-bytes")), bytesStr(r.v(k, "heap-B/event")), bytesStr(r.v(k, "queue-bytes-counted")))
}
