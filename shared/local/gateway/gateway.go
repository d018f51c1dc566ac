package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/local/sigv4"
)

const (
	// maxBodyBytes is the largest request body the local gateway accepts.
	maxBodyBytes = 1 << 20
	// integrationTimeout is HTTP API's cap on waiting for an integration;
	// past it the client gets 503.
	integrationTimeout = 30 * time.Second
	// signingService is the SigV4 service name of API Gateway invocations.
	signingService = "execute-api"
)

type gateway struct {
	cfg        Config
	router     *router
	identities map[string]Identity
	verifier   *sigv4.Verifier
	// timeout, newRequestID and newTraceID are fields so tests can pin them.
	timeout      time.Duration
	newRequestID func() string
	newTraceID   func(time.Time) string
}

// New validates cfg and returns the gateway's handler.
func New(cfg Config) (http.Handler, error) {
	cfg = cfg.withDefaults()
	if cfg.Invoke == nil {
		return nil, errors.New("gateway: Config.Invoke is nil")
	}
	if err := validateIdentities(cfg.Identities); err != nil {
		return nil, fmt.Errorf("gateway: identities: %w", err)
	}
	rt, err := newRouter(cfg.Routes)
	if err != nil {
		return nil, fmt.Errorf("gateway: routes: %w", err)
	}
	g := &gateway{
		cfg:          cfg,
		router:       rt,
		identities:   make(map[string]Identity, len(cfg.Identities)),
		timeout:      integrationTimeout,
		newRequestID: newRequestID,
		newTraceID:   newTraceID,
	}
	for _, id := range cfg.Identities {
		g.identities[id.AccessKeyID] = id
	}
	g.verifier = &sigv4.Verifier{
		Region:  cfg.Region,
		Service: signingService,
		Lookup:  g.secret,
		Now:     cfg.Now,
	}
	return g, nil
}

func (g *gateway) secret(accessKeyID string) (string, bool) {
	id, ok := g.identities[accessKeyID]
	return id.SecretAccessKey, ok
}

// outcome is what the request log line reports.
type outcome struct {
	status    int
	route     string
	function  string
	caller    string
	accessKey string
	authError sigv4.Reason
	path      string
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := g.newRequestID()
	w.Header().Set("Apigw-Requestid", requestID)
	out := g.serve(w, r, requestID)
	g.logRequest(r, requestID, out, time.Since(start))
}

// serve handles one request and reports how it went; every return path has
// written the response.
func (g *gateway) serve(w http.ResponseWriter, r *http.Request, requestID string) outcome {
	var (
		route  *compiledRoute
		params map[string]string
	)
	if path, ok := g.stripStage(r.URL.EscapedPath()); ok {
		route, params = g.router.match(r.Method, path)
	}
	if route == nil {
		return outcome{
			status: writeMessage(w, http.StatusNotFound, "Not Found", ""),
			path:   firstSegment(r.URL.EscapedPath()),
		}
	}
	out := outcome{route: route.Key(), function: route.Function, path: logPath(route, r.URL.Path)}

	body, err := readBody(r)
	if err != nil {
		out.status = writeMessage(w, bodyErrorStatus(err), http.StatusText(bodyErrorStatus(err)), "")
		return out
	}
	req := request{r: r, route: route, params: params, body: body, requestID: requestID, now: g.cfg.Now()}
	req.traceID = g.newTraceID(req.now)
	if route.IAMAuth {
		akid, err := g.verifier.Verify(r, body)
		out.accessKey = akid
		if err != nil {
			return refuse(w, out, err)
		}
		caller := g.identities[akid]
		req.caller, req.accessKey = &caller, akid
		out.caller = caller.Name
	}
	return g.invoke(r.Context(), w, req, out)
}

// refuse answers a failed signature check with API Gateway's 403 and the
// specific reason, which sigv4 guarantees is safe to show.
func refuse(w http.ResponseWriter, out outcome, err error) outcome {
	var verr *sigv4.Error
	if !errors.As(err, &verr) {
		verr = &sigv4.Error{Code: sigv4.CodeInvalidSignature, Message: "Forbidden", Reason: sigv4.ReasonSignatureMismatch}
	}
	out.authError = verr.Reason
	out.status = writeMessage(w, http.StatusForbidden, verr.Message, verr.Code)
	return out
}

// invoke sends the event to the route's function and writes its mapped
// response. Failures are logged in detail but reach the client only as
// API Gateway's generic 500 (or 503 on timeout).
func (g *gateway) invoke(ctx context.Context, w http.ResponseWriter, req request, out outcome) outcome {
	log := g.cfg.Logger.With("request_id", req.requestID, "function", req.route.Function)
	payload, err := marshalEvent(g.buildEvent(req))
	if err != nil {
		log.ErrorContext(ctx, "marshal event", "error", err)
		out.status = writeMessage(w, http.StatusInternalServerError, "Internal Server Error", "")
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, g.timeout)
	defer cancel()
	result, functionError, err := g.cfg.Invoke(ctx, req.route.Function, payload)
	switch {
	case err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		log.ErrorContext(ctx, "function timed out", "timeout", g.timeout, "error", err)
		out.status = writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable", "")
		return out
	case err != nil:
		log.ErrorContext(ctx, "invoke function", "error", err)
		out.status = writeMessage(w, http.StatusInternalServerError, "Internal Server Error", "")
		return out
	case functionError != "":
		errType, errMessage := functionErrorDetail(result)
		log.ErrorContext(ctx, "function failed", "function_error", functionError,
			"error_type", errType, "error_message", errMessage)
		out.status = writeMessage(w, http.StatusInternalServerError, "Internal Server Error", "")
		return out
	}
	resp, err := mapResult(result)
	if err != nil {
		log.ErrorContext(ctx, "malformed function response", "error", err)
		out.status = writeMessage(w, http.StatusInternalServerError, "Internal Server Error", "")
		return out
	}
	out.status = writeResponse(w, resp)
	return out
}

// stripStage removes the /<stage> prefix a named stage is served under; the
// $default stage has none.
func (g *gateway) stripStage(escapedPath string) (string, bool) {
	if g.cfg.Stage == defaultStage {
		return escapedPath, true
	}
	prefix := "/" + g.cfg.Stage
	rest, ok := strings.CutPrefix(escapedPath, prefix)
	if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
		return "", false
	}
	if rest == "" {
		rest = "/"
	}
	return rest, true
}

var errBodyTooLarge = errors.New("request body too large")

func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read request body: %w", err)
	}
	if len(body) > maxBodyBytes {
		return nil, errBodyTooLarge
	}
	return body, nil
}

func bodyErrorStatus(err error) int {
	if errors.Is(err, errBodyTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

// writeMessage writes API Gateway's own {"message": ...} responses. errorType
// fills x-amzn-ErrorType, which AWS sets on authorization failures.
func writeMessage(w http.ResponseWriter, status int, message, errorType string) int {
	body, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if errorType != "" {
		h.Set("X-Amzn-Errortype", errorType)
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return status
}

func writeResponse(w http.ResponseWriter, resp response) int {
	h := w.Header()
	for name, values := range resp.header {
		h[name] = values
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
	return resp.status
}

// logRequest writes the one line per request. It never logs headers, bodies,
// query strings or secrets; see logPath for what is logged of the path.
func (g *gateway) logRequest(r *http.Request, requestID string, out outcome, d time.Duration) {
	level := slog.LevelInfo
	if out.status >= http.StatusInternalServerError {
		level = slog.LevelError
	}
	attrs := []slog.Attr{
		slog.String("request_id", requestID),
		slog.String("method", r.Method),
		slog.String("path", out.path),
		slog.String("route", out.route),
		slog.String("function", out.function),
		slog.Int("status", out.status),
		slog.Duration("duration", d),
		slog.String("caller", out.caller),
	}
	if out.authError != "" {
		attrs = append(attrs, slog.String("auth_error", string(out.authError)), slog.String("access_key_id", out.accessKey))
	}
	g.cfg.Logger.LogAttrs(r.Context(), level, "request", attrs...)
}

// logPath is the path as logged. Routes without IAM auth are the public
// ones, whose path parameters are bearer secrets (the /d/{token} decision
// links), so for those the template is logged instead of the values.
func logPath(route *compiledRoute, path string) string {
	if route.IAMAuth {
		return path
	}
	return route.Path
}

// firstSegment keeps only the first segment of an unmatched path, which may
// be a mangled link carrying a token.
func firstSegment(escapedPath string) string {
	rest := strings.TrimPrefix(escapedPath, "/")
	if seg, _, more := strings.Cut(rest, "/"); more {
		return "/" + seg + "/..."
	}
	return escapedPath
}

// newRequestID makes an ID shaped like HTTP API's ("JKJaXmPLvHcESHA=").
func newRequestID() string {
	b := make([]byte, 10)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// newTraceID makes an X-Ray trace header value, as API Gateway adds one.
func newTraceID(now time.Time) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%s", now.Unix(), hex.EncodeToString(b))
}
