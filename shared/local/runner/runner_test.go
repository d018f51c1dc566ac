//go:build unix

package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Paths of the test functions, built once by TestMain.
var (
	echoBinary string
	rawBinary  string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "runner-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	echoBinary = filepath.Join(dir, "echofn", "bootstrap")
	rawBinary = filepath.Join(dir, "rawfn", "bootstrap")
	for out, pkg := range map[string]string{echoBinary: "./testdata/echofn", rawBinary: "./testdata/rawfn"} {
		cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-o", out, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", pkg, err, b)
			return 1
		}
	}
	return m.Run()
}

// syncBuffer is a goroutine-safe bytes.Buffer for LogOutput.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type reply struct {
	Value      json.RawMessage   `json:"value"`
	RequestID  string            `json:"requestId"`
	ARN        string            `json:"arn"`
	DeadlineMS int64             `json:"deadlineMs"`
	PID        int               `json:"pid"`
	Env        map[string]string `json:"env"`
}

type fnError struct {
	Type       string          `json:"errorType"`
	Message    string          `json:"errorMessage"`
	StackTrace json.RawMessage `json:"stackTrace"`
}

func echoFunction(name string) Function {
	return Function{Name: name, Binary: echoBinary, Timeout: 5 * time.Second}
}

// startRunner starts a runner that is closed when the test ends.
func startRunner(t *testing.T, opts Options, fns ...Function) *Runner {
	t.Helper()
	r := New(fns, opts)
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return r
}

func invoke(t *testing.T, r *Runner, name string, event string) *Invocation {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	inv, err := r.Invoke(ctx, name, []byte(event))
	if err != nil {
		t.Fatalf("Invoke(%s, %s): %v", name, event, err)
	}
	return inv
}

func decodeReply(t *testing.T, inv *Invocation) reply {
	t.Helper()
	if inv.FunctionError != "" {
		t.Fatalf("unexpected function error %q: %s", inv.FunctionError, inv.Payload)
	}
	var rep reply
	if err := json.Unmarshal(inv.Payload, &rep); err != nil {
		t.Fatalf("decode reply %s: %v", inv.Payload, err)
	}
	return rep
}

func decodeError(t *testing.T, inv *Invocation) fnError {
	t.Helper()
	if inv.FunctionError != "Unhandled" {
		t.Fatalf("FunctionError = %q, want Unhandled (payload %s)", inv.FunctionError, inv.Payload)
	}
	var e fnError
	if err := json.Unmarshal(inv.Payload, &e); err != nil {
		t.Fatalf("decode error payload %s: %v", inv.Payload, err)
	}
	return e
}

func TestEchoRoundtrip(t *testing.T) {
	t.Setenv("JIT_RUNNER_HOST_ONLY", "leak")
	fn := echoFunction("echo")
	fn.MemoryMB = 256
	fn.Env = map[string]string{"TABLE_NAME": "jit-local", "AWS_LAMBDA_MAX_CONCURRENCY": "4"}
	r := startRunner(t, Options{Region: "eu-west-1", AccountID: "000000000000"}, fn)

	st := r.Stats()["echo"]
	if st.ColdStarts != 1 || st.LastColdStart <= 0 || st.Processes != 1 {
		t.Fatalf("stats after Start = %+v, want one cold start and one process", st)
	}

	before := time.Now()
	inv := invoke(t, r, "echo", `{"op":"echo","value":{"hello":"world"}}`)
	rep := decodeReply(t, inv)
	if string(rep.Value) != `{"hello":"world"}` {
		t.Errorf("value = %s", rep.Value)
	}
	if rep.RequestID != inv.RequestID || len(inv.RequestID) != 36 {
		t.Errorf("function saw request ID %q, invocation has %q", rep.RequestID, inv.RequestID)
	}
	if want := "arn:aws:lambda:eu-west-1:000000000000:function:echo"; rep.ARN != want {
		t.Errorf("ARN = %q, want %q", rep.ARN, want)
	}
	deadline := time.UnixMilli(rep.DeadlineMS)
	if d := deadline.Sub(before); d < 4*time.Second || d > 6*time.Second {
		t.Errorf("deadline is %s after the call, want about the 5s timeout", d)
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "echo",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/echo",
		"AWS_REGION":                      "eu-west-1",
		"AWS_DEFAULT_REGION":              "eu-west-1",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                filepath.Dir(echoBinary),
		"TABLE_NAME":                      "jit-local",
	}
	for k, v := range want {
		if rep.Env[k] != v {
			t.Errorf("env %s = %q, want %q", k, rep.Env[k], v)
		}
	}
	if !strings.Contains(rep.Env["AWS_LAMBDA_LOG_STREAM_NAME"], "/[$LATEST]") {
		t.Errorf("log stream name = %q", rep.Env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	for _, k := range []string{"JIT_RUNNER_HOST_ONLY", "AWS_LAMBDA_MAX_CONCURRENCY", "HOME"} {
		if v, ok := rep.Env[k]; ok {
			t.Errorf("env %s = %q leaked into the function", k, v)
		}
	}
	if inv.Duration <= 0 {
		t.Errorf("Duration = %s", inv.Duration)
	}

	// The warm process is reused.
	rep2 := decodeReply(t, invoke(t, r, "echo", `{"op":"echo"}`))
	if rep2.PID != rep.PID {
		t.Errorf("second invocation ran in pid %d, first in %d: warm process not reused", rep2.PID, rep.PID)
	}
	st = r.Stats()["echo"]
	if st.Invocations != 2 || st.Errors != 0 || st.ColdStarts != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestStreamedResponse(t *testing.T) {
	r := startRunner(t, Options{}, echoFunction("echo"))
	inv := invoke(t, r, "echo", `{"op":"stream"}`)
	if inv.FunctionError != "" || string(inv.Payload) != `{"streamed":true}` {
		t.Errorf("stream: %q %s", inv.FunctionError, inv.Payload)
	}
	// A Read error mid-stream arrives in HTTP trailers of /response.
	e := decodeError(t, invoke(t, r, "echo", `{"op":"streamfail"}`))
	if e.Type != "ReadFailError" || e.Message != "read failed" {
		t.Errorf("streamfail error = %+v", e)
	}
}

func TestErrorTypeMapping(t *testing.T) {
	r := startRunner(t, Options{}, echoFunction("echo"))
	for _, tc := range []struct{ op, typ, msg string }{
		{"error", "BoomError", "boom"},
		{"ptrerror", "BoomError", "boom"},
		{"plainerror", "errorString", "plain"}, // errors.New: the dynamic type's name
		{"nosuchop", "errorString", `unknown op "nosuchop"`},
	} {
		e := decodeError(t, invoke(t, r, "echo", `{"op":"`+tc.op+`"}`))
		if e.Type != tc.typ || e.Message != tc.msg {
			t.Errorf("op %s: error = %+v, want %s: %s", tc.op, e, tc.typ, tc.msg)
		}
	}
	st := r.Stats()["echo"]
	if st.Errors != 4 || st.Invocations != 4 || st.Crashes != 0 {
		t.Errorf("stats = %+v", st)
	}
}

func TestPanicThenRecovery(t *testing.T) {
	r := startRunner(t, Options{}, echoFunction("echo"))
	e := decodeError(t, invoke(t, r, "echo", `{"op":"panic"}`))
	if e.Type != "string" || e.Message != "kaboom" || len(e.StackTrace) == 0 {
		t.Errorf("panic error = %+v", e)
	}
	// aws-lambda-go exits after reporting a panic; the next invocation
	// gets a fresh process.
	decodeReply(t, invoke(t, r, "echo", `{"op":"echo"}`))
	waitFor(t, func() bool { return r.Stats()["echo"].Crashes == 1 }, "panic exit counted as a crash")
}

func TestTimeoutKillsAndRecovers(t *testing.T) {
	fn := echoFunction("slow")
	fn.Timeout = 300 * time.Millisecond
	r := startRunner(t, Options{}, fn)

	pid := decodeReply(t, invoke(t, r, "slow", `{"op":"echo"}`)).PID
	start := time.Now()
	inv := invoke(t, r, "slow", `{"op":"sleep","sleepMs":5000}`)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("timed-out invocation took %s", took)
	}
	e := decodeError(t, inv)
	if e.Type != "Sandbox.Timedout" || e.Message != "slow timed out after 0.30 seconds" {
		t.Errorf("timeout error = %+v", e)
	}
	if alive(pid) {
		t.Errorf("process %d still alive after timeout", pid)
	}
	rep := decodeReply(t, invoke(t, r, "slow", `{"op":"echo"}`))
	if rep.PID == pid {
		t.Errorf("invocation after timeout ran in the killed process %d", pid)
	}
	st := r.Stats()["slow"]
	if st.Timeouts != 1 || st.Errors != 1 || st.Crashes != 0 || st.ColdStarts != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestCrashThenRecovery(t *testing.T) {
	r := startRunner(t, Options{}, echoFunction("echo"))
	inv := invoke(t, r, "echo", `{"op":"exit","code":3}`)
	e := decodeError(t, inv)
	if e.Type != "Runtime.ExitError" || !strings.Contains(e.Message, "exit status 3") || !strings.Contains(e.Message, inv.RequestID) {
		t.Errorf("crash error = %+v", e)
	}
	decodeReply(t, invoke(t, r, "echo", `{"op":"echo"}`))
	st := r.Stats()["echo"]
	if st.Crashes != 1 || st.Errors != 1 || st.Invocations != 2 {
		t.Errorf("stats = %+v", st)
	}
}

// TestInjectedCrash: an invocation made with Crash runs in its process
// (its side effects happen), which is killed as it answers; the caller
// gets Lambda's answer for a runtime that exited mid-invocation, and the
// next invocation gets a fresh process.
func TestInjectedCrash(t *testing.T) {
	tests := []struct {
		name       string
		give       string
		wantOutput string // printed by the handler before its answer was lost
	}{
		{name: "as it posts a result", give: `{"op":"log","lines":["handled before the crash"]}`, wantOutput: "[echo] handled before the crash"},
		{name: "as it posts an error", give: `{"op":"error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := &syncBuffer{}
			r := startRunner(t, Options{LogOutput: out}, echoFunction("echo"))
			pid := decodeReply(t, invoke(t, r, "echo", `{"op":"echo"}`)).PID

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			inv, err := r.Invoke(ctx, "echo", []byte(tt.give), Crash())
			if err != nil {
				t.Fatal(err)
			}
			e := decodeError(t, inv)
			want := "RequestId: " + inv.RequestID + " Error: Runtime exited with error: signal: killed"
			if e.Type != "Runtime.ExitError" || e.Message != want {
				t.Errorf("crash error = %+v, want Runtime.ExitError: %s", e, want)
			}
			if !strings.Contains(out.String(), tt.wantOutput) {
				t.Errorf("function output lacks %q:\n%s", tt.wantOutput, out)
			}
			if alive(pid) {
				t.Errorf("process %d still alive after the injected crash", pid)
			}
			if rep := decodeReply(t, invoke(t, r, "echo", `{"op":"echo"}`)); rep.PID == pid {
				t.Errorf("invocation after the crash ran in the killed process %d", pid)
			}
			waitFor(t, func() bool { return r.Stats()["echo"].Crashes == 1 }, "the injected crash counted as a crash")
			if st := r.Stats()["echo"]; st.InjectedCrashes != 1 || st.Errors != 1 || st.Invocations != 3 || st.Timeouts != 0 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestInitFailure(t *testing.T) {
	fn := echoFunction("broken")
	fn.Env = map[string]string{"ECHOFN_INIT": "exit"}
	r := New([]Function{fn}, Options{})
	defer r.Close()
	err := r.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "exit status 2") || !strings.Contains(err.Error(), "init failed: missing config") {
		t.Fatalf("Start error = %v, want exit status and output", err)
	}
	e := decodeError(t, invoke(t, r, "broken", `{}`))
	if e.Type != "Runtime.ExitError" || !strings.Contains(e.Message, "exit status 2") {
		t.Errorf("error = %+v", e)
	}
}

func TestInitErrorEndpoint(t *testing.T) {
	r := New([]Function{{Name: "raw", Binary: rawBinary}}, Options{})
	defer r.Close()
	err := r.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "Runtime.ConfigError: TABLE_NAME is not set") {
		t.Fatalf("Start error = %v", err)
	}
	e := decodeError(t, invoke(t, r, "raw", `{}`))
	if e.Type != "Runtime.ConfigError" || e.Message != "TABLE_NAME is not set" {
		t.Errorf("error = %+v", e)
	}
}

func TestInitTimeout(t *testing.T) {
	fn := echoFunction("hang")
	fn.Env = map[string]string{"ECHOFN_INIT": "hang"}
	r := New([]Function{fn}, Options{InitTimeout: 300 * time.Millisecond})
	defer r.Close()
	if err := r.Start(context.Background()); err == nil || !strings.Contains(err.Error(), "init timed out") {
		t.Fatalf("Start error = %v", err)
	}
	if e := decodeError(t, invoke(t, r, "hang", `{}`)); e.Type != "Sandbox.Timedout" {
		t.Errorf("error = %+v", e)
	}
	waitFor(t, func() bool { return r.Stats()["hang"].Processes == 0 }, "hung processes killed")
}

func TestConcurrentInvocations(t *testing.T) {
	fn := echoFunction("echo")
	fn.Concurrency = 2
	r := startRunner(t, Options{}, fn)

	const n = 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	pids := map[int]bool{}
	for i := range n {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			ev := fmt.Sprintf(`{"op":"sleep","sleepMs":20,"value":%d}`, i)
			inv, err := r.Invoke(ctx, "echo", []byte(ev))
			if err != nil {
				t.Errorf("invocation %d: %v", i, err)
				return
			}
			var rep reply
			if err := json.Unmarshal(inv.Payload, &rep); err != nil || inv.FunctionError != "" {
				t.Errorf("invocation %d: %q %s", i, inv.FunctionError, inv.Payload)
				return
			}
			if string(rep.Value) != strconv.Itoa(i) || rep.RequestID != inv.RequestID {
				t.Errorf("invocation %d got value %s, request %s (want %s)", i, rep.Value, rep.RequestID, inv.RequestID)
			}
			mu.Lock()
			pids[rep.PID] = true
			mu.Unlock()
			if p := r.Stats()["echo"].Processes; p > 2 {
				t.Errorf("%d processes running, Concurrency is 2", p)
			}
		})
	}
	wg.Wait()
	if len(pids) != 2 {
		t.Errorf("invocations ran in %d processes, want 2", len(pids))
	}
	st := r.Stats()["echo"]
	if st.Invocations != n || st.ColdStarts != 2 || st.Errors != 0 || st.Processes != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestQueueThrottle(t *testing.T) {
	fn := echoFunction("one")
	fn.Concurrency = 1
	r := startRunner(t, Options{QueueTimeout: 100 * time.Millisecond}, fn)

	done := make(chan *Invocation)
	go func() { done <- invoke(t, r, "one", `{"op":"sleep","sleepMs":1000}`) }()
	waitFor(t, func() bool { return len(r.fns["one"].tokens) == 1 }, "first invocation running")

	_, err := r.Invoke(context.Background(), "one", []byte(`{}`))
	if !errors.Is(err, ErrThrottled) {
		t.Errorf("second invocation error = %v, want ErrThrottled", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := r.Invoke(ctx, "one", []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("queued invocation with short ctx: error = %v, want DeadlineExceeded", err)
	}
	decodeReply(t, <-done)
	if st := r.Stats()["one"]; st.Throttles != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestUnknownFunction(t *testing.T) {
	r := startRunner(t, Options{}, echoFunction("echo"))
	for _, name := range []string{"nope", "arn:aws:lambda:us-east-1:123456789012:function:nope", "arn:aws:s3:::echo", "", "a:b:c"} {
		if _, err := r.Invoke(context.Background(), name, []byte(`{}`)); !errors.Is(err, ErrUnknownFunction) {
			t.Errorf("Invoke(%q) error = %v, want ErrUnknownFunction", name, err)
		}
	}
}

func TestNameResolution(t *testing.T) {
	r := startRunner(t, Options{}, echoFunction("NotifyFunction"))
	for _, name := range []string{
		"NotifyFunction",
		"NotifyFunction:$LATEST",
		"arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction",
		"arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction:$LATEST",
		"arn:aws:lambda:eu-central-1:000000000000:function:NotifyFunction:live",
		"123456789012:function:NotifyFunction",
	} {
		decodeReply(t, invoke(t, r, name, `{"op":"echo"}`))
	}
}

func TestLogOutput(t *testing.T) {
	var out syncBuffer
	r := startRunner(t, Options{LogOutput: &out}, echoFunction("logger"))
	invoke(t, r, "logger", `{"op":"log","lines":["hello","world"]}`)
	for _, want := range []string{"[logger] hello\n", "[logger] world\n", "[logger] err: hello\n"} {
		waitFor(t, func() bool { return strings.Contains(out.String(), want) }, "log line "+want)
	}
}

func TestCloseLeavesNoProcesses(t *testing.T) {
	a, b := echoFunction("a"), echoFunction("b")
	a.Concurrency, b.Concurrency = 2, 2
	r := New([]Function{a, b}, Options{})
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Two busy processes for a, so the pool scales up; one slow invocation
	// is still running when Close is called.
	var wg sync.WaitGroup
	inflight := make(chan error, 1)
	wg.Go(func() {
		_, err := r.Invoke(context.Background(), "a", []byte(`{"op":"sleep","sleepMs":3000}`))
		inflight <- err
	})
	invoke(t, r, "a", `{"op":"sleep","sleepMs":10}`)
	invoke(t, r, "b", `{}`)
	waitFor(t, func() bool { return r.Stats()["a"].Processes == 2 }, "a scaled to 2 processes")

	var pids []int
	for _, f := range r.fns {
		f.mu.Lock()
		for p := range f.live {
			pids = append(pids, p.pid)
		}
		f.mu.Unlock()
	}
	if len(pids) != 3 {
		t.Fatalf("live processes %v, want 3", pids)
	}
	start := time.Now()
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("Close took %s", took)
	}
	wg.Wait()
	if err := <-inflight; !errors.Is(err, ErrClosed) {
		t.Errorf("in-flight invocation error = %v, want ErrClosed", err)
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d survived Close", pid)
		}
	}
	if kids := childProcesses(t); len(kids) > 0 {
		t.Errorf("child processes left after Close: %v", kids)
	}
	if _, err := r.Invoke(context.Background(), "a", []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close error = %v, want ErrClosed", err)
	}
	if err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	for name, st := range r.Stats() {
		if st.Processes != 0 || st.Crashes != 0 {
			t.Errorf("%s stats after Close = %+v", name, st)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	r := New([]Function{
		{Name: "", Binary: echoBinary},
		{Name: "x", Binary: ""},
		{Name: "dup", Binary: echoBinary},
		{Name: "dup", Binary: echoBinary},
		{Name: "missing", Binary: filepath.Join(t.TempDir(), "bootstrap")},
	}, Options{})
	defer r.Close()
	err := r.Start(context.Background())
	for _, want := range []string{`function "": invalid name`, `function "x": no binary`, `function "dup": configured twice`, "function missing: start "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Start error = %v, want it to mention %q", err, want)
		}
	}
}

func TestFunctionName(t *testing.T) {
	for in, want := range map[string]string{
		"fn":                         "fn",
		"fn:$LATEST":                 "fn",
		"fn:3":                       "fn",
		"123456789012:function:fn":   "fn",
		"123456789012:function:fn:1": "fn",
		"arn:aws:lambda:us-east-1:123456789012:function:fn":          "fn",
		"arn:aws-cn:lambda:cn-north-1:123456789012:function:fn:prod": "fn",
		"arn:aws:states:us-east-1:123456789012:stateMachine:fn":      "",
		"a:b:c": "",
	} {
		if got := functionName(in); got != want {
			t.Errorf("functionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid exists (zombies count: they were not reaped).
func alive(pid int) bool {
	if runtime.GOOS == "windows" {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

// childProcesses lists this test process's children on Linux.
func childProcesses(t *testing.T) []string {
	t.Helper()
	if runtime.GOOS != "linux" {
		return nil
	}
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	self := strconv.Itoa(os.Getpid())
	var kids []string
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // the process went away
		}
		// pid (comm) state ppid ...
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+1:])
		if len(fields) > 1 && fields[1] == self {
			kids = append(kids, s[:i+1])
		}
	}
	return kids
}

func TestLineWriter(t *testing.T) {
	var out syncBuffer
	tl := &tail{max: 8}
	w := &lineWriter{sink: &logSink{w: &out}, prefix: "[fn] ", tail: tl}
	for _, s := range []string{"hel", "lo\nwor", "ld\n\nlast"} {
		if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", s, n, err)
		}
	}
	w.flush()
	if want := "[fn] hello\n[fn] world\n[fn] \n[fn] last\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if got := tl.String(); got != "ld\n\nlast" {
		t.Errorf("tail %q", got)
	}
	out = syncBuffer{}
	_, _ = w.Write(bytes.Repeat([]byte("x"), maxLine+10))
	if got := out.String(); len(got) != len("[fn] ")+maxLine+10+1 {
		t.Errorf("long line forwarded as %d bytes", len(got))
	}
}
