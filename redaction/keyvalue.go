package redaction

import (
	"net/netip"
	"strings"
)

// Assignment styles seen by keyValue.
const (
	sepQuery  = iota // key=value, no spaces: query strings, env files, CLI flags
	sepSpaced        // key = value: INI files and code
	sepColon         // key: value, "key": "value", headers, YAML
	sepDecl          // key := value (Go)
)

// keyValue handles a word at [i,e) that is followed by '=', ':' or a quote:
// "password=...", "api_key: ...", `"token": "..."`, "X-Api-Key: ...",
// "aws_secret_access_key = ...". It masks the value.
func (sc *scanner) keyValue(i, e int) int {
	s := sc.s
	n := len(s)
	j := e
	var quote string // quote closing the key: ", ' or \"
	switch s[j] {
	case '"', '\'':
		quote = s[j : j+1]
	case '\\':
		if j+1 >= n || s[j+1] != '"' {
			return -1
		}
		quote = s[j : j+2]
	}
	j += len(quote)
	spaced := false
	for k := 0; k < 2 && j < n && s[j] == ' '; k++ {
		j++
		spaced = true
	}
	if j >= n {
		return -1
	}
	var style int
	switch s[j] {
	case '=':
		if j+1 < n && s[j+1] == '=' {
			return -1 // comparison
		}
		j++
		if j < n && s[j] == '>' {
			j++ // "key => value"
			spaced = true
		}
		style = sepQuery
	case ':':
		if j+1 < n && s[j+1] == '=' {
			style = sepDecl
			j += 2
		} else {
			if j+1 < n && (s[j+1] == '/' || s[j+1] == ':') {
				return -1 // URL scheme or "::"
			}
			style = sepColon
			j++
		}
	default:
		return -1
	}
	v0 := j
	for j < n && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j >= n {
		return -1
	}
	if style == sepQuery && (spaced || j > v0) {
		style = sepSpaced
	}
	// The key may continue to the left over '-' ("X-Api-Key").
	ks := i
	for ks > 1 && i-ks < 64 && s[ks-1] == '-' && isWord(s[ks-2]) {
		k := ks - 1
		for k > 0 && i-k < 64 && isWord(s[k-1]) {
			k--
		}
		ks = k
	}
	if quote != "" && (ks < len(quote) || s[ks-len(quote):ks] != quote) {
		return -1 // the quote after the word does not close a quoted key
	}
	key := s[ks:e]
	k, ok := classifyKey(key, style, quote != "")
	if !ok || !sc.enabled(k) {
		return -1
	}
	if strings.EqualFold(key, "key") && (ks == 0 || (s[ks-1] != '?' && s[ks-1] != '&' && s[ks-1] != ';')) {
		return -1 // a bare "key=" counts only as a URL query parameter
	}
	if quote == "" && inProse(s, ks) && style == sepColon && s[j] != '"' && s[j] != '\'' {
		return -1 // "unexpected exported secret: got %x"
	}
	if quote == "" && ks > 0 && s[ks-1] == '.' && style == sepSpaced && isBareStart(s[j]) {
		return -1 // "state.secret = psk": a field assignment in code
	}
	bare := isBareStart(s[j])
	if bare {
		if style == sepDecl || (quote == "" && style != sepQuery && strings.EqualFold(key, "token")) {
			return -1 // only string literals: Go's key := f(x), "var t Token = x"
		}
		// Structures are not secrets themselves; decide before scanning
		// so that the pass stays linear.
		switch s[j] {
		case '{':
			return -1
		case '[':
			if _, pe, ok := placeholderAround(s, j); ok {
				if pe == n || !valueByte(s, pe) {
					return pe // already redacted
				}
			} else {
				return -1
			}
		}
	}
	vs, ve, end := valueAt(s, j)
	if ve <= vs {
		return -1
	}
	v := s[vs:ve]
	if isPlaceholder(v) || dummyValue(v) {
		return end
	}
	if strings.EqualFold(key, "token") && style != sepQuery && !tokenLike(v) {
		return -1 // Token: "// indirect", Token: "("
	}
	// The heuristics below look at bare values of bounded length only: a
	// long run is masked outright, and scanning then skips it, which keeps
	// the pass linear.
	if bare && len(v) <= maxBareHeuristic {
		if (style == sepSpaced || style == sepColon) && codeExpr(v) {
			return -1 // password = get_password(), Secret: s.secret
		}
		if strings.EqualFold(v, key) || (style == sepSpaced && len(v) <= 2 && isDigit(v[0])) {
			return -1 // password = password, secret = 0
		}
		if foldIn(v, "null", "true", "false", "none", "nil", "undefined") {
			return -1
		}
	}
	sc.add(vs, ve, k)
	sc.nested(vs)
	return end
}

// maxBareHeuristic bounds the bare values that keyValue inspects for code
// and stand-ins.
const maxBareHeuristic = 128

// isBareStart reports whether a value starting with c is unquoted.
func isBareStart(c byte) bool { return c != '"' && c != '\'' && c != '`' && c != '\\' }

// inProse reports whether the key starting at ks follows a lower-case word
// on the same line, as in a sentence ("the shared secret: ...") rather than
// at the start of a line or after punctuation ("password: ...",
// "user=x, password: ...").
func inProse(s string, ks int) bool {
	j := ks
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	return j < ks && j > 0 && ctab[s[j-1]]&cLower != 0
}

// tokenLike reports whether v could be an access token: 8+ bytes with no
// white space.
func tokenLike(v string) bool {
	if len(v) < 8 {
		return false
	}
	for k := 0; k < len(v); k++ {
		if ctab[v[k]]&cSpace != 0 {
			return false
		}
	}
	return true
}

// dummyValue reports values that are templates or stand-ins rather than
// secrets: <token>, ${TOKEN}, {{token}}, $TOKEN, %TOKEN%, ***, ..., value.
func dummyValue(v string) bool {
	switch {
	case len(v) >= 2 && v[0] == '<' && v[len(v)-1] == '>',
		strings.HasPrefix(v, "${"), strings.HasPrefix(v, "{{"),
		len(v) >= 2 && v[0] == '%' && v[len(v)-1] == '%':
		return true
	case v[0] == '$' && len(v) > 1 && (isUpper(v[1]) || v[1] == '_'):
		return true
	case v[0] == '%' && len(v) <= 3: // a format verb: %s, %x, %v
		return true
	}
	if foldIn(v, "value", "...", "***", "xxx", "redacted") {
		return true
	}
	return false
}

// codeExpr reports whether a bare value after "key = " or "key: " reads as
// a program expression (a call, an index, a dotted name such as
// self.password or os.environ) rather than a literal. Dotted names with
// digits or starting with an upper-case letter are taken for secrets.
func codeExpr(v string) bool {
	if strings.ContainsAny(v, "([{") {
		return true
	}
	if isUpper(v[0]) {
		return false
	}
	dots := 0
	seg := 0
	for k := 0; k < len(v); k++ {
		c := v[k]
		switch {
		case c == '.':
			if seg == 0 {
				return false
			}
			dots++
			seg = 0
		case isWord(c) && !isDigit(c):
			seg++
		default:
			return false
		}
	}
	return dots > 0 && seg > 0
}

// valueAt parses the value starting at j: a quoted string (", ', `, or
// \" as inside JSON strings) up to its closing quote (or the end of the
// line if unterminated), or a bare value up to a delimiter. It returns the
// value's bounds and where scanning continues.
func valueAt(s string, j int) (vs, ve, end int) {
	n := len(s)
	q := s[j]
	switch {
	case q == '"' || q == '\'' || q == '`':
		k := j + 1
		for k < n && s[k] != q && s[k] != '\n' {
			if s[k] == '\\' && k+1 < n && q != '`' && s[k+1] != '\n' {
				k++ // escaped byte
			}
			k++
		}
		return j + 1, min(k, n), min(k+1, n)
	case q == '\\' && j+1 < n && s[j+1] == '"':
		k := j + 2
		for k < n && s[k] != '\n' && !(s[k] == '\\' && k+1 < n && s[k+1] == '"') {
			k++
		}
		return j + 2, k, min(k+2, n)
	}
	k := j
	for k < n && valueByte(s, k) {
		k++
	}
	return j, k, k
}

// valueByte reports whether s[k] continues a bare value.
func valueByte(s string, k int) bool {
	c := s[k]
	if ctab[c]&cSpace != 0 {
		return false
	}
	switch c {
	case '&', ',', ';', '"', '\'', '`', '<', '>', ')', '}':
		return false
	case '\\':
		if k+1 < len(s) {
			switch s[k+1] {
			case 'n', 'r', 't', '"':
				return false
			}
		}
	}
	return true
}

// classifyKey decides whether key names a secret. Matching ignores case and
// treats '-' like '_'.
func classifyKey(key string, style int, quoted bool) (kind, bool) {
	if len(key) < 3 || len(key) > 64 {
		return 0, false
	}
	var b [64]byte
	for k := 0; k < len(key); k++ {
		c := key[k]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c == '-':
			c = '_'
		}
		b[k] = c
	}
	nk := string(b[:len(key)])
	switch nk {
	case "aws_secret_access_key", "aws_secret_key", "secretaccesskey":
		return kAPIKey, true
	case "key":
		// Too common a word ("key: value", "key = f(x)"): only key=value
		// in a URL query (the caller checks for ?, & or ;).
		return kCredential, style == sepQuery
	case "token":
		// "token = x" and "Token: x" are mostly code and prose; take them
		// only with a quoted value (checked by the caller).
		return kCredential, true
	case "password", "passwd", "secret", "api_key", "apikey", "access_token",
		"client_secret", "refresh_token", "auth_token", "secret_key", "api_secret",
		"app_secret", "private_key", "passphrase":
		return kCredential, true
	case "bos_token", "eos_token", "pad_token", "unk_token", "sep_token", "cls_token", "mask_token":
		return 0, false // tokenizer configuration, not secrets
	}
	for _, suf := range [...]string{"_password", "_passwd", "_secret", "_token", "_api_key", "_apikey", "_secret_key", "_passphrase"} {
		if strings.HasSuffix(nk, suf) {
			return kCredential, true
		}
	}
	return 0, false
}

// ipv6 handles ':' at i: a run of hex digits, ':' and '.' around it that
// forms a valid IPv6 address (checked with net/netip).
func (sc *scanner) ipv6(i int) int {
	if i < sc.v6Until || !sc.enabled(kIP) {
		return -1
	}
	s := sc.s
	n := len(s)
	a := i
	for a > 0 && ctab[s[a-1]]&cV6 != 0 {
		a--
	}
	b := i + 1
	for b < n && ctab[s[b]]&cV6 != 0 {
		b++
	}
	sc.v6Until = b
	if b-a < 3 {
		return -1
	}
	trimmedLeft := false
	if s[a] == ':' && s[a+1] != ':' {
		a++
		trimmedLeft = true
	}
	for b > a && s[b-1] == '.' {
		b--
	}
	if b-a >= 2 && s[b-1] == ':' && s[b-2] != ':' {
		b--
	}
	if b-a < 3 || b-a > 45 {
		return -1
	}
	if !trimmedLeft && wordBefore(s, a) {
		return -1
	}
	if b < n && isWord(s[b]) {
		return -1
	}
	c := s[a:b]
	if !v6Shape(c) {
		return -1
	}
	ip, err := netip.ParseAddr(c)
	if err != nil || !ip.Is6() {
		return -1
	}
	return sc.add(a, b, kIP)
}

// v6Shape is a cheap structural pre-check so that netip.ParseAddr (which
// allocates its error) only sees likely addresses: 2+ colons, hex groups of
// at most 4 digits, at most one "::", a dotted IPv4 tail only as the last
// group, the right number of groups, and a decimal digit or 4+ colons (so
// "A::B" and "::" in code are not taken for addresses).
func v6Shape(c string) bool {
	colons, groups := 0, 0
	dbl, digit := false, false
	for k := 0; k < len(c); {
		if c[k] == ':' {
			colons++
			if k+1 < len(c) && c[k+1] == ':' {
				if dbl {
					return false
				}
				dbl = true
				colons++
				k += 2
				continue
			}
			k++
			continue
		}
		g := k
		dotted := false
		for k < len(c) && c[k] != ':' {
			if c[k] == '.' {
				dotted = true
			} else if isDigit(c[k]) {
				digit = true
			}
			k++
		}
		switch {
		case dotted:
			if k != len(c) {
				return false
			}
			groups += 2
		case k-g > 4:
			return false
		default:
			groups++
		}
	}
	if colons < 2 || (!digit && colons < 4) {
		return false
	}
	if dbl {
		return groups <= 7
	}
	return groups == 8
}
