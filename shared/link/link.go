// Package link owns decision-link tokens: 256 random bits, URL-safe, shown
// once in a message and stored only as a hash.
//
// It must not store or look up tokens; the store package keeps the hash
// with what the token is bound to (request, level, approver).
package link

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Size is the token's entropy in bytes.
const Size = 32

// MaxLifetime is the longest a decision link may work. A link is a
// bearer credential: whoever holds it (a forward, a shared mailbox, a
// scanner that follows links and submits forms) decides as its approver,
// so its exposure is kept to a day however long the level waits.
const MaxLifetime = 24 * time.Hour

// encodedLen is the length of a token in its URL form.
var encodedLen = base64.RawURLEncoding.EncodedLen(Size)

// ErrMalformed is returned for anything that is not a token's URL form.
var ErrMalformed = errors.New("malformed link token")

// Token is the secret part of a decision link. It redacts itself in logs.
type Token string

// New draws a token from random (crypto/rand when nil).
func New(random io.Reader) (Token, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [Size]byte
	if _, err := io.ReadFull(random, b[:]); err != nil {
		return "", fmt.Errorf("new link token: %w", err)
	}
	return Token(base64.RawURLEncoding.EncodeToString(b[:])), nil
}

// Parse checks that s is a token's URL form before any lookup, so junk
// never reaches the table.
func Parse(s string) (Token, error) {
	if len(s) != encodedLen {
		return "", ErrMalformed
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != Size {
		return "", ErrMalformed
	}
	// Re-encoding rejects non-canonical forms (stray bits in the last char),
	// so each token has exactly one spelling and one hash.
	if base64.RawURLEncoding.EncodeToString(b) != s {
		return "", ErrMalformed
	}
	return Token(s), nil
}

// Hash is what is stored: hex SHA-256 of the token's URL form. A 256-bit
// random secret needs no salt or slow hash.
func (t Token) Hash() string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// LogValue keeps the token out of logs.
func (t Token) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// String keeps the token out of fmt output too; use Reveal to build a URL.
func (t Token) String() string { return "[redacted]" }

// Reveal returns the token itself, for building the link sent to the
// approver and nothing else.
func (t Token) Reveal() string { return string(t) }
