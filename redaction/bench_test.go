package redaction

import (
	"strings"
	"testing"
)

// Performance targets (2-core CI machine):
//
//	1 KiB clean prompt          well under 10 µs, 0 allocs (input returned as is)
//	1 KiB with several secrets  under 20 µs
//	1 MiB mixed / clean         well under 50 ms, linear in size
//
// Run: go test -run='^$' -bench=. -benchmem ./redaction/

const cleanParagraph = `You are a helpful assistant for the billing team. Summarise the conversation below in three bullet points, ` +
	`keep the tone neutral and do not invent facts. The customer wrote on 2024-01-15 at 10:30 about invoice INV-2024-00123 ` +
	`(total $1,299.99, 3 items, version 2.31.0 of the app, build 10.0.19045). They asked whether the annual plan ` +
	`renews automatically and how to download past receipts; the agent answered that renewal happens 30 days ` +
	`before expiry and receipts are under Settings > Billing. Return JSON like {"summary": "...", "sentiment": ` +
	`"neutral", "max_tokens": 256, "temperature": 0.2}. Note: commit 3f786850e387550fdab836ed7e6dc881de23001b ` +
	`changed the request id format to 550e8400-e29b-41d4-a716-446655440000; std::string handling is unchanged. `

const secretParagraph = `Customer Maria Silva (maria.silva@example.com, +55 11 91234-5678) says card 4111 1111 1111 1111 was ` +
	`charged twice; her CPF is 529.982.247-25 and refunds go to IBAN DE89 3704 0044 0532 0130 00. The request came ` +
	`from 203.0.113.42 with Authorization: Bearer sk-proj-Abc123def456GHI789jkl012MNO345pqr678 and the backend ` +
	`logged postgres://app:S3cr3tPassw0rd@db.internal:5432/billing?sslmode=require plus ` +
	`token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U. `

func sized(unit string, n int) string {
	var b strings.Builder
	for b.Len() < n {
		b.WriteString(unit)
	}
	return b.String()[:n]
}

func benchInputs() map[string]string {
	clean1K := sized(cleanParagraph, 1024)
	secret1K := sized(secretParagraph+cleanParagraph, 1024)
	mixed := sized(cleanParagraph+secretParagraph+cleanParagraph, 1<<20)
	return map[string]string{
		"clean_1KiB":   clean1K,
		"secrets_1KiB": secret1K,
		"mixed_1MiB":   mixed,
		"clean_1MiB":   sized(cleanParagraph, 1<<20),
	}
}

func BenchmarkRedact(b *testing.B) {
	in := benchInputs()
	r := Default()
	for _, name := range []string{"clean_1KiB", "secrets_1KiB", "mixed_1MiB", "clean_1MiB"} {
		s := in[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(s)))
			for b.Loop() {
				_ = r.Redact(s)
			}
		})
	}
}

func BenchmarkHash(b *testing.B) {
	s := sized(cleanParagraph, 1024)
	key := []byte("k")
	b.ReportAllocs()
	b.SetBytes(int64(len(s)))
	for b.Loop() {
		_ = Hash(s, key)
	}
}
