package redaction

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind identifies a built-in detector; custom patterns use kinds from
// numBuiltin on.
type kind uint8

const (
	kEmail kind = iota
	kPhone
	kCard
	kIBAN
	kSSN
	kCPF
	kIP
	kJWT
	kPrivateKey
	kCredential
	kAPIKey
	numBuiltin
)

var builtinNames = [numBuiltin]string{
	kEmail:      "email",
	kPhone:      "phone",
	kCard:       "card",
	kIBAN:       "iban",
	kSSN:        "ssn",
	kCPF:        "cpf",
	kIP:         "ip",
	kJWT:        "jwt",
	kPrivateKey: "private_key",
	kCredential: "credential",
	kAPIKey:     "api_key",
}

var builtinPlaceholders = [numBuiltin]string{
	kEmail:      "[EMAIL]",
	kPhone:      "[PHONE]",
	kCard:       "[CARD]",
	kIBAN:       "[IBAN]",
	kSSN:        "[SSN]",
	kCPF:        "[CPF]",
	kIP:         "[IP]",
	kJWT:        "[JWT]",
	kPrivateKey: "[PRIVATE_KEY]",
	kCredential: "[CREDENTIAL]",
	kAPIKey:     "[API_KEY]",
}

// builtinRank breaks ties between spans with equal bounds: lower wins, so
// the more specific detector names the secret.
var builtinRank = [numBuiltin]uint8{
	kPrivateKey: 0,
	kJWT:        1,
	kAPIKey:     2,
	kCard:       3,
	kIBAN:       4,
	kSSN:        5,
	kCPF:        6,
	kEmail:      7,
	kPhone:      8,
	kIP:         9,
	kCredential: 10,
}

// span is a detected region s[start:end] of detector k.
type span struct {
	start, end int
	k          uint16
}

// Character classes, as bit flags in ctab.
const (
	cDigit    uint16 = 1 << iota
	cUpper           // A-Z
	cLower           // a-z
	cWord            // A-Za-z0-9_
	cAlnum           // A-Za-z0-9
	cHex             // 0-9A-Fa-f
	cB64             // A-Za-z0-9_-  (base64url)
	cTok             // A-Za-z0-9-._~+/=  (bearer token)
	cLocal           // A-Za-z0-9._%+-  (e-mail local part)
	cDomain          // A-Za-z0-9.-
	cV6              // 0-9A-Fa-f:.
	cTrig            // bytes that start a non-word check: @ : + ( -
	cSpace           // space, tab, CR, LF, VT, FF
	cKeyStart        // first byte of a lower-case provider prefix, "bearer" or "eyJ"
	cB64Std          // A-Za-z0-9+/  (standard base64)
)

var ctab = func() (t [256]uint16) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		var f uint16
		switch {
		case b >= '0' && b <= '9':
			f |= cDigit | cWord | cAlnum | cHex | cB64 | cTok | cLocal | cDomain | cV6
		case b >= 'A' && b <= 'Z':
			f |= cUpper | cWord | cAlnum | cB64 | cTok | cLocal | cDomain
			if b <= 'F' {
				f |= cHex | cV6
			}
		case b >= 'a' && b <= 'z':
			f |= cLower | cWord | cAlnum | cB64 | cTok | cLocal | cDomain
			if b <= 'f' {
				f |= cHex | cV6
			}
		}
		switch b {
		case 's', 'r', 'g', 'x', 'h', 'n', 'b', 'e':
			f |= cKeyStart
		}
		if f&cAlnum != 0 || b == '+' || b == '/' {
			f |= cB64Std
		}
		switch b {
		case '_':
			f |= cWord | cB64 | cTok | cLocal
		case '-':
			f |= cB64 | cTok | cLocal | cDomain | cTrig
		case '.':
			f |= cTok | cLocal | cDomain | cV6
		case '~', '/', '=':
			f |= cTok
		case '+':
			f |= cTok | cLocal | cTrig
		case '%':
			f |= cLocal
		case ':':
			f |= cV6 | cTrig
		case '@', '(':
			f |= cTrig
		case ' ', '\t', '\r', '\n', '\v', '\f':
			f |= cSpace
		}
		t[c] = f
	}
	return t
}()

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// escapeAt reports whether s[k] is the letter of a backslash escape such
// as \n, \t or \r (as written inside JSON and C strings).
func escapeAt(s string, k int) bool {
	switch s[k] {
	case 'n', 't', 'r':
	default:
		return false
	}
	b := 0
	for j := k - 1; j >= 0 && k-j <= 64 && s[j] == '\\'; j-- {
		b++
	}
	return b%2 == 1
}

// wordBefore reports whether the byte before p is a word byte (not counting
// the letter of an escape such as \n).
func wordBefore(s string, p int) bool {
	return p > 0 && isWord(s[p-1]) && !escapeAt(s, p-1)
}

// wordTab[c] is 1 for [A-Za-z0-9_].
var wordTab = func() (t [256]uint8) {
	for c := range t {
		if ctab[c]&cWord != 0 {
			t[c] = 1
		}
	}
	return t
}()

// wordEnd returns the end of the run of word bytes starting at e.
func wordEnd(s string, e int) int {
	for e+4 <= len(s) {
		if wordTab[s[e]]&wordTab[s[e+1]]&wordTab[s[e+2]]&wordTab[s[e+3]] == 0 {
			break
		}
		e += 4
	}
	for e < len(s) && wordTab[s[e]] != 0 {
		e++
	}
	return e
}
func isWord(c byte) bool  { return ctab[c]&cWord != 0 }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// memo caches the end of the last run of one character class, so that
// repeated attempts starting inside the same run cost O(1) and the scan
// stays linear on adversarial input.
type memo struct{ start, end int }

// scanner makes one left-to-right pass over s. It looks only at word starts
// and at a handful of trigger bytes, and dispatches to small hand-written
// recognisers; each recogniser either reads a bounded number of bytes or
// produces a span that the scan then jumps over, so a pass is linear.
type scanner struct {
	s       string
	on      uint32
	spans   []span
	b64     memo // api-key bodies
	jwt1    memo // JWT header segments
	jwtFail int  // end of a JWT header segment known not to start a JWT
	tok     memo // bearer tokens
	basic   memo // basic-auth credentials
	v6Until int  // IPv6 candidates before this offset were already checked
}

func (sc *scanner) enabled(k kind) bool { return sc.on&(1<<k) != 0 }

func (sc *scanner) add(a, b int, k kind) int {
	sc.spans = append(sc.spans, span{a, b, uint16(k)})
	return b
}

func (sc *scanner) runEnd(m *memo, p int, cls uint16) int {
	if p >= m.start && p < m.end {
		return m.end
	}
	s := sc.s
	e := p
	for e < len(s) && ctab[s[e]]&cls != 0 {
		e++
	}
	m.start, m.end = p, e
	return e
}

// classEnd returns the end of the run of class cls starting at p, reading at
// most max bytes.
func classEnd(s string, p int, cls uint16, max int) int {
	e := p
	for e < len(s) && e-p < max && ctab[s[e]]&cls != 0 {
		e++
	}
	return e
}

func (sc *scanner) scan() {
	s := sc.s
	n := len(s)
	for i := 0; i < n; {
		c := s[i]
		f := ctab[c]
		if f&cWord != 0 {
			// A word: only some first bytes can start a detection, and
			// only some following bytes can make it a key in key=value.
			e := wordEnd(s, i+1)
			if e > i+1 && escapeAt(s, i) {
				// "\n4111…" in JSON or C strings: the word starts after
				// the escape letter.
				i++
				c = s[i]
				f = ctab[c]
			}
			next := e
			if f&cDigit != 0 || (e > i+1 && maybeKey(c, s[i+1])) {
				if end := sc.dispatch(i, e); end > next {
					next = end
				}
			}
			if e < n && kvTrig[s[e]] != 0 {
				if e+1 >= n || s[e] != ' ' || s[e+1] == '=' || s[e+1] == ':' || s[e+1] == ' ' {
					if end := sc.keyValue(i, e); end > next {
						next = end
					}
				}
			}
			i = next
			continue
		}
		if f&cTrig == 0 {
			i++
			continue
		}
		next := i + 1
		var end int
		switch c {
		case '@':
			end = sc.email(i)
		case ':':
			if i+2 < n && s[i+1] == '/' && s[i+2] == '/' {
				end = sc.url(i)
			} else {
				end = sc.ipv6(i)
			}
		case '+':
			end = sc.intlPhone(i)
		case '(':
			end = sc.parenPhone(i)
		case '-':
			if i+10 <= n && s[i+1] == '-' && strings.HasPrefix(s[i:], "-----BEGIN") {
				end = sc.pem(i)
			}
		}
		if end > next {
			next = end
		}
		i = next
	}
}

// kvTrig marks the bytes after a word that may make it the key of a
// key=value pair.
var kvTrig = [256]uint8{'=': 1, ':': 1, '"': 1, '\'': 1, '\\': 1, ' ': 1}

// second2 holds, for each first letter, the second letters that can
// continue a provider prefix (sk-, rk_, gh?_, github_pat_, glpat-, xox?-,
// xapp-, hf_, npm_), "bearer" or "eyJ", as a bit set over 'a'..'z'.
var second2 = func() (t [256]uint32) {
	for _, p := range []string{"sk", "rk", "gh", "gi", "gl", "xo", "xa", "hf", "np", "be", "ba", "ey"} {
		t[p[0]] |= 1 << (p[1] - 'a')
	}
	return t
}()

// maybeKey reports whether a word starting with c, c2 may start a
// detection: an upper-case word (IBAN, AWS and Google keys, BEARER) or a
// lower-case provider prefix.
func maybeKey(c, c2 byte) bool {
	if isUpper(c) {
		return isUpper(c2) || c == 'B'
	}
	return c2 >= 'a' && c2 <= 'z' && second2[c]&(1<<(c2-'a')) != 0
}

// dispatch runs the recognisers that start at a word [i,e), keyed on its
// first byte, and returns the end of a detection or -1.
func (sc *scanner) dispatch(i, e int) int {
	switch c := sc.s[i]; {
	case c <= '9':
		return sc.numeric(i)
	case c <= 'Z':
		if e-i >= 4 || c == 'B' {
			return sc.upperWord(i, e)
		}
	case ctab[c]&cKeyStart != 0:
		return sc.lowerWord(i, e)
	}
	return -1
}

// nested runs the word recognisers on a value that another detector (a
// key=value pair, a bearer token) has already masked, so that a more
// specific detector can claim the same bytes (ties go to the better rank).
func (sc *scanner) nested(p int) {
	s := sc.s
	if p >= len(s) || !isWord(s[p]) {
		return
	}
	e := p + 1
	for e < len(s) && isWord(s[e]) {
		e++
	}
	sc.dispatch(p, e)
}

// upperWord handles words starting with A-Z: AWS and Google keys, IBANs
// and "BEARER".
func (sc *scanner) upperWord(i, e int) int {
	s := sc.s
	switch s[i] {
	case 'A':
		if sc.enabled(kAPIKey) && i+4 <= len(s) {
			switch s[i : i+4] {
			case "AKIA", "ASIA":
				return sc.awsKeyID(i)
			case "AIza":
				j := sc.runEnd(&sc.b64, i+4, cB64)
				if j-(i+4) >= 35 {
					return sc.add(i, j, kAPIKey)
				}
				return -1
			}
		}
	case 'B':
		if end := sc.bearer(i, e); end >= 0 {
			return end
		}
	}
	if sc.enabled(kIBAN) {
		return sc.iban(i)
	}
	return -1
}

// lowerWord handles words starting with a-z or '_': provider keys, JWTs and
// "bearer".
func (sc *scanner) lowerWord(i, e int) int {
	s := sc.s
	rest := s[i:]
	switch s[i] {
	case 'b':
		return sc.bearer(i, e)
	case 'e':
		if sc.enabled(kJWT) && strings.HasPrefix(rest, "eyJ") {
			return sc.jwt(i)
		}
		return -1
	}
	if !sc.enabled(kAPIKey) {
		return -1
	}
	switch s[i] {
	case 's':
		if strings.HasPrefix(rest, "sk-") {
			return sc.keyBody(i, 3, cB64, 20)
		}
		if strings.HasPrefix(rest, "sk_live_") || strings.HasPrefix(rest, "sk_test_") {
			return sc.keyBody(i, 8, cAlnum, 16)
		}
	case 'r':
		if strings.HasPrefix(rest, "rk_live_") || strings.HasPrefix(rest, "rk_test_") {
			return sc.keyBody(i, 8, cAlnum, 16)
		}
	case 'g':
		if len(rest) > 4 && rest[0] == 'g' && rest[1] == 'h' && rest[3] == '_' {
			switch rest[2] {
			case 'p', 'o', 'u', 's', 'r':
				return sc.keyBody(i, 4, cAlnum, 30)
			}
		}
		if strings.HasPrefix(rest, "github_pat_") {
			return sc.keyBody(i, 11, cWord, 22)
		}
		if strings.HasPrefix(rest, "glpat-") {
			return sc.keyBody(i, 6, cB64, 20)
		}
	case 'x':
		if len(rest) > 5 && rest[4] == '-' {
			switch rest[:4] {
			case "xoxb", "xoxp", "xoxa", "xoxr", "xoxs", "xapp":
				return sc.keyBody(i, 5, cB64, 10)
			}
		}
	case 'h':
		if strings.HasPrefix(rest, "hf_") {
			return sc.keyBody(i, 3, cAlnum, 30)
		}
	case 'n':
		if strings.HasPrefix(rest, "npm_") {
			return sc.keyBody(i, 4, cAlnum, 36)
		}
	}
	return -1
}

// keyBody masks a provider key: prefix of length pre at i followed by at
// least min bytes of class cls.
func (sc *scanner) keyBody(i, pre int, cls uint16, min int) int {
	var j int
	if cls == cB64 {
		j = sc.runEnd(&sc.b64, i+pre, cB64)
	} else {
		j = classEnd(sc.s, i+pre, cls, 1<<30)
	}
	if j-(i+pre) < min {
		return -1
	}
	return sc.add(i, j, kAPIKey)
}

// awsKeyID matches AKIA/ASIA followed by exactly 16 of [A-Z0-9].
func (sc *scanner) awsKeyID(i int) int {
	s := sc.s
	j := i + 4
	k := j
	for k < len(s) && k-j <= 16 && (isUpper(s[k]) || isDigit(s[k])) {
		k++
	}
	if k-j != 16 || (k < len(s) && isWord(s[k])) {
		return -1
	}
	return sc.add(i, k, kAPIKey)
}

// bearer matches "Bearer <token>" (any case) and masks the token.
func (sc *scanner) bearer(i, e int) int {
	s := sc.s
	if e-i == 5 {
		return sc.basicAuth(i, e)
	}
	if !sc.enabled(kAPIKey) || e-i != 6 || !strings.EqualFold(s[i:e], "bearer") {
		return -1
	}
	t := e
	for t < len(s) && t-e < 4 && (s[t] == ' ' || s[t] == '\t') {
		t++
	}
	if t == e {
		return -1
	}
	end := sc.runEnd(&sc.tok, t, cTok)
	for end > t && s[end-1] == '.' {
		end--
	}
	if end-t < 12 {
		return -1
	}
	var digit, upper, lower bool
	for k := t; k < end && k-t < 64; k++ {
		f := ctab[s[k]]
		digit = digit || f&cDigit != 0
		upper = upper || f&cUpper != 0
		lower = lower || f&cLower != 0
	}
	if !digit && !(upper && lower && end-t >= 20) {
		return -1
	}
	sc.add(t, end, kAPIKey)
	sc.nested(t)
	return end
}

// basicAuth matches "Basic <base64 of user:password>" (HTTP basic
// authentication) and masks the encoded credentials.
func (sc *scanner) basicAuth(i, e int) int {
	s := sc.s
	if !sc.enabled(kCredential) || !strings.EqualFold(s[i:e], "basic") || e+1 >= len(s) || s[e] != ' ' {
		return -1
	}
	t := e + 1
	end := sc.runEnd(&sc.basic, t, cB64Std)
	for k := 0; k < 2 && end < len(s) && s[end] == '='; k++ {
		end++
	}
	if end-t < 8 || (end < len(s) && isWord(s[end])) {
		return -1
	}
	raw := s[t:end]
	var buf [768]byte
	if base64.StdEncoding.DecodedLen(len(raw)) > len(buf) {
		return sc.add(t, end, kCredential) // too long to check: fail closed
	}
	n, err := base64.StdEncoding.Decode(buf[:], []byte(raw))
	if err != nil {
		n, err = base64.RawStdEncoding.Decode(buf[:], []byte(raw))
	}
	if err != nil || n < 3 {
		return -1
	}
	colon := false
	for _, b := range buf[:n] {
		if b < 0x20 || b == 0x7f {
			return -1 // not text
		}
		colon = colon || b == ':'
	}
	if !colon {
		return -1
	}
	return sc.add(t, end, kCredential)
}

// jwt matches eyJ<header>.<payload>.<signature>[.<more>...] (base64url).
func (sc *scanner) jwt(i int) int {
	s := sc.s
	n := len(s)
	q := sc.runEnd(&sc.jwt1, i, cB64)
	if q-i < 10 || q == sc.jwtFail {
		return -1
	}
	fail := func() int { sc.jwtFail = q; return -1 }
	if q >= n || s[q] != '.' {
		return fail()
	}
	r := classEnd(s, q+1, cB64, 1<<30)
	if r-(q+1) < 2 || r >= n || s[r] != '.' {
		return fail()
	}
	e := classEnd(s, r+1, cB64, 1<<30)
	for e+1 < n && s[e] == '.' && ctab[s[e+1]]&cB64 != 0 && e > r+1 {
		e = classEnd(s, e+1, cB64, 1<<30)
	}
	return sc.add(i, e, kJWT)
}

// pem masks a PEM private key block from its BEGIN line to the end of its
// END line, or to the end of the text when the block is truncated.
func (sc *scanner) pem(i int) int {
	s := sc.s
	n := len(s)
	j := i + len("-----BEGIN")
	k := j
	for k < n && k-j < 80 && s[k] != '-' && s[k] != '\n' {
		k++
	}
	label := s[j:k]
	if !strings.Contains(label, "PRIVATE") {
		return k
	}
	if !sc.enabled(kPrivateKey) {
		return k
	}
	if k == n {
		return sc.add(i, n, kPrivateKey) // header itself truncated
	}
	if !strings.Contains(label, "PRIVATE KEY") || !strings.HasPrefix(s[k:], "-----") {
		return k
	}
	body := k + 5
	x := strings.Index(s[body:], "-----END")
	if x < 0 {
		return sc.add(i, n, kPrivateKey)
	}
	f := body + x + len("-----END")
	lim := min(n, f+80)
	if y := strings.Index(s[f:lim], "-----"); y >= 0 {
		return sc.add(i, f+y+5, kPrivateKey)
	}
	// Footer truncated: mask to the end of its line.
	if y := strings.IndexByte(s[f:], '\n'); y >= 0 {
		return sc.add(i, f+y, kPrivateKey)
	}
	return sc.add(i, n, kPrivateKey)
}

// email handles the '@' at i.
func (sc *scanner) email(i int) int {
	if !sc.enabled(kEmail) {
		return -1
	}
	s := sc.s
	a := i
	for a > 0 && i-a < 256 {
		if ctab[s[a-1]]&cLocal != 0 {
			a--
			continue
		}
		if s[a-1] < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeLastRuneInString(s[:a])
		if !intlLetter(r) {
			break
		}
		a -= size
	}
	if a < i && escapeAt(s, a) {
		a++ // "\njohn@…": the escape letter is not part of the address
	}
	for a < i && s[a] == '.' {
		a++
	}
	if a == i {
		return -1
	}
	// URL userinfo ("scheme://user@host", "scheme://user:pass@host") is
	// not an address; the password is handled by url.
	if a >= 2 && s[a-1] == '/' && s[a-2] == '/' {
		return -1
	}
	if a >= 1 && s[a-1] == ':' {
		for b := a - 1; b >= 2 && a-b < 256 && ctab[s[b]]&cSpace == 0; b-- {
			if s[b] == '/' && s[b-1] == '/' && s[b-2] == ':' {
				return -1
			}
		}
	}
	if i-a == 3 && s[a:i] == "git" {
		return -1 // git@host:org/repo.git
	}
	j := i + 1
	for j < len(s) && j-i < 254 {
		if ctab[s[j]]&cDomain != 0 {
			j++
			continue
		}
		if s[j] < utf8.RuneSelf {
			break
		}
		r, size := utf8.DecodeRuneInString(s[j:])
		if !intlLetter(r) {
			break
		}
		j += size
	}
	for j > i+1 && (s[j-1] == '.' || s[j-1] == '-') {
		j--
	}
	d := s[i+1 : j]
	if !validDomain(d) {
		return -1
	}
	return sc.add(a, j, kEmail)
}

// intlLetter reports whether r is a letter of the Latin, Greek or Cyrillic
// blocks, accepted inside internationalised addresses ("joão@exämple.com").
// Other scripts are left out so that, say, CJK text written right against
// an address is not swallowed by the placeholder.
func intlLetter(r rune) bool {
	return r >= 0xC0 && r < 0x530 && unicode.IsLetter(r)
}

func validDomain(d string) bool {
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 {
		return false
	}
	tld := d[dot+1:]
	if len(tld) < 2 || len(tld) > 24 {
		return false
	}
	for k := 0; k < len(tld); k++ {
		if ctab[tld[k]]&(cUpper|cLower) == 0 {
			return false
		}
	}
	if foldIn(tld, "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "js", "css", "json", "txt") {
		return false // file names such as icon@2x.png
	}
	start := 0
	for k := 0; k <= len(d); k++ {
		if k == len(d) || d[k] == '.' {
			l := d[start:k]
			if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
				return false
			}
			start = k + 1
		}
	}
	return true
}

// url handles "://" at i: scheme://user:password@host masks the password.
func (sc *scanner) url(i int) int {
	s := sc.s
	n := len(s)
	k := i + 3
	at := -1
	for ; k < n && k-i < 2048; k++ {
		c := s[k]
		if ctab[c]&cSpace != 0 {
			break
		}
		switch c {
		case '/', '?', '#', '"', '\'', '<', '>', '`', '\\':
			goto done
		case '@':
			at = k
		}
	}
done:
	if at < 0 {
		return i + 3
	}
	colon := strings.IndexByte(s[i+3:at], ':')
	if colon < 0 {
		return i + 3
	}
	p := i + 3 + colon + 1
	if p == at || isPlaceholder(s[p:at]) || dummyValue(s[p:at]) || !sc.enabled(kCredential) {
		return at + 1
	}
	sc.add(p, at, kCredential)
	return at + 1
}

// foldIn reports whether s equals one of words, ignoring ASCII case,
// without allocating.
func foldIn(s string, words ...string) bool {
	for _, w := range words {
		if len(s) == len(w) && strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}
