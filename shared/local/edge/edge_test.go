package edge

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/local/runner"
)

// fakeInvoker records calls and answers with a configurable result.
type fakeInvoker struct {
	mu       sync.Mutex
	calls    []invokeCall
	result   []byte
	fnErr    string
	err      error
	block    chan struct{} // when set, invoke waits for it to close
	finished chan invokeCall
}

type invokeCall struct {
	name    string
	payload string
	ctxErr  error // ctx.Err() when the call finished
}

func (f *fakeInvoker) invoke(ctx context.Context, name string, payload []byte) ([]byte, string, error) {
	if f.block != nil {
		<-f.block
	}
	c := invokeCall{name: name, payload: string(payload), ctxErr: ctx.Err()}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.finished != nil {
		f.finished <- c
	}
	return f.result, f.fnErr, f.err
}

func (f *fakeInvoker) lastCall(t *testing.T) invokeCall {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) == 0 {
		t.Fatal("invoke was not called")
	}
	return f.calls[len(f.calls)-1]
}

func (f *fakeInvoker) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// newEdge serves the edge for inv with a backend that fails the test if a
// request reaches it.
func newEdge(t *testing.T, inv *fakeInvoker) *httptest.Server {
	t.Helper()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request to backend: %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	}))
	t.Cleanup(backend.Close)
	return serveEdge(t, New(inv.invoke, mustParse(t, backend.URL), nil))
}

func serveEdge(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func post(t *testing.T, rawURL string, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestInvokeRouting(t *testing.T) {
	inv := &fakeInvoker{result: []byte(`{"ok":true}`)}
	srv := newEdge(t, inv)

	resp, body := post(t, srv.URL+"/2015-03-31/functions/NotifyFunction/invocations", `{"a":1}`, nil)
	if resp.StatusCode != http.StatusOK || body != `{"ok":true}` {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Amz-Executed-Version"); got != "$LATEST" {
		t.Errorf("X-Amz-Executed-Version = %q", got)
	}
	if _, ok := resp.Header["X-Amz-Function-Error"]; ok {
		t.Errorf("X-Amz-Function-Error set on success")
	}
	if resp.Header.Get("X-Amzn-Requestid") == "" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", resp.Header)
	}
	if c := inv.lastCall(t); c.name != "NotifyFunction" || c.payload != `{"a":1}` {
		t.Errorf("invoke got %+v", c)
	}

	// An empty payload reaches the function as {}, like in Lambda.
	post(t, srv.URL+"/2015-03-31/functions/NotifyFunction/invocations", ``, nil)
	if c := inv.lastCall(t); c.payload != `{}` {
		t.Errorf("empty payload became %q", c.payload)
	}
}

func TestInvokeFunctionNames(t *testing.T) {
	inv := &fakeInvoker{result: []byte(`null`)}
	srv := newEdge(t, inv)
	const arn = "arn:aws:lambda:us-east-1:123456789012:function:NotifyFunction"
	for _, tc := range []struct{ path, want string }{
		{"/2015-03-31/functions/" + url.PathEscape(arn) + "/invocations", arn},
		{"/2015-03-31/functions/" + strings.ReplaceAll(arn, ":", "%3A") + "/invocations", arn},
		{"/2015-03-31/functions/" + arn + "/invocations", arn},
		{"/2015-03-31/functions/" + strings.ReplaceAll(arn+":$LATEST", ":", "%3A") + "/invocations", arn + ":$LATEST"},
		{"/2015-03-31/functions/NotifyFunction/invocations?Qualifier=live", "NotifyFunction:live"},
		{"/2015-03-31/functions/" + url.PathEscape(arn) + "/invocations?Qualifier=%24LATEST", arn + ":$LATEST"},
		{"/2015-03-31/functions/NotifyFunction%3A7/invocations?Qualifier=7", "NotifyFunction:7"},
	} {
		resp, body := post(t, srv.URL+tc.path, `{}`, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %d %s", tc.path, resp.StatusCode, body)
			continue
		}
		if c := inv.lastCall(t); c.name != tc.want {
			t.Errorf("%s: invoke got name %q, want %q", tc.path, c.name, tc.want)
		}
	}
}

func TestInvokeFunctionError(t *testing.T) {
	payload := `{"errorType":"BoomError","errorMessage":"boom"}`
	inv := &fakeInvoker{result: []byte(payload), fnErr: "Unhandled"}
	srv := newEdge(t, inv)
	resp, body := post(t, srv.URL+"/2015-03-31/functions/fn/invocations", `{}`, nil)
	if resp.StatusCode != http.StatusOK || body != payload {
		t.Fatalf("got %d %s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("X-Amz-Function-Error"); got != "Unhandled" {
		t.Errorf("X-Amz-Function-Error = %q", got)
	}
}

func TestInvokeErrors(t *testing.T) {
	for _, tc := range []struct {
		err     error
		status  int
		code    string
		message string
	}{
		{fmt.Errorf("invoke %q: %w", "nope", runner.ErrUnknownFunction), 404, "ResourceNotFoundException", "Function not found: nope"},
		{fmt.Errorf("invoke nope: %w: busy", runner.ErrThrottled), 429, "TooManyRequestsException", "Rate Exceeded. invoke nope: function concurrency limit reached: busy"},
		{runner.ErrClosed, 503, "ServiceException", "the local Lambda runner is shutting down"},
		{errors.New("start /x/bootstrap: no such file"), 500, "ServiceException", "start /x/bootstrap: no such file"},
	} {
		srv := newEdge(t, &fakeInvoker{err: tc.err})
		resp, body := post(t, srv.URL+"/2015-03-31/functions/nope/invocations", `{}`, nil)
		if resp.StatusCode != tc.status || resp.Header.Get("x-amzn-ErrorType") != tc.code {
			t.Errorf("%v: got %d %q", tc.err, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
		}
		var e struct{ Type, Message string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Message != tc.message {
			t.Errorf("%v: body %s", tc.err, body)
		}
		if tc.status == 404 && e.Type != "User" {
			t.Errorf("404 body Type = %q, want User", e.Type)
		}
	}
}

func TestInvokeAsync(t *testing.T) {
	inv := &fakeInvoker{block: make(chan struct{}), finished: make(chan invokeCall, 1)}
	srv := newEdge(t, inv)
	resp, body := post(t, srv.URL+"/2015-03-31/functions/fn/invocations", `{"async":true}`,
		map[string]string{"X-Amz-Invocation-Type": "Event"})
	if resp.StatusCode != http.StatusAccepted || body != "" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	if n := inv.callCount(); n != 0 {
		t.Fatalf("invocation finished before the 202 (%d calls)", n)
	}
	close(inv.block) // the function "runs" only now, after the caller got its answer
	select {
	case c := <-inv.finished:
		if c.name != "fn" || c.payload != `{"async":true}` || c.ctxErr != nil {
			t.Errorf("async call = %+v", c)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("async invocation never ran")
	}
}

func TestInvokeDryRunAndBadType(t *testing.T) {
	inv := &fakeInvoker{}
	srv := newEdge(t, inv)
	resp, _ := post(t, srv.URL+"/2015-03-31/functions/fn/invocations", `{}`, map[string]string{"X-Amz-Invocation-Type": "DryRun"})
	if resp.StatusCode != http.StatusNoContent {
		t.Errorf("DryRun: %d", resp.StatusCode)
	}
	resp, _ = post(t, srv.URL+"/2015-03-31/functions/fn/invocations", `{}`, map[string]string{"X-Amz-Invocation-Type": "Sometimes"})
	if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("x-amzn-ErrorType") != "InvalidParameterValueException" {
		t.Errorf("bad type: %d %q", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	if n := inv.callCount(); n != 0 {
		t.Errorf("invoke called %d times", n)
	}
}

func TestInvokeTooLarge(t *testing.T) {
	inv := &fakeInvoker{}
	srv := newEdge(t, inv)
	resp, _ := post(t, srv.URL+"/2015-03-31/functions/fn/invocations", strings.Repeat("x", maxPayload+1), nil)
	if resp.StatusCode != http.StatusRequestEntityTooLarge || resp.Header.Get("x-amzn-ErrorType") != "RequestTooLargeException" {
		t.Errorf("got %d %q", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	if inv.callCount() != 0 {
		t.Error("oversized payload was invoked")
	}
}

type seenRequest struct {
	method, requestURI, host, body string
	header                         http.Header
}

func TestProxyPreservesRequest(t *testing.T) {
	seen := make(chan seenRequest, 10)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen <- seenRequest{r.Method, r.RequestURI, r.Host, string(b), r.Header.Clone()}
		w.Header().Set("X-Amzn-Requestid", "moto-req")
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"from":"moto"}`)
	}))
	defer backend.Close()
	inv := &fakeInvoker{}
	srv := serveEdge(t, New(inv.invoke, mustParse(t, backend.URL), nil))

	for _, tc := range []struct{ method, path, body string }{
		{http.MethodPost, "/", `{"TableName":"jit"}`},
		{http.MethodPut, "/bucket/some%2Fkey%20x?x-id=PutObject&a=1&a=2", "object bytes"},
		{http.MethodGet, "/2015-03-31/functions/fn/invocations", ""},           // not an Invoke: wrong method
		{http.MethodPost, "/2015-03-31/functions/fn/invoke-async/", `{}`},      // other Lambda API
		{http.MethodGet, "/2015-03-31/functions/?MaxItems=5", ""},              // ListFunctions
		{http.MethodPost, "/2015-03-31/functions/invocations", `{"odd":true}`}, // no name
	} {
		req, err := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = "localhost:4566"
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20250101/us-east-1/dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
		req.Header.Set("X-Amz-Target", "DynamoDB_20120810.PutItem")
		req.Header.Set("X-Amz-Date", "20250101T000000Z")
		req.Header.Set("X-Forwarded-For", "10.0.0.1")
		resp, body := do(t, req)
		if resp.StatusCode != http.StatusCreated || body != `{"from":"moto"}` ||
			resp.Header.Get("X-Amzn-Requestid") != "moto-req" || resp.Header.Get("Content-Type") != "application/x-amz-json-1.0" {
			t.Errorf("%s %s: response %d %v %s", tc.method, tc.path, resp.StatusCode, resp.Header, body)
		}
		s := <-seen
		if s.method != tc.method || s.requestURI != tc.path || s.body != tc.body || s.host != "localhost:4566" {
			t.Errorf("%s %s: backend saw %s %s host=%s body=%q", tc.method, tc.path, s.method, s.requestURI, s.host, s.body)
		}
		for _, k := range []string{"Authorization", "X-Amz-Target", "X-Amz-Date", "X-Forwarded-For"} {
			if s.header.Get(k) != req.Header.Get(k) {
				t.Errorf("%s %s: backend header %s = %q, want %q", tc.method, tc.path, k, s.header.Get(k), req.Header.Get(k))
			}
		}
	}
	if inv.callCount() != 0 {
		t.Errorf("invoke called for proxied requests")
	}
}

func TestProxyStreamsResponse(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-release
		_, _ = io.WriteString(w, "second\n")
	}))
	defer backend.Close()
	defer close(release)
	srv := serveEdge(t, New(nil, mustParse(t, backend.URL), nil))

	resp, err := http.Get(srv.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(resp.Body).ReadString('\n')
		line <- l
	}()
	select {
	case l := <-line:
		if l != "first\n" {
			t.Errorf("first line = %q", l)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first chunk not streamed before the backend finished")
	}
}

func TestBackendDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	srv := serveEdge(t, New(nil, mustParse(t, dead), nil))

	start := time.Now()
	resp, body := post(t, srv.URL+"/", `{}`, map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables"})
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("dead backend took %s to report", took)
	}
	if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("x-amzn-ErrorType") != "EmulatorUnreachable" {
		t.Errorf("status %d, error type %q", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	var e struct{ Message string }
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	if want := "AWS emulator (moto) at " + dead + " is not reachable: "; !strings.HasPrefix(e.Message, want) || !strings.Contains(e.Message, "refused") {
		t.Errorf("message = %q, want prefix %q", e.Message, want)
	}
}

func TestBackendTimeout(t *testing.T) {
	release := make(chan struct{})
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer backend.Close()
	defer close(release)
	srv := serveEdge(t, newHandler(nil, mustParse(t, backend.URL), nil, 200*time.Millisecond))

	resp, body := post(t, srv.URL+"/", `{}`, nil)
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(body, "did not answer POST / within 200ms") {
		t.Errorf("got %d %s", resp.StatusCode, body)
	}
}

func TestNoBackendNoInvoker(t *testing.T) {
	srv := serveEdge(t, New(nil, nil, nil))
	resp, body := post(t, srv.URL+"/", `{}`, nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(body, "no AWS emulator") {
		t.Errorf("proxy without backend: %d %s", resp.StatusCode, body)
	}
	resp, body = post(t, srv.URL+"/2015-03-31/functions/fn/invocations", `{}`, nil)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "no local Lambda runner") {
		t.Errorf("invoke without runner: %d %s", resp.StatusCode, body)
	}
}

func TestInvokeTarget(t *testing.T) {
	for path, want := range map[string]string{
		"/2015-03-31/functions/fn/invocations":                    "fn",
		"/2015-03-31/functions/a%3Ab/invocations":                 "a:b",
		"/2015-03-31/functions/invocations":                       "",
		"/2015-03-31/functions//invocations":                      "",
		"/2015-03-31/functions/a/b/invocations":                   "",
		"/2015-03-31/functions/fn/invocations/":                   "",
		"/2015-03-31/functions/fn/invoke-async":                   "",
		"/2021-11-15/functions/fn/response-streaming-invocations": "",
	} {
		u := mustParse(t, "http://x"+path)
		got, ok := invokeTarget(u)
		if got != want || ok != (want != "") {
			t.Errorf("invokeTarget(%s) = %q, %v; want %q", path, got, ok, want)
		}
	}
}
