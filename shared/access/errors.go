package access

import (
	"errors"
	"fmt"
)

// Kind classifies an error by what the caller can do about it. Each edge
// maps kinds to its own form in one place: the API to HTTP statuses, the
// decision page to a page, the CLI to exit codes.
type Kind int

// Kinds of error.
const (
	// KindInternal is anything unexpected; its text is never shown.
	KindInternal Kind = iota
	// KindInvalid: the input is wrong (a *ValidationError names the
	// field).
	KindInvalid
	// KindForbidden: the caller may not do this.
	KindForbidden
	// KindNotFound: no such thing, or none the caller may see.
	KindNotFound
	// KindConflict: the request's status does not allow it now.
	KindConflict
	// KindBusy: the request is changing; retrying later is safe.
	KindBusy
	// KindUnprocessable: well-formed, but the policy cannot honour it
	// (no approver but the requester, a reused idempotency key).
	KindUnprocessable
	// KindStale: the caller's view is out of date (a policy version).
	KindStale
	// KindTooLarge: the input exceeds a size limit.
	KindTooLarge
	// KindUnsupported: the input comes in a format that is not accepted.
	KindUnsupported
	// KindUnavailable: a dependency is down or not set up; retry later.
	KindUnavailable
)

// Error is a refusal meant for the caller: a kind, a machine-readable code
// and a message in words.
type Error struct {
	Kind Kind
	// Code is a stable identifier such as "no_approver"; empty means the
	// kind's default.
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Fail builds an *Error of kind with code, its message formatted.
func Fail(kind Kind, code, format string, args ...any) error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// KindOf returns the kind of err: that of the *Error it wraps, of the
// package's sentinel and transition errors, or KindInternal.
func KindOf(err error) Kind {
	var e *Error
	var ve *ValidationError
	var te *ErrTransition
	switch {
	case errors.As(err, &e):
		return e.Kind
	case errors.As(err, &ve):
		return KindInvalid
	case errors.As(err, &te):
		return KindConflict
	case errors.Is(err, ErrNotFound):
		return KindNotFound
	case errors.Is(err, ErrForbidden):
		return KindForbidden
	}
	return KindInternal
}
