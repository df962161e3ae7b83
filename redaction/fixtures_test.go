package redaction

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/matryer/is"
)

type positive struct {
	det, text, secret string
	line              int
}

type negative struct {
	cat, text string
	line      int
}

func readFixture(t *testing.T, name string, fields int) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		parts := strings.Split(l, "\t")
		if len(parts) != fields {
			t.Fatalf("%s:%d: want %d tab-separated fields, got %d", name, n, fields, len(parts))
		}
		for i := range parts {
			parts[i] = unescapeField(parts[i])
		}
		rows = append(rows, append(parts, strconv.Itoa(n)))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

func loadPositives(t *testing.T) []positive {
	var ps []positive
	for _, r := range readFixture(t, "positives.txt", 3) {
		ps = append(ps, positive{det: r[0], text: r[1], secret: r[2], line: mustAtoi(r[3])})
	}
	return ps
}

func loadNegatives(t *testing.T) []negative {
	var ns []negative
	for _, r := range readFixture(t, "negatives.txt", 2) {
		ns = append(ns, negative{cat: r[0], text: r[1], line: mustAtoi(r[2])})
	}
	return ns
}

func TestFixturePositives(t *testing.T) {
	is := is.New(t)
	ps := loadPositives(t)
	per := map[string]int{}
	for _, p := range ps {
		per[p.det]++
	}
	is.True(len(ps) >= 300) // at least 300 positives
	for _, name := range DetectorNames() {
		det := strings.ToUpper(name)
		if per[det] < 15 {
			t.Errorf("detector %s has %d positives, want >= 15", det, per[det])
		}
	}
	t.Logf("%d positives: %v", len(ps), per)
	r := Default()
	for _, p := range ps {
		t.Run(p.det+"/"+strconv.Itoa(p.line), func(t *testing.T) {
			is := is.New(t)
			is.True(strings.Contains(p.text, p.secret)) // fixture: secret must occur in text
			got := r.Redact(p.text)
			if strings.Contains(got, p.secret) {
				t.Errorf("positives.txt:%d: secret %q still present in %q", p.line, p.secret, got)
			}
			if !strings.Contains(got, "["+p.det+"]") {
				t.Errorf("positives.txt:%d: placeholder [%s] missing in %q", p.line, p.det, got)
			}
		})
	}
}

func TestFixtureNegatives(t *testing.T) {
	is := is.New(t)
	ns := loadNegatives(t)
	is.True(len(ns) >= 150) // at least 150 negatives
	r := Default()
	changed := 0
	for _, n := range ns {
		if got := r.Redact(n.text); got != n.text {
			changed++
			t.Logf("negatives.txt:%d [%s]: %q -> %q", n.line, n.cat, n.text, got)
		}
	}
	rate := float64(changed) / float64(len(ns))
	t.Logf("false positives: %d of %d negatives (%.2f%%)", changed, len(ns), 100*rate)
	if rate > 0.01 {
		t.Errorf("false-positive rate %.2f%% exceeds 1%%", 100*rate)
	}
}

func TestFixtureIdempotence(t *testing.T) {
	r := Default()
	var texts []string
	for _, p := range loadPositives(t) {
		texts = append(texts, p.text)
	}
	for _, n := range loadNegatives(t) {
		texts = append(texts, n.text)
	}
	for i, s := range texts {
		once := r.Redact(s)
		if twice := r.Redact(once); twice != once {
			t.Errorf("fixture %d not idempotent:\n in: %q\n 1x: %q\n 2x: %q", i, s, once, twice)
		}
	}
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}
