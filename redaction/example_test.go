package redaction_test

import (
	"fmt"
	"strings"

	"github.com/leanllm/leanllm-go/redaction"
)

func ExampleRedactor_Redact() {
	r := redaction.Default()
	fmt.Println(r.Redact("Contact maria.silva@example.com or +55 11 91234-5678."))
	fmt.Println(r.Redact("card 4111 1111 1111 1111, ssn 123-45-6789, from 203.0.113.7"))
	fmt.Println(r.Redact("DATABASE_URL=postgres://app:s3cr3t@db.internal:5432/prod"))
	fmt.Println(r.Redact(`{"api_key": "sk-proj-abcDEF123ghiJKL456mnoPQR789", "max_tokens": 256}`))
	fmt.Println(r.Redact("Version 2.31.0 shipped on 2024-01-15 (order ORD-2024-000123)."))
	// Output:
	// Contact [EMAIL] or [PHONE].
	// card [CARD], ssn [SSN], from [IP]
	// DATABASE_URL=postgres://app:[CREDENTIAL]@db.internal:5432/prod
	// {"api_key": "[API_KEY]", "max_tokens": 256}
	// Version 2.31.0 shipped on 2024-01-15 (order ORD-2024-000123).
}

func ExampleNew() {
	r, err := redaction.New(
		redaction.WithPattern("employee_id", `\bEMP-\d{6}\b`),
		redaction.WithFunc("client", func(s string) (string, error) {
			return strings.ReplaceAll(s, "Acme Corp", "[CLIENT]"), nil
		}),
		redaction.WithoutDetectors("ip"),
	)
	if err != nil {
		panic(err)
	}
	fmt.Println(r.Redact("EMP-004211 at Acme Corp (10.0.0.7) wrote from bob@example.com"))

	_, err = redaction.New(redaction.WithPattern("broken", `(`))
	fmt.Println(err != nil)
	// Output:
	// [EMPLOYEE_ID] at [CLIENT] (10.0.0.7) wrote from [EMAIL]
	// true
}

func ExampleParseMode() {
	m, err := redaction.ParseMode("Redacted")
	fmt.Println(m, err)
	_, err = redaction.ParseMode("secret")
	fmt.Println(err)
	// Output:
	// redacted <nil>
	// redaction: unknown mode "secret" (accepted: metadata, redacted, hashed, full)
}

func ExampleHash() {
	fmt.Println(redaction.Hash("hello", nil))
	fmt.Println(redaction.Hash("hello", []byte("per-tenant key")) == redaction.Hash("hello", []byte("per-tenant key")))
	// Output:
	// sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824
	// true
}
