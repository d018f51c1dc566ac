package cloud

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Call is one AWS API call that reached the edge: made by a function, by
// moto's Step Functions interpreter (its Lambda invokes) or by anything
// else pointed at EdgeURL. Calls the interpreter makes inside moto (its
// own state transitions) never pass the edge and are not seen.
type Call struct {
	// Service is the SigV4 credential-scope service (dynamodb, states,
	// iam, ses, lambda, ...); for an unsigned call it is guessed from the
	// path ("lambda" for Invoke), else "unknown".
	Service string
	// Operation is the API operation: from X-Amz-Target (GetItem,
	// StartExecution), from Action= of query-protocol calls (GetRole,
	// UpdateAssumeRolePolicy), or from the REST path (Invoke, SendEmail).
	Operation string
	// Resource is the function name of a Lambda Invoke, else "".
	Resource string
	// Start is when the edge received the request; Duration is until its
	// handler returned (for proxied calls: moto's time plus the proxy).
	Start    time.Time
	Duration time.Duration
	Status   int
	// Body is the request body if it is at most MaxObservedBody bytes,
	// else nil. The observer may keep it; the edge forwards its own copy.
	Body []byte
}

// MaxObservedBody bounds the request bodies handed to an observer (and
// read ahead of the handler); larger bodies stream through unobserved.
const MaxObservedBody = 64 << 10

// observe wraps the edge handler so that fn sees every call after it is
// answered. It changes nothing about the request or the response.
func observe(next http.Handler, fn func(Call)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := Call{Start: time.Now(), Service: signingService(r.Header.Get("Authorization"))}
		if r.Body != nil && r.Body != http.NoBody {
			b, err := io.ReadAll(io.LimitReader(r.Body, MaxObservedBody+1))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(b), r.Body), r.Body}
			if err == nil && len(b) <= MaxObservedBody {
				c.Body = bytes.Clone(b)
			}
		}
		c.Operation, c.Resource = operation(r, c.Body)
		if c.Service == "" {
			c.Service = "unknown"
			if c.Operation == "Invoke" {
				c.Service = "lambda"
			}
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		c.Duration = time.Since(c.Start)
		c.Status = rec.status
		fn(c)
	})
}

// signingService reads the service out of a SigV4 Authorization header:
// "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/dynamodb/aws4_request, ...".
func signingService(auth string) string {
	_, cred, ok := strings.Cut(auth, "Credential=")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(cred, ", "); i >= 0 {
		cred = cred[:i]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return ""
	}
	return parts[3]
}

// operation names the API operation of r, whose body (if small) is body.
func operation(r *http.Request, body []byte) (op, resource string) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		if i := strings.LastIndexByte(t, '.'); i >= 0 {
			return t[i+1:], ""
		}
		return t, ""
	}
	if a := r.URL.Query().Get("Action"); a != "" {
		return a, ""
	}
	if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if v, err := url.ParseQuery(string(body)); err == nil && v.Get("Action") != "" {
			return v.Get("Action"), ""
		}
	}
	p := r.URL.Path
	if name, ok := invokeFunction(p); ok && r.Method == http.MethodPost {
		return "Invoke", name
	}
	switch {
	case r.Method == http.MethodPost && p == "/v2/email/outbound-emails":
		return "SendEmail", ""
	}
	return r.Method + " " + p, ""
}

// invokeFunction returns the function name of a Lambda Invoke path
// (/2015-03-31/functions/NAME/invocations), as the edge routes it.
func invokeFunction(p string) (string, bool) {
	const prefix, suffix = "/2015-03-31/functions/", "/invocations"
	if !strings.HasPrefix(p, prefix) || !strings.HasSuffix(p, suffix) || len(p) <= len(prefix)+len(suffix) {
		return "", false
	}
	return functionOf(p[len(prefix) : len(p)-len(suffix)]), true
}

// functionOf keeps the name of a function named by a name, a name with a
// qualifier, or a full or partial ARN.
func functionOf(name string) string {
	parts := strings.Split(name, ":")
	for i, s := range parts {
		if s == "function" && i+1 < len(parts) {
			return parts[i+1]
		}
	}
	return parts[0]
}

type statusRecorder struct {
	http.ResponseWriter
	status  int
	written bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.written {
		s.status, s.written = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.written = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (used by the edge's reverse proxy to
// flush) reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Flush() {
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
