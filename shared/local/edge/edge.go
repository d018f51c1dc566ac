package edge

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/local/ddbcheck"
	"github.com/jitaccess/jit/shared/local/runner"
)

// InvokeFunc runs one synchronous invocation of function (a name or ARN,
// possibly qualified). A function error is reported in functionError
// ("Unhandled") with the error object as result; err is only for
// invocations that produced no result: wrap runner.ErrUnknownFunction for
// an unknown function (404) and runner.ErrThrottled for a full queue (429).
type InvokeFunc func(ctx context.Context, function string, payload []byte) (result []byte, functionError string, err error)

const (
	invokePathPrefix = "/2015-03-31/functions/"
	invokePathSuffix = "/invocations"
	// maxPayload is Lambda's request payload limit for Invoke.
	maxPayload = 6 << 20
	// backendDialTimeout is how long connecting to the emulator may take;
	// it is local, so a slow connect means it is gone.
	backendDialTimeout = 3 * time.Second
	// backendResponseTimeout bounds the wait for the emulator's response
	// headers: the longest synchronous call it serves is a Step Functions
	// StartSyncExecution, which AWS caps at 5 minutes.
	backendResponseTimeout = 5 * time.Minute
)

// handler is the edge's http.Handler.
type handler struct {
	invoke  InvokeFunc
	backend *url.URL
	origin  string // scheme://host of backend, for messages
	log     *slog.Logger
	proxy   *httputil.ReverseProxy
	timeout time.Duration // backend response header timeout
	lax     bool          // DynamoDB requests go to the emulator unchecked
}

// Option changes how the edge serves.
type Option func(*handler)

// LaxDynamoDB turns off the DynamoDB request checks (see ddbcheck): the
// emulator alone decides what it accepts. For finding out whether a
// failure comes from the checks; code that needs it fails on AWS.
func LaxDynamoDB() Option { return func(h *handler) { h.lax = true } }

// New returns the edge handler: Lambda invocations go to invoke, all other
// requests to backend (moto's base URL). A nil logger discards logs.
func New(invoke InvokeFunc, backend *url.URL, logger *slog.Logger, opts ...Option) http.Handler {
	h := newHandler(invoke, backend, logger, backendResponseTimeout)
	for _, o := range opts {
		o(h)
	}
	return h
}

func newHandler(invoke InvokeFunc, backend *url.URL, logger *slog.Logger, timeout time.Duration) *handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{
		invoke:  invoke,
		log:     logger.With("component", "edge"),
		timeout: timeout,
	}
	if backend != nil && backend.Host != "" {
		h.backend = backend
		h.origin = backend.Scheme + "://" + backend.Host
		h.proxy = h.newProxy()
	}
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		if name, ok := invokeTarget(r.URL); ok {
			h.serveInvoke(w, r, name)
			return
		}
	}
	if h.proxy == nil {
		writeJSON(w, http.StatusBadGateway, "EmulatorUnreachable", map[string]string{
			"message": "no AWS emulator (moto) is configured for the local cloud",
		})
		return
	}
	if !h.lax && ddbcheck.Screen(w, r, h.log) {
		return
	}
	h.proxy.ServeHTTP(w, r)
}

// invokeTarget extracts the URL-decoded function name of an Invoke call.
func invokeTarget(u *url.URL) (string, bool) {
	p := u.EscapedPath()
	if len(p) <= len(invokePathPrefix)+len(invokePathSuffix) ||
		!strings.HasPrefix(p, invokePathPrefix) || !strings.HasSuffix(p, invokePathSuffix) {
		return "", false
	}
	raw := p[len(invokePathPrefix) : len(p)-len(invokePathSuffix)]
	if strings.Contains(raw, "/") {
		return "", false
	}
	name, err := url.PathUnescape(raw)
	if err != nil || name == "" {
		return "", false
	}
	return name, true
}

// hasQualifier reports whether a FunctionName already names a version or
// alias (name:q, account:function:name:q, arn:...:function:name:q).
func hasQualifier(name string) bool {
	parts := strings.Split(name, ":")
	switch {
	case parts[0] == "arn":
		return len(parts) >= 8
	case len(parts) >= 3 && parts[1] == "function":
		return len(parts) >= 4
	default:
		return len(parts) >= 2
	}
}

func (h *handler) serveInvoke(w http.ResponseWriter, r *http.Request, name string) {
	requestID := newRequestID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	if q := r.URL.Query().Get("Qualifier"); q != "" && !hasQualifier(name) {
		name += ":" + q
	}
	invocationType := r.Header.Get("X-Amz-Invocation-Type")
	if invocationType == "" {
		invocationType = "RequestResponse"
	}
	log := h.log.With("function", name, "edge_request_id", requestID, "invocation_type", invocationType)

	payload, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPayload))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			writeLambdaError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "User",
				fmt.Sprintf("Request must be smaller than %d bytes for the InvokeFunction operation", maxPayload))
			return
		}
		log.Debug("reading invoke payload", "error", err)
		writeLambdaError(w, http.StatusBadRequest, "InvalidRequestContentException", "User", "could not read the request payload: "+err.Error())
		return
	}
	if len(payload) == 0 {
		payload = []byte("{}") // Lambda hands an empty payload to the function as {}
	}
	if h.invoke == nil {
		writeLambdaError(w, http.StatusInternalServerError, "ServiceException", "Service", "no local Lambda runner is configured")
		return
	}

	switch invocationType {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
	case "Event":
		go h.invokeAsync(context.WithoutCancel(r.Context()), name, payload, log)
		w.WriteHeader(http.StatusAccepted)
	case "RequestResponse":
		h.invokeSync(w, r, name, payload, log)
	default:
		writeLambdaError(w, http.StatusBadRequest, "InvalidParameterValueException", "User",
			fmt.Sprintf("invalid InvocationType %q: expected RequestResponse, Event or DryRun", invocationType))
	}
}

func (h *handler) invokeSync(w http.ResponseWriter, r *http.Request, name string, payload []byte, log *slog.Logger) {
	start := time.Now()
	result, functionError, err := h.invoke(r.Context(), name, payload)
	if err != nil {
		h.writeInvokeError(w, r, name, err, log)
		return
	}
	hdr := w.Header()
	hdr.Set("Content-Type", "application/json")
	hdr.Set("Content-Length", strconv.Itoa(len(result)))
	hdr.Set("X-Amz-Executed-Version", "$LATEST")
	if functionError != "" {
		hdr.Set("X-Amz-Function-Error", functionError)
	}
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(result); err != nil {
		log.Debug("writing invoke result", "error", err)
	}
	if functionError != "" {
		log.Info("lambda invoked: function error", "duration", time.Since(start), "function_error", functionError, "result", truncate(result, 500))
	} else {
		log.Info("lambda invoked", "duration", time.Since(start))
	}
}

func (h *handler) invokeAsync(ctx context.Context, name string, payload []byte, log *slog.Logger) {
	start := time.Now()
	result, functionError, err := h.invoke(ctx, name, payload)
	switch {
	case err != nil:
		log.Error("async lambda invocation failed", "error", err)
	case functionError != "":
		log.Warn("async lambda invocation: function error (not retried locally)", "duration", time.Since(start), "function_error", functionError, "result", truncate(result, 500))
	default:
		log.Info("async lambda invoked", "duration", time.Since(start))
	}
}

func (h *handler) writeInvokeError(w http.ResponseWriter, r *http.Request, name string, err error, log *slog.Logger) {
	switch {
	case errors.Is(err, runner.ErrUnknownFunction):
		log.Warn("invoke of unknown function")
		writeLambdaError(w, http.StatusNotFound, "ResourceNotFoundException", "User", "Function not found: "+name)
	case errors.Is(err, runner.ErrThrottled):
		log.Warn("invoke throttled", "error", err)
		writeLambdaError(w, http.StatusTooManyRequests, "TooManyRequestsException", "User", "Rate Exceeded. "+err.Error())
	case r.Context().Err() != nil:
		log.Debug("caller went away during invocation", "error", err)
	case errors.Is(err, runner.ErrClosed):
		writeLambdaError(w, http.StatusServiceUnavailable, "ServiceException", "Service", "the local Lambda runner is shutting down")
	default:
		log.Error("invoke failed", "error", err)
		writeLambdaError(w, http.StatusInternalServerError, "ServiceException", "Service", err.Error())
	}
}

func (h *handler) newProxy() *httputil.ReverseProxy {
	transport := &http.Transport{
		Proxy:                 nil, // the emulator is local: never use HTTP(S)_PROXY
		DialContext:           (&net.Dialer{Timeout: backendDialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   64,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: h.timeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass bodies through byte for byte
	}
	backend := h.backend
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(backend)
			pr.Out.Host = pr.In.Host // signed, and used by moto (S3 virtual hosts, URLs it returns)
			for _, k := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
				if v, ok := pr.In.Header[k]; ok {
					pr.Out.Header[k] = v // Rewrite strips them; keep the request unchanged
				}
			}
		},
		Transport:     transport,
		FlushInterval: -1,
		ErrorLog:      slog.NewLogLogger(h.log.Handler(), slog.LevelDebug),
		ModifyResponse: func(resp *http.Response) error {
			h.log.Debug("proxied", "method", resp.Request.Method, "path", resp.Request.URL.Path,
				"target", resp.Request.Header.Get("X-Amz-Target"), "status", resp.StatusCode)
			return nil
		},
		ErrorHandler: h.proxyError,
	}
}

func (h *handler) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		h.log.Debug("caller went away during proxied request", "method", r.Method, "path", r.URL.Path, "error", err)
		return
	}
	status, code := http.StatusBadGateway, "EmulatorError"
	var msg string
	var opErr *net.OpError
	switch {
	case errors.As(err, &opErr) && opErr.Op == "dial":
		code = "EmulatorUnreachable"
		msg = fmt.Sprintf("AWS emulator (moto) at %s is not reachable: %v", h.origin, err)
	case isTimeout(err):
		status, code = http.StatusGatewayTimeout, "EmulatorTimeout"
		msg = fmt.Sprintf("AWS emulator (moto) at %s did not answer %s %s within %s: %v", h.origin, r.Method, r.URL.Path, h.timeout, err)
	default:
		msg = fmt.Sprintf("AWS emulator (moto) at %s failed to answer %s %s: %v", h.origin, r.Method, r.URL.Path, err)
	}
	h.log.Error("proxy to AWS emulator failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	writeJSON(w, status, code, map[string]string{"message": msg})
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// writeLambdaError writes a Lambda API error as the SDKs parse it.
func writeLambdaError(w http.ResponseWriter, status int, code, typ, message string) {
	writeJSON(w, status, code, map[string]string{"Type": typ, "message": message})
}

func writeJSON(w http.ResponseWriter, status int, code string, body map[string]string) {
	b, err := json.Marshal(body)
	if err != nil { // a map of strings always marshals
		b = []byte(`{"message":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", code)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func truncate(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "..."
}

// newRequestID returns a random (version 4) UUID.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
