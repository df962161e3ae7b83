// Package redaction removes secrets and personal data from the text that
// LeanLLM records with each LLM call (prompts, responses, tool-call
// arguments, error messages), replacing each finding with a typed
// placeholder such as "[EMAIL]" or "[API_KEY]".
//
//	r := redaction.Default()
//	r.Redact("mail bob@example.com, key sk-proj-abc123…")
//	// "mail [EMAIL], key [API_KEY]"
//
// The package is a leaf: it depends only on the standard library.
//
// # Modes
//
// [Mode] is the redaction_mode setting, which decides how much content an
// event keeps. Use [ParseMode] to read it from configuration.
//
//   - [ModeMetadata] ("metadata"): no content, only metadata.
//   - [ModeRedacted] ("redacted"): content passed through [Redactor.Redact].
//   - [ModeHashed] ("hashed"): only [Hash] of the content, "sha256:<hex>",
//     an HMAC-SHA256 when a key is configured, so equal prompts can be
//     grouped without being stored.
//   - [ModeFull] ("full"): content verbatim.
//
// # Detectors
//
// Built-in detectors, by name (for [WithoutDetectors]) and placeholder:
//
//	email        [EMAIL]        john.doe+tag@example.co.uk, joão@exämple.com
//	phone        [PHONE]        +14155552671, (415) 555-2671, 415-555-2671, 415.555.2671,
//	                            +55 11 91234-5678, (11) 91234-5678, +44 20 7946 0958,
//	                            020 7946 0958, 07911 123456, 06 12 34 56 78, +49 (0)30 123456
//	card         [CARD]         4111 1111 1111 1111, 378282246310005 (13-19 digits, spaces or
//	                            dashes allowed, card-network prefix, Luhn-valid only)
//	iban         [IBAN]         DE89 3704 0044 0532 0130 00, GB82WEST12345698765432
//	                            (known country and length, mod-97 valid only)
//	ssn          [SSN]          123-45-6789, 123 45 6789, and 123456789 right after an
//	                            "SSN" label (never-issued ranges excluded: area 000, 666,
//	                            900-999; group 00; serial 0000)
//	cpf          [CPF]          529.982.247-25, 52998224725 (check digits validated)
//	ip           [IP]           192.168.1.10, 2001:db8::1, fe80::1, ::ffff:192.0.2.1
//	                            (valid octets; IPv6 validated with net/netip)
//	jwt          [JWT]          eyJhbGciOi….eyJzdWIiOi….SflKxwRJSM… (three or more base64url
//	                            segments, header starting "eyJ")
//	private_key  [PRIVATE_KEY]  a whole -----BEGIN … PRIVATE KEY----- … -----END … PRIVATE
//	                            KEY----- block; a block with no END line is masked to the
//	                            end of the text
//	credential   [CREDENTIAL]   the password in scheme://user:PASSWORD@host; the value of
//	                            key=, token=, api_key=, apikey=, access_token=, secret=,
//	                            password= (and passwd, passphrase, client_secret, *_password,
//	                            *_secret, *_token, …) whether written key=v, key: v,
//	                            "key": "v" or as an HTTP header (X-Api-Key: v); the
//	                            credentials of "Authorization: Basic <base64>"
//	api_key      [API_KEY]      OpenAI sk-…, sk-proj-…, sk-svcacct-…; Anthropic sk-ant-…;
//	                            Google AIza…; AWS AKIA…/ASIA… key ids and the value of
//	                            aws_secret_access_key=; GitHub ghp_, gho_, ghu_, ghs_, ghr_,
//	                            github_pat_; Slack xoxb-, xoxp-, xoxa-, xoxr-, xapp-;
//	                            Stripe sk_live_/sk_test_; GitLab glpat-; Hugging Face hf_;
//	                            npm npm_; the token of "Bearer <token>"
//
// Only the secret itself is replaced: "postgres://app:s3cr3t@db/x" becomes
// "postgres://app:[CREDENTIAL]@db/x" and "Authorization: Bearer abc…" keeps
// "Authorization: Bearer ". When detections overlap, the one that starts
// first wins, then the longest, then the most specific (so "api_key=sk-…"
// gives "[API_KEY]", not "[CREDENTIAL]").
//
// Detectors work on word boundaries and validate what they find (checksums,
// ranges, known prefixes and lengths), so look-alikes such as order ids,
// UUIDs, git hashes, timestamps, versions like 2.31.0 and prices are left
// alone. Key=value detection tells configuration from code: "key" alone
// counts only as a URL query parameter, and expressions such as
// "password = get_password()" or "key := f(x)" are not values. Escapes in
// JSON strings ("\n4111…") do not hide what follows them, and text in any
// script passes through unchanged around placeholders.
//
// Redaction is idempotent: Redact(Redact(s)) == Redact(s). Placeholders
// never match a detector, and Redact re-runs detection on its own output
// until nothing changes, so nothing a built-in detector would flag is left
// behind.
//
// # Custom detectors
//
// [WithPattern] adds a regular expression (RE2 syntax, so linear time);
// its matches become "[NAME]". An invalid expression is an error from
// [New], never a silently skipped pattern. Patterns should not match
// placeholders; a match that falls inside an existing placeholder is
// ignored and one that overlaps a placeholder is widened to cover it, so
// redaction stays idempotent. Matches of the empty string are ignored.
//
// [WithFunc] adds an arbitrary step that receives the already-redacted text
// and returns a replacement; the detectors run again on its output. It
// must be idempotent for Redact to be.
//
// [WithoutDetectors] disables built-in detectors by name.
//
// # Failure behaviour
//
// Redaction fails closed. If a custom function returns an error or panics,
// or anything else panics during redaction, Redact returns
// [FailedPlaceholder] ("[REDACTION_FAILED]") instead of the text: the raw
// text is never returned by mistake. Configuration mistakes (invalid
// expression, unknown detector, bad name, nil function) are reported by
// [New]. A nil *Redactor redacts like [Default] rather than passing text
// through.
//
// # Performance
//
// Go's regexp package scans at only a few MB/s, so running a dozen
// expressions over every prompt would cost tens of microseconds per KiB.
// The built-in detectors instead share a single left-to-right pass that
// looks only at word starts and a few trigger bytes ('@', ':', '+', '(',
// '-') and hands off to small hand-written recognisers: e-mail checks run
// only around '@', card/phone/SSN/CPF/IP checks only on digit runs that
// have the right shape, provider keys only at their literal prefixes, IPv6
// only where ':' appears, PEM only after "-----BEGIN". Every recogniser
// reads a bounded number of bytes or produces a span that the pass then
// skips, so time is linear in the input, with no catastrophic patterns.
// Text with nothing to mask is returned as is, without allocating.
//
// Indicative figures on a shared 2-core machine (see BenchmarkRedact): a
// 1 KiB clean prompt in about 3-4 µs with no allocation, a 1 KiB prompt
// with ten secrets in about 7-8 µs (two passes: the second confirms that
// nothing is left), and 1 MiB in about 5-12 ms. Custom patterns add the
// cost of a regexp scan each.
package redaction
