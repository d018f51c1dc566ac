package devsignin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/local/gateway"
)

// identities are the repository's local identities, read as the local
// cloud reads them.
func identities(t *testing.T) []gateway.Identity {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	ids, err := gateway.LoadIdentities(filepath.Join(filepath.Dir(file), "../../../infra/local/identities.json"))
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// fakeAPI is the local gateway, verifying SigV4 for real, in front of a
// function that answers POST /v1/audit/sessions and records the caller.
func fakeAPI(t *testing.T, ids []gateway.Identity, status int) (*httptest.Server, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var callers []string
	var srv *httptest.Server
	gw, err := gateway.New(gateway.Config{
		Routes:     []gateway.Route{{Method: "POST", Path: "/v1/audit/sessions", Function: "ApiFunction", IAMAuth: true}},
		Identities: ids,
		Invoke: func(_ context.Context, _ string, payload []byte) ([]byte, string, error) {
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(payload, &ev); err != nil {
				return nil, "", err
			}
			mu.Lock()
			callers = append(callers, ev.RequestContext.Authorizer.IAM.UserARN)
			mu.Unlock()
			body, _ := json.Marshal(map[string]string{"url": srv.URL + "/audit/session/TOKEN", "expires_at": "2026-11-28T12:05:00Z"})
			if status != http.StatusCreated {
				body = []byte(`{"error":"forbidden","message":"auditors and admins can search the audit trail"}`)
			}
			out, err := json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: status, Body: string(body), Headers: map[string]string{"Content-Type": "application/json"}})
			return out, "", err
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv, &callers
}

func TestListsOnlyAuditorsAndAdmins(t *testing.T) {
	h := New(identities(t), "http://127.0.0.1:1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", Path, nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("%d", rec.Code)
	}
	for _, want := range []string{`name="as" value="frank"`, `name="as" value="erin"`, "Sign in as frank (auditor)", `<html lang="en">`, `name="viewport"`} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, not := range []string{"alice", "carol", "ci-bot", "secret", "<script"} {
		if strings.Contains(body, not) {
			t.Errorf("page shows %q", not)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
}

func TestPostSignsAsTheIdentityAndRedirects(t *testing.T) {
	ids := identities(t)
	srv, callers := fakeAPI(t, ids, http.StatusCreated)
	h, err := Load(filepath.Join("..", "..", "..", "infra", "local", "identities.json"), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", Path, strings.NewReader(url.Values{"as": {"frank"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != srv.URL+"/audit/session/TOKEN" {
		t.Fatalf("%d Location %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body)
	}
	if len(*callers) != 1 || (*callers)[0] != "arn:aws:sts::123456789012:assumed-role/Auditor/frank@example.com" {
		t.Errorf("the gateway saw callers %v", *callers)
	}
}

func TestPostRefuses(t *testing.T) {
	ids := identities(t)
	srv, callers := fakeAPI(t, ids, http.StatusCreated)
	h := New(ids, srv.URL)
	tests := []struct {
		name    string
		as      string
		headers map[string]string
		want    int
	}{
		{"a requester", "alice", nil, http.StatusBadRequest},
		{"nobody", "", nil, http.StatusBadRequest},
		{"hostile name", "<script>", nil, http.StatusBadRequest},
		{"another site", "frank", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another origin", "frank", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", Path, strings.NewReader(url.Values{"as": {tt.as}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range tt.headers {
			req.Header.Set(k, v)
		}
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want || rec.Header().Get("Location") != "" || strings.Contains(rec.Body.String(), "<script>") {
			t.Errorf("%s: %d Location %q", tt.name, rec.Code, rec.Header().Get("Location"))
		}
	}
	if len(*callers) != 0 {
		t.Errorf("refused posts called the API: %v", *callers)
	}

	// The API refusing is shown, not followed.
	srv403, _ := fakeAPI(t, ids, http.StatusForbidden)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("POST", Path, strings.NewReader("as=erin"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	New(ids, srv403.URL).ServeHTTP(rec, req)
	if rec.Code != http.StatusBadGateway || !strings.Contains(rec.Body.String(), "answered 403") {
		t.Errorf("API refused: %d\n%s", rec.Code, rec.Body)
	}
}
