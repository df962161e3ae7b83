package redaction

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/matryer/is"
)

func TestDetectors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		// EMAIL
		{"email", "mail john.doe@example.com now", "mail [EMAIL] now"},
		{"email plus tag", "<maria+billing@mail.example.co.uk>", "<[EMAIL]>"},
		{"email sentence end", "Write to a.b@example.org.", "Write to [EMAIL]."},
		{"email mailto", "mailto:ops@example.com", "mailto:[EMAIL]"},
		{"email file name", "icon@2x.png and user@localhost", "icon@2x.png and user@localhost"},
		{"email npm scope", "@babel/core@7.24.0", "@babel/core@7.24.0"},

		// PHONE
		{"phone e164", "call +14155552671 today", "call [PHONE] today"},
		{"phone nanp paren", "(415) 555-2671", "[PHONE]"},
		{"phone nanp dash", "tel 415-555-2671.", "tel [PHONE]."},
		{"phone nanp dot", "415.555.2671", "[PHONE]"},
		{"phone nanp +1", "+1 (415) 555-2671", "[PHONE]"},
		{"phone nanp 1-", "1-800-555-0199", "[PHONE]"},
		{"phone br intl", "+55 11 91234-5678", "[PHONE]"},
		{"phone br national", "(11) 91234-5678 ou (21) 3456-7890", "[PHONE] ou [PHONE]"},
		{"phone uk", "+44 20 7946 0958 / 020 7946 0958 / 07911 123456", "[PHONE] / [PHONE] / [PHONE]"},
		{"phone fr", "+33 1 23 45 67 89 ou 06 12 34 56 78", "[PHONE] ou [PHONE]"},
		{"phone de", "+49 (0)30 1234567", "[PHONE]"},
		{"phone not date", "2024-01-15 and 12:30", "2024-01-15 and 12:30"},
		{"phone not short", "+1 555 12", "+1 555 12"},
		{"phone not decimal", "+12345678.90", "+12345678.90"},
		{"phone not utc offset", "2024-01-15T10:00:00+05:30", "2024-01-15T10:00:00+05:30"},

		// CARD
		{"card visa", "card 4111111111111111 exp 12/27", "card [CARD] exp 12/27"},
		{"card spaced", "4111 1111 1111 1111", "[CARD]"},
		{"card dashed", "5500-0000-0000-0004", "[CARD]"},
		{"card amex", "3782 822463 10005", "[CARD]"},
		{"card luhn invalid", "4111 1111 1111 1112", "4111 1111 1111 1112"},
		{"card epoch ms", "1718036400123", "1718036400123"},
		{"card too long", "41111111111111111111", "41111111111111111111"},

		// IBAN
		{"iban spaced", "IBAN DE89 3704 0044 0532 0130 00.", "IBAN [IBAN]."},
		{"iban compact", "GB82WEST12345698765432", "[IBAN]"},
		{"iban bad checksum", "GB82WEST12345698765433", "GB82WEST12345698765433"},
		{"iban unknown country", "ZZ82WEST12345698765432", "ZZ82WEST12345698765432"},

		// SSN
		{"ssn", "SSN 123-45-6789", "SSN [SSN]"},
		{"ssn spaced", "ssn 123 45 6789", "ssn [SSN]"},
		{"ssn area 000", "000-12-3456", "000-12-3456"},
		{"ssn area 666", "666-12-3456", "666-12-3456"},
		{"ssn area 9xx", "912-12-3456", "912-12-3456"},
		{"ssn group 00", "123-00-4567", "123-00-4567"},
		{"ssn serial 0000", "123-45-0000", "123-45-0000"},
		{"ssn inside longer", "1123-45-67890", "1123-45-67890"},
		{"ssn bare with label", `SSN: 123456789, "ssn":"234567890", social security number 345678901`, `SSN: [SSN], "ssn":"[SSN]", social security number [SSN]`},
		{"ssn bare without label", "order 123456789", "order 123456789"},

		// CPF
		{"cpf formatted", "CPF 529.982.247-25", "CPF [CPF]"},
		{"cpf digits", "cpf=52998224725;", "cpf=[CPF];"},
		{"cpf bad check", "529.982.247-26", "529.982.247-26"},
		{"cpf repeated", "111.111.111-11", "111.111.111-11"},

		// IP
		{"ipv4", "from 192.168.1.10:8080", "from [IP]:8080"},
		{"ipv4 cidr", "10.0.0.0/8", "[IP]/8"},
		{"ipv4 invalid octet", "256.1.1.1", "256.1.1.1"},
		{"ipv4 five parts", "1.2.3.4.5", "1.2.3.4.5"},
		{"ipv4 leading zero", "01.02.03.04", "01.02.03.04"},
		{"ipv4 version prefix", "v1.2.3.4", "v1.2.3.4"},
		{"ipv6", "host 2001:db8::1 up", "host [IP] up"},
		{"ipv6 full", "2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[IP]"},
		{"ipv6 loopback", "listen [::1]:443", "listen [[IP]]:443"},
		{"ipv6 zone", "fe80::1%eth0", "[IP]%eth0"},
		{"ipv6 mapped", "::ffff:192.0.2.128", "[IP]"},
		{"ipv6 not code", "std::string a::b Foo::Bar", "std::string a::b Foo::Bar"},
		{"ipv6 not time", "12:30:45", "12:30:45"},
		{"ipv6 not mac", "00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E"},

		// JWT
		{"jwt", "t=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl x", "t=[JWT] x"},
		{"jwt short", "eyJhbGci", "eyJhbGci"},

		// PRIVATE_KEY
		{"pem", "a\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAAAA\n-----END RSA PRIVATE KEY-----\nb", "a\n[PRIVATE_KEY]\nb"},
		{"pem truncated", "key: -----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA", "key: [PRIVATE_KEY]"},
		{"pem escaped", `{"k":"-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"}`, `{"k":"[PRIVATE_KEY]\n"}`},
		{"pem public", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----", "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----"},

		// CREDENTIAL
		{"url password", "postgres://app:s3cr3t@db:5432/x", "postgres://app:[CREDENTIAL]@db:5432/x"},
		{"url password with @", "https://u:p@ss@example.com/", "https://u:[CREDENTIAL]@example.com/"},
		{"url no password", "https://user@example.com/x", "https://user@example.com/x"},
		{"query params", "/cb?key=abc123&token=xyz789&page=2", "/cb?key=[CREDENTIAL]&token=[CREDENTIAL]&page=2"},
		{"query api_key", "?api_key=A1&apikey=B2&access_token=C3&secret=D4&password=E5", "?api_key=[CREDENTIAL]&apikey=[CREDENTIAL]&access_token=[CREDENTIAL]&secret=[CREDENTIAL]&password=[CREDENTIAL]"},
		{"json password", `{"password": "hunter2", "user": "bob"}`, `{"password": "[CREDENTIAL]", "user": "bob"}`},
		{"json escaped quote", `{"password": "a\"b c"}`, `{"password": "[CREDENTIAL]"}`},
		{"nested json", `{\"password\":\"hunter2\"}`, `{\"password\":\"[CREDENTIAL]\"}`},
		{"yaml password", "password: hunter2\nuser: bob", "password: [CREDENTIAL]\nuser: bob"},
		{"header", "X-Api-Key: abcdef123", "X-Api-Key: [CREDENTIAL]"},
		{"compound key", "DB_PASSWORD='pa ss'", "DB_PASSWORD='[CREDENTIAL]'"},
		{"not max_tokens", "max_tokens=256 tokens: 12", "max_tokens=256 tokens: 12"},
		{"not null", `{"token": null}`, `{"token": null}`},
		{"not comparison", "if token == x", "if token == x"},

		// API_KEY
		{"openai", "OPENAI_API_KEY=sk-proj-abcDEF123ghiJKL456mnoPQR789", "OPENAI_API_KEY=[API_KEY]"},
		{"anthropic", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789", "[API_KEY]"},
		{"google", "AIzaSyA1234567890abcdefghijklmnopqrstuv", "[API_KEY]"},
		{"aws id", "AKIAIOSFODNN7EXAMPLE", "[API_KEY]"},
		{"aws id wrong length", "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPL"},
		{"aws secret", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [API_KEY]"},
		{"github", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "[API_KEY]"},
		{"github pat", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "[API_KEY]"},
		{"slack", "xoxb-123456789012-1234567890123-abcdefghijkl", "[API_KEY]"},
		{"bearer", "Authorization: Bearer abc.DEF-123_456~xyz", "Authorization: Bearer [API_KEY]"},
		{"basic auth", "Authorization: Basic dXNlcjpodW50ZXIy", "Authorization: Basic [CREDENTIAL]"},
		{"basic not auth", "Basic usage is simple", "Basic usage is simple"},
		{"bearer placeholder text", "Bearer <token> or Bearer YOUR_TOKEN_HERE", "Bearer <token> or Bearer YOUR_TOKEN_HERE"},
		{"api key wins over credential", "api_key=sk-abcdefghijklmnopqrstuvwxyz", "api_key=[API_KEY]"},
		{"jwt wins over bearer", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "Bearer [JWT]"},

		// Code and prose look-alikes
		{"go range", "for _, key := range m {", "for _, key := range m {"},
		{"go decl call", "key := jarKey(host, j.psList)", "key := jarKey(host, j.psList)"},
		{"go decl literal", `password := "hunter2"`, `password := "[CREDENTIAL]"`},
		{"bench name", `b.Run("Key=int32/Elem=int32", f)`, `b.Run("Key=int32/Elem=int32", f)`},
		{"field assignment", "state.secret = psk", "state.secret = psk"},
		{"python call", "password = getpass.getpass()", "password = getpass.getpass()"},
		{"ini", "password = hunter2", "password = [CREDENTIAL]"},
		{"prose colon", "unexpected exported secret: got %x", "unexpected exported secret: got %x"},
		{"prose after comma", "user admin, password: hunter2", "user admin, password: [CREDENTIAL]"},
		{"token struct field", `Comment{Token: "// indirect"}`, `Comment{Token: "// indirect"}`},
		{"token literal", `Token: "ghx_0123456789abcdef"`, `Token: "[CREDENTIAL]"`},
		{"passwd", "passwd=abc123 PWD=/tmp", "passwd=[CREDENTIAL] PWD=/tmp"},
		{"section number", "see RFC 7540 section 8.1.2.2 and #section-6.2.3.2", "see RFC 7540 section 8.1.2.2 and #section-6.2.3.2"},
		{"hex dump", "01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00", "01 02 01 01 58 01 04 00 01 01 59 01 04 00 00 00"},
		{"timezone and year", "Thu Feb 04 21:00:57 +1130 2010", "Thu Feb 04 21:00:57 +1130 2010"},
		{"signed number", "m=+123456789", "m=+123456789"},
		{"field element", "Element{84926274344903, 365590438845504}", "Element{84926274344903, 365590438845504}"},
		{"hex words", "00000010: 23222120 27262524", "00000010: 23222120 27262524"},

		// JSON-escaped text
		{"escaped newline card", `"note":"paid\n4111111111111111\tok"`, `"note":"paid\n[CARD]\tok"`},
		{"escaped newline email", `"a\njohn@example.com"`, `"a\n[EMAIL]"`},
		{"escaped newline phone", `"call\n+14155552671\n(415) 555-2671"`, `"call\n[PHONE]\n[PHONE]"`},
		{"escaped newline key", `"x\npassword=hunter2\nsk-abcdefghijklmnopqrstuvwxyz"`, `"x\npassword=[CREDENTIAL]\n[API_KEY]"`},
		{"escaped backslash", `C:\\new4111111111111111`, `C:\\new4111111111111111`},

		// Mixed / surrounding text
		{"unicode local part", "Olá joão@exämple.com, ok", "Olá [EMAIL], ok"},
		{"cjk around", "联系john@example.com谢谢", "联系[EMAIL]谢谢"},
		{"empty", "", ""},
	}
	r := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			got := r.Redact(tt.in)
			is.Equal(got, tt.want)
			is.Equal(r.Redact(got), got) // idempotent
		})
	}
}

func TestCleanTextIsReturnedWithoutAllocating(t *testing.T) {
	is := is.New(t)
	in := strings.Repeat(cleanParagraph, 2)
	r := Default()
	out := r.Redact(in)
	is.Equal(out, in)
	is.Equal(unsafe.StringData(out), unsafe.StringData(in)) // same backing array
	allocs := testing.AllocsPerRun(50, func() { _ = r.Redact(in) })
	is.Equal(allocs, 0.0)
}

func TestNilRedactorIsDefault(t *testing.T) {
	is := is.New(t)
	var r *Redactor
	is.Equal(r.Redact("ping john@example.com"), "ping [EMAIL]")
	is.True(Default() == Default()) // built once
}

func TestWithPattern(t *testing.T) {
	is := is.New(t)
	r, err := New(WithPattern("employee-id", `\bEMP-\d{6}\b`))
	is.NoErr(err)
	in := "EMP-123456 wrote from bob@example.com"
	want := "[EMPLOYEE_ID] wrote from [EMAIL]"
	is.Equal(r.Redact(in), want)
	is.Equal(r.Redact(want), want)
}

func TestWithPatternNeverSplitsPlaceholders(t *testing.T) {
	tests := []struct{ name, expr, in, want string }{
		{"matches inside placeholder", `[A-Z]{4,}`, "mail bob@example.com SECRET", "mail [EMAIL] [CAPS]"},
		{"matches own placeholder", `\[?CAPS\]?`, "CAPS", "[CAPS]"},
		{"overlaps placeholder", `x\[`, "x bob@example.com", "x [EMAIL]"},
		{"greedy across placeholder", `note: .*`, "note: bob@example.com and more", "[CAPS]"},
		{"empty matches ignored", `a*`, "bbb", "bbb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			r, err := New(WithPattern("caps", tt.expr))
			is.NoErr(err)
			got := r.Redact(tt.in)
			is.Equal(got, tt.want)
			is.Equal(r.Redact(got), got)
		})
	}
}

func TestInvalidPatternIsAnError(t *testing.T) {
	is := is.New(t)
	r, err := New(WithPattern("broken", `(unclosed`))
	is.True(err != nil)
	is.True(r == nil)
	is.True(strings.Contains(err.Error(), `"broken"`)) // error names the pattern
}

func TestNewErrors(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"empty pattern name", WithPattern("", `x`), "empty name"},
		{"bad pattern name", WithPattern("a/b", `x`), "name may hold"},
		{"nil func", WithFunc("f", nil), "is nil"},
		{"unknown detector", WithoutDetectors("emial"), `unknown detector "emial"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			_, err := New(tt.opt)
			is.True(err != nil)
			is.True(strings.Contains(err.Error(), tt.want))
		})
	}
}

func TestWithFunc(t *testing.T) {
	is := is.New(t)
	r, err := New(WithFunc("client", func(s string) (string, error) {
		return strings.ReplaceAll(s, "Acme Corp", "[CLIENT]"), nil
	}))
	is.NoErr(err)
	is.Equal(r.Redact("Acme Corp: bob@example.com"), "[CLIENT]: [EMAIL]")
}

func TestWithFuncOutputIsRedactedAgain(t *testing.T) {
	is := is.New(t)
	r, err := New(WithFunc("expand", func(s string) (string, error) {
		return strings.ReplaceAll(s, "ME", "me@example.com"), nil
	}))
	is.NoErr(err)
	is.Equal(r.Redact("ask ME"), "ask [EMAIL]")
}

func TestWithFuncFailureFailsClosed(t *testing.T) {
	tests := []struct {
		name string
		f    func(string) (string, error)
	}{
		{"error", func(string) (string, error) { return "partial", errors.New("boom") }},
		{"panic", func(string) (string, error) { panic("boom") }},
		{"nil map panic", func(s string) (string, error) {
			var m map[string]int
			m[s]++
			return s, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			r, err := New(WithFunc("f", tt.f))
			is.NoErr(err)
			is.Equal(r.Redact("secret text bob@example.com"), FailedPlaceholder)
		})
	}
}

func TestWithoutDetectors(t *testing.T) {
	is := is.New(t)
	r, err := New(WithoutDetectors("email", "IP"))
	is.NoErr(err)
	is.Equal(r.Redact("bob@example.com 10.0.0.1 123-45-6789"), "bob@example.com 10.0.0.1 [SSN]")
	// Disabling the credential detector must not let an e-mail detector
	// swallow a URL's host.
	r, err = New(WithoutDetectors("credential"))
	is.NoErr(err)
	is.Equal(r.Redact("https://u:pw@example.com"), "https://u:pw@example.com")
}

func TestDetectorNames(t *testing.T) {
	is := is.New(t)
	names := DetectorNames()
	is.Equal(len(names), int(numBuiltin))
	for i, n := range names {
		is.Equal(builtinPlaceholders[i], "["+strings.ToUpper(n)+"]")
	}
	names[0] = "mutated"
	is.Equal(DetectorNames()[0], "email") // a copy
}

func TestConcurrentUse(t *testing.T) {
	ps := loadPositives(t)
	custom, err := New(WithPattern("ticket", `TICKET-\d+`), WithFunc("noop", func(s string) (string, error) { return s, nil }))
	if err != nil {
		t.Fatal(err)
	}
	redactors := []*Redactor{Default(), custom}
	want := make([][]string, len(redactors))
	for ri, r := range redactors {
		for _, p := range ps {
			want[ri] = append(want[ri], r.Redact(p.text+" TICKET-42"))
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for iter := range 5 {
				for ri, r := range redactors {
					for k := range ps {
						i := (k + g*37 + iter) % len(ps)
						if got := r.Redact(ps[i].text + " TICKET-42"); got != want[ri][i] {
							errs <- fmt.Errorf("goroutine %d: redactor %d fixture %d: got %q want %q", g, ri, i, got, want[ri][i])
							return
						}
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestOutputKeepsSurroundingText(t *testing.T) {
	is := is.New(t)
	in := "«Café» — email: ana@example.com; tel: +351 912 345 678; fim."
	got := Default().Redact(in)
	is.Equal(got, "«Café» — email: [EMAIL]; tel: [PHONE]; fim.")
}

func TestParseMode(t *testing.T) {
	tests := []struct {
		in      string
		want    Mode
		wantErr bool
	}{
		{"metadata", ModeMetadata, false},
		{"redacted", ModeRedacted, false},
		{" HASHED ", ModeHashed, false},
		{"Full", ModeFull, false},
		{"", "", true},
		{"redact", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			is := is.New(t)
			got, err := ParseMode(tt.in)
			is.Equal(got, tt.want)
			is.Equal(err != nil, tt.wantErr)
			if err != nil {
				for _, m := range Modes() {
					is.True(strings.Contains(err.Error(), string(m))) // lists accepted values
				}
			} else {
				is.True(got.Valid())
			}
		})
	}
}

func TestHash(t *testing.T) {
	tests := []struct {
		name, in string
		key      []byte
		want     string
	}{
		{"sha256 empty", "", nil, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{"sha256 abc", "abc", []byte{}, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		// RFC 4231 test case 2.
		{"hmac", "what do ya want for nothing?", []byte("Jefe"), "sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			is := is.New(t)
			is.Equal(Hash(tt.in, tt.key), tt.want)
		})
	}
	is := is.New(t)
	is.True(Hash("x", []byte("k1")) != Hash("x", []byte("k2")))
}
