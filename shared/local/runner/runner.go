package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Defaults applied by New to zero-valued settings.
const (
	DefaultTimeout     = 3 * time.Second // Lambda's default function timeout
	DefaultMemoryMB    = 128
	DefaultConcurrency = 2
	DefaultInitTimeout = 10 * time.Second // Lambda's init phase limit
	DefaultRegion      = "us-east-1"
	DefaultAccountID   = "123456789012" // moto's default account
)

var (
	// ErrUnknownFunction is returned by Invoke for a name that matches no
	// configured function.
	ErrUnknownFunction = errors.New("unknown function")
	// ErrThrottled is returned by Invoke when every process of the function
	// stayed busy for the whole queue timeout.
	ErrThrottled = errors.New("function concurrency limit reached")
	// ErrClosed is returned once Close has been called.
	ErrClosed = errors.New("runner closed")
)

// Function describes one Lambda function to run locally.
type Function struct {
	Name string
	// Binary is the path to the function's bootstrap executable. Its
	// directory becomes the working directory and LAMBDA_TASK_ROOT.
	Binary string
	// Env is added to the standard Lambda environment and may override it,
	// except AWS_LAMBDA_RUNTIME_API. AWS_LAMBDA_MAX_CONCURRENCY is dropped:
	// a process serves one invocation at a time.
	Env map[string]string
	// Timeout is the function timeout (default 3s).
	Timeout time.Duration
	// MemoryMB is only reported to the function (default 128); it is not
	// enforced.
	MemoryMB int
	// Concurrency is the maximum number of processes (default 2).
	Concurrency int
}

// Options configures a Runner. The zero value is usable.
type Options struct {
	Logger *slog.Logger
	// Region and AccountID build function ARNs and AWS_REGION (defaults
	// us-east-1 and 123456789012).
	Region, AccountID string
	// LogOutput receives the functions' stdout and stderr, line by line,
	// each line prefixed with "[FunctionName] ". Nil discards them.
	LogOutput io.Writer
	// InitTimeout bounds process start to its first /next call (default
	// 10s). A process that is not ready by then is killed.
	InitTimeout time.Duration
	// QueueTimeout bounds how long an invocation waits for a free process
	// when all of a function's processes are busy. Zero means the
	// function's Timeout plus InitTimeout.
	QueueTimeout time.Duration
}

// Invocation is the outcome of one invocation, shaped like Lambda's
// synchronous Invoke response.
type Invocation struct {
	// Payload is the function's response, or for a function error the JSON
	// error object {"errorType","errorMessage"[,"stackTrace"]}.
	Payload []byte
	// FunctionError is "" on success and "Unhandled" for any function
	// error (returned error, panic, timeout, crash), as in the
	// X-Amz-Function-Error header.
	FunctionError string
	RequestID     string
	// Duration is the execution time: from handing the event to a ready
	// process until its result (queueing and cold start excluded).
	Duration time.Duration
}

// FunctionStats counts what happened to one function since New.
type FunctionStats struct {
	// ColdStarts counts processes that became ready; LastColdStart and
	// MaxColdStart are measured from process start to its first /next.
	ColdStarts    int
	LastColdStart time.Duration
	MaxColdStart  time.Duration
	// Invocations counts invocations that got a result; Errors those with a
	// function error, of which Timeouts timed out. Crashes counts processes
	// that exited without being told to (mid-invocation, during init, or
	// after a panic), including the crashes injected with Crash, which
	// InjectedCrashes counts on their own. Throttles counts invocations
	// refused by the queue.
	Invocations     int
	Errors          int
	Timeouts        int
	Crashes         int
	InjectedCrashes int
	Throttles       int
	// Processes is the number of live processes now.
	Processes int
}

// Runner runs a fixed set of functions. It is safe for concurrent use.
type Runner struct {
	log     *slog.Logger
	opts    Options
	sink    *logSink
	fns     map[string]*function
	order   []string
	cfgErrs []error

	mu      sync.Mutex
	started bool
	closed  bool
	closing chan struct{}
	wg      sync.WaitGroup // invocation goroutines, process watchers, listeners
}

// New configures a runner for fns. It starts nothing; configuration errors
// (empty or duplicate names, missing binary path) are reported by Start.
func New(fns []Function, opts Options) *Runner {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.AccountID == "" {
		opts.AccountID = DefaultAccountID
	}
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = DefaultInitTimeout
	}
	out := opts.LogOutput
	if out == nil {
		out = io.Discard
	}
	r := &Runner{
		log:     opts.Logger.With("component", "lambda-runner"),
		opts:    opts,
		sink:    &logSink{w: out},
		fns:     make(map[string]*function, len(fns)),
		closing: make(chan struct{}),
	}
	for _, cfg := range fns {
		switch {
		case cfg.Name == "" || strings.ContainsAny(cfg.Name, ":/"):
			r.cfgErrs = append(r.cfgErrs, fmt.Errorf("function %q: invalid name", cfg.Name))
			continue
		case r.fns[cfg.Name] != nil:
			r.cfgErrs = append(r.cfgErrs, fmt.Errorf("function %q: configured twice", cfg.Name))
			continue
		case cfg.Binary == "":
			r.cfgErrs = append(r.cfgErrs, fmt.Errorf("function %q: no binary", cfg.Name))
			continue
		}
		if abs, err := filepath.Abs(cfg.Binary); err == nil {
			cfg.Binary = abs
		}
		if cfg.Timeout <= 0 {
			cfg.Timeout = DefaultTimeout
		}
		if cfg.MemoryMB <= 0 {
			cfg.MemoryMB = DefaultMemoryMB
		}
		if cfg.Concurrency <= 0 {
			cfg.Concurrency = DefaultConcurrency
		}
		if _, ok := cfg.Env["AWS_LAMBDA_MAX_CONCURRENCY"]; ok {
			r.log.Warn("ignoring AWS_LAMBDA_MAX_CONCURRENCY: a local process serves one invocation at a time", "function", cfg.Name)
		}
		r.fns[cfg.Name] = newFunction(r, cfg)
		r.order = append(r.order, cfg.Name)
	}
	return r
}

// Start pre-starts one process per function and waits until each is ready
// (has called /next), recording its cold start. It returns the
// configuration errors and every function that failed to become ready,
// with the end of its output; the runner stays usable for the others and
// retries failed ones on their next invocation.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	switch {
	case r.closed:
		r.mu.Unlock()
		return ErrClosed
	case r.started:
		r.mu.Unlock()
		return errors.New("runner already started")
	}
	r.started = true
	r.mu.Unlock()

	errs := make([]error, len(r.order))
	var wg sync.WaitGroup
	for i, name := range r.order {
		wg.Go(func() {
			if err := r.fns[name].prewarm(ctx); err != nil {
				errs[i] = fmt.Errorf("function %s: %w", name, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(r.cfgErrs, errs...)...); err != nil {
		return fmt.Errorf("start lambda runner: %w", err)
	}
	r.log.Info("lambda functions ready", "functions", len(r.order))
	return nil
}

// InvokeOption changes how one invocation runs.
type InvokeOption func(*call)

// Crash makes the invocation's process die mid-invocation, for testing
// what retries a crash: the process gets the event and runs it (its side
// effects happen), but when it posts its result or error the runner kills
// it (SIGKILL) instead of taking the answer. The caller gets what Lambda
// answers for a runtime that exits before answering: a function error of
// type Runtime.ExitError, "Runtime exited with error: signal: killed".
// The next invocation gets a fresh process. Nothing like it exists in
// AWS; the local cloud's faults use it (cloud.Fault with Code "Crash").
func Crash() InvokeOption {
	return func(c *call) { c.crash = true }
}

// Invoke runs one synchronous invocation of the function called name,
// which may be a bare name, "name:qualifier", a full function ARN
// (arn:aws:lambda:region:account:function:name[:qualifier]) or a partial
// ARN (account:function:name). Region, account and qualifier are not
// checked: locally every function only has $LATEST.
//
// Function errors (including timeouts and crashes) are not Go errors: they
// come back as an Invocation with FunctionError "Unhandled". The error is
// non-nil only when no result could be produced: ErrUnknownFunction,
// ErrThrottled, ErrClosed, ctx's error, or a process that could not be
// started. If ctx ends first, the invocation still runs to completion (or
// its timeout) in the background so the process is not left half-used.
func (r *Runner) Invoke(ctx context.Context, name string, payload []byte, opts ...InvokeOption) (*Invocation, error) {
	f := r.lookup(name)
	if f == nil {
		return nil, fmt.Errorf("invoke %q: %w", name, ErrUnknownFunction)
	}
	if err := context.Cause(ctx); err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.cfg.Name, err)
	}
	if err := f.acquire(ctx); err != nil {
		return nil, fmt.Errorf("invoke %s: %w", f.cfg.Name, err)
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		f.release()
		return nil, fmt.Errorf("invoke %s: %w", f.cfg.Name, ErrClosed)
	}
	r.wg.Add(1)
	r.mu.Unlock()

	c := newCall(bytes.Clone(payload))
	for _, o := range opts {
		o(c)
	}
	type outcome struct {
		inv *Invocation
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		defer r.wg.Done()
		defer f.release()
		inv, err := f.run(c)
		done <- outcome{inv, err}
	}()
	select {
	case o := <-done:
		if o.err != nil {
			return nil, fmt.Errorf("invoke %s: %w", f.cfg.Name, o.err)
		}
		return o.inv, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("invoke %s (request %s): %w", f.cfg.Name, c.id, context.Cause(ctx))
	}
}

// Stats returns a snapshot of every function's counters, by name.
func (r *Runner) Stats() map[string]FunctionStats {
	out := make(map[string]FunctionStats, len(r.fns))
	for name, f := range r.fns {
		out[name] = f.snapshot()
	}
	return out
}

// Close stops every process (SIGTERM, then SIGKILL after a short grace),
// waits for them and for all in-flight invocations, which fail with
// ErrClosed. It is idempotent.
func (r *Runner) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.wg.Wait()
		return nil
	}
	r.closed = true
	close(r.closing)
	r.mu.Unlock()

	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, f := range r.fns {
		wg.Go(func() {
			if err := f.close(); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	r.wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close lambda runner: %w", err)
	}
	r.log.Debug("lambda runner closed")
	return nil
}

func (r *Runner) isClosed() bool {
	select {
	case <-r.closing:
		return true
	default:
		return false
	}
}

func (r *Runner) lookup(name string) *function {
	return r.fns[functionName(name)]
}

// functionName extracts the function name from the forms Lambda accepts
// for FunctionName: name, name:qualifier, account:function:name[:qualifier]
// and arn:partition:lambda:region:account:function:name[:qualifier].
func functionName(s string) string {
	parts := strings.Split(s, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		return parts[6]
	case parts[0] == "arn":
		return ""
	case len(parts) >= 3 && parts[1] == "function":
		return parts[2]
	case len(parts) <= 2:
		return parts[0]
	default:
		return ""
	}
}
