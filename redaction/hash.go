package redaction

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
)

// HashPrefix starts every value returned by [Hash].
const HashPrefix = "sha256:"

// Hash returns a stable fingerprint of s for [ModeHashed]: "sha256:"
// followed by 64 lower-case hex digits. With a non-empty key it is
// HMAC-SHA256(key, s), which is what should be stored: a plain hash of a
// short or guessable prompt can be reversed by trying candidates. With an
// empty key it is the plain SHA-256 of s. Equal inputs (and keys) always
// give equal outputs, so identical prompts group together without the
// prompt itself being stored.
func Hash(s string, key []byte) string {
	var sum [sha256.Size]byte
	if len(key) == 0 {
		sum = sha256.Sum256([]byte(s))
	} else {
		m := hmac.New(sha256.New, key)
		_, _ = io.WriteString(m, s)
		m.Sum(sum[:0])
	}
	var out [len(HashPrefix) + 2*sha256.Size]byte
	copy(out[:], HashPrefix)
	hex.Encode(out[len(HashPrefix):], sum[:])
	return string(out[:])
}
