package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

var goldenNow = time.Date(2026, 11, 28, 12, 34, 56, 789_000_000, time.UTC)

// TestEventGolden pins one complete event, byte for byte, for a signed POST
// with query string, cookies and a JSON body. Run with -update to rewrite
// testdata/event_iam_post.json after an intended change.
func TestEventGolden(t *testing.T) {
	var payload []byte
	g := newTestGateway(t, Config{
		Routes: []Route{{Method: "POST", Path: "/v1/requests", Function: "ApiFunction", IAMAuth: true}},
		Identities: []Identity{{
			Name: "alice", AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			PrincipalARN: "arn:aws:iam::123456789012:user/alice",
		}},
		Invoke: func(_ context.Context, _ string, p []byte) ([]byte, string, error) {
			payload = p
			return []byte(`{"statusCode":202}`), "", nil
		},
		APIID: "abc123",
		Now:   func() time.Time { return goldenNow },
	})

	body := `{"role":"arn:aws:iam::123456789012:role/admin","reason":"incident 42","duration":"1h"}`
	req, err := http.NewRequest("POST", "http://abc123.execute-api.localhost:4566/v1/requests?dry_run=true&tag=a&tag=b", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", "session=abc; theme=dark")
	req.Header.Set("User-Agent", "jit-cli/1.0")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", goldenNow); err != nil {
		t.Fatal(err)
	}
	srvReq := overTheWire(t, req)
	srvReq.RemoteAddr = "198.51.100.23:51234"

	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, srvReq)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("status = %d (%s), want 202", rec.Code, rec.Body)
	}
	var indented bytes.Buffer
	if err := json.Indent(&indented, payload, "", "  "); err != nil {
		t.Fatal(err)
	}
	indented.WriteByte('\n')
	golden := filepath.Join("testdata", "event_iam_post.json")
	if *update {
		if err := os.WriteFile(golden, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(indented.Bytes(), want) {
		t.Errorf("event differs from %s (run with -update if intended)\n got: %s\nwant: %s", golden, indented.Bytes(), want)
	}
}

func newTestGateway(t *testing.T, cfg Config) *gateway {
	t.Helper()
	h, err := New(cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	g := h.(*gateway)
	g.newRequestID = func() string { return "JKJaXmPLvHcESHA=" }
	g.newTraceID = func(time.Time) string { return "Root=1-6929a640-0123456789abcdef01234567" }
	return g
}

func overTheWire(t *testing.T, req *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := req.Write(&buf); err != nil {
		t.Fatal(err)
	}
	srv, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestIntegrationTimeout(t *testing.T) {
	g := newTestGateway(t, Config{
		Routes: []Route{{Method: "GET", Path: "/slow", Function: "Slow"}},
		Invoke: func(ctx context.Context, _ string, _ []byte) ([]byte, string, error) {
			<-ctx.Done()
			return nil, "", ctx.Err()
		},
	})
	g.timeout = 10 * time.Millisecond
	rec := httptest.NewRecorder()
	g.ServeHTTP(rec, httptest.NewRequest("GET", "/slow", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != `{"message":"Service Unavailable"}` {
		t.Errorf("got %d %s, want 503 Service Unavailable", rec.Code, rec.Body)
	}
}

func TestStage(t *testing.T) {
	tests := []struct {
		name       string
		stage      string
		give       string
		wantStatus int
		wantRaw    string
	}{
		{name: "default stage has no prefix", stage: "", give: "/ping", wantStatus: 200, wantRaw: "/ping"},
		{name: "named stage prefix is stripped for matching", stage: "dev", give: "/dev/ping", wantStatus: 200, wantRaw: "/dev/ping"},
		{name: "named stage requires the prefix", stage: "dev", give: "/ping", wantStatus: 404},
		{name: "prefix must be a whole segment", stage: "dev", give: "/devping", wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rawPath string
			g := newTestGateway(t, Config{
				Routes: []Route{{Method: "GET", Path: "/ping", Function: "Ping"}},
				Stage:  tt.stage,
				Invoke: func(_ context.Context, _ string, p []byte) ([]byte, string, error) {
					var ev struct{ RawPath string }
					_ = json.Unmarshal(p, &ev)
					rawPath = ev.RawPath
					return []byte(`{"statusCode":200}`), "", nil
				},
			})
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, httptest.NewRequest("GET", tt.give, nil))
			if rec.Code != tt.wantStatus || rawPath != tt.wantRaw {
				t.Errorf("got %d rawPath %q, want %d %q", rec.Code, rawPath, tt.wantStatus, tt.wantRaw)
			}
		})
	}
}

func TestCompileRouteErrors(t *testing.T) {
	tests := []struct {
		name    string
		give    Route
		wantErr string
	}{
		{name: "partial variable", give: Route{Method: "GET", Path: "/d/x{token}", Function: "F"}, wantErr: "must be a whole segment"},
		{name: "greedy not last", give: Route{Method: "GET", Path: "/{proxy+}/x", Function: "F"}, wantErr: "must be the last segment"},
		{name: "empty variable", give: Route{Method: "GET", Path: "/{}", Function: "F"}, wantErr: "invalid path variable"},
		{name: "trailing slash", give: Route{Method: "GET", Path: "/v1/", Function: "F"}, wantErr: "empty segment"},
		{name: "relative path", give: Route{Method: "GET", Path: "v1", Function: "F"}, wantErr: "must start with /"},
		{name: "no function", give: Route{Method: "GET", Path: "/v1"}, wantErr: "no function"},
		{name: "no method", give: Route{Path: "/v1", Function: "F"}, wantErr: "invalid method"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileRoute(tt.give)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("compileRoute() error = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRouterSpecificity(t *testing.T) {
	rt, err := newRouter([]Route{
		{Method: "ANY", Path: "/{proxy+}", Function: "catchall"},
		{Method: "ANY", Path: "/a/{x}", Function: "any-var"},
		{Method: "GET", Path: "/a/{x}", Function: "get-var"},
		{Method: "GET", Path: "/a/b", Function: "literal"},
		{Method: "GET", Path: "/a/{x}/{proxy+}", Function: "var-greedy"},
		{Method: "get", Path: "/", Function: "root"},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		method string
		path   string
		want   string
	}{
		{name: "literal wins", method: "GET", path: "/a/b", want: "literal"},
		{name: "named method beats ANY", method: "GET", path: "/a/c", want: "get-var"},
		{name: "ANY for other methods", method: "PUT", path: "/a/c", want: "any-var"},
		{name: "variable before greedy", method: "GET", path: "/a/c/d/e", want: "var-greedy"},
		{name: "catch-all", method: "POST", path: "/z/y", want: "catchall"},
		{name: "method is case-normalized", method: "GET", path: "/", want: "root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := rt.match(tt.method, tt.path)
			if got == nil || got.Function != tt.want {
				t.Errorf("match(%s %s) = %v, want %s", tt.method, tt.path, got, tt.want)
			}
		})
	}
}

func TestPrincipalIDs(t *testing.T) {
	tests := []struct {
		name        string
		give        string
		wantAccount string
		wantPrefix  string
		wantSuffix  string
	}{
		{name: "user", give: "arn:aws:iam::111122223333:user/alice", wantAccount: "111122223333", wantPrefix: "AIDA"},
		{name: "assumed role", give: "arn:aws:sts::111122223333:assumed-role/Approver/bob", wantAccount: "111122223333", wantPrefix: "AROA", wantSuffix: ":bob"},
		{name: "role", give: "arn:aws:iam::111122223333:role/Admin", wantAccount: "111122223333", wantPrefix: "AROA"},
		{name: "root", give: "arn:aws:iam::111122223333:root", wantAccount: "111122223333", wantPrefix: "111122223333"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			account, id := principalIDs(tt.give, "999999999999")
			again := func() string { _, id := principalIDs(tt.give, ""); return id }()
			if account != tt.wantAccount || !strings.HasPrefix(id, tt.wantPrefix) || !strings.HasSuffix(id, tt.wantSuffix) || id != again {
				t.Errorf("principalIDs(%q) = %q, %q; want %q, %s...%s (stable)", tt.give, account, id, tt.wantAccount, tt.wantPrefix, tt.wantSuffix)
			}
		})
	}
}
