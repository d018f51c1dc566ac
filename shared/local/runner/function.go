package runner

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"
)

const (
	// stopGrace is how long Close waits after SIGTERM before SIGKILL
	// (Lambda gives extensions 500ms at shutdown).
	stopGrace = 500 * time.Millisecond
	// killWait bounds the wait for a process to disappear after SIGKILL.
	killWait = 5 * time.Second
	// dispatchAttempts bounds retries when a process dies after being
	// picked but before accepting the event (e.g. right after a panic).
	dispatchAttempts = 3
)

// function is one configured function and its process pool.
type function struct {
	r   *Runner
	cfg Function
	arn string
	log *slog.Logger
	// tokens holds one entry per running invocation (or pre-warm); its
	// capacity is Concurrency, which therefore bounds the live processes.
	tokens chan struct{}

	mu     sync.Mutex
	closed bool
	seq    int
	live   map[*process]struct{}
	idle   []*process // ready (or returning to /next), not serving anything
	stats  FunctionStats
}

func newFunction(r *Runner, cfg Function) *function {
	return &function{
		r:      r,
		cfg:    cfg,
		arn:    fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", r.opts.Region, r.opts.AccountID, cfg.Name),
		log:    r.log.With("function", cfg.Name),
		tokens: make(chan struct{}, cfg.Concurrency),
		live:   make(map[*process]struct{}),
	}
}

// call is one invocation on its way through a process.
type call struct {
	id       string
	traceID  string
	payload  []byte
	deadline time.Time // set before the call is handed to a process
	start    time.Time
	done     chan *result // buffered: the Runtime API handler never blocks
	crash    bool         // see Crash
}

func newCall(payload []byte) *call {
	return &call{id: newRequestID(), traceID: newTraceID(), payload: payload, done: make(chan *result, 1)}
}

type resultKind int

const (
	kindOK resultKind = iota
	kindError
	kindTimeout
	kindCrash
)

type result struct {
	kind    resultKind
	payload []byte
}

func functionErrorResult(kind resultKind, errorType, message string) *result {
	return &result{kind: kind, payload: errorPayload(errorType, message)}
}

func errorPayload(errorType, message string) []byte {
	b, err := json.Marshal(struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}{errorType, message})
	if err != nil { // strings always marshal
		return []byte(`{"errorType":"Runtime.Unknown","errorMessage":"unencodable error"}`)
	}
	return b
}

func exitResult(requestID, state string) *result {
	msg := "Runtime exited with error: " + state
	if requestID != "" {
		msg = "RequestId: " + requestID + " Error: " + msg
	}
	return functionErrorResult(kindCrash, "Runtime.ExitError", msg)
}

// acquire takes an invocation slot, waiting in line when all are taken.
func (f *function) acquire(ctx context.Context) error {
	select {
	case f.tokens <- struct{}{}:
		return nil
	default:
	}
	wait := f.r.opts.QueueTimeout
	if wait <= 0 {
		wait = f.cfg.Timeout + f.r.opts.InitTimeout
	}
	f.log.Debug("all processes busy, queueing invocation", "concurrency", f.cfg.Concurrency)
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case f.tokens <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-f.r.closing:
		return ErrClosed
	case <-timer.C:
		f.mu.Lock()
		f.stats.Throttles++
		f.mu.Unlock()
		return fmt.Errorf("%w: all %d processes of %s stayed busy for %s", ErrThrottled, f.cfg.Concurrency, f.cfg.Name, wait)
	}
}

func (f *function) release() { <-f.tokens }

// prewarm starts one process and waits until it is ready.
func (f *function) prewarm(ctx context.Context) error {
	if err := f.acquire(ctx); err != nil {
		return err
	}
	defer f.release()
	p, err := f.spawn()
	if err != nil {
		return err
	}
	res, err := f.awaitReady(ctx, p, "")
	if err != nil {
		return err
	}
	if res != nil {
		return fmt.Errorf("not ready: %s%s", errorText(res.payload), p.tail.describe())
	}
	f.putIdle(p)
	return nil
}

// run carries c through a process: it holds an invocation slot throughout.
func (f *function) run(c *call) (*Invocation, error) {
	for range dispatchAttempts {
		p, err := f.process()
		if err != nil {
			return nil, err
		}
		res, err := f.awaitReady(context.Background(), p, c.id)
		if err != nil {
			return nil, err
		}
		if res == nil {
			var delivered bool
			res, delivered, err = f.dispatch(p, c)
			if err != nil {
				return nil, err
			}
			if !delivered {
				continue
			}
		}
		return f.finish(c, res), nil
	}
	return nil, fmt.Errorf("processes of %s keep exiting before accepting an event", f.cfg.Name)
}

// process returns an idle live process, or starts a new one. The caller
// holds a slot, so a new process never exceeds Concurrency.
func (f *function) process() (*process, error) {
	f.mu.Lock()
	for len(f.idle) > 0 {
		p := f.idle[len(f.idle)-1]
		f.idle = f.idle[:len(f.idle)-1]
		if !p.hasExited() {
			f.mu.Unlock()
			return p, nil
		}
	}
	f.mu.Unlock()
	return f.spawn()
}

// awaitReady waits until p has called /next. A non-nil result is the
// function error for a process that failed its init (it is then dead).
func (f *function) awaitReady(ctx context.Context, p *process, requestID string) (*result, error) {
	timer := time.NewTimer(f.r.opts.InitTimeout)
	defer timer.Stop()
	select {
	case <-p.ready:
		return nil, nil
	case <-p.initFailed:
		f.killAndWait(p)
		return p.initErr, nil
	case <-p.exited:
		if p.stopped.Load() {
			return nil, ErrClosed
		}
		select {
		case <-p.initFailed:
			return p.initErr, nil
		default:
		}
		return exitResult(requestID, p.exitState), nil
	case <-timer.C:
		f.killAndWait(p)
		return functionErrorResult(kindTimeout, "Sandbox.Timedout",
			fmt.Sprintf("%s init timed out after %.2f seconds", f.cfg.Name, f.r.opts.InitTimeout.Seconds())), nil
	case <-ctx.Done():
		f.killAndWait(p)
		return nil, context.Cause(ctx)
	}
}

// dispatch hands c to the ready process p and waits for its result, the
// timeout or the process's death. delivered is false when p died before
// taking the event, so another process may be tried.
func (f *function) dispatch(p *process, c *call) (res *result, delivered bool, err error) {
	timer := time.NewTimer(f.cfg.Timeout)
	defer timer.Stop()
	c.start = time.Now()
	c.deadline = c.start.Add(f.cfg.Timeout)
	select {
	case p.work <- c:
	case <-p.exited:
		if p.stopped.Load() {
			return nil, false, ErrClosed
		}
		return nil, false, nil
	case <-timer.C:
		return f.timedOut(p, c), true, nil
	}
	select {
	case res := <-c.done:
		f.putIdle(p)
		return res, true, nil
	case <-p.exited:
		select { // the result is posted before a process exits (e.g. after a panic)
		case res := <-c.done:
			return res, true, nil
		default:
		}
		if p.stopped.Load() {
			return nil, true, ErrClosed
		}
		return exitResult(c.id, p.exitState), true, nil
	case <-timer.C:
		return f.timedOut(p, c), true, nil
	}
}

func (f *function) timedOut(p *process, c *call) *result {
	f.log.Warn("invocation timed out, killing process", "request_id", c.id, "pid", p.pid, "timeout", f.cfg.Timeout)
	f.killAndWait(p)
	return functionErrorResult(kindTimeout, "Sandbox.Timedout",
		fmt.Sprintf("%s timed out after %.2f seconds", f.cfg.Name, f.cfg.Timeout.Seconds()))
}

func (f *function) finish(c *call, res *result) *Invocation {
	inv := &Invocation{Payload: res.payload, RequestID: c.id}
	if !c.start.IsZero() {
		inv.Duration = time.Since(c.start)
	}
	if res.kind != kindOK {
		inv.FunctionError = "Unhandled"
	}
	f.mu.Lock()
	f.stats.Invocations++
	if res.kind != kindOK {
		f.stats.Errors++
	}
	if res.kind == kindTimeout {
		f.stats.Timeouts++
	}
	f.mu.Unlock()
	if res.kind == kindOK {
		f.log.Debug("invocation done", "request_id", c.id, "duration", inv.Duration)
	} else {
		f.log.Info("invocation failed", "request_id", c.id, "duration", inv.Duration, "error", errorText(res.payload))
	}
	return inv
}

// killAndWait kills p (it will not count as a crash) and waits for it.
func (f *function) killAndWait(p *process) {
	p.killedByRunner.Store(true)
	if err := killGroup(p.cmd.Process); err != nil {
		f.log.Warn("kill process", "pid", p.pid, "error", err)
	}
	select {
	case <-p.exited:
	case <-time.After(killWait):
		f.log.Error("process did not exit after SIGKILL", "pid", p.pid)
	}
}

func (f *function) putIdle(p *process) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || p.hasExited() {
		return
	}
	f.idle = append(f.idle, p)
}

func (f *function) removeProcess(p *process, crashed bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.live, p)
	f.idle = slices.DeleteFunc(f.idle, func(q *process) bool { return q == p })
	if crashed {
		f.stats.Crashes++
	}
}

func (f *function) recordInjectedCrash() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.InjectedCrashes++
}

func (f *function) recordColdStart(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.stats.ColdStarts++
	f.stats.LastColdStart = d
	f.stats.MaxColdStart = max(f.stats.MaxColdStart, d)
}

func (f *function) snapshot() FunctionStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.stats
	s.Processes = len(f.live)
	return s
}

// close stops all processes of f; no new ones start afterwards.
func (f *function) close() error {
	f.mu.Lock()
	f.closed = true
	f.idle = nil
	procs := make([]*process, 0, len(f.live))
	for p := range f.live {
		procs = append(procs, p)
	}
	f.mu.Unlock()

	errs := make([]error, len(procs))
	var wg sync.WaitGroup
	for i, p := range procs {
		wg.Go(func() { errs[i] = p.stop(stopGrace) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// errorText renders an error payload as "Type: message" for logs.
func errorText(payload []byte) string {
	var e struct {
		Type    string `json:"errorType"`
		Message string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &e) != nil || e.Type == "" {
		return string(payload)
	}
	return e.Type + ": " + e.Message
}
