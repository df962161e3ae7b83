package redaction

import "strings"

// Recognisers for things that start with a digit (cards, SSNs, CPFs, phone
// numbers, IPv4 addresses) plus the other phone forms and IBANs. All read a
// bounded number of bytes.

// numeric handles the word starting with the digit at i.
func (sc *scanner) numeric(i int) int {
	s := sc.s
	// lc is the byte before i when it continues a number ("1.2", "12-34").
	var lc byte
	if i >= 2 && isDigit(s[i-2]) {
		lc = s[i-1]
	}
	cont := lc == '.' || lc == '-' || lc == '/' || lc == ':'
	// Cheap pre-check: every numeric form is either a contiguous run of 9
	// (labelled SSN), 11 (CPF) or 13-19 digits (card), or continues with a
	// separator and a digit (or '(' for phones).
	l := digitsAt(s, i, 19) - i
	var next byte
	if i+l < len(s) {
		next = s[i+l]
	}
	if l != 9 && l != 11 && l < 13 {
		j := i + l
		if j+1 >= len(s) {
			return -1
		}
		c, d := s[j], s[j+1]
		if (c != ' ' && c != '-' && c != '.') || (!isDigit(d) && d != '(') {
			return -1
		}
	}
	best, bk := -1, kind(0)
	try := func(e int, k kind) {
		if e > best {
			best, bk = e, k
		}
	}
	if !cont {
		if sc.enabled(kCard) {
			try(sc.card(i), kCard)
		}
		if sc.enabled(kSSN) {
			try(sc.ssn(i), kSSN)
		}
		if sc.enabled(kCPF) {
			try(sc.cpf(i), kCPF)
		}
		if sc.enabled(kPhone) && natFirst(s, i, l) {
			try(sc.natPhone(i), kPhone)
		}
	}
	if l == 9 && !cont && sc.enabled(kSSN) && sc.rb(i+9, 0) && ssnContext(s, i) {
		// A bare 9-digit SSN only right after a label: "SSN: 123456789".
		if a, g, n := num(s[i:i+3]), num(s[i+3:i+5]), num(s[i+5:i+9]); a != 0 && a != 666 && a < 900 && g != 0 && n != 0 {
			try(i+9, kSSN)
		}
	}
	if l <= 3 && next == '.' && lc != '.' && sc.enabled(kIP) {
		if e := sc.ipv4(i); e > 0 && !sectionBefore(s, i) {
			try(e, kIP)
		}
	}
	if best < 0 {
		return -1
	}
	return sc.add(i, best, bk)
}

// rb reports whether a number may end at e: the next byte is not a word
// byte, and not a separator (one of .-/ or sep) followed by a digit.
func (sc *scanner) rb(e int, sep byte) bool {
	s := sc.s
	if e >= len(s) {
		return true
	}
	c := s[e]
	if isWord(c) {
		return false
	}
	if e+1 < len(s) && isDigit(s[e+1]) && (c == '.' || c == '-' || c == '/' || (sep != 0 && c == sep)) {
		return false
	}
	return true
}

// digitsAt returns the end of the run of digits at p, reading at most max+1.
func digitsAt(s string, p, max int) int {
	e := p
	for e < len(s) && e-p <= max && isDigit(s[e]) {
		e++
	}
	return e
}

// sectionBefore reports whether the number at i follows a word such as
// "section" or "§", as in "RFC 7540 section 8.1.2.2" or "#section-6.2.3.2":
// a dotted quad there is a section number, not an address.
func sectionBefore(s string, i int) bool {
	j := i
	for k := 0; k < 2 && j > 0 && (s[j-1] == ' ' || s[j-1] == '-' || s[j-1] == '_'); k++ {
		j--
	}
	if j >= 2 && s[j-2:j] == "§" {
		return true
	}
	if j > 0 && s[j-1] == '.' {
		j--
	}
	w := j
	for w > 0 && j-w < 10 && ctab[s[w-1]]&(cUpper|cLower) != 0 {
		w--
	}
	if w == j || (w > 0 && isWord(s[w-1])) {
		return false
	}
	if foldIn(s[w:j], "section", "sections", "sec", "secs", "clause", "chapter", "chap", "paragraph", "para", "step", "item", "rule", "article", "art") {
		return true
	}
	return false
}

// ssnContext reports whether the number at i follows an SSN label
// ("SSN", "SSN#", "social security number", "SSN: ") within a few bytes.
func ssnContext(s string, i int) bool {
	j := i
	for k := 0; k < 4 && j > 0 && (s[j-1] == ' ' || s[j-1] == ':' || s[j-1] == '#' || s[j-1] == '=' || s[j-1] == '"' || s[j-1] == '-'); k++ {
		j--
	}
	w := j
	for w > 0 && j-w < 3 && ctab[s[w-1]]&(cUpper|cLower) != 0 {
		w--
	}
	if j-w == 3 && strings.EqualFold(s[w:j], "ssn") && !wordBefore(s, w) {
		return true
	}
	const label = "social security number"
	if j >= len(label) && strings.EqualFold(s[j-len(label):j], label) {
		return true
	}
	return false
}

// ssn matches a US Social Security number AAA-GG-SSSS (or with spaces),
// excluding never-issued ranges: area 000, 666, 900-999; group 00;
// serial 0000.
func (sc *scanner) ssn(i int) int {
	s := sc.s
	if i+11 > len(s) || digitsAt(s, i, 3)-i != 3 {
		return -1
	}
	sep := s[i+3]
	if sep != '-' && sep != ' ' {
		return -1
	}
	if digitsAt(s, i+4, 2)-i != 6 || s[i+6] != sep || digitsAt(s, i+7, 4)-i != 11 {
		return -1
	}
	if sep == ' ' && i >= 2 && s[i-1] == ' ' && isDigit(s[i-2]) {
		return -1
	}
	if !sc.rb(i+11, sep) {
		return -1
	}
	area := num(s[i : i+3])
	group := num(s[i+4 : i+6])
	serial := num(s[i+7 : i+11])
	if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
		return -1
	}
	return i + 11
}

func num(d string) int {
	v := 0
	for k := 0; k < len(d); k++ {
		v = v*10 + int(d[k]-'0')
	}
	return v
}

// cpf matches a Brazilian CPF, 123.456.789-09, 123456789-09 or 11 digits,
// with valid check digits.
func (sc *scanner) cpf(i int) int {
	s := sc.s
	var d [11]byte
	var e int
	switch r := digitsAt(s, i, 11) - i; r {
	case 3:
		if i+14 > len(s) || s[i+3] != '.' || digitsAt(s, i+4, 3)-i != 7 || s[i+7] != '.' ||
			digitsAt(s, i+8, 3)-i != 11 || s[i+11] != '-' || digitsAt(s, i+12, 2)-i != 14 {
			return -1
		}
		copy(d[0:3], s[i:i+3])
		copy(d[3:6], s[i+4:i+7])
		copy(d[6:9], s[i+8:i+11])
		copy(d[9:11], s[i+12:i+14])
		e = i + 14
	case 9:
		if i+12 > len(s) || s[i+9] != '-' || digitsAt(s, i+10, 2)-i != 12 {
			return -1
		}
		copy(d[0:9], s[i:i+9])
		copy(d[9:11], s[i+10:i+12])
		e = i + 12
	case 11:
		copy(d[:], s[i:i+11])
		e = i + 11
	default:
		return -1
	}
	if !sc.rb(e, 0) || !cpfValid(&d) {
		return -1
	}
	return e
}

func cpfValid(d *[11]byte) bool {
	same := true
	for k := range d {
		d[k] -= '0'
		same = same && d[k] == d[0]
	}
	if same {
		return false
	}
	for n := 9; n <= 10; n++ {
		sum := 0
		for k := 0; k < n; k++ {
			sum += int(d[k]) * (n + 1 - k)
		}
		c := sum * 10 % 11
		if c == 10 {
			c = 0
		}
		if int(d[n]) != c {
			return false
		}
	}
	return true
}

// card matches 13-19 digits, contiguous or in groups (4, then 3-6 each) separated by
// single spaces or dashes, with a card-network leading digit and a valid
// Luhn checksum. The longest valid prefix of a grouped run wins.
func (sc *scanner) card(i int) int {
	s := sc.s
	n := len(s)
	if s[i] < '2' || s[i] > '6' {
		return -1
	}
	first := digitsAt(s, i, 19)
	l := first - i
	if l >= 13 {
		if l <= 19 && sc.rb(first, 0) && cardValid(s[i:first]) {
			return first
		}
		return -1
	}
	if l != 4 || first+1 >= n || !isDigit(s[first+1]) {
		return -1 // grouped numbers start with a group of four
	}
	sep := s[first]
	if sep != ' ' && sep != '-' {
		return -1
	}
	if i >= 2 && s[i-1] == sep && digitsAt(s, i-2, 0) == i-1 {
		// preceded by "<digit><sep>": start of the run only, and only
		// when the preceding group is short (a count, not a group).
		k := i - 1
		for k > 0 && isDigit(s[k-1]) {
			k--
		}
		if i-1-k >= 3 {
			return -1
		}
	}
	var buf [19]byte
	nd := copy(buf[:], s[i:first])
	best := -1
	j := first
	for nd < 19 && j+1 < n && s[j] == sep && isDigit(s[j+1]) {
		g := digitsAt(s, j+1, 6)
		gl := g - (j + 1)
		if gl < 3 || gl > 6 || nd+gl > 19 {
			break
		}
		nd += copy(buf[nd:], s[j+1:g])
		j = g
		if nd >= 13 && sc.rb(j, 0) && cardValid(string(buf[:nd])) {
			best = j
		}
	}
	return best
}

// cardValid checks the issuer prefix, the length for that network and the
// Luhn checksum of the digits d.
func cardValid(d string) bool {
	l := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	switch {
	case d[0] == '4': // Visa
		if l != 13 && l != 16 && l != 19 {
			return false
		}
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720, p4 >= 2200 && p4 <= 2204: // Mastercard, Mir
		if l != 16 {
			return false
		}
	case p2 == 50 || (p2 >= 56 && p2 <= 59): // Maestro
	case p2 == 34 || p2 == 37: // American Express
		if l != 15 {
			return false
		}
	case p2 == 36 || p2 == 38 || p2 == 39 || (p2 == 30 && d[2] <= '5'): // Diners Club
		if l != 14 && l != 16 {
			return false
		}
	case p2 == 35: // JCB
		if l < 16 {
			return false
		}
	case d[0] == '6': // Discover, UnionPay, RuPay, Maestro
		if l < 16 {
			return false
		}
	default:
		return false
	}
	sum := 0
	dbl := false
	for k := l - 1; k >= 0; k-- {
		v := int(d[k] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

// ipv4 matches a dotted-quad address with octets 0-255 and no leading zeros.
func (sc *scanner) ipv4(i int) int {
	s := sc.s
	j := i
	for oct := 0; oct < 4; oct++ {
		if oct > 0 {
			if j+1 >= len(s) || s[j] != '.' || !isDigit(s[j+1]) {
				return -1
			}
			j++
		}
		e := digitsAt(s, j, 3)
		l := e - j
		if l == 0 || l > 3 || (l > 1 && s[j] == '0') || num(s[j:e]) > 255 {
			return -1
		}
		j = e
	}
	if j < len(s) && (isWord(s[j]) || (s[j] == '.' && j+1 < len(s) && isDigit(s[j+1]))) {
		return -1
	}
	return j
}

// ptok is one group of a phone number: digits, or "(digits)".
type ptok struct {
	s, e  int32 // bytes of the group, parentheses included
	nd    int8  // digits in the group
	paren bool  // written as (digits)
	sep   byte  // separator before the group: ' ', '-', '.', or 1 for none after ')'
	d0    byte  // first digit
	d1    byte  // second digit (0 if none)
}

// phoneToks splits the phone-like text at p into at most len(t) groups.
func (sc *scanner) phoneToks(p int, t *[8]ptok) int {
	s := sc.s
	n := len(s)
	cnt := 0
	var sep byte
	for cnt < len(t) && p < n {
		tk := ptok{s: int32(p), sep: sep}
		d := p
		if s[p] == '(' {
			d = p + 1
			tk.paren = true
		}
		e := digitsAt(s, d, 15)
		if e == d || e-d > 15 {
			break
		}
		tk.nd = int8(e - d)
		tk.d0 = s[d]
		if tk.nd > 1 {
			tk.d1 = s[d+1]
		}
		if tk.paren {
			if e >= n || s[e] != ')' || tk.nd > 5 {
				break
			}
			e++
		}
		tk.e = int32(e)
		t[cnt] = tk
		cnt++
		if e+1 >= n {
			break
		}
		c := s[e]
		switch {
		case (c == ' ' || c == '-' || c == '.') && (isDigit(s[e+1]) || (s[e+1] == '(' && c == ' ')):
			sep = c
			p = e + 1
		case tk.paren && isDigit(c):
			sep = 1
			p = e
		default:
			return cnt
		}
	}
	return cnt
}

// natFirst is a cheap pre-check for a national phone number whose first
// group, of l digits, starts at i: it looks at the first group and the
// start of the second.
func natFirst(s string, i, l int) bool {
	j := i + l // separator
	if j+3 >= len(s) {
		return false
	}
	sep := s[j]
	g := j + 1 // second group
	switch c := s[i]; {
	case c == '0':
		return l >= 2 && l <= 5 && digitsAt(s, g, 2)-g >= 2
	case l == 3:
		return c >= '2' && digitsAt(s, g, 3)-g == 3 && g+3 < len(s) && (s[g+3] == sep || (sep == ' ' && s[g+3] == '-'))
	case l == 1:
		if c != '1' {
			return false
		}
		if s[g] == '(' {
			g++
		}
		return digitsAt(s, g, 3)-g == 3
	case l == 2:
		return sep == ' ' && s[g] == '9'
	}
	return false
}

// natPhone matches a national-format phone number starting with a digit.
func (sc *scanner) natPhone(i int) int {
	var t [8]ptok
	cnt := sc.phoneToks(i, &t)
	if cnt > 1 && t[1].sep == ' ' && i >= 2 && sc.s[i-1] == ' ' && isDigit(sc.s[i-2]) {
		return -1 // inside a longer run of space-separated numbers (a hex dump, a table)
	}
	return sc.nationalShape(t[:cnt])
}

// parenPhone handles '(' at i: "(415) 555-2671", "(11) 91234-5678",
// "(020) 7946 0958".
func (sc *scanner) parenPhone(i int) int {
	s := sc.s
	if !sc.enabled(kPhone) || i+1 >= len(s) || !isDigit(s[i+1]) || wordBefore(s, i) {
		return -1
	}
	if l := digitsAt(s, i+1, 5) - (i + 1); l < 2 || l > 5 || i+1+l >= len(s) || s[i+1+l] != ')' {
		return -1
	}
	var t [8]ptok
	cnt := sc.phoneToks(i, &t)
	if e := sc.nationalShape(t[:cnt]); e > 0 {
		return sc.add(i, e, kPhone)
	}
	return -1
}

// nationalShape returns the end of the longest prefix of t that has the
// shape of a North American, Brazilian or European/UK (leading 0) number
// and ends on a boundary, or -1.
func (sc *scanner) nationalShape(t []ptok) int {
	for k := len(t); k >= 2; k-- {
		g := t[:k]
		if !natShape(g) {
			continue
		}
		e := int(g[k-1].e)
		if k == len(t) {
			if sc.rb(e, 0) {
				return e
			}
			continue
		}
		// Followed by another group: accept only when it is joined by a
		// space and the number itself uses no spaces.
		if t[k].sep != ' ' {
			continue
		}
		spaced := false
		for _, x := range g[1:] {
			spaced = spaced || x.sep == ' '
		}
		if !spaced {
			return e
		}
	}
	return -1
}

func natShape(g []ptok) bool {
	return nanp(g) || brazil(g) || leadingZero(g)
}

func nanp(g []ptok) bool {
	if len(g) == 4 {
		if g[0].paren || g[0].nd != 1 || g[0].d0 != '1' {
			return false
		}
		if !g[1].paren && g[1].sep != g[2].sep {
			return false
		}
		g = g[1:]
	}
	if len(g) != 3 || g[0].nd != 3 || g[1].nd != 3 || g[2].nd != 4 || g[1].paren || g[2].paren {
		return false
	}
	if g[0].d0 < '2' || g[1].d0 < '2' {
		return false
	}
	if g[0].paren {
		return (g[1].sep == ' ' || g[1].sep == 1) && g[2].sep != 1
	}
	return g[1].sep == g[2].sep && g[1].sep != 1
}

func brazil(g []ptok) bool {
	if len(g) != 3 || g[0].nd != 2 || g[0].d0 == '0' || g[0].d1 == '0' || g[1].paren || g[2].paren || g[2].nd != 4 {
		return false
	}
	switch g[1].nd {
	case 5:
		if g[1].d0 != '9' {
			return false
		}
	case 4:
		if !g[0].paren || g[1].d0 < '2' || g[1].d0 > '5' {
			return false
		}
	default:
		return false
	}
	if g[0].paren {
		return (g[1].sep == ' ' || g[1].sep == 1) && (g[2].sep == '-' || g[2].sep == ' ')
	}
	return g[1].sep == ' ' && g[2].sep == '-'
}

// leadingZero matches European/UK national formats: a first group starting
// with a single 0 (trunk prefix), 10-11 digits in 2-5 groups of 2+ digits,
// uniformly separated.
func leadingZero(g []ptok) bool {
	if len(g) < 2 || len(g) > 5 || g[0].d0 != '0' || g[0].d1 == '0' || g[0].nd < 2 || g[0].nd > 5 {
		return false
	}
	total := 0
	var sep byte
	for k, x := range g {
		if x.nd < 2 || (k > 0 && x.paren) {
			return false
		}
		total += int(x.nd)
		if k == 0 || (k == 1 && g[0].paren) {
			if k == 1 && x.sep != ' ' && x.sep != 1 {
				return false
			}
			continue
		}
		if sep == 0 {
			sep = x.sep
		}
		if x.sep != sep || sep == 1 {
			return false
		}
	}
	return total >= 10 && total <= 11
}

// intlPhone handles '+' at i: E.164 (+14155552671) and grouped
// international numbers (+1 (415) 555-2671, +55 11 91234-5678,
// +44 20 7946 0958, +49 (0)30 123456).
func (sc *scanner) intlPhone(i int) int {
	s := sc.s
	if !sc.enabled(kPhone) || i+1 >= len(s) || s[i+1] < '1' || s[i+1] > '9' || wordBefore(s, i) {
		return -1
	}
	var t [8]ptok
	cnt := sc.phoneToks(i+1, &t)
	for k := cnt; k >= 1; k-- {
		g := t[:k]
		total := 0
		ok := true
		for j, x := range g {
			if x.paren && x.nd == 1 && x.d0 == '0' {
				continue // "(0)" trunk prefix
			}
			if k > 1 && (j == 0 && x.nd > 3 || x.nd > 8 || x.sep == '.' && x.nd > 4) {
				ok = false // country code of 1-3 digits, groups of at most 8
			}
			total += int(x.nd)
		}
		if !ok || total < 8 || total > 15 || (k == 1 && total < 10) {
			continue
		}
		last := g[k-1]
		if k > 1 && last.sep == '.' && last.nd <= 2 {
			continue // a decimal, "+12345678.90"
		}
		e := int(last.e)
		if k < cnt {
			if t[k].sep == ' ' && total >= 10 {
				return sc.add(i, e, kPhone)
			}
			continue
		}
		if e < len(s) && e+1 < len(s) && isDigit(s[e+1]) && s[e] == ',' {
			continue
		}
		if sc.rb(e, 0) {
			return sc.add(i, e, kPhone)
		}
	}
	return -1
}

// ibanLen holds the IBAN length of each country (index (c0-'A')*26 +
// c1-'A'), 0 when the country does not use IBANs.
var ibanLen = func() (t [26 * 26]uint8) {
	const reg = "AD24AE23AL28AT20AZ28BA20BE16BG22BH22BI27BR29BY28CH21CR22CY28CZ24" +
		"DE22DJ27DK18DO28EE20EG29ES24FI18FK18FO18FR27GB22GE22GI23GL18GR27" +
		"GT28HN28HR21HU28IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20" +
		"LU20LV21LY25MC27MD24ME22MK19MN20MR27MT31MU30NI28NL18NO15OM23PK24" +
		"PL28PS29PT25QA29RO24RS22RU33SA24SC31SD18SE24SI19SK24SM27SO23ST25" +
		"SV28TL23TN24TR26UA29VA22VG24XK20YE30"
	for k := 0; k+4 <= len(reg); k += 4 {
		t[int(reg[k]-'A')*26+int(reg[k+1]-'A')] = uint8(num(reg[k+2 : k+4]))
	}
	return t
}()

// iban matches an IBAN of a known country and length, contiguous or in
// groups of four separated by single spaces, with a valid mod-97 checksum.
func (sc *scanner) iban(i int) int {
	s := sc.s
	n := len(s)
	if i+4 > n || !isUpper(s[i+1]) || !isDigit(s[i+2]) || !isDigit(s[i+3]) {
		return -1
	}
	l := int(ibanLen[int(s[i]-'A')*26+int(s[i+1]-'A')])
	if l == 0 {
		return -1
	}
	var buf [34]byte
	nb := copy(buf[:], s[i:i+4])
	j := i + 4
	spaced := j+1 < n && s[j] == ' '
	for nb < l {
		if spaced {
			if (nb-4)%4 == 0 {
				if j+1 >= n || s[j] != ' ' {
					return -1
				}
				j++
			}
		}
		if j >= n || !(isUpper(s[j]) || isDigit(s[j])) {
			return -1
		}
		buf[nb] = s[j]
		nb++
		j++
	}
	if j < n && isWord(s[j]) {
		return -1
	}
	if !ibanValid(buf[:l]) {
		return -1
	}
	return sc.add(i, j, kIBAN)
}

func ibanValid(b []byte) bool {
	if c := num(string(b[2:4])); c < 2 || c > 98 {
		return false
	}
	r := 0
	for k := range b {
		c := b[(k+4)%len(b)]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r == 1
}
