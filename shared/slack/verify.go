package slack

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers Slack signs requests with.
const (
	HeaderTimestamp = "X-Slack-Request-Timestamp"
	HeaderSignature = "X-Slack-Signature"
)

// MaxAge is how far a request's timestamp may be from now, either way,
// before it is refused as a possible replay.
const MaxAge = 5 * time.Minute

// Errors of Verify. Callers answer all of them the same way (401) and
// should not tell the sender which one it was.
var (
	ErrMissingHeaders = errors.New("slack: request signature headers missing")
	ErrStale          = errors.New("slack: request timestamp too old or in the future")
	ErrBadSignature   = errors.New("slack: request signature does not match")
)

// Verify checks a request Slack signed: signature must be "v0=" and the
// hex HMAC-SHA256, keyed with the app's signing secret, of
// "v0:{timestamp}:{body}", and timestamp (Unix seconds) must be within
// MaxAge of now. body is the raw request body exactly as received. The
// signatures are compared in constant time.
func Verify(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	if timestamp == "" || signature == "" {
		return ErrMissingHeaders
	}
	if len(secret) == 0 {
		return errors.New("slack: no signing secret configured")
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %q is not a number", ErrStale, timestamp)
	}
	age := now.Sub(time.Unix(ts, 0))
	if age > MaxAge || age < -MaxAge {
		return ErrStale
	}
	got, ok := strings.CutPrefix(signature, "v0=")
	if !ok {
		return ErrBadSignature
	}
	gotMAC, err := hex.DecodeString(got)
	if err != nil {
		return ErrBadSignature
	}
	if !hmac.Equal(gotMAC, mac(secret, timestamp, body)) {
		return ErrBadSignature
	}
	return nil
}

// VerifyHTTP verifies a request from its headers: an http.Header, or the
// lower-cased map[string]string of an API Gateway event.
func VerifyHTTP(secret []byte, headers http.Header, body []byte, now time.Time) error {
	return Verify(secret, headers.Get(HeaderTimestamp), headers.Get(HeaderSignature), body, now)
}

// VerifyEvent verifies a request from an API Gateway (payload 2.0) event's
// headers, whose names arrive lower-cased.
func VerifyEvent(secret []byte, headers map[string]string, body []byte, now time.Time) error {
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	return VerifyHTTP(secret, h, body, now)
}

// Sign returns the X-Slack-Signature value for body at timestamp: what
// Slack sends. Tests and local tools use it to make signed requests.
func Sign(secret []byte, timestamp string, body []byte) string {
	return "v0=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("v0:"))
	m.Write([]byte(timestamp))
	m.Write([]byte(":"))
	m.Write(body)
	return m.Sum(nil)
}
