package runner

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Runtime API header names, as aws-lambda-go reads and writes them.
const (
	headerRequestID       = "Lambda-Runtime-Aws-Request-Id"
	headerDeadlineMS      = "Lambda-Runtime-Deadline-Ms"
	headerFunctionARN     = "Lambda-Runtime-Invoked-Function-Arn"
	headerTraceID         = "Lambda-Runtime-Trace-Id"
	headerErrorType       = "Lambda-Runtime-Function-Error-Type"
	trailerErrorBody      = "Lambda-Runtime-Function-Error-Body"
	headerExtensionID     = "Lambda-Extension-Identifier"
	maxResponseBytes      = 6291556 // Lambda's synchronous response limit
	maxErrorBytes         = 1 << 20
	runtimeReadHeaderWait = 10 * time.Second
)

// process is one running bootstrap with its own Runtime API listener.
type process struct {
	f         *function
	seq       int
	pid       int
	cmd       *exec.Cmd
	srv       *http.Server
	startedAt time.Time
	tail      *tail
	stdout    *lineWriter
	stderr    *lineWriter

	work chan *call // unbuffered: a send succeeds only into a waiting /next

	ready      chan struct{} // closed at the first /next
	readyOnce  sync.Once
	initFailed chan struct{} // closed when /runtime/init/error was posted
	initOnce   sync.Once
	initErr    *result // set before initFailed is closed

	exited    chan struct{} // closed once the process is reaped
	exitState string        // set before exited is closed

	stopped        atomic.Bool // Close asked it to stop
	killedByRunner atomic.Bool // its exit is not a crash

	mu      sync.Mutex
	current *call
}

// spawn starts a new process of f with its own Runtime API listener.
func (f *function) spawn() (*process, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the runtime API of %s: %w", f.cfg.Name, err)
	}
	p := &process{
		f:          f,
		tail:       &tail{max: 4096},
		work:       make(chan *call),
		ready:      make(chan struct{}),
		initFailed: make(chan struct{}),
		exited:     make(chan struct{}),
	}
	prefix := "[" + f.cfg.Name + "] "
	p.stdout = &lineWriter{sink: f.r.sink, prefix: prefix, tail: p.tail}
	p.stderr = &lineWriter{sink: f.r.sink, prefix: prefix, tail: p.tail}
	p.srv = &http.Server{
		Handler:           p.routes(),
		ReadHeaderTimeout: runtimeReadHeaderWait,
		ErrorLog:          slog.NewLogLogger(f.log.Handler(), slog.LevelDebug),
	}
	cmd := exec.Command(f.cfg.Binary)
	cmd.Dir = filepath.Dir(f.cfg.Binary)
	cmd.Env = f.environ(ln.Addr().String())
	cmd.Stdout = p.stdout
	cmd.Stderr = p.stderr
	cmd.WaitDelay = time.Second // don't hang on pipes held by grandchildren
	setProcessGroup(cmd)
	p.cmd = cmd

	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		_ = ln.Close()
		return nil, ErrClosed
	}
	f.seq++
	p.seq = f.seq
	p.startedAt = time.Now()
	if err := cmd.Start(); err != nil {
		_ = ln.Close()
		return nil, fmt.Errorf("start %s: %w", f.cfg.Binary, err)
	}
	p.pid = cmd.Process.Pid
	f.live[p] = struct{}{}
	f.r.wg.Add(2)
	go func() {
		defer f.r.wg.Done()
		if err := p.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			f.log.Error("runtime API listener failed", "pid", p.pid, "error", err)
		}
	}()
	go p.wait()
	f.log.Debug("process started", "pid", p.pid, "seq", p.seq, "runtime_api", ln.Addr().String())
	return p, nil
}

// environ builds a clean Lambda environment: a few harmless host
// variables, isolation defaults, the standard Lambda variables, then
// Function.Env, then the Runtime API address.
func (f *function) environ(runtimeAPI string) []string {
	env := map[string]string{}
	for _, k := range []string{"PATH", "TMPDIR", "LANG", "SSL_CERT_FILE", "SSL_CERT_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env[k] = v
		}
	}
	if env["PATH"] == "" {
		env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
	}
	// Never let a local function find the developer's real AWS config,
	// credentials or an instance metadata service.
	env["AWS_CONFIG_FILE"] = os.DevNull
	env["AWS_SHARED_CREDENTIALS_FILE"] = os.DevNull
	env["AWS_EC2_METADATA_DISABLED"] = "true"
	env["TZ"] = ":UTC"

	env["AWS_LAMBDA_FUNCTION_NAME"] = f.cfg.Name
	env["AWS_LAMBDA_FUNCTION_VERSION"] = "$LATEST"
	env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] = strconv.Itoa(f.cfg.MemoryMB)
	env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/" + f.cfg.Name
	env["AWS_LAMBDA_LOG_STREAM_NAME"] = time.Now().UTC().Format("2006/01/02") + "/[$LATEST]" + randomHex(16)
	env["AWS_LAMBDA_INITIALIZATION_TYPE"] = "on-demand"
	env["AWS_REGION"] = f.r.opts.Region
	env["AWS_DEFAULT_REGION"] = f.r.opts.Region
	env["_HANDLER"] = filepath.Base(f.cfg.Binary)
	env["LAMBDA_TASK_ROOT"] = filepath.Dir(f.cfg.Binary)

	for k, v := range f.cfg.Env {
		env[k] = v
	}
	delete(env, "AWS_LAMBDA_MAX_CONCURRENCY")
	env["AWS_LAMBDA_RUNTIME_API"] = runtimeAPI

	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// wait reaps the process and tears down its listener.
func (p *process) wait() {
	defer p.f.r.wg.Done()
	err := p.cmd.Wait()
	p.stdout.flush()
	p.stderr.flush()
	switch {
	case p.cmd.ProcessState != nil:
		p.exitState = p.cmd.ProcessState.String()
	case err != nil:
		p.exitState = err.Error()
	default:
		p.exitState = "exited"
	}
	close(p.exited)
	_ = p.srv.Close()
	crashed := !p.killedByRunner.Load()
	p.f.removeProcess(p, crashed)
	if crashed {
		p.f.log.Warn("process exited unexpectedly", "pid", p.pid, "state", p.exitState, "output_tail", p.tail.String())
	} else {
		p.f.log.Debug("process stopped", "pid", p.pid, "state", p.exitState)
	}
}

func (p *process) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// stop terminates the process for shutdown: SIGTERM, then SIGKILL.
func (p *process) stop(grace time.Duration) error {
	p.stopped.Store(true)
	p.killedByRunner.Store(true)
	if p.hasExited() {
		return nil
	}
	_ = terminateGroup(p.cmd.Process)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
	}
	_ = killGroup(p.cmd.Process)
	select {
	case <-p.exited:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("process %d of %s did not exit after SIGKILL", p.pid, p.f.cfg.Name)
	}
}

// take returns the in-flight call with the given request ID and clears it.
func (p *process) take(id string) *call {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.current == nil || p.current.id != id {
		return nil
	}
	c := p.current
	p.current = nil
	return c
}

func (p *process) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", p.handleNext)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", p.handleResponse)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", p.handleError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", p.handleInitError)
	mux.HandleFunc("POST /2020-01-01/extension/register", p.handleExtensionRegister)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", p.handleExtensionNext)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		p.f.log.Warn("unsupported runtime API call", "pid", p.pid, "method", r.Method, "path", r.URL.Path)
		writeRuntimeError(w, http.StatusNotFound, "UnknownRequest", "unsupported runtime API call "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// handleNext marks the process ready and blocks until it gets an event.
func (p *process) handleNext(w http.ResponseWriter, r *http.Request) {
	p.readyOnce.Do(func() {
		d := time.Since(p.startedAt)
		p.f.recordColdStart(d)
		p.f.log.Debug("process ready", "pid", p.pid, "cold_start", d)
		close(p.ready)
	})
	select {
	case c := <-p.work:
		p.mu.Lock()
		p.current = c
		p.mu.Unlock()
		h := w.Header()
		h.Set(headerRequestID, c.id)
		h.Set(headerDeadlineMS, strconv.FormatInt(c.deadline.UnixMilli(), 10))
		h.Set(headerFunctionARN, p.f.arn)
		h.Set(headerTraceID, c.traceID)
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		if _, err := w.Write(c.payload); err != nil {
			p.f.log.Debug("write event to runtime", "pid", p.pid, "request_id", c.id, "error", err)
		}
	case <-r.Context().Done():
	case <-p.exited:
	}
}

func (p *process) handleResponse(w http.ResponseWriter, r *http.Request) {
	c := p.take(r.PathValue("id"))
	if c == nil {
		_, _ = io.Copy(io.Discard, r.Body)
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	if c.crash {
		p.crashBeforeAnswer(r, c)
		return
	}
	body, tooLarge, err := readLimited(r.Body, maxResponseBytes)
	var res *result
	switch {
	case err != nil:
		res = functionErrorResult(kindError, "Runtime.InvalidResponse", "reading the function response: "+err.Error())
	case r.Trailer.Get(headerErrorType) != "":
		// aws-lambda-go streams io.Reader results; a Read error after the
		// headers went out is reported in these trailers.
		errBody, _ := base64.StdEncoding.DecodeString(r.Trailer.Get(trailerErrorBody))
		res = &result{kind: kindError, payload: normalizeError(errBody, r.Trailer.Get(headerErrorType))}
	case tooLarge:
		res = functionErrorResult(kindError, "Function.ResponseSizeTooLarge",
			fmt.Sprintf("Response payload size exceeded maximum allowed payload size (%d bytes).", maxResponseBytes))
	default:
		res = &result{kind: kindOK, payload: body}
	}
	c.done <- res // before the 202: the process may exit right after it
	writeAccepted(w)
}

func (p *process) handleError(w http.ResponseWriter, r *http.Request) {
	c := p.take(r.PathValue("id"))
	if c == nil {
		_, _ = io.Copy(io.Discard, r.Body)
		writeRuntimeError(w, http.StatusBadRequest, "InvalidRequestID", "Invalid request ID")
		return
	}
	if c.crash {
		p.crashBeforeAnswer(r, c)
		return
	}
	body, _, err := readLimited(r.Body, maxErrorBytes)
	if err != nil {
		body = []byte("reading the function error: " + err.Error())
	}
	c.done <- &result{kind: kindError, payload: normalizeError(body, r.Header.Get(headerErrorType))}
	writeAccepted(w)
}

// crashBeforeAnswer kills the process as it answers an invocation that
// must crash (see Crash). Its answer is dropped and nothing is posted to
// c.done, so the invocation ends the way any mid-invocation exit does
// (Runtime.ExitError), and the exit counts as a crash: the runner does not
// mark it as its own kill. The handler returns only once the process is
// gone, so the runtime never learns its answer was not taken.
func (p *process) crashBeforeAnswer(r *http.Request, c *call) {
	_, _ = io.Copy(io.Discard, r.Body)
	p.f.recordInjectedCrash()
	p.f.log.Warn("injected crash: killing the process before it answers", "request_id", c.id, "pid", p.pid)
	if err := killGroup(p.cmd.Process); err != nil {
		p.f.log.Warn("kill process", "pid", p.pid, "error", err)
	}
	select {
	case <-p.exited:
	case <-time.After(killWait):
		p.f.log.Error("process did not exit after SIGKILL", "pid", p.pid)
	}
}

func (p *process) handleInitError(w http.ResponseWriter, r *http.Request) {
	select {
	case <-p.ready:
		_, _ = io.Copy(io.Discard, r.Body)
		writeRuntimeError(w, http.StatusForbidden, "InvalidStateTransition", "init error reported after the runtime became ready")
		return
	default:
	}
	body, _, err := readLimited(r.Body, maxErrorBytes)
	if err != nil {
		body = []byte("reading the init error: " + err.Error())
	}
	p.initOnce.Do(func() {
		p.initErr = &result{kind: kindError, payload: normalizeError(body, r.Header.Get(headerErrorType))}
		close(p.initFailed)
	})
	p.f.log.Warn("function init failed", "pid", p.pid, "error", errorText(p.initErr.payload))
	writeAccepted(w)
}

// handleExtensionRegister accepts internal extensions such as the one
// aws-lambda-go registers for lambda.WithEnableSIGTERM (Close sends
// SIGTERM before SIGKILL anyway).
func (p *process) handleExtensionRegister(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	w.Header().Set(headerExtensionID, newRequestID())
	w.Header().Set("Content-Type", "application/json")
	b, _ := json.Marshal(map[string]string{
		"functionName":    p.f.cfg.Name,
		"functionVersion": "$LATEST",
		"handler":         filepath.Base(p.f.cfg.Binary),
	})
	_, _ = w.Write(b)
}

// handleExtensionNext never delivers an event: no lifecycle events are
// emulated, and the extension's /event/next is expected to block.
func (p *process) handleExtensionNext(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-p.exited:
	}
}

// normalizeError turns a posted error into {"errorType","errorMessage"
// [,"stackTrace"]}, taking the type from the header when the body has none.
func normalizeError(body []byte, headerType string) []byte {
	var e struct {
		Type       string          `json:"errorType"`
		Message    string          `json:"errorMessage"`
		StackTrace json.RawMessage `json:"stackTrace,omitempty"`
	}
	if err := json.Unmarshal(body, &e); err == nil && (e.Type != "" || e.Message != "") {
		if e.Type == "" {
			e.Type = headerType
		}
		if e.Type == "" {
			e.Type = "Runtime.Unknown"
		}
		if string(e.StackTrace) == "null" {
			e.StackTrace = nil
		}
		if b, err := json.Marshal(e); err == nil {
			return b
		}
	}
	if headerType == "" {
		headerType = "Runtime.Unknown"
	}
	return errorPayload(headerType, strings.TrimSpace(string(body)))
}

// readLimited reads r fully, keeping at most limit bytes; the rest is
// drained (so trailers can be read) and tooLarge reported.
func readLimited(r io.Reader, limit int64) (body []byte, tooLarge bool, err error) {
	body, err = io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(body)) > limit {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return nil, true, err
		}
		return nil, true, nil
	}
	return body, false, nil
}

func writeAccepted(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, `{"status":"OK"}`)
}

func writeRuntimeError(w http.ResponseWriter, status int, errorType, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}{message, errorType})
	_, _ = w.Write(b)
}
