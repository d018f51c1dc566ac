// Command echofn is a test Lambda for the runner tests. Its behaviour is
// chosen by the event's "op" field.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// BoomError is returned for op "error"; its type name is the errorType.
type BoomError struct{}

func (BoomError) Error() string { return "boom" }

// ReadFailError breaks a streamed (io.Reader) response.
type ReadFailError struct{}

func (ReadFailError) Error() string { return "read failed" }

type event struct {
	Op      string          `json:"op"`
	Value   json.RawMessage `json:"value,omitempty"`
	SleepMS int             `json:"sleepMs,omitempty"`
	Code    int             `json:"code,omitempty"`
	Lines   []string        `json:"lines,omitempty"`
}

type reply struct {
	Value      json.RawMessage   `json:"value,omitempty"`
	RequestID  string            `json:"requestId"`
	ARN        string            `json:"arn"`
	DeadlineMS int64             `json:"deadlineMs"`
	PID        int               `json:"pid"`
	Env        map[string]string `json:"env"`
}

type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "partial"), nil
	}
	return 0, ReadFailError{}
}

func handle(ctx context.Context, ev event) (any, error) {
	switch ev.Op {
	case "error":
		return nil, BoomError{}
	case "ptrerror":
		return nil, &BoomError{}
	case "plainerror":
		return nil, errors.New("plain")
	case "panic":
		panic("kaboom")
	case "exit":
		fmt.Println("exiting on request")
		os.Exit(ev.Code)
	case "sleep":
		time.Sleep(time.Duration(ev.SleepMS) * time.Millisecond) // ignores ctx on purpose
	case "log":
		for _, l := range ev.Lines {
			fmt.Println(l)
			fmt.Fprintln(os.Stderr, "err: "+l)
		}
	case "stream":
		return io.Reader(strings.NewReader(`{"streamed":true}`)), nil
	case "streamfail":
		return io.Reader(&failingReader{}), nil
	case "echo", "":
	default:
		return nil, fmt.Errorf("unknown op %q", ev.Op)
	}
	lc, _ := lambdacontext.FromContext(ctx)
	dl, _ := ctx.Deadline()
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return reply{Value: ev.Value, RequestID: lc.AwsRequestID, ARN: lc.InvokedFunctionArn, DeadlineMS: dl.UnixMilli(), PID: os.Getpid(), Env: env}, nil
}

func main() {
	switch os.Getenv("ECHOFN_INIT") {
	case "exit":
		fmt.Fprintln(os.Stderr, "init failed: missing config")
		os.Exit(2)
	case "hang":
		time.Sleep(time.Hour)
	}
	lambda.Start(handle)
}
