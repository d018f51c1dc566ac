package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// TestAPIErrors: each kind of refusal maps to an exit code and a message
// that says what to do next.
func TestAPIErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header map[string]string
		body   string
		args   []string
		code   int
		wants  []string
		calls  int
	}{
		{"bad signature", 403, map[string]string{"X-Amzn-Errortype": "InvalidSignatureException"},
			`{"message":"The request signature we calculated does not match the signature you provided."}`, []string{"list"}, 1,
			[]string{"AWS refused the call (403 InvalidSignatureException): The request signature we calculated", "check AWS credentials / region", "signed for region us-east-1"}, 1},
		{"unknown key", 403, map[string]string{"X-Amzn-Errortype": "UnrecognizedClientException:http://internal.amazon.com/coral/"},
			`{"message":"The security token included in the request is invalid."}`, []string{"list"}, 1,
			[]string{"(403 UnrecognizedClientException)", "the access key is not known"}, 1},
		{"no execute-api permission", 403, nil, `{"Message":"User: arn:aws:sts::1:assumed-role/X/y is not authorized to perform: execute-api:Invoke"}`, []string{"list"}, 1,
			[]string{"is not authorized to perform: execute-api:Invoke", "execute-api:Invoke on the jit API"}, 1},
		{"policy forbids", 403, nil, `{"error":"forbidden","message":"arn:x may not request \"prod\" under the current policy"}`,
			[]string{"request", "prod", "--reason", "because"}, 1, []string{`may not request "prod"`, "ask a jit admin"}, 1},
		{"invalid duration", 400, nil, `{"error":"invalid_request","message":"duration: 5h exceeds the 4h maximum for \"sandbox-admin\"","field":"duration"}`,
			[]string{"request", "sandbox-admin", "--reason", "because", "--duration", "5h"}, 2, []string{"exceeds the 4h maximum", "fix --duration"}, 1},
		{"key reused", 422, nil, `{"error":"idempotency_key_reused","message":"Idempotency-Key was already used for a different request (01x); use a new key"}`,
			[]string{"request", "sandbox-admin", "--reason", "because"}, 2, []string{"already used for a different request", "pass a new --idempotency-key"}, 1},
		{"no approver", 422, nil, `{"error":"no_approver","message":"nobody but you can approve \"x\""}`,
			[]string{"request", "x", "--reason", "because"}, 2, []string{"nobody but you", "add an approver"}, 1},
		{"not found", 404, nil, `{"error":"not_found","message":"no such request"}`, []string{"status", testID}, 1,
			[]string{"request " + testID + ": no such request", "`jit list` shows yours"}, 1},
		{"no route", 404, nil, `{"message":"Not Found"}`, []string{"list"}, 1,
			[]string{"the API has no route GET /v1/requests (404)", "points at the jit API"}, 1},
		{"no policy", 503, nil, `{"error":"no_policy","message":"no policy has been applied yet"}`, []string{"request", "a", "--reason", "because"}, 1,
			[]string{"no policy has been applied yet", "must apply a policy"}, 1},
		{"workflow did not start: not retried", 503, nil, `{"error":"unavailable","message":"the approval workflow could not be started"}`,
			[]string{"request", "a", "--reason", "because"}, 1, []string{"could not be started"}, 1},
		{"server error: retried", 500, nil, `{"error":"internal","message":"internal error; the request was not changed"}`, []string{"list"}, 1,
			[]string{"internal error", "the service failed"}, 3},
		{"gateway error: retried", 502, nil, `{"message":"Internal Server Error"}`, []string{"status", testID}, 1,
			[]string{"Internal Server Error"}, 3},
		{"not JSON", 504, nil, `<html>gateway timeout</html>`, []string{"status", testID}, 1,
			[]string{"<html>gateway timeout</html>"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.api.with(func(f *fakeAPI) { f.errStatus, f.errHeader, f.errBody = tt.status, tt.header, tt.body })
			got := h.run(tt.args...)
			if got.code != tt.code {
				t.Fatalf("want exit %d\n%s", tt.code, got)
			}
			for _, w := range tt.wants {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr lacks %q\n%s", w, got.stderr)
				}
			}
			if n := h.api.callCount(); n != tt.calls {
				t.Errorf("%d calls, want %d", n, tt.calls)
			}
		})
	}
}

func TestErrorAsJSON(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.errStatus, f.errHeader = 403, map[string]string{"X-Amzn-Errortype": "InvalidSignatureException"}
	})
	h.api.with(func(f *fakeAPI) { f.errBody = `{"message":"Signature expired"}` })
	got := h.run("list", "-o", "json")
	if got.code != 1 {
		t.Fatal(got)
	}
	golden(t, "error_signature.json", got.stdout)
}

// TestRetryThenSuccess: a transient failure is retried with the same
// Idempotency-Key, so the retry cannot create a second request.
func TestRetryThenSuccess(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) { f.errStatus, f.errBody, f.failFirst = 502, `{"message":"Internal Server Error"}`, 1 })
	h.api.with(func(f *fakeAPI) { f.create = req("pending") })
	got := h.run("request", "sandbox-admin", "--reason", "fix the broken deploy")
	if got.code != 0 || len(h.api.snap().calls) != 2 {
		t.Fatalf("want success on the second try\n%s", got)
	}
	k1, k2 := h.api.snap().calls[0].Header.Get("Idempotency-Key"), h.api.snap().calls[1].Header.Get("Idempotency-Key")
	if k1 == "" || k1 != k2 {
		t.Errorf("retry keys %q, %q: want the same", k1, k2)
	}
}

// roundTripper answers every call with a fixed error and records it.
type roundTripper struct {
	err  error
	reqs []*http.Request
}

func (r *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	r.reqs = append(r.reqs, req)
	return nil, r.err
}

func TestNetworkErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name, apiURL string
		err          error
		wants        []string
		tries        int
	}{
		{"local cloud not running", "http://127.0.0.1:3000", refused,
			[]string{"cannot reach the jit API at http://127.0.0.1:3000", "is `make dev` running? set JIT_API_URL"}, 1},
		{"deployed API refused", "https://abc123.execute-api.eu-west-1.amazonaws.com", refused,
			[]string{"check --api-url / JIT_API_URL (now https://abc123.execute-api.eu-west-1.amazonaws.com from JIT_API_URL)"}, 1},
		{"DNS", "https://nope.example.com", &net.DNSError{Err: "no such host", Name: "nope.example.com", IsNotFound: true},
			[]string{"cannot resolve nope.example.com", "VPN"}, 3},
		{"timeout", "https://slow.example.com", context.DeadlineExceeded,
			[]string{"did not answer in time"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.env["JIT_API_URL"] = tt.apiURL
			rt := &roundTripper{err: tt.err}
			var out, errb bytes.Buffer
			a := h.app(&out, &errb)
			a.http = &http.Client{Transport: rt}
			code := a.run(context.Background(), []string{"list"})
			if code != 1 {
				t.Fatalf("exit %d\n%s", code, errb.String())
			}
			for _, w := range tt.wants {
				if !strings.Contains(errb.String(), w) {
					t.Errorf("stderr lacks %q\n%s", w, errb.String())
				}
			}
			if len(rt.reqs) != tt.tries {
				t.Errorf("%d tries, want %d", len(rt.reqs), tt.tries)
			}
		})
	}
}

// TestSigningRegion: an execute-api URL's own region is the one signed for.
func TestSigningRegion(t *testing.T) {
	h := newHarness(t)
	h.env["JIT_API_URL"] = "https://abc123.execute-api.eu-west-1.amazonaws.com/"
	rt := &roundTripper{err: errors.New("stop")}
	var out, errb bytes.Buffer
	a := h.app(&out, &errb)
	a.http = &http.Client{Transport: rt}
	a.run(context.Background(), []string{"status", testID})
	if len(rt.reqs) == 0 {
		t.Fatal(errb.String())
	}
	r := rt.reqs[0]
	if r.URL.String() != "https://abc123.execute-api.eu-west-1.amazonaws.com/v1/requests/"+testID {
		t.Errorf("URL = %s", r.URL)
	}
	if !strings.Contains(r.Header.Get("Authorization"), "/20260102/eu-west-1/execute-api/aws4_request") {
		t.Errorf("Authorization = %s", r.Header.Get("Authorization"))
	}
}

func TestConfigErrors(t *testing.T) {
	h := newHarness(t)
	h.env["JIT_API_URL"] = "ftp://example.com"
	if got := h.run("list"); got.code != 1 || !strings.Contains(got.stderr, "is not an http(s) URL") {
		t.Errorf("bad URL: %s", got)
	}
	var out, errb bytes.Buffer
	h.env["JIT_API_URL"] = "http://127.0.0.1:1"
	a := h.app(&out, &errb)
	a.loadAWS = func(ctx context.Context, g *globals) (aws.Config, error) { return aws.Config{}, nil }
	if code := a.run(context.Background(), []string{"list"}); code != 1 || !strings.Contains(errb.String(), "no AWS region") {
		t.Errorf("no region: %d %s", code, errb.String())
	}
	errb.Reset()
	delete(h.env, "JIT_API_URL")
	a = h.app(&out, &errb)
	a.loadAWS = func(ctx context.Context, g *globals) (aws.Config, error) { return aws.Config{}, nil }
	if code := a.run(context.Background(), []string{"list"}); code != 1 || !strings.Contains(errb.String(), "set JIT_API_URL (or --api-url)") {
		t.Errorf("no API URL: %d %s", code, errb.String())
	}
	errb.Reset()
	a = h.app(&out, &errb)
	a.loadAWS = loadAWSConfig
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	if code := a.run(context.Background(), []string{"list", "--profile", "nope"}); code != 1 || !strings.Contains(errb.String(), `AWS profile "nope" does not exist`) {
		t.Errorf("missing profile: %d %s", code, errb.String())
	}
}

// TestStackLookup: without --api-url or JIT_API_URL, the API is the ApiUrl
// output of the CloudFormation stack (--stack, JIT_STACK, default jit).
func TestStackLookup(t *testing.T) {
	h := newHarness(t)
	delete(h.env, "JIT_API_URL")
	h.api.with(func(f *fakeAPI) {
		f.stacks["jit"] = h.srv.URL + "/"
		f.stacks["jit-staging"] = h.srv.URL
		f.requests[testID] = []map[string]any{req("pending")}
	})
	for _, tt := range []struct {
		args []string
		env  string
		want string
	}{
		{[]string{"status", testID, "-v"}, "", "(from stack jit output ApiUrl)"},
		{[]string{"status", testID, "-v", "--stack", "jit-staging"}, "", "(from stack jit-staging output ApiUrl)"},
		{[]string{"status", testID, "-v"}, "jit-staging", "(from stack jit-staging output ApiUrl)"},
	} {
		h.env["JIT_STACK"] = tt.env
		got := h.run(tt.args...)
		if got.code != 0 || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("%v JIT_STACK=%s: want %q\n%s", tt.args, tt.env, tt.want, got)
		}
	}
	h.env["JIT_STACK"] = ""
	got := h.run("status", testID, "--stack", "nope")
	if got.code != 1 || !strings.Contains(got.stderr, `looking up stack "nope" in us-east-1 failed`) || !strings.Contains(got.stderr, "set JIT_API_URL (or --api-url)") {
		t.Errorf("missing stack: %s", got)
	}
}
