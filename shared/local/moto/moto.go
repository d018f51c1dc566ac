package moto

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MinVersion is the oldest moto that works for the local cloud: 5.2.1 and
// 5.2.2 fail every Step Functions StartExecution after the first.
const MinVersion = "5.2.3"

// AccountID is the account moto uses for requests signed with credentials
// it does not know (any local test credentials): ARNs it returns use it.
// Start removes MOTO_ACCOUNT_ID from moto's environment so this holds.
const AccountID = "123456789012"

const (
	defaultHost         = "127.0.0.1"
	defaultStartTimeout = 30 * time.Second
	defaultStopGrace    = 5 * time.Second
	pollInterval        = 50 * time.Millisecond
	tailLines           = 40
	portAttempts        = 3
)

// ErrNotInstalled is wrapped by Start's error when the virtualenv or its
// moto_server is missing.
var ErrNotInstalled = errors.New("moto is not installed")

// Options configure Start.
type Options struct {
	// Python is the bin directory of the virtualenv holding moto, e.g.
	// .venv/moto/bin. Required.
	Python string
	// Host is the address moto binds; default 127.0.0.1.
	Host string
	// Port is moto's own port; 0 picks a free one (retried if another
	// process takes it first).
	Port int
	// LambdaPort is the value of MOTO_PORT in moto's environment: the port
	// moto's Step Functions interpreter calls for Lambda invokes (the
	// edge proxy's port). 0 means moto's own port.
	LambdaPort int
	// LogFile receives moto's stdout and stderr; nil discards them (the
	// last lines are still kept for error messages).
	LogFile io.Writer
	// StartTimeout bounds the wait for moto to answer; default 30s.
	StartTimeout time.Duration
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL;
	// default 5s.
	StopGrace time.Duration
	// Logger receives lifecycle logs; default slog.Default().
	Logger *slog.Logger
}

// Server is a running moto_server process.
type Server struct {
	cmd    *exec.Cmd
	url    string
	port   int
	grace  time.Duration
	log    *slog.Logger
	http   *http.Client
	output *logSink

	done    chan struct{} // closed when the process has exited and been reaped
	waitErr error         // set before done is closed

	stopOnce sync.Once
	stopErr  error
}

// Start checks the virtualenv and moto version, starts moto_server, waits
// until it answers and enables Step Functions execution. The context bounds
// startup only; the server runs until Stop.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Host == "" {
		opts.Host = defaultHost
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = defaultStartTimeout
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = defaultStopGrace
	}
	bin, err := checkInstall(opts.Python)
	if err != nil {
		return nil, err
	}
	v, err := Version(ctx, opts.Python)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(v); err != nil {
		return nil, err
	}

	attempts := 1
	if opts.Port == 0 {
		attempts = portAttempts
	}
	for attempt := 1; ; attempt++ {
		o := opts
		if o.Port == 0 {
			if o.Port, err = FreePort(); err != nil {
				return nil, err
			}
		}
		s, err := start(ctx, bin, o)
		if err == nil {
			opts.Logger.Info("moto started", "url", s.url, "pid", s.cmd.Process.Pid, "version", v, "lambda_port", lambdaPort(o))
			return s, nil
		}
		if attempt >= attempts || !errors.Is(err, errAddrInUse) {
			return nil, err
		}
		opts.Logger.Warn("moto port taken, retrying on another", "port", o.Port, "attempt", attempt)
	}
}

var errAddrInUse = errors.New("address already in use")

//go:embed serialized.py
var serializedLauncher string

func lambdaPort(o Options) int {
	if o.LambdaPort != 0 {
		return o.LambdaPort
	}
	return o.Port
}

func start(ctx context.Context, bin string, o Options) (*Server, error) {
	sink := &logSink{out: o.LogFile}
	// Run moto through serialized.py (embedded) with the venv's python, so
	// DynamoDB conditional writes are atomic as in AWS.
	python := filepath.Join(filepath.Dir(bin), "python")
	cmd := exec.Command(python, "-c", serializedLauncher, "-H", o.Host, "-p", strconv.Itoa(o.Port))
	cmd.Env = append(withoutVars(os.Environ(), "TZ", "MOTO_PORT", "MOTO_ACCOUNT_ID", "PYTHONUNBUFFERED"),
		"TZ=UTC",
		"MOTO_PORT="+strconv.Itoa(lambdaPort(o)),
		"PYTHONUNBUFFERED=1",
	)
	cmd.Stdout = sink
	cmd.Stderr = sink
	cmd.SysProcAttr = sysProcAttr()

	host := o.Host
	if host == "0.0.0.0" || host == "::" || host == "" {
		host = defaultHost
	}
	s := &Server{
		cmd:    cmd,
		url:    "http://" + net.JoinHostPort(host, strconv.Itoa(o.Port)),
		port:   o.Port,
		grace:  o.StopGrace,
		log:    o.Logger,
		http:   newHTTPClient(),
		output: sink,
		done:   make(chan struct{}),
	}
	// Start and wait on one locked OS thread that lives as long as moto:
	// Linux's parent-death signal fires when the thread that forked the
	// child exits, not the whole process.
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}

	fail := func(err error) (*Server, error) {
		_ = s.Stop()
		tail := sink.Tail()
		if strings.Contains(tail, "Address already in use") {
			err = fmt.Errorf("%w: %w", err, errAddrInUse)
		}
		return nil, fmt.Errorf("moto_server on port %d: %w\n--- last moto output ---\n%s", o.Port, err, tail)
	}
	if err := s.waitReady(ctx, o.StartTimeout); err != nil {
		return fail(err)
	}
	if err := EnableStepFunctionsExecution(ctx, s.url); err != nil {
		return fail(err)
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		if s.ping(ctx) {
			// Answering is not enough: make sure it is our process that
			// answers, not something else that holds the port.
			select {
			case <-s.done:
				return fmt.Errorf("exited (%v) although the port answers", s.waitErr)
			default:
				return nil
			}
		}
		select {
		case <-s.done:
			return fmt.Errorf("exited before answering: %v", s.waitErr)
		case <-ctx.Done():
			return fmt.Errorf("waiting for moto to answer: %w", ctx.Err())
		case <-deadline.C:
			return fmt.Errorf("no answer on %s/moto-api/ within %v", s.url, timeout)
		case <-tick.C:
		}
	}
}

func (s *Server) ping(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return s.Ping(ctx) == nil
}

// Ping asks moto's control API whether it answers; ctx bounds the wait.
func (s *Server) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/moto-api/", nil)
	if err != nil {
		return err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s/moto-api/: %s", s.url, resp.Status)
	}
	return nil
}

// URL is moto's base URL, e.g. http://127.0.0.1:4567.
func (s *Server) URL() string { return s.url }

// Port is moto's own port.
func (s *Server) Port() int { return s.port }

// PID is the process ID (and process group ID) of moto_server.
func (s *Server) PID() int { return s.cmd.Process.Pid }

// Done is closed when the moto process has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// ExitState says how the process ended ("signal: killed", "exit status
// 1"), or "" while it runs.
func (s *Server) ExitState() string {
	select {
	case <-s.done:
	default:
		return ""
	}
	if st := s.cmd.ProcessState; st != nil {
		return st.String()
	}
	if s.waitErr != nil {
		return s.waitErr.Error()
	}
	return "exited"
}

// Output returns the last lines moto printed.
func (s *Server) Output() string { return s.output.Tail() }

// Reset drops every resource in moto (POST /moto-api/reset). Step Functions
// execution stays enabled.
func (s *Server) Reset(ctx context.Context) error {
	if err := post(ctx, s.http, s.url+"/moto-api/reset", nil); err != nil {
		return fmt.Errorf("reset moto: %w", err)
	}
	return nil
}

// Stop ends moto: SIGTERM to its process group, SIGKILL after the grace
// period. It waits until the process is reaped and is safe to call more
// than once.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() { s.stopErr = s.stop() })
	return s.stopErr
}

func (s *Server) stop() error {
	pid := s.cmd.Process.Pid
	select {
	case <-s.done:
		return nil // already gone
	default:
	}
	if err := signalGroup(pid, sigTerm); err != nil {
		s.log.Debug("SIGTERM moto", "pid", pid, "err", err)
	}
	grace := time.NewTimer(s.grace)
	defer grace.Stop()
	select {
	case <-s.done:
		s.log.Info("moto stopped", "pid", pid)
		return nil
	case <-grace.C:
	}
	s.log.Warn("moto ignored SIGTERM, killing it", "pid", pid, "grace", s.grace)
	if err := signalGroup(pid, sigKill); err != nil {
		return fmt.Errorf("kill moto process group %d: %w", pid, err)
	}
	hard := time.NewTimer(s.grace)
	defer hard.Stop()
	select {
	case <-s.done:
		return nil
	case <-hard.C:
		return fmt.Errorf("moto process %d still running after SIGKILL", pid)
	}
}

// EnableStepFunctionsExecution tells the moto at baseURL to really execute
// state machines (POST /moto-api/config). It must be called before state
// machines are created: moto keeps executable state machines in a separate
// backend.
func EnableStepFunctionsExecution(ctx context.Context, baseURL string) error {
	body := []byte(`{"stepfunctions":{"execute_state_machine":true}}`)
	if err := post(ctx, newHTTPClient(), strings.TrimRight(baseURL, "/")+"/moto-api/config", body); err != nil {
		return fmt.Errorf("enable Step Functions execution: %w", err)
	}
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(defaultHost, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Version returns the moto version installed in the virtualenv whose bin
// directory is python.
func Version(ctx context.Context, python string) (string, error) {
	py := filepath.Join(python, "python")
	if _, err := os.Stat(py); err != nil {
		return "", fmt.Errorf("%w: no python at %s: run `make venv` to create the local-cloud virtualenv", ErrNotInstalled, py)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, py, "-c", "from importlib.metadata import version; print(version('moto'))")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%w: reading moto version with %s: %v: %s (run `make venv`)", ErrNotInstalled, py, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

func checkInstall(python string) (string, error) {
	if python == "" {
		return "", fmt.Errorf("%w: Options.Python (the virtualenv's bin directory, e.g. .venv/moto/bin) is empty; run `make venv` to create it", ErrNotInstalled)
	}
	bin := filepath.Join(python, "moto_server")
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("%w: no moto_server at %s: run `make venv` to create the local-cloud virtualenv (infra/local/requirements-moto.txt)", ErrNotInstalled, bin)
	}
	return bin, nil
}

func checkVersion(v string) error {
	ok, err := atLeast(v, MinVersion)
	if err != nil {
		return fmt.Errorf("moto version %q: %w", v, err)
	}
	if !ok {
		return fmt.Errorf("moto %s is too old: the local cloud needs moto >= %s (5.2.1 and 5.2.2 break every StartExecution after the first); run `make venv` to install the pinned version", v, MinVersion)
	}
	return nil
}

// atLeast compares dotted numeric versions; pre-release and local suffixes
// after the numeric part (5.2.6.dev1, 5.2.6rc1) are ignored.
func atLeast(v, minimum string) (bool, error) {
	a, err := versionParts(v)
	if err != nil {
		return false, err
	}
	b, err := versionParts(minimum)
	if err != nil {
		return false, err
	}
	for i := range max(len(a), len(b)) {
		var x, y int
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if x != y {
			return x > y, nil
		}
	}
	return true, nil
}

func versionParts(v string) ([]int, error) {
	var parts []int
	for _, field := range strings.Split(v, ".") {
		end := 0
		for end < len(field) && field[end] >= '0' && field[end] <= '9' {
			end++
		}
		if end == 0 {
			break
		}
		n, err := strconv.Atoi(field[:end])
		if err != nil {
			return nil, err
		}
		parts = append(parts, n)
		if end < len(field) {
			break
		}
	}
	if len(parts) == 0 {
		return nil, errors.New("not a version number")
	}
	return parts, nil
}

func post(ctx context.Context, c *http.Client, url string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s: %s", url, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

// newHTTPClient returns a client that never uses a proxy: moto is local.
func newHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	return &http.Client{Transport: t}
}

func withoutVars(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}

// logSink copies moto's output to an optional writer and keeps the last
// lines for error messages.
type logSink struct {
	mu    sync.Mutex
	out   io.Writer
	lines []string
	part  []byte
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.out != nil {
		if _, err := l.out.Write(p); err != nil {
			l.out = nil // keep moto running even if the log file fails
		}
	}
	l.part = append(l.part, p...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		l.lines = append(l.lines, string(l.part[:i]))
		l.part = l.part[i+1:]
	}
	if over := len(l.lines) - tailLines; over > 0 {
		l.lines = append(l.lines[:0], l.lines[over:]...)
	}
	if len(l.part) > 64<<10 {
		l.part = l.part[len(l.part)-64<<10:]
	}
	return len(p), nil
}

// Tail returns the last lines written, oldest first.
func (l *logSink) Tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := strings.Join(l.lines, "\n")
	if len(l.part) > 0 {
		if s != "" {
			s += "\n"
		}
		s += string(l.part)
	}
	return s
}
