package moto

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// venvBin is the project's moto virtualenv, created by `make venv`.
func venvBin(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", ".venv", "moto", "bin"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "moto_server")); err != nil {
		t.Skipf("moto virtualenv missing (%v): run `make venv` to run this test", err)
	}
	return dir
}

// syncBuffer is a goroutine-safe log destination.
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

func startMoto(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Python == "" {
		opts.Python = venvBin(t)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Start(ctx, opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func processExists(pid int) bool {
	return syscall.Kill(pid, 0) == nil
}

func groupExists(pgid int) bool {
	return syscall.Kill(-pgid, 0) == nil
}

func TestStartAnswersAndStopLeavesNoProcess(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	s := startMoto(t, Options{LogFile: logs})

	resp, err := newHTTPClient().Get(s.URL() + "/moto-api/")
	if err != nil {
		t.Fatalf("GET /moto-api/: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /moto-api/: %s", resp.Status)
	}
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:"+strconv.Itoa(s.Port())) {
		t.Errorf("URL %s does not match port %d", s.URL(), s.Port())
	}

	pid := s.PID()
	if pgid, err := syscall.Getpgid(pid); err != nil || pgid != pid {
		t.Errorf("moto pgid = %d, %v; want its own group %d", pgid, err, pid)
	}
	if !processExists(pid) {
		t.Fatal("moto process not running after Start")
	}

	start := time.Now()
	if err := s.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	t.Logf("Stop took %v", time.Since(start))
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed after Stop")
	}
	if processExists(pid) {
		t.Errorf("moto process %d still exists after Stop", pid)
	}
	if groupExists(pid) {
		t.Errorf("moto process group %d still has members after Stop", pid)
	}
	if err := s.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}
	if _, err := newHTTPClient().Get(s.URL() + "/moto-api/"); err == nil {
		t.Error("moto still answers after Stop")
	}
	if !strings.Contains(logs.String(), "/moto-api/") {
		t.Errorf("LogFile did not receive moto's request log:\n%s", logs.String())
	}
}

// TestKilledIsReported: a moto killed from outside is seen as gone, with
// how it ended, and a ping says it does not answer instead of hanging.
func TestKilledIsReported(t *testing.T) {
	t.Parallel()
	s := startMoto(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping of a running moto: %v", err)
	}
	if st := s.ExitState(); st != "" {
		t.Fatalf("ExitState of a running moto = %q, want empty", st)
	}
	if err := syscall.Kill(-s.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("Done not closed after moto was killed")
	}
	if st := s.ExitState(); st != "signal: killed" {
		t.Errorf("ExitState = %q, want signal: killed", st)
	}
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping of a dead moto succeeded")
	}
	if err := s.Stop(); err != nil {
		t.Errorf("Stop after the process died: %v", err)
	}
}

func TestStepFunctionsExecuteAfterStartAndReset(t *testing.T) {
	t.Parallel()
	s := startMoto(t, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := sfn.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(s.URL()),
	})

	run := func(name string) {
		t.Helper()
		def := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"ok":true},"End":true}}}`
		sm, err := client.CreateStateMachine(ctx, &sfn.CreateStateMachineInput{
			Name:       aws.String(name),
			Definition: aws.String(def),
			RoleArn:    aws.String("arn:aws:iam::123456789012:role/sfn"),
		})
		if err != nil {
			t.Fatalf("CreateStateMachine: %v", err)
		}
		// Two executions: moto 5.2.1/5.2.2 broke every one after the first.
		for i := range 2 {
			ex, err := client.StartExecution(ctx, &sfn.StartExecutionInput{
				StateMachineArn: sm.StateMachineArn,
				Name:            aws.String(name + "-" + strconv.Itoa(i)),
				Input:           aws.String(`{}`),
			})
			if err != nil {
				t.Fatalf("StartExecution %d: %v", i, err)
			}
			var status sfntypes.ExecutionStatus
			for status != sfntypes.ExecutionStatusSucceeded {
				out, err := client.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: ex.ExecutionArn})
				if err != nil {
					t.Fatalf("DescribeExecution: %v", err)
				}
				status = out.Status
				switch status {
				case sfntypes.ExecutionStatusSucceeded:
					// moto prints Python's JSON: {"ok": true}.
					var got struct{ OK bool }
					if err := json.Unmarshal([]byte(aws.ToString(out.Output)), &got); err != nil || !got.OK {
						t.Errorf("output = %s, %v", aws.ToString(out.Output), err)
					}
				case sfntypes.ExecutionStatusRunning:
					select {
					case <-ctx.Done():
						t.Fatalf("execution %d still RUNNING: moto is not executing state machines", i)
					case <-time.After(50 * time.Millisecond):
					}
				default:
					t.Fatalf("execution %d: status %s", i, status)
				}
			}
		}
	}
	run("before-reset")
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	if out, err := client.ListStateMachines(ctx, &sfn.ListStateMachinesInput{}); err != nil || len(out.StateMachines) != 0 {
		t.Fatalf("after Reset: %d state machines, %v", len(out.StateMachines), err)
	}
	run("after-reset")
}

func TestStartWithoutVenv(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"", t.TempDir()} {
		_, err := Start(context.Background(), Options{Python: dir})
		if !errors.Is(err, ErrNotInstalled) || !strings.Contains(err.Error(), "make venv") {
			t.Errorf("Python=%q: err = %v, want ErrNotInstalled mentioning `make venv`", dir, err)
		}
	}
}

// fakeVenv writes a virtualenv bin directory whose python reports version
// when asked for it and otherwise (as the moto launcher) runs script.
func fakeVenv(t *testing.T, version, script string) string {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write("python", `case "$2" in *importlib.metadata*) echo `+version+`; exit 0;; esac
`+script)
	write("moto_server", script)
	return dir
}

func TestStartRejectsOldMoto(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"5.2.1", "5.2.2", "4.9.9"} {
		dir := fakeVenv(t, v, "sleep 60")
		_, err := Start(context.Background(), Options{Python: dir})
		if err == nil || !strings.Contains(err.Error(), "too old") || !strings.Contains(err.Error(), MinVersion) {
			t.Errorf("moto %s: err = %v, want a too-old error naming %s", v, err, MinVersion)
		}
	}
}

func TestStartReportsEarlyDeath(t *testing.T) {
	t.Parallel()
	dir := fakeVenv(t, "5.2.5", `echo "TZ=$TZ MOTO_PORT=$MOTO_PORT"; echo "boom: cannot start" >&2; exit 3`)
	_, err := Start(context.Background(), Options{Python: dir, LambdaPort: 4242})
	if err == nil {
		t.Fatal("Start succeeded with a moto_server that exits")
	}
	for _, want := range []string{"exited before answering", "boom: cannot start", "TZ=UTC MOTO_PORT=4242"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not contain %q:\n%v", want, err)
		}
	}
}

func TestStartTimesOut(t *testing.T) {
	t.Parallel()
	dir := fakeVenv(t, "5.2.5", "echo hanging; exec sleep 60")
	start := time.Now()
	_, err := Start(context.Background(), Options{Python: dir, StartTimeout: 300 * time.Millisecond, StopGrace: time.Second})
	if err == nil || !strings.Contains(err.Error(), "no answer") || !strings.Contains(err.Error(), "hanging") {
		t.Errorf("err = %v, want a timeout error with moto's output", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Start took %v to give up", d)
	}
}

func TestStartOnTakenPort(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = Start(ctx, Options{Python: venvBin(t), Port: port, StartTimeout: 20 * time.Second})
	if err == nil {
		t.Fatal("Start succeeded on a taken port")
	}
	if !errors.Is(err, errAddrInUse) {
		t.Errorf("err = %v, want it to say the address is in use", err)
	}
}

func TestAtLeast(t *testing.T) {
	cases := []struct {
		v    string
		want bool
	}{
		{"5.2.3", true}, {"5.2.5", true}, {"5.3.0", true}, {"6.0", true}, {"5.10.0", true},
		{"5.2.6.dev3", true}, {"5.2.3rc1", true},
		{"5.2.2", false}, {"5.2.1", false}, {"5.1.99", false}, {"4.9.9", false}, {"5.2", false},
	}
	for _, c := range cases {
		got, err := atLeast(c.v, MinVersion)
		if err != nil || got != c.want {
			t.Errorf("atLeast(%q, %q) = %v, %v; want %v", c.v, MinVersion, got, err, c.want)
		}
	}
	if _, err := atLeast("garbage", MinVersion); err == nil {
		t.Error(`atLeast("garbage") did not fail`)
	}
}

func TestLogSinkKeepsLastLines(t *testing.T) {
	var out bytes.Buffer
	l := &logSink{out: &out}
	for i := range 100 {
		_, _ = l.Write([]byte("line " + strconv.Itoa(i) + "\n"))
	}
	_, _ = l.Write([]byte("partial"))
	tail := strings.Split(l.Tail(), "\n")
	if len(tail) != tailLines+1 || tail[0] != "line 60" || tail[len(tail)-1] != "partial" {
		t.Errorf("tail = %q", tail)
	}
	if !strings.HasPrefix(out.String(), "line 0\n") {
		t.Error("output not copied to the log writer")
	}
}
