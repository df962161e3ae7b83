package collector

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
)

// Keys is a set of Bearer keys, compared in constant time.
type Keys struct {
	sums   [][sha256.Size]byte
	secret []byte // for session cookies
}

// NewKeys returns the key set; empty keys (after trimming) are ignored.
func NewKeys(keys ...string) *Keys {
	k := &Keys{secret: make([]byte, 32)}
	if _, err := rand.Read(k.secret); err != nil {
		panic("collector: no randomness: " + err.Error())
	}
	for _, key := range keys {
		if key = strings.TrimSpace(key); key != "" {
			k.sums = append(k.sums, sha256.Sum256([]byte(key)))
		}
	}
	return k
}

// SplitKeys splits a comma-separated key list (LEANLLM_COLLECTOR_KEYS).
func SplitKeys(s string) []string {
	var out []string
	for k := range strings.SplitSeq(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			out = append(out, k)
		}
	}
	return out
}

// Len returns the number of keys.
func (k *Keys) Len() int {
	if k == nil {
		return 0
	}
	return len(k.sums)
}

// Valid reports whether key is one of the keys. It compares the SHA-256 of
// key with every key's in constant time, so neither the match nor the
// lengths leak through timing.
func (k *Keys) Valid(key string) bool {
	if k == nil || key == "" {
		return false
	}
	sum := sha256.Sum256([]byte(key))
	ok := 0
	for i := range k.sums {
		ok |= subtle.ConstantTimeCompare(sum[:], k.sums[i][:])
	}
	return ok == 1
}

// Bearer returns the token of an "Authorization: Bearer TOKEN" header.
func Bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// ValidRequest reports whether r carries a valid Bearer key.
func (k *Keys) ValidRequest(r *http.Request) bool { return k.Valid(Bearer(r)) }

// SessionToken returns the cookie value that stands for key: an HMAC of the
// key's hash under a secret made at start, so it reveals nothing about the
// key and is void when the server restarts. "" when key is not valid.
func (k *Keys) SessionToken(key string) string {
	if !k.Valid(key) {
		return ""
	}
	sum := sha256.Sum256([]byte(key))
	return k.token(sum)
}

func (k *Keys) token(sum [sha256.Size]byte) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte("leanllm-dashboard-session\x00"))
	m.Write(sum[:])
	return hex.EncodeToString(m.Sum(nil))
}

// ValidSession reports whether tok is the session token of one of the keys.
func (k *Keys) ValidSession(tok string) bool {
	if k == nil || tok == "" {
		return false
	}
	ok := 0
	for _, s := range k.sums {
		ok |= subtle.ConstantTimeCompare([]byte(tok), []byte(k.token(s)))
	}
	return ok == 1
}
