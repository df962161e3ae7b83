package redaction

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPrivacyDocExamples keeps the detector table of docs/privacy.md
// honest: every row between the redaction-examples markers must be what
// Default().Redact gives ("unchanged" means the text is returned as is;
// "\n" in a cell stands for a newline).
func TestPrivacyDocExamples(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "docs", "privacy.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	_, rest, ok := strings.Cut(doc, "<!-- redaction-examples:begin -->")
	if !ok {
		t.Fatal("docs/privacy.md: begin marker missing")
	}
	table, _, ok := strings.Cut(rest, "<!-- redaction-examples:end -->")
	if !ok {
		t.Fatal("docs/privacy.md: end marker missing")
	}
	r := Default()
	rows := 0
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(line, " | ")
		if len(cells) != 3 || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| detector") {
			continue
		}
		in, ok := codeSpan(cells[1])
		if !ok {
			t.Errorf("docs/privacy.md row %q: text is not a code span", line)
			continue
		}
		want := in
		if out := strings.TrimSuffix(strings.TrimSpace(cells[2]), "|"); strings.TrimSpace(out) != "unchanged" {
			if want, ok = codeSpan(out); !ok {
				t.Errorf("docs/privacy.md row %q: result is not a code span", line)
				continue
			}
		}
		det := strings.TrimSpace(strings.TrimPrefix(cells[0], "|"))
		if got := r.Redact(in); got != want {
			t.Errorf("docs/privacy.md, %s example:\n text: %q\n  got: %q\n doc:  %q", det, in, got, want)
		}
		if det != "(none)" && !strings.Contains(want, "["+strings.ToUpper(det)+"]") {
			t.Errorf("docs/privacy.md, %s example %q does not show [%s]", det, want, strings.ToUpper(det))
		}
		rows++
	}
	for _, name := range DetectorNames() {
		if !strings.Contains(table, "| "+name+" | ") {
			t.Errorf("docs/privacy.md has no example for detector %s", name)
		}
	}
	if rows < len(DetectorNames()) {
		t.Errorf("only %d example rows", rows)
	}
}

// codeSpan returns the text of the first `…` span in cell, with \n as a
// newline.
func codeSpan(cell string) (string, bool) {
	i := strings.IndexByte(cell, '`')
	if i < 0 {
		return "", false
	}
	j := strings.IndexByte(cell[i+1:], '`')
	if j < 0 {
		return "", false
	}
	return strings.ReplaceAll(cell[i+1:i+1+j], `\n`, "\n"), true
}
