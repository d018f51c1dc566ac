package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// exitError is a failure as the user sees it: what went wrong, what to do
// next, and the exit code. Every command error ends up as one (classify).
type exitError struct {
	Code int
	// Kind is the machine-readable reason: the API's error code, or one of
	// usage, credentials, config, network, not_active, file,
	// unavailable, internal.
	Kind       string
	Message    string
	Hint       string
	HTTPStatus int
	// Status is the request status, for not_active.
	Status string
	// Reported means the command already printed its result (a --wait
	// outcome): only the exit code is left to give.
	Reported bool
}

func (e *exitError) Error() string { return e.Message }

func usageErr(format string, args ...any) *exitError {
	return &exitError{Code: exitUsage, Kind: "usage", Message: fmt.Sprintf(format, args...)}
}

// outcome carries an exit code whose explanation is already printed.
func outcome(code int) *exitError { return &exitError{Code: code, Reported: true} }

// exitCodeFor maps a final request status to the exit code --wait, creds
// and exec give for it. Statuses that are not final (pending, approved)
// and unknown ones give exitFailure.
func exitCodeFor(status string) int {
	switch status {
	case "active":
		return exitOK
	case "denied":
		return exitDenied
	case "timed_out":
		return exitTimedOut
	case "cancelled":
		return exitCancelled
	case "failed", "revoked", "expired":
		return exitEnded
	}
	return exitFailure
}

// report prints err (to stderr, and as the JSON document on stdout with
// --output json) and returns the exit code.
func (a *app) report(err error) int {
	if err == nil {
		return exitOK
	}
	e := a.classify(err)
	if e.Reported {
		return e.Code
	}
	prefix := "jit"
	if a.cmd != "" {
		prefix += " " + a.cmd
	}
	fmt.Fprintf(a.stderr, "%s: %s\n", prefix, e.Message)
	if e.Hint != "" {
		fmt.Fprintf(a.stderr, "  %s\n", strings.ReplaceAll(e.Hint, "\n", "\n  "))
	}
	if e.Code == exitUsage && e.Kind == "usage" && e.Hint == "" {
		if a.cmd != "" {
			fmt.Fprintf(a.stderr, "  run `jit %s --help` for usage\n", a.cmd)
		} else {
			fmt.Fprintf(a.stderr, "  run `jit --help` for usage\n")
		}
	}
	if a.json() {
		doc := map[string]any{"error": e.Kind, "message": e.Message, "exit_code": e.Code}
		if e.Hint != "" {
			doc["hint"] = e.Hint
		}
		if e.HTTPStatus != 0 {
			doc["http_status"] = e.HTTPStatus
		}
		if e.Status != "" {
			doc["status"] = e.Status
		}
		_ = a.printJSON(doc)
	}
	return e.Code
}

// classify turns any error into what the user sees.
func (a *app) classify(err error) *exitError {
	var ee *exitError
	var ae *apiError
	var ce *credsError
	var cfge *configError
	switch {
	case errors.As(err, &ee):
		return ee
	case errors.As(err, &ae):
		return a.describeAPIError(ae)
	case errors.As(err, &ce):
		return &exitError{Code: exitFailure, Kind: "credentials", Message: ce.Error(),
			Hint: "no usable AWS credentials: run `aws sso login` (SSO), pass --profile or set AWS_PROFILE,\nor export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; `aws sts get-caller-identity` should work first"}
	case errors.As(err, &cfge):
		return &exitError{Code: exitFailure, Kind: "config", Message: cfge.Error(), Hint: cfge.hint}
	case errors.Is(err, context.Canceled):
		return &exitError{Code: exitInterrupted, Kind: "interrupted", Message: "interrupted"}
	}
	var ne *netError
	if errors.As(err, &ne) {
		return describeNetError(ne)
	}
	return &exitError{Code: exitFailure, Kind: "internal", Message: err.Error()}
}

// describeAPIError explains an API answer and says what to try next.
func (a *app) describeAPIError(e *apiError) *exitError {
	out := &exitError{Code: exitFailure, Kind: e.Code, HTTPStatus: e.Status, Message: e.Message}
	if out.Kind == "" {
		out.Kind = fmt.Sprintf("http_%d", e.Status)
	}
	if out.Message == "" {
		out.Message = fmt.Sprintf("the API answered %d to %s %s", e.Status, e.Method, e.Path)
	}
	switch {
	case e.AWSType != "" || (e.Status == 403 && e.Code == ""):
		// Refused by API Gateway's IAM authorizer before reaching jit.
		out.Kind = "signature"
		if e.AWSType != "" {
			out.Kind = e.AWSType
		}
		out.Message = fmt.Sprintf("AWS refused the call (%d %s): %s", e.Status, firstNonEmpty(e.AWSType, "Forbidden"), e.Message)
		switch e.AWSType {
		case "UnrecognizedClientException":
			out.Hint = "the access key is not known: check AWS credentials / --profile (`aws sts get-caller-identity` shows who you are)"
		case "MissingAuthenticationTokenException":
			out.Hint = "the call was not signed: check AWS credentials, and that --api-url is the jit API"
		default:
			out.Hint = fmt.Sprintf("check AWS credentials / region: the secret key must match the access key, the clock must be right,\nand the call is signed for region %s (set --region or AWS_REGION if the API is elsewhere);\nin AWS your principal also needs execute-api:Invoke on the jit API", firstNonEmpty(e.Region, "?"))
		}
	case e.Status == 400 || e.Status == 422:
		out.Code = exitUsage
		out.Hint = fieldHint(a.cmd, e.Field, e.Code)
		if strings.Contains(e.Message, "unknown field") || strings.Contains(e.Message, "is not a parameter here") {
			out.Hint = "the API does not take that option: the deployed service is older than this jit; leave the option out"
		}
	case e.Status == 403 && (a.cmd == "audit" || a.cmd == "stats"):
		out.Hint = "auditors and admins are the principals in AuditorPrincipals and AdminPrincipals where jit is deployed;\nask whoever runs jit to add you, or check that --profile is the identity you meant;\n`jit status <id>` shows the history of each of your own requests"
	case e.Status == 403 && a.cmd == "policy":
		out.Hint = "admins and auditors are set where jit is deployed (AdminPrincipals, AuditorPrincipals);\nask whoever runs jit, or check that --profile is the identity you meant"
	case e.Status == 403:
		out.Hint = "the jit policy does not allow this for your principal; ask a jit admin (or check that --profile is the identity you meant)"
	case e.Status == 404 && e.Code == "":
		out.Message = fmt.Sprintf("the API has no route %s %s (404)", e.Method, e.Path)
		out.Hint = "check that --api-url / JIT_API_URL points at the jit API, and that this jit is not newer than the service"
	case e.Status == 404:
		if id, ok := strings.CutPrefix(e.Path, "/v1/requests/"); ok && !strings.Contains(id, "/") {
			out.Message = fmt.Sprintf("request %s: %s", id, e.Message)
		}
		out.Hint = "you can only see requests you made with these credentials; `jit list` shows yours"
	case e.Status == 409:
		out.Hint = "the request changed meanwhile; `jit status <id>` shows where it is now"
	case e.Code == "no_policy":
		out.Hint = "a jit admin must apply a policy before anyone can request access"
	case e.Status >= 500:
		out.Hint = "the service failed; the call was retried and may be retried again later;\nif it persists, the service logs (CloudWatch, or `make dev`'s output) have the details"
	}
	return out
}

// fieldHint names the flag to change for an invalid field.
func fieldHint(cmd, field, code string) string {
	switch code {
	case "idempotency_key_reused":
		return "that Idempotency-Key already made another request (different resource, duration or reason);\npass a new --idempotency-key or JIT_IDEMPOTENCY_KEY (in CI: one key per distinct request in a job)"
	case "no_approver":
		return "ask a jit admin to add an approver for this resource"
	}
	if cmd == "audit" || cmd == "stats" {
		switch field {
		case "from":
			return "fix --since / --from (an RFC 3339 time or a date; not after --to; stats cover at most 92 days)"
		case "to":
			return "fix --to (an RFC 3339 time or a date)"
		case "cursor":
			return "fix --cursor: a cursor continues only the search it came from (same filters, --from and --to); use the command jit printed"
		case "requester", "actor", "resource", "action", "status", "limit", "format":
			return "fix --" + field
		}
	}
	flags := map[string]string{
		"resource":        "the <resource> argument (`jit list` shows what you asked for before; the policy lists resources)",
		"duration":        "--duration (e.g. 15m, 1h; within the resource's minimum and maximum)",
		"reason":          "--reason",
		"ticket":          "--ticket (the resource's policy says what a ticket looks like)",
		"start_at":        "--start-at (in the future, within what the resource allows)",
		"break_glass":     "--break-glass (only for resources whose policy allows it)",
		"version":         "--version",
		"by":              "--by (e.g. 30m; the total stays within the resource's maximum)",
		"If-Match":        "--if-version",
		"Idempotency-Key": "--idempotency-key / JIT_IDEMPOTENCY_KEY (1-128 of A-Z a-z 0-9 . _ : -)",
		"limit":           "--limit",
		"cursor":          "--cursor (use a next_cursor from `jit list -o json`)",
	}
	if f, ok := flags[field]; ok {
		return "fix " + f
	}
	if cmd != "" {
		return fmt.Sprintf("run `jit %s --help` for usage", cmd)
	}
	return ""
}

func describeNetError(ne *netError) *exitError {
	out := &exitError{Code: exitFailure, Kind: "network", Message: ne.Error()}
	local := isLocalHost(ne.URL)
	var dns *net.DNSError
	switch {
	case errors.Is(ne.Err, syscall.ECONNREFUSED) || strings.Contains(ne.Err.Error(), "connection refused"):
		if local {
			out.Hint = fmt.Sprintf("nothing listens on %s: is `make dev` running? set JIT_API_URL (or --api-url) to where the API listens\n(the local cloud serves it on http://127.0.0.1:3000)", ne.URL.Host)
		} else {
			out.Hint = fmt.Sprintf("check --api-url / JIT_API_URL (now %s from %s) and your network", ne.URL.Redacted(), ne.Source)
		}
	case errors.As(ne.Err, &dns):
		out.Hint = fmt.Sprintf("cannot resolve %s: check --api-url / JIT_API_URL (now from %s) and your DNS / VPN", ne.URL.Hostname(), ne.Source)
	case isTimeout(ne.Err):
		out.Hint = "the API did not answer in time; retry, and check your network or proxy (HTTPS_PROXY)"
	default:
		out.Hint = fmt.Sprintf("check --api-url / JIT_API_URL (now %s from %s) and your network", ne.URL.Redacted(), ne.Source)
	}
	return out
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout() || errors.Is(err, context.DeadlineExceeded)
}

func isLocalHost(u *url.URL) bool {
	if u == nil {
		return false
	}
	switch h := u.Hostname(); h {
	case "localhost", "127.0.0.1", "::1":
		return true
	default:
		return strings.HasPrefix(h, "127.")
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
