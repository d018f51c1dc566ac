package gateway_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/jitaccess/jit/shared/local/gateway"
)

var testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

var (
	alice = gateway.Identity{
		Name: "alice", Kind: "requester",
		AccessKeyID: "AKIAALICE0000000001", SecretAccessKey: "alice-secret-do-not-log",
		PrincipalARN: "arn:aws:iam::123456789012:user/alice", Email: "alice@example.com",
	}
	bob = gateway.Identity{
		Name: "bob", Kind: "approver",
		AccessKeyID: "ASIABOB000000000001", SecretAccessKey: "bob-secret-do-not-log",
		PrincipalARN: "arn:aws:sts::210987654321:assumed-role/Approver/bob",
	}
)

// testRoutes mirror template.yaml, plus a literal route that competes with
// {id} and a greedy ANY route.
var testRoutes = []gateway.Route{
	{Method: "POST", Path: "/v1/requests", Function: "ApiFunction", IAMAuth: true},
	{Method: "GET", Path: "/v1/requests", Function: "ApiFunction", IAMAuth: true},
	{Method: "GET", Path: "/v1/requests/{id}", Function: "ApiFunction", IAMAuth: true},
	{Method: "GET", Path: "/v1/requests/mine", Function: "MineFunction", IAMAuth: true},
	{Method: "GET", Path: "/d/{token}", Function: "DecideFunction"},
	{Method: "POST", Path: "/d/{token}", Function: "DecideFunction"},
	{Method: "ANY", Path: "/static/{proxy+}", Function: "StaticFunction"},
}

type invocation struct {
	function string
	payload  []byte
	event    events.APIGatewayV2HTTPRequest
}

// fakeLambda stands in for the function runtime: it records each event and
// returns a canned result.
type fakeLambda struct {
	mu            sync.Mutex
	calls         []invocation
	result        string
	functionError string
	err           error
}

func (f *fakeLambda) invoke(_ context.Context, function string, payload []byte) ([]byte, string, error) {
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, invocation{function: function, payload: payload, event: ev})
	result := f.result
	if result == "" {
		result = `{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"ok\":true}"}`
	}
	return []byte(result), f.functionError, f.err
}

func (f *fakeLambda) only(t *testing.T) invocation {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.calls) != 1 {
		t.Fatalf("function invoked %d times, want 1", len(f.calls))
	}
	return f.calls[0]
}

func (f *fakeLambda) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

type harness struct {
	srv    *httptest.Server
	lambda *fakeLambda
	logs   *bytes.Buffer
}

func newHarness(t *testing.T, lambda *fakeLambda) *harness {
	t.Helper()
	if lambda == nil {
		lambda = &fakeLambda{}
	}
	logs := &bytes.Buffer{}
	h, err := gateway.New(gateway.Config{
		Routes:     testRoutes,
		Identities: []gateway.Identity{alice, bob},
		Invoke:     lambda.invoke,
		Now:        func() time.Time { return testNow },
		Logger:     slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, nil)),
	})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	// Responses are asserted as the gateway sent them, redirects included.
	srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &harness{srv: srv, lambda: lambda, logs: logs}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// call describes a request to the gateway; signer nil means unsigned.
type call struct {
	method  string
	path    string
	body    string
	headers map[string]string
	signer  *gateway.Identity
	region  string
	at      time.Time
}

type reply struct {
	status int
	header http.Header
	body   string
}

func (h *harness) do(t *testing.T, c call) reply {
	t.Helper()
	req, err := http.NewRequest(c.method, h.srv.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	if c.signer != nil {
		signRequest(t, req, c)
	}
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("do request: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(body)}
}

func signRequest(t *testing.T, req *http.Request, c call) {
	t.Helper()
	region, at := c.region, c.at
	if region == "" {
		region = "us-east-1"
	}
	if at.IsZero() {
		at = testNow
	}
	sum := sha256.Sum256([]byte(c.body))
	creds := aws.Credentials{AccessKeyID: c.signer.AccessKeyID, SecretAccessKey: c.signer.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", region, at); err != nil {
		t.Fatalf("sign: %v", err)
	}
}

func TestRouting(t *testing.T) {
	tests := []struct {
		name         string
		give         call
		wantStatus   int
		wantFunction string
		wantRouteKey string
		wantParams   map[string]string
	}{
		{
			name:         "list requests",
			give:         call{method: "GET", path: "/v1/requests", signer: &alice},
			wantStatus:   200,
			wantFunction: "ApiFunction",
			wantRouteKey: "GET /v1/requests",
		},
		{
			name:         "create request",
			give:         call{method: "POST", path: "/v1/requests", body: `{}`, signer: &alice},
			wantStatus:   200,
			wantFunction: "ApiFunction",
			wantRouteKey: "POST /v1/requests",
		},
		{
			name:         "path parameter",
			give:         call{method: "GET", path: "/v1/requests/r-123", signer: &alice},
			wantStatus:   200,
			wantFunction: "ApiFunction",
			wantRouteKey: "GET /v1/requests/{id}",
			wantParams:   map[string]string{"id": "r-123"},
		},
		{
			name:         "path parameter is decoded, encoded slash stays inside it",
			give:         call{method: "GET", path: "/v1/requests/a%20b%2Fc", signer: &alice},
			wantStatus:   200,
			wantFunction: "ApiFunction",
			wantRouteKey: "GET /v1/requests/{id}",
			wantParams:   map[string]string{"id": "a b/c"},
		},
		{
			name:         "literal segment beats a variable",
			give:         call{method: "GET", path: "/v1/requests/mine", signer: &alice},
			wantStatus:   200,
			wantFunction: "MineFunction",
			wantRouteKey: "GET /v1/requests/mine",
		},
		{
			name:         "public decision link",
			give:         call{method: "GET", path: "/d/tok_abc-123"},
			wantStatus:   200,
			wantFunction: "DecideFunction",
			wantRouteKey: "GET /d/{token}",
			wantParams:   map[string]string{"token": "tok_abc-123"},
		},
		{
			name:         "greedy path with ANY method",
			give:         call{method: "DELETE", path: "/static/css/app.css"},
			wantStatus:   200,
			wantFunction: "StaticFunction",
			wantRouteKey: "ANY /static/{proxy+}",
			wantParams:   map[string]string{"proxy": "css/app.css"},
		},
		{name: "unknown path", give: call{method: "GET", path: "/v2/requests", signer: &alice}, wantStatus: 404},
		{name: "path exists for another method", give: call{method: "DELETE", path: "/v1/requests", signer: &alice}, wantStatus: 404},
		{name: "trailing slash is another path", give: call{method: "GET", path: "/v1/requests/", signer: &alice}, wantStatus: 404},
		{name: "variable does not span segments", give: call{method: "GET", path: "/d/a/b"}, wantStatus: 404},
		{name: "greedy variable needs a segment", give: call{method: "GET", path: "/static/"}, wantStatus: 404},
		{name: "root", give: call{method: "GET", path: "/"}, wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			got := h.do(t, tt.give)
			if got.status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", got.status, got.body, tt.wantStatus)
			}
			if tt.wantStatus == http.StatusNotFound {
				if got.body != `{"message":"Not Found"}` {
					t.Errorf("body = %s, want Not Found message", got.body)
				}
				if n := h.lambda.count(); n != 0 {
					t.Errorf("function invoked %d times on a 404", n)
				}
				return
			}
			inv := h.lambda.only(t)
			if inv.function != tt.wantFunction || inv.event.RouteKey != tt.wantRouteKey {
				t.Errorf("invoked %s with routeKey %q, want %s with %q", inv.function, inv.event.RouteKey, tt.wantFunction, tt.wantRouteKey)
			}
			if !equalMaps(inv.event.PathParameters, tt.wantParams) {
				t.Errorf("pathParameters = %v, want %v", inv.event.PathParameters, tt.wantParams)
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

func TestIAMRouteEvent(t *testing.T) {
	tests := []struct {
		name        string
		give        *gateway.Identity
		wantAccount string
		wantUserID  string
	}{
		{name: "IAM user", give: &alice, wantAccount: "123456789012", wantUserID: "AIDA"},
		{name: "assumed role session", give: &bob, wantAccount: "210987654321", wantUserID: "AROA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			body := `{"role":"arn:aws:iam::123456789012:role/admin","reason":"incident 42"}`
			got := h.do(t, call{
				method: "POST",
				path:   "/v1/requests?dry_run=true&tag=a&tag=b",
				body:   body,
				headers: map[string]string{
					"Content-Type": "application/json",
					"Cookie":       "session=abc; theme=dark",
					"User-Agent":   "jit-cli/1.0",
				},
				signer: tt.give,
			})
			if got.status != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", got.status, got.body)
			}
			inv := h.lambda.only(t)
			ev := inv.event
			rc := ev.RequestContext

			checks := []struct{ field, got, want string }{
				{"version", ev.Version, "2.0"},
				{"routeKey", ev.RouteKey, "POST /v1/requests"},
				{"rawPath", ev.RawPath, "/v1/requests"},
				{"rawQueryString", ev.RawQueryString, "dry_run=true&tag=a&tag=b"},
				{"queryStringParameters.tag", ev.QueryStringParameters["tag"], "a,b"},
				{"queryStringParameters.dry_run", ev.QueryStringParameters["dry_run"], "true"},
				{"body", ev.Body, body},
				{"headers.content-type", ev.Headers["content-type"], "application/json"},
				{"headers.host", ev.Headers["host"], strings.TrimPrefix(h.srv.URL, "http://")},
				{"headers.x-forwarded-proto", ev.Headers["x-forwarded-proto"], "http"},
				{"headers.x-forwarded-for", ev.Headers["x-forwarded-for"], "127.0.0.1"},
				{"headers.user-agent", ev.Headers["user-agent"], "jit-cli/1.0"},
				{"headers.cookie", ev.Headers["cookie"], ""},
				{"cookies", strings.Join(ev.Cookies, "|"), "session=abc|theme=dark"},
				{"requestContext.routeKey", rc.RouteKey, "POST /v1/requests"},
				{"requestContext.accountId", rc.AccountID, "123456789012"},
				{"requestContext.apiId", rc.APIID, "local"},
				{"requestContext.stage", rc.Stage, "$default"},
				{"requestContext.requestId", rc.RequestID, got.header.Get("Apigw-Requestid")},
				{"requestContext.domainName", rc.DomainName, strings.TrimPrefix(h.srv.URL, "http://")},
				{"requestContext.domainPrefix", rc.DomainPrefix, "127.0.0.1"},
				{"requestContext.time", rc.Time, "28/Nov/2026:12:00:00 +0000"},
				{"requestContext.http.method", rc.HTTP.Method, "POST"},
				{"requestContext.http.path", rc.HTTP.Path, "/v1/requests"},
				{"requestContext.http.protocol", rc.HTTP.Protocol, "HTTP/1.1"},
				{"requestContext.http.sourceIp", rc.HTTP.SourceIP, "127.0.0.1"},
				{"requestContext.http.userAgent", rc.HTTP.UserAgent, "jit-cli/1.0"},
				{"authorizer.iam.accessKey", rc.Authorizer.IAM.AccessKey, tt.give.AccessKeyID},
				{"authorizer.iam.userArn", rc.Authorizer.IAM.UserARN, tt.give.PrincipalARN},
				{"authorizer.iam.accountId", rc.Authorizer.IAM.AccountID, tt.wantAccount},
				{"authorizer.iam.callerId", rc.Authorizer.IAM.CallerID, rc.Authorizer.IAM.UserID},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.field, c.got, c.want)
				}
			}
			if ev.IsBase64Encoded {
				t.Error("isBase64Encoded = true for a JSON body")
			}
			if rc.TimeEpoch != testNow.UnixMilli() {
				t.Errorf("timeEpoch = %d, want %d", rc.TimeEpoch, testNow.UnixMilli())
			}
			if !strings.HasPrefix(rc.Authorizer.IAM.UserID, tt.wantUserID) {
				t.Errorf("userId = %q, want prefix %q", rc.Authorizer.IAM.UserID, tt.wantUserID)
			}
			if ev.Headers["authorization"] == "" || ev.Headers["x-amz-date"] == "" {
				t.Error("signing headers not passed to the function")
			}
			assertRawIAM(t, inv.payload)
		})
	}
}

// assertRawIAM checks the details of the JSON that the events types cannot
// express: null principalOrgId and cognitoIdentity, no authentication block.
func assertRawIAM(t *testing.T, payload []byte) {
	t.Helper()
	var raw struct {
		RequestContext struct {
			Authentication *json.RawMessage `json:"authentication"`
			Authorizer     struct {
				IAM map[string]json.RawMessage `json:"iam"`
			} `json:"authorizer"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatalf("payload is not JSON: %v", err)
	}
	if raw.RequestContext.Authentication != nil {
		t.Errorf("requestContext.authentication present: %s", *raw.RequestContext.Authentication)
	}
	for _, field := range []string{"principalOrgId", "cognitoIdentity"} {
		if v, ok := raw.RequestContext.Authorizer.IAM[field]; !ok || string(v) != "null" {
			t.Errorf("authorizer.iam.%s = %s (present %v), want null", field, v, ok)
		}
	}
}

func TestIAMRouteRefused(t *testing.T) {
	stranger := gateway.Identity{AccessKeyID: "AKIASTRANGER0000001", SecretAccessKey: "x"}
	impostor := alice
	impostor.SecretAccessKey = "guessed"
	tests := []struct {
		name          string
		give          call
		wantMessage   string
		wantErrorType string
	}{
		{
			name:          "missing signature",
			give:          call{method: "GET", path: "/v1/requests"},
			wantMessage:   "Missing Authentication Token",
			wantErrorType: "MissingAuthenticationTokenException",
		},
		{
			name:          "wrong secret",
			give:          call{method: "GET", path: "/v1/requests", signer: &impostor},
			wantMessage:   "The request signature we calculated does not match the signature you provided.",
			wantErrorType: "InvalidSignatureException",
		},
		{
			name:          "unknown access key",
			give:          call{method: "GET", path: "/v1/requests/r-1", signer: &stranger},
			wantMessage:   "The security token included in the request is invalid",
			wantErrorType: "UnrecognizedClientException",
		},
		{
			name:          "signed for another region",
			give:          call{method: "GET", path: "/v1/requests", signer: &alice, region: "eu-west-1"},
			wantMessage:   "Credential should be scoped to a valid region, not 'eu-west-1'.",
			wantErrorType: "InvalidSignatureException",
		},
		{
			name:          "signature expired",
			give:          call{method: "GET", path: "/v1/requests", signer: &alice, at: testNow.Add(-10 * time.Minute)},
			wantMessage:   "Signature expired: 20261128T115000Z is now earlier than 20261128T115500Z",
			wantErrorType: "InvalidSignatureException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			got := h.do(t, tt.give)
			if got.status != http.StatusForbidden {
				t.Fatalf("status = %d (%s), want 403", got.status, got.body)
			}
			var msg struct{ Message string }
			if err := json.Unmarshal([]byte(got.body), &msg); err != nil {
				t.Fatalf("body %q is not a message: %v", got.body, err)
			}
			if !strings.HasPrefix(msg.Message, tt.wantMessage) {
				t.Errorf("message = %q, want prefix %q", msg.Message, tt.wantMessage)
			}
			if et := got.header.Get("X-Amzn-Errortype"); et != tt.wantErrorType {
				t.Errorf("x-amzn-ErrorType = %q, want %q", et, tt.wantErrorType)
			}
			if n := h.lambda.count(); n != 0 {
				t.Errorf("function invoked %d times for a refused request", n)
			}
		})
	}
}

// TestIAMRouteTampered signs a request and changes it in flight, as a
// man in the middle would.
func TestIAMRouteTampered(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(*http.Request)
	}{
		{name: "body", tamper: func(r *http.Request) { setBody(r, `{"role":"root"}`) }},
		{name: "query", tamper: func(r *http.Request) { r.URL.RawQuery = "admin=true" }},
		{name: "path", tamper: func(r *http.Request) { r.URL.Path = "/v1/requests/other" }},
		{name: "signed header", tamper: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			body := `{"role":"reader"}`
			req, err := http.NewRequest("POST", h.srv.URL+"/v1/requests", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			signRequest(t, req, call{body: body, signer: &alice})
			tt.tamper(req)
			resp, err := h.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			// A tampered path may no longer match a route; either way
			// nothing runs.
			if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusNotFound {
				t.Errorf("status = %d, want 403", resp.StatusCode)
			}
			if n := h.lambda.count(); n != 0 {
				t.Errorf("function invoked %d times for a tampered request", n)
			}
		})
	}
}

func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Del("Content-Length")
}

func TestNoneAuthRoute(t *testing.T) {
	tests := []struct {
		name        string
		give        call
		wantBody    string
		wantBase64  bool
		wantHeaders map[string]string
	}{
		{
			name:       "form post arrives base64-encoded",
			give:       call{method: "POST", path: "/d/tok123", body: "decision=approve", headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
			wantBody:   "ZGVjaXNpb249YXBwcm92ZQ==",
			wantBase64: true,
		},
		{
			name:     "text body stays text",
			give:     call{method: "POST", path: "/d/tok123", body: "approve", headers: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
			wantBody: "approve",
		},
		{
			name:       "body without content type is binary",
			give:       call{method: "POST", path: "/d/tok123", body: "\x00\x01"},
			wantBody:   "AAE=",
			wantBase64: true,
		},
		{
			name: "GET without body, forwarded-for is appended to",
			give: call{method: "GET", path: "/d/tok123", headers: map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Multi": "a"}},
			wantHeaders: map[string]string{
				"x-forwarded-for": "203.0.113.9, 127.0.0.1",
				"x-multi":         "a",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			got := h.do(t, tt.give)
			if got.status != http.StatusOK {
				t.Fatalf("status = %d (%s), want 200", got.status, got.body)
			}
			ev := h.lambda.only(t).event
			if ev.RequestContext.Authorizer != nil {
				t.Errorf("authorizer = %+v on a route without auth", ev.RequestContext.Authorizer)
			}
			if ev.Body != tt.wantBody || ev.IsBase64Encoded != tt.wantBase64 {
				t.Errorf("body = %q (base64 %v), want %q (base64 %v)", ev.Body, ev.IsBase64Encoded, tt.wantBody, tt.wantBase64)
			}
			for k, want := range tt.wantHeaders {
				if ev.Headers[k] != want {
					t.Errorf("headers[%s] = %q, want %q", k, ev.Headers[k], want)
				}
			}
		})
	}
}

func TestResponseMapping(t *testing.T) {
	tests := []struct {
		name        string
		give        string // function result
		wantStatus  int
		wantHeaders map[string][]string
		wantBody    string
	}{
		{
			name:        "structured response",
			give:        `{"statusCode":201,"headers":{"Content-Type":"application/json","X-Request-Id":"r-1"},"body":"{\"id\":\"r-1\"}"}`,
			wantStatus:  201,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}, "X-Request-Id": {"r-1"}},
			wantBody:    `{"id":"r-1"}`,
		},
		{
			name:        "cookies become Set-Cookie headers",
			give:        `{"statusCode":303,"headers":{"Location":"/done"},"cookies":["a=1; HttpOnly","b=2"]}`,
			wantStatus:  303,
			wantHeaders: map[string][]string{"Location": {"/done"}, "Set-Cookie": {"a=1; HttpOnly", "b=2"}},
		},
		{
			name:        "multi-value headers",
			give:        `{"statusCode":200,"headers":{"Vary":"Accept"},"multiValueHeaders":{"Vary":["Accept","Origin"],"X-Multi":["1","2"]},"body":"ok"}`,
			wantStatus:  200,
			wantHeaders: map[string][]string{"Vary": {"Accept", "Origin"}, "X-Multi": {"1", "2"}},
			wantBody:    "ok",
		},
		{
			name:        "base64 body is decoded",
			give:        `{"statusCode":200,"headers":{"Content-Type":"image/png"},"isBase64Encoded":true,"body":"iVBORw0KGgo="}`,
			wantStatus:  200,
			wantHeaders: map[string][]string{"Content-Type": {"image/png"}},
			wantBody:    "\x89PNG\r\n\x1a\n",
		},
		{
			name:        "default content type",
			give:        `{"statusCode":200,"body":"<p>Approve?</p>"}`,
			wantStatus:  200,
			wantHeaders: map[string][]string{"Content-Type": {"text/plain; charset=utf-8"}},
			wantBody:    "<p>Approve?</p>",
		},
		{
			name:        "function cannot set framing headers",
			give:        `{"statusCode":200,"headers":{"Content-Length":"999"},"body":"ok"}`,
			wantStatus:  200,
			wantHeaders: map[string][]string{"Content-Length": {"2"}},
			wantBody:    "ok",
		},
		{
			name:        "result without statusCode is inferred as JSON",
			give:        `{"id":"r-1","status":"pending"}`,
			wantStatus:  200,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantBody:    `{"id":"r-1","status":"pending"}`,
		},
		{
			name:        "bare JSON string is inferred too",
			give:        `"hello"`,
			wantStatus:  200,
			wantHeaders: map[string][]string{"Content-Type": {"application/json"}},
			wantBody:    `"hello"`,
		},
		{name: "zero statusCode", give: `{"statusCode":0,"body":"x"}`, wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "statusCode of the wrong type", give: `{"statusCode":"200"}`, wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "invalid base64", give: `{"statusCode":200,"isBase64Encoded":true,"body":"%%%"}`, wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "invalid header name", give: `{"statusCode":200,"headers":{"Bad Header":"x"}}`, wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
		{name: "not JSON", give: `Task timed out`, wantStatus: 500, wantBody: `{"message":"Internal Server Error"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, &fakeLambda{result: tt.give})
			got := h.do(t, call{method: "GET", path: "/d/tok"})
			if got.status != tt.wantStatus {
				t.Fatalf("status = %d (%s), want %d", got.status, got.body, tt.wantStatus)
			}
			if got.body != tt.wantBody {
				t.Errorf("body = %q, want %q", got.body, tt.wantBody)
			}
			for k, want := range tt.wantHeaders {
				if g := got.header.Values(k); strings.Join(g, "|") != strings.Join(want, "|") {
					t.Errorf("header %s = %q, want %q", k, g, want)
				}
			}
			if got.header.Get("Apigw-Requestid") == "" {
				t.Error("Apigw-Requestid header missing")
			}
		})
	}
}

func TestFunctionFailures(t *testing.T) {
	tests := []struct {
		name string
		give *fakeLambda
	}{
		{name: "unhandled function error", give: &fakeLambda{functionError: "Unhandled", result: `{"errorType":"errorString","errorMessage":"table missing"}`}},
		{name: "invoke error", give: &fakeLambda{err: errors.New("connection refused")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.give)
			got := h.do(t, call{method: "POST", path: "/v1/requests", body: `{"secret":"payload"}`, signer: &alice})
			if got.status != http.StatusInternalServerError || got.body != `{"message":"Internal Server Error"}` {
				t.Errorf("got %d %s, want 500 Internal Server Error", got.status, got.body)
			}
			if strings.Contains(h.logs.String(), "payload") {
				t.Errorf("logs contain the request body:\n%s", h.logs)
			}
			if !strings.Contains(h.logs.String(), `"level":"ERROR"`) {
				t.Errorf("failure not logged as an error:\n%s", h.logs)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		wantStatus int
		wantBody   string
	}{
		{name: "exactly 1 MiB", size: 1 << 20, wantStatus: 200},
		{name: "one byte over", size: 1<<20 + 1, wantStatus: 413, wantBody: `{"message":"Request Entity Too Large"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			got := h.do(t, call{method: "POST", path: "/d/tok", body: strings.Repeat("a", tt.size),
				headers: map[string]string{"Content-Type": "text/plain"}})
			if got.status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", got.status, tt.wantStatus)
			}
			if tt.wantBody != "" && got.body != tt.wantBody {
				t.Errorf("body = %s, want %s", got.body, tt.wantBody)
			}
			if want := map[bool]int{true: 1, false: 0}[tt.wantStatus == 200]; h.lambda.count() != want {
				t.Errorf("function invoked %d times, want %d", h.lambda.count(), want)
			}
		})
	}
}

// TestLogs checks the one line per request and that nothing secret reaches
// it: no Authorization header, signature, secret key, body, query string or
// decision-link token.
func TestLogs(t *testing.T) {
	h := newHarness(t, nil)
	h.do(t, call{method: "POST", path: "/v1/requests?q=query-secret", body: `{"reason":"body-secret"}`, signer: &alice})
	h.do(t, call{method: "GET", path: "/d/link-token-secret"})
	h.do(t, call{method: "GET", path: "/v1/requests", signer: &gateway.Identity{AccessKeyID: alice.AccessKeyID, SecretAccessKey: "wrong"}})

	lines := strings.Split(strings.TrimSpace(h.logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d log lines, want 3:\n%s", len(lines), h.logs)
	}
	for _, leak := range []string{alice.SecretAccessKey, "Signature=", "AWS4-HMAC-SHA256", "body-secret", "query-secret", "link-token-secret"} {
		if strings.Contains(h.logs.String(), leak) {
			t.Errorf("logs contain %q:\n%s", leak, h.logs)
		}
	}
	var first, refused map[string]any
	_ = json.Unmarshal([]byte(lines[0]), &first)
	_ = json.Unmarshal([]byte(lines[2]), &refused)
	want := map[string]any{"method": "POST", "path": "/v1/requests", "route": "POST /v1/requests", "function": "ApiFunction", "status": float64(200), "caller": "alice"}
	for k, v := range want {
		if first[k] != v {
			t.Errorf("log %s = %v, want %v", k, first[k], v)
		}
	}
	if _, ok := first["duration"]; !ok {
		t.Error("log line has no duration")
	}
	if refused["auth_error"] != "signature-mismatch" || refused["status"] != float64(403) {
		t.Errorf("refused request logged as %v", refused)
	}
}
