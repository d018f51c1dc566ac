package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

func TestIdempotencyKey(t *testing.T) {
	long := strings.Repeat("job", 50)
	tests := []struct {
		name     string
		explicit string
		env      map[string]string
		want     string
		source   string
		wantErr  string
	}{
		{name: "flag wins", explicit: "deploy-42", env: map[string]string{"JIT_IDEMPOTENCY_KEY": "env", "GITHUB_RUN_ID": "1"}, want: "deploy-42", source: "--idempotency-key"},
		{name: "env next", env: map[string]string{"JIT_IDEMPOTENCY_KEY": "release:2026.01.02", "GITHUB_RUN_ID": "1"}, want: "release:2026.01.02", source: "JIT_IDEMPOTENCY_KEY"},
		{name: "invalid flag", explicit: "a/b", wantErr: `--idempotency-key "a/b" must be 1 to 128`},
		{name: "invalid env", env: map[string]string{"JIT_IDEMPOTENCY_KEY": strings.Repeat("k", 129)}, wantErr: "JIT_IDEMPOTENCY_KEY"},
		{name: "github actions", env: map[string]string{"GITHUB_RUN_ID": "9876543210", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "deploy"}, want: "gh:9876543210:2:deploy:sandbox-admin", source: "GitHub Actions"},
		{name: "github without attempt", env: map[string]string{"GITHUB_RUN_ID": "5", "GITHUB_JOB": "build and test"}, want: "gh:5:1:build-and-test:sandbox-admin", source: "GitHub Actions"},
		{name: "gitlab", env: map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_ID": "77", "CI_JOB_ID": "4242", "CI_JOB_NAME": "deploy: [prod, eu]"}, want: "gl:77:4242:sandbox-admin", source: "GitLab"},
		{name: "job id without GitLab", env: map[string]string{"CI_JOB_ID": "4242"}, want: "cli-000102030405060708090a0b0c0d0e0f", source: "random"},
		{name: "too long is hashed", env: map[string]string{"GITHUB_RUN_ID": "5", "GITHUB_JOB": long}, want: "gh:", source: "GitHub Actions"},
		{name: "random otherwise", want: "cli-000102030405060708090a0b0c0d0e0f", source: "random"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			random := bytes.NewReader([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
			key, source, err := idempotencyKey(tt.explicit, func(k string) string { return tt.env[k] }, "sandbox-admin", random)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !idempotencyPattern.MatchString(key) {
				t.Fatalf("key %q is not one the API accepts", key)
			}
			if tt.name == "too long is hashed" {
				if len(key) != 3+64 || !strings.HasPrefix(key, tt.want) {
					t.Fatalf("key = %q, want gh: and a sha256", key)
				}
			} else if key != tt.want {
				t.Fatalf("key = %q, want %q", key, tt.want)
			}
			if !strings.HasPrefix(source, tt.source) {
				t.Fatalf("source = %q, want %q…", source, tt.source)
			}
		})
	}
	// The same CI run gives the same key; another resource or run another.
	get := func(run, resource string) string {
		k, _, _ := idempotencyKey("", func(k string) string {
			return map[string]string{"GITHUB_RUN_ID": run, "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "deploy"}[k]
		}, resource, nil)
		return k
	}
	if get("1", "a") != get("1", "a") || get("1", "a") == get("1", "b") || get("1", "a") == get("2", "a") {
		t.Fatal("CI keys must be stable per run, job and resource")
	}
}

func TestRequestCreates(t *testing.T) {
	h := newHarness(t)
	h.env["JIT_IDEMPOTENCY_KEY"] = "ci-run-7"
	h.api.with(func(f *fakeAPI) { f.create = req("pending") })
	got := h.run("request", "sandbox-admin", "--duration", "1h", "--reason", "  fix the broken deploy ")
	if got.code != 0 {
		t.Fatal(got)
	}
	golden(t, "request.txt", got.stdout)
	call := h.api.snap().calls[0]
	auth := call.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+testKeyID+"/20260102/us-east-1/execute-api/aws4_request") ||
		call.Header.Get("X-Amz-Date") != "20260102T100000Z" {
		t.Errorf("not SigV4-signed for execute-api in us-east-1: %q", auth)
	}
	if call.Header.Get("Idempotency-Key") != "ci-run-7" || call.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers = %v", call.Header)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(h.api.snap().bodies[0]), &body); err != nil {
		t.Fatal(err)
	}
	if body["resource"] != "sandbox-admin" || body["duration"] != "1h" || body["reason"] != "fix the broken deploy" || len(body) != 3 {
		t.Errorf("body = %v", body)
	}

	h.api.with(func(f *fakeAPI) { f.calls = nil })
	got = h.run("request", "sandbox-admin", "--reason", "fix the broken deploy", "-o", "json")
	golden(t, "request.json", got.stdout)

	got = h.run("request", "sandbox-admin", "--reason", "fix the broken deploy", "-q")
	if got.stdout != testID+"\n" {
		t.Errorf("--quiet printed %q", got.stdout)
	}
	got = h.run("request", "sandbox-admin", "--reason", "fix the broken deploy", "-v")
	if !strings.Contains(got.stderr, "idempotency key ci-run-7 (from JIT_IDEMPOTENCY_KEY)") || !strings.Contains(got.stderr, "POST /v1/requests -> 201") {
		t.Errorf("-v does not show the key and the call:\n%s", got.stderr)
	}
}

func TestRequestReplayed(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) { f.createStatus = 200 })
	h.api.with(func(f *fakeAPI) { f.createHeader = map[string]string{"Idempotent-Replayed": "true"} })
	h.api.with(func(f *fakeAPI) { f.create = req("pending") })
	got := h.run("request", "sandbox-admin", "--reason", "fix the broken deploy")
	if got.code != 0 {
		t.Fatal(got)
	}
	golden(t, "request_replayed.txt", got.stdout)
	got = h.run("request", "sandbox-admin", "--reason", "fix the broken deploy", "-o", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(got.stdout), &doc); err != nil || doc["replayed"] != true || doc["id"] != testID {
		t.Fatalf("replayed JSON: %v %v", err, doc)
	}
}

// TestWaitOutcomes: --wait follows the request to its outcome, whose exit
// code it gives.
func TestWaitOutcomes(t *testing.T) {
	tests := []struct {
		name  string
		seq   []map[string]any
		code  int
		want  string
		extra []string
	}{
		{"approved and granted", []map[string]any{req("pending"), req("approved"), req("active")}, 0, "Access granted: request " + testID, nil},
		{"denied", []map[string]any{req("pending"), req("denied", "history", history(ev("denied", "carol@example.com", 0, map[string]string{"comment": "not today"})))}, 3, `was denied by carol@example.com: "not today"`, nil},
		{"timed out", []map[string]any{req("timed_out")}, 4, "timed out: nobody decided in time", nil},
		{"cancelled", []map[string]any{req("pending"), req("cancelled")}, 5, "was cancelled", nil},
		{"failed", []map[string]any{req("approved"), req("failed", "history", history(ev("failed", "system", 0, map[string]string{"error": "role is not tagged jit:managed=true"})))}, 6, `failed: error="role is not tagged jit:managed=true"`, nil},
		{"revoked", []map[string]any{req("revoked")}, 6, "was revoked", nil},
		{"expired", []map[string]any{req("expired", "expires_at", now.Add(-time.Minute).Format(time.RFC3339))}, 6, "has expired 1m ago", nil},
		{"deadline", []map[string]any{req("pending")}, 7, "Stopped waiting after", []string{"--timeout", "30ms"}},
		{"unknown status is waited on", []map[string]any{req("scheduled")}, 7, "is still scheduled", []string{"--timeout", "30ms"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.api.with(func(f *fakeAPI) { f.create = tt.seq[0] })
			h.api.with(func(f *fakeAPI) { f.requests[testID] = tt.seq })
			got := h.run(append([]string{"request", "sandbox-admin", "--reason", "fix the broken deploy", "--wait"}, tt.extra...)...)
			if got.code != tt.code || !strings.Contains(got.stdout, tt.want) {
				t.Fatalf("want exit %d and %q\n%s", tt.code, tt.want, got)
			}
			// Not a terminal: timestamped progress on stderr.
			if !strings.Contains(got.stderr, "2026-01-02T10:00:00Z jit: request "+testID+" ") {
				t.Errorf("no progress lines:\n%s", got.stderr)
			}
			// jit wait gives the same outcome.
			h.api.with(func(f *fakeAPI) { f.requests[testID] = tt.seq })
			w := h.run(append([]string{"wait", testID}, tt.extra...)...)
			if w.code != tt.code {
				t.Errorf("jit wait: want exit %d\n%s", tt.code, w)
			}
		})
	}
}

func TestWaitJSON(t *testing.T) {
	h := newHarness(t)
	h.env["JIT_IDEMPOTENCY_KEY"] = "k1"
	h.api.with(func(f *fakeAPI) { f.create = req("pending") })
	h.api.with(func(f *fakeAPI) {
		f.requests[testID] = []map[string]any{req("active", "history", history(
			ev("created", alice, 5*time.Minute, map[string]string{"resource": "sandbox-admin"}),
			ev("active", "system", 4*time.Minute, nil)))}
	})
	got := h.run("request", "sandbox-admin", "--reason", "fix the broken deploy", "--wait", "-o", "json")
	if got.code != 0 {
		t.Fatal(got)
	}
	golden(t, "request_wait.json", got.stdout)
}

// TestWaitThroughOutage: transient failures while polling are reported and
// polled through.
func TestWaitThroughOutage(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) { f.create = req("pending") })
	h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{req("active")} })
	// The first poll fails on all its tries.
	h.api.with(func(f *fakeAPI) { f.errStatus, f.errBody, f.failGets = 502, `{"message":"Internal Server Error"}`, 3 })
	got := h.run("request", "sandbox-admin", "--reason", "fix the broken deploy", "--wait")
	if got.code != 0 || !strings.Contains(got.stderr, "retrying") {
		t.Fatalf("want success after the outage\n%s", got)
	}
}

func TestTerminalProgress(t *testing.T) {
	h := newHarness(t)
	var out, errb bytes.Buffer
	a := h.app(&out, &errb)
	a.stderrTTY = true
	h.env["COLUMNS"] = "200"
	h.api.with(func(f *fakeAPI) { f.create = req("pending") })
	h.api.with(func(f *fakeAPI) {
		f.requests[testID] = []map[string]any{req("pending"), req("approved"), req("active")}
	})
	if code := a.run(t.Context(), []string{"request", "sandbox-admin", "--reason", "fix the broken deploy", "--wait"}); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb.String())
	}
	head, s, _ := strings.Cut(errb.String(), "\n")
	if head != "Waiting for request "+testID+" (Ctrl-C stops waiting; the request stays open)" {
		t.Errorf("first line: %q", head)
	}
	if !strings.Contains(s, "\r\x1b[K") || !strings.Contains(s, "s  pending: waiting for approval from carol@example.com") ||
		!strings.Contains(s, "s  approved by carol@example.com: granting access") || strings.Contains(s, "\n") {
		t.Fatalf("terminal progress should redraw one line:\n%q", s)
	}
	if !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("the progress line is not cleared at the end: %q", s)
	}
}

// TestRequestOptions: --ticket, --start-at and --break-glass reach the API;
// options left out are not sent at all.
func TestRequestOptions(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want map[string]any
	}{
		{"plain", nil, map[string]any{"resource": "sandbox-admin", "reason": "fix the broken deploy"}},
		{"all", []string{"--duration", "30m", "--ticket", " INC-42 ", "--start-at", "2026-01-02T13:00:00+02:00", "--break-glass"},
			map[string]any{"resource": "sandbox-admin", "reason": "fix the broken deploy", "duration": "30m", "ticket": "INC-42", "start_at": "2026-01-02T11:00:00Z", "break_glass": true}},
		{"start in 90 minutes", []string{"--start-at", "90m"},
			map[string]any{"resource": "sandbox-admin", "reason": "fix the broken deploy", "start_at": "2026-01-02T11:30:00Z"}},
		{"start with plus", []string{"--start-at", "+2h"},
			map[string]any{"resource": "sandbox-admin", "reason": "fix the broken deploy", "start_at": "2026-01-02T12:00:00Z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.api.with(func(f *fakeAPI) { f.create = req("pending") })
			if got := h.run(append([]string{"request", "sandbox-admin", "--reason", "fix the broken deploy"}, tt.args...)...); got.code != 0 {
				t.Fatal(got)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(h.api.snap().bodies[0]), &body); err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(body) != fmt.Sprint(tt.want) {
				t.Errorf("body = %v, want %v", body, tt.want)
			}
		})
	}
}

// TestApprovedOnTheSpot: break-glass and auto-approved requests say who
// approved, and a scheduled one when it starts.
func TestApprovedOnTheSpot(t *testing.T) {
	h := newHarness(t)
	start := now.Add(90 * time.Minute).Format(time.RFC3339)
	h.api.with(func(f *fakeAPI) {
		f.create = req("approved", "break_glass", true, "decided_by", "", "approvers", nil, "ticket", "INC-42", "ticket_url", "https://tracker.example.com/browse/INC-42")
	})
	got := h.run("request", "sandbox-admin", "--reason", "outage", "--break-glass", "--ticket", "INC-42")
	golden(t, "request_break_glass.txt", got.stdout)
	h.api.with(func(f *fakeAPI) {
		f.create = req("approved", "auto_approved_by", "short", "decided_by", "", "start_at", start)
	})
	got = h.run("request", "sandbox-admin", "--reason", "later", "--start-at", "90m")
	if !strings.Contains(got.stdout, "approved by policy rule short: access starts 2026-01-02 11:30:00 UTC (in 1h30m)") {
		t.Errorf("scheduled auto-approval:\n%s", got)
	}
}

func TestPendingChainProgress(t *testing.T) {
	a := &app{now: func() time.Time { return now }, loc: time.UTC}
	r := &request{View: access.View{Request: access.Request{Status: access.Pending, Approvers: []string{"carol@example.com", "dave@example.com"}, Level: 1, Approvals: 1},
		Chain: []access.LevelView{{Name: "team lead", MinApprovals: 1}, {Name: "security", MinApprovals: 2}}}}
	want := "pending: waiting for approval from carol@example.com, dave@example.com; 1 of 2 approvals, level 2 of 2 (security)"
	if got := a.statusLine(r); got != want {
		t.Errorf("statusLine = %q, want %q", got, want)
	}
}

func TestCancel(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.routes["POST /v1/requests/"+testID+"/cancel"] = canned{status: 200, body: req("cancelled")}
	})
	got := h.run("cancel", testID)
	if got.code != 0 || got.stdout != "Cancelled request "+testID+" (sandbox-admin): approvers' links no longer work and no access will be given.\n" {
		t.Fatal(got)
	}
	if c := h.api.snap().calls[0]; c.Method != "POST" || c.Header.Get("Authorization") == "" {
		t.Errorf("cancel call: %s %v", c.Method, c.Header)
	}
	got = h.run("cancel", testID, "-o", "json")
	if !strings.Contains(got.stdout, `"status": "cancelled"`) {
		t.Errorf("cancel -o json: %s", got)
	}
	h.api.with(func(f *fakeAPI) {
		f.routes["POST /v1/requests/"+testID+"/cancel"] = canned{status: 409, body: map[string]string{"error": "conflict",
			"message": "request " + testID + " is active; only pending or not yet granted requests can be cancelled"}}
	})
	got = h.run("cancel", testID)
	if got.code != 1 || !strings.Contains(got.stderr, "is active; only pending") || !strings.Contains(got.stderr, "jit status "+testID) {
		t.Errorf("cancel of an active request: %s", got)
	}
}

func TestRevoke(t *testing.T) {
	path := "POST /v1/requests/" + testID + "/revoke"
	accepted := canned{status: 202, body: map[string]string{"id": testID, "status": "active", "message": "revoking: access is removed within seconds"}}
	revoked := req("revoked", "history", history(ev("revoked", "arn:aws:sts::123456789012:assumed-role/Approver/carol@example.com", 0, nil)))

	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.routes[path] = accepted
		f.requests[testID] = []map[string]any{req("active"), req("active"), revoked}
	})
	got := h.run("revoke", testID)
	if got.code != 0 || got.stdout != "Request "+testID+" is revoked: its access has ended, and sessions already issued are denied.\n" {
		t.Fatal(got)
	}

	// A revoke not seen after a while is sent again.
	defer func(d time.Duration) { resendRevoke = d }(resendRevoke)
	resendRevoke = time.Millisecond
	h.api.with(func(f *fakeAPI) {
		f.calls = nil
		f.requests[testID] = []map[string]any{req("active"), req("active"), req("active"), req("active"), revoked}
	})
	if got := h.run("revoke", testID); got.code != 0 {
		t.Fatal(got)
	}
	posts := 0
	for _, c := range h.api.snap().calls {
		if c.Method == "POST" {
			posts++
		}
	}
	if posts < 2 {
		t.Errorf("revoke sent %d times while the request stayed active, want it sent again", posts)
	}
	resendRevoke = time.Hour

	h.api.with(func(f *fakeAPI) {
		f.requests[testID] = []map[string]any{req("active"), req("failed", "expires_at", now.Add(30*time.Minute).Format(time.RFC3339))}
	})
	if got := h.run("revoke", testID); got.code != 1 || !strings.Contains(got.stdout, "failed: access may remain until 2026-01-02 10:30:00 UTC") {
		t.Error(got)
	}
	h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{req("active")} })
	if got := h.run("revoke", testID, "--timeout", "20ms"); got.code != 7 || !strings.Contains(got.stdout, "still active") {
		t.Error(got)
	}
	if got := h.run("revoke", testID, "--no-wait", "-o", "json"); got.code != 0 || !strings.Contains(got.stdout, `"message": "revoking`) {
		t.Error(got)
	}
	// An approver may revoke but not read the request.
	h.api.with(func(f *fakeAPI) { delete(f.requests, testID) })
	if got := h.run("revoke", testID); got.code != 0 || !strings.Contains(got.stdout, "jit cannot confirm it") {
		t.Error(got)
	}

	// busy is retried; a request not granted yet is cancelled instead.
	h = newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.routes[path] = canned{status: 409, body: map[string]string{"error": "busy", "message": "request is still being granted; retry in a few seconds"}}
	})
	var out, errb bytes.Buffer
	a := h.app(&out, &errb)
	ctx, cancel := context.WithTimeout(t.Context(), 700*time.Millisecond)
	defer cancel()
	a.run(ctx, []string{"revoke", testID, "--no-wait"})
	if n := h.api.callCount(); n < 2 {
		t.Errorf("busy revoke tried %d times, want retries", n)
	}
	h.api.with(func(f *fakeAPI) {
		f.routes[path] = canned{status: 409, body: map[string]string{"error": "conflict", "message": "request " + testID + " is pending; only active access can be revoked (cancel it instead: POST /v1/requests/" + testID + "/cancel)"}}
	})
	if got := h.run("revoke", testID); got.code != 1 || !strings.Contains(got.stderr, "`jit cancel "+testID+"` withdraws it") {
		t.Error(got)
	}
}

func TestExtend(t *testing.T) {
	path := "POST /v1/requests/" + testID + "/extend"
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.routes[path] = canned{status: 200, body: req("active", "duration", "1h30m", "expires_at", now.Add(time.Hour).Format(time.RFC3339))}
	})
	got := h.run("extend", testID, "--by", "30m")
	if got.code != 0 || got.stdout != "Extended request "+testID+" by 30m: access now ends 2026-01-02 11:00:00 UTC (in 1h) (1h30m in all).\n" {
		t.Fatal(got)
	}
	if b := h.api.snap().bodies[0]; b != `{"by":"30m"}` {
		t.Errorf("body %s", b)
	}
	for _, tt := range []struct {
		c    canned
		code int
		want string
	}{
		{canned{status: 403, body: map[string]string{"error": "needs_approval", "message": "extending to 2h in all needs an approver"}}, 1, "ask an approver of the resource to run: jit extend " + testID + " --by 30m"},
		{canned{status: 409, body: map[string]string{"error": "busy", "message": "request is changing right now"}}, 1, "would add --by again"},
		{canned{status: 409, body: map[string]string{"error": "conflict", "message": "request is expired; only active access can be extended"}}, 1, "only active access can be extended"},
		{canned{status: 400, body: map[string]string{"error": "invalid_request", "field": "by", "message": "by: would make 5h in all, over the 4h maximum"}}, 2, "fix --by"},
	} {
		h.api.with(func(f *fakeAPI) { f.routes[path] = tt.c })
		if got := h.run("extend", testID, "--by", "30m"); got.code != tt.code || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("want exit %d and %q\n%s", tt.code, tt.want, got)
		}
	}
	if n := h.api.callCount(); n != 5 {
		t.Errorf("%d calls: extend must not be retried", n)
	}
}
