package main

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestStatusOutput(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.requests[testID] = []map[string]any{req("active", "history", history(
			ev("created", alice, 5*time.Minute, map[string]string{"resource": "sandbox-admin", "duration": "1h"}),
			ev("approval_requested", "system", 5*time.Minute, map[string]string{"sent_to": "carol@example.com (email)"}),
			ev("approved", "carol@example.com", 4*time.Minute, nil),
			ev("active", "system", 4*time.Minute, map[string]string{"expires_at": now.Add(30 * time.Minute).Format(time.RFC3339)}),
		), "future_field", "kept")}
	})
	got := h.run("status", testID)
	if got.code != 0 {
		t.Fatal(got)
	}
	golden(t, "status.txt", got.stdout)
	h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{req("pending", "future_field", "kept")} })
	got = h.run("status", testID, "-o", "json")
	golden(t, "status.json", got.stdout)
}

func TestListOutput(t *testing.T) {
	h := newHarness(t)
	r2 := req("expired", "id", "01kdvq5p8m0000000000000002", "ended_at", now.Add(-time.Hour).Format(time.RFC3339), "reason", "an old request with a reason long enough to be cut short in the table")
	r3 := req("pending", "id", "01kdvq5p8m0000000000000003")
	h.api.with(func(f *fakeAPI) { f.pages[""] = map[string]any{"requests": []any{req("active")}, "next_cursor": "c1"} })
	h.api.with(func(f *fakeAPI) { f.pages["c1"] = map[string]any{"requests": []any{r2}, "next_cursor": "c2"} })
	h.api.with(func(f *fakeAPI) { f.pages["c2"] = map[string]any{"requests": []any{r3}} })
	got := h.run("list")
	if got.code != 0 {
		t.Fatal(got)
	}
	golden(t, "list.txt", got.stdout)
	var limits []string
	for _, c := range h.api.snap().calls {
		limits = append(limits, c.URL.Query().Get("limit"))
	}
	if !slices.Equal(limits, []string{"20", "19", "18"}) {
		t.Errorf("page sizes %v, want each page to ask for what is still missing", limits)
	}

	h.api.with(func(f *fakeAPI) { f.calls = nil })
	got = h.run("list", "--limit", "1", "-o", "json")
	golden(t, "list_limit.json", got.stdout)

	got = h.run("list", "--status", "pending,expired")
	if got.code != 0 || strings.Contains(got.stdout, testID+" ") || !strings.Contains(got.stdout, "01kdvq5p8m0000000000000002") || !strings.Contains(got.stdout, "01kdvq5p8m0000000000000003") {
		t.Fatalf("--status pending,expired:\n%s", got)
	}
	got = h.run("list", "--status", "denied")
	if got.stdout != "No requests with status denied.\n" {
		t.Errorf("empty filtered list: %q", got.stdout)
	}
}

func TestCredsOutput(t *testing.T) {
	for _, tt := range []struct{ name, file string }{
		{"env", "creds_env.txt"}, {"json", "creds.json"}, {"credential-process", "creds_process.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{req("active")} })
			got := h.run("creds", testID, "--format", tt.name)
			if got.code != 0 {
				t.Fatal(got)
			}
			golden(t, tt.file, got.stdout)
			form, err := url.ParseQuery(h.api.snap().sts[0])
			if err != nil {
				t.Fatal(err)
			}
			// The session name the grant is bound to, and the rest of the
			// 30-minute window.
			if form.Get("Action") != "AssumeRole" || form.Get("RoleArn") != roleARN || form.Get("RoleSessionName") != "alice@example.com" || form.Get("DurationSeconds") != "1800" {
				t.Errorf("AssumeRole call = %v", form)
			}
			// The source identity the grant's trust statement requires.
			if got, want := form.Get("SourceIdentity"), "jit-"+testID; got != want {
				t.Errorf("AssumeRole SourceIdentity = %q, want %q", got, want)
			}
		})
	}
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.requests[testID] = []map[string]any{req("active", "expires_at", now.Add(time.Minute).Format(time.RFC3339))}
	})
	h.run("creds", testID, "-o", "json")
	if form, _ := url.ParseQuery(h.api.snap().sts[0]); form.Get("DurationSeconds") != "900" {
		t.Errorf("a window shorter than STS's minimum asks for 900s, got %v", form.Get("DurationSeconds"))
	}
	h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{req("active")} })
	h.run("creds", testID, "-o", "json", "--duration-seconds", "7200")
	if form, _ := url.ParseQuery(h.api.snap().sts[1]); form.Get("DurationSeconds") != "7200" {
		t.Errorf("--duration-seconds 7200 asked for %v", form.Get("DurationSeconds"))
	}
}

func TestCredsRefused(t *testing.T) {
	tests := []struct {
		name string
		r    map[string]any
		code int
		want string
	}{
		{"pending", req("pending"), 1, "is not active yet: pending: waiting for approval from carol@example.com"},
		{"approved", req("approved"), 1, "`jit wait " + testID + "` waits until it is active"},
		{"denied", req("denied"), 3, "is denied: it gives no access"},
		{"timed out", req("timed_out"), 4, "ask again: jit request sandbox-admin --duration 1h"},
		{"expired", req("expired"), 6, "is expired"},
		{"window over, not yet revoked", req("active", "expires_at", now.Add(-time.Second).Format(time.RFC3339)), 6, "access window ended 1s ago"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{tt.r} })
			for _, cmd := range [][]string{{"creds", testID}, {"exec", testID, "--", "true"}} {
				got := h.run(cmd...)
				if got.code != tt.code || !strings.Contains(got.stderr, tt.want) {
					t.Errorf("%s: want exit %d and %q\n%s", cmd[0], tt.code, tt.want, got)
				}
			}
			if len(h.api.snap().sts) != 0 || h.execed != nil {
				t.Error("refused, yet STS was called or the command run")
			}
		})
	}
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{req("pending")} })
	golden(t, "creds_pending_error.json", h.run("creds", testID, "-o", "json").stdout)
}

func TestExec(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) { f.requests[testID] = []map[string]any{req("active")} })
	got := h.run("exec", testID, "--", "sh", "-c", "echo $AWS_ACCESS_KEY_ID")
	if got.code != 0 {
		t.Fatal(got)
	}
	if !slices.Equal(h.execed, []string{"sh", "-c", "echo $AWS_ACCESS_KEY_ID"}) {
		t.Errorf("argv = %q", h.execed)
	}
	want := []string{"PATH=/usr/bin", "AWS_PROFILE=work", "AWS_ACCESS_KEY_ID=ASIAROLEKEY000000001", "AWS_SECRET_ACCESS_KEY=role/secret+key'1",
		"AWS_SESSION_TOKEN=role-session-token", "AWS_CREDENTIAL_EXPIRATION=2026-01-02T10:30:00Z", "JIT_REQUEST_ID=" + testID,
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1"}
	if !slices.Equal(h.execEnv, want) {
		t.Errorf("env =\n%q\nwant\n%q", h.execEnv, want)
	}
	got = h.run("exec", testID, "--", "no-such-command-for-jit-tests")
	if got.code != 127 || !strings.Contains(got.stderr, "no-such-command-for-jit-tests: command not found") {
		t.Errorf("missing command: %s", got)
	}
}

func TestChildEnv(t *testing.T) {
	c := &roleCreds{AccessKeyID: "A", SecretAccessKey: "S", SessionToken: "T", Expiration: now, RequestID: "R"}
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{"replaces credentials, keeps the rest",
			[]string{"HOME=/h", "AWS_ACCESS_KEY_ID=old", "AWS_SECRET_ACCESS_KEY=old", "AWS_SESSION_TOKEN=old", "AWS_SECURITY_TOKEN=old", "AWS_REGION=eu-west-1"},
			[]string{"HOME=/h", "AWS_REGION=eu-west-1", "AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=S", "AWS_SESSION_TOKEN=T", "AWS_CREDENTIAL_EXPIRATION=2026-01-02T10:00:00Z", "JIT_REQUEST_ID=R", "AWS_DEFAULT_REGION=eu-west-1"}},
		{"default region copied",
			[]string{"AWS_DEFAULT_REGION=ap-south-1"},
			[]string{"AWS_DEFAULT_REGION=ap-south-1", "AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=S", "AWS_SESSION_TOKEN=T", "AWS_CREDENTIAL_EXPIRATION=2026-01-02T10:00:00Z", "JIT_REQUEST_ID=R", "AWS_REGION=ap-south-1"}},
		{"empty region replaced",
			[]string{"AWS_REGION="},
			[]string{"AWS_ACCESS_KEY_ID=A", "AWS_SECRET_ACCESS_KEY=S", "AWS_SESSION_TOKEN=T", "AWS_CREDENTIAL_EXPIRATION=2026-01-02T10:00:00Z", "JIT_REQUEST_ID=R", "AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := childEnv(tt.environ, c, "us-east-1"); !slices.Equal(got, tt.want) {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{"abc": "'abc'", "a'b": `'a'\''b'`, "a/b+c=": "'a/b+c='", "": "''"} {
		if got := shellQuote(in); got != want {
			t.Errorf("shellQuote(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestRoundDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "0s", 40 * time.Second: "40s", 90 * time.Second: "1m30s", 10 * time.Minute: "10m",
		time.Hour: "1h", 65*time.Minute + 20*time.Second: "1h5m", 2*time.Hour + 29*time.Second: "2h",
	} {
		if got := roundDuration(d); got != want {
			t.Errorf("roundDuration(%s) = %s, want %s", d, got, want)
		}
	}
}

func TestCredsIdentityCenter(t *testing.T) {
	h := newHarness(t)
	h.api.with(func(f *fakeAPI) {
		f.requests[testID] = []map[string]any{req("active", "target", map[string]any{"provider": "identity_center",
			"instance_arn": "arn:aws:sso:::instance/ssoins-1", "permission_set_arn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1", "account_id": "210987654321"})}
	})
	got := h.run("creds", testID)
	if got.code != 2 || !strings.Contains(got.stderr, "grants permission set arn:aws:sso:::permissionSet/ssoins-1/ps-1 in account 210987654321, not an IAM role") ||
		!strings.Contains(got.stderr, "aws configure sso") || len(h.api.snap().sts) != 0 {
		t.Fatal(got)
	}
}
