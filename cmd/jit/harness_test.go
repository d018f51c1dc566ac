package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// now is the fixed clock of every unit test.
var now = time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)

const (
	testID    = "01kdvq5p8m0000000000000001"
	alice     = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	roleARN   = "arn:aws:iam::123456789012:role/jit-sandbox-admin"
	testKeyID = "AKIDUNITTEST00000001"
)

// fakeAPI serves the jit API (and STS AssumeRole) from canned answers and
// records the calls it got.
type fakeAPI struct {
	t  testing.TB
	mu sync.Mutex
	// requests answers GET /v1/requests/{id}: one answer per call, the last
	// one repeated.
	requests map[string][]map[string]any
	// create answers POST /v1/requests.
	createStatus int
	createHeader map[string]string
	create       any
	// pages answers GET /v1/requests by cursor ("" first).
	pages map[string]map[string]any
	// errors answers every API call with this status/header/body when set;
	// failFirst does it only for that many calls.
	errStatus int
	errHeader map[string]string
	errBody   string
	failFirst int
	// failGets fails only that many GETs of one request, when set.
	failGets int
	gets     int

	// routes answers other calls by "METHOD /path".
	routes map[string]canned
	// handlers answer calls by "METHOD /path" when the answer depends on
	// the query (pages by cursor); they run before routes.
	handlers map[string]http.HandlerFunc

	// stacks answers CloudFormation DescribeStacks: stack name → ApiUrl.
	stacks map[string]string

	calls  []*http.Request
	bodies []string
	sts    []string // form bodies of STS calls
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var body bytes.Buffer
	_, _ = body.ReadFrom(r.Body)
	if r.URL.Path == "/" && r.Method == http.MethodPost && strings.Contains(body.String(), "Action=DescribeStacks") {
		form, _ := url.ParseQuery(body.String())
		name := form.Get("StackName")
		apiURL, ok := f.stacks[name]
		w.Header().Set("Content-Type", "text/xml")
		if !ok {
			w.WriteHeader(400)
			fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack with id %s does not exist</Message></Error><RequestId>x</RequestId></ErrorResponse>`, name)
			return
		}
		fmt.Fprintf(w, `<DescribeStacksResponse xmlns="http://cloudformation.amazonaws.com/doc/2010-05-15/"><DescribeStacksResult><Stacks><member>
<StackName>%s</StackName><StackId>arn:aws:cloudformation:us-east-1:123456789012:stack/%s/1</StackId><CreationTime>2026-01-01T00:00:00Z</CreationTime><StackStatus>CREATE_COMPLETE</StackStatus>
<Outputs><member><OutputKey>TableName</OutputKey><OutputValue>AccessTable</OutputValue></member><member><OutputKey>ApiUrl</OutputKey><OutputValue>%s</OutputValue></member></Outputs>
</member></Stacks></DescribeStacksResult><ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></DescribeStacksResponse>`, name, name, apiURL)
		return
	}
	if r.URL.Path == "/" && r.Method == http.MethodPost {
		f.sts = append(f.sts, body.String())
		w.Header().Set("Content-Type", "text/xml")
		fmt.Fprint(w, `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
<Credentials><AccessKeyId>ASIAROLEKEY000000001</AccessKeyId><SecretAccessKey>role/secret+key'1</SecretAccessKey>
<SessionToken>role-session-token</SessionToken><Expiration>2026-01-02T10:30:00Z</Expiration></Credentials>
<AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/jit-sandbox-admin/alice@example.com</Arn><AssumedRoleId>AROA:alice@example.com</AssumedRoleId></AssumedRoleUser>
</AssumeRoleResult><ResponseMetadata><RequestId>sts-1</RequestId></ResponseMetadata></AssumeRoleResponse>`)
		return
	}
	f.calls = append(f.calls, r)
	f.bodies = append(f.bodies, body.String())
	isGet := r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/requests/")
	if isGet {
		f.gets++
	}
	if f.failGets > 0 && isGet && f.gets <= f.failGets || f.failGets == 0 && f.errStatus != 0 && (f.failFirst == 0 || len(f.calls) <= f.failFirst) {
		for k, v := range f.errHeader {
			w.Header().Set(k, v)
		}
		w.WriteHeader(f.errStatus)
		fmt.Fprint(w, f.errBody)
		return
	}
	reply := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if hf, ok := f.handlers[r.Method+" "+r.URL.Path]; ok {
		hf(w, r)
		return
	}
	if c, ok := f.routes[r.Method+" "+r.URL.Path]; ok {
		for k, v := range c.header {
			w.Header().Set(k, v)
		}
		reply(c.status, c.body)
		return
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/requests":
		for k, v := range f.createHeader {
			w.Header().Set(k, v)
		}
		reply(f.createStatus, f.create)
	case r.Method == http.MethodGet && r.URL.Path == "/v1/requests":
		page, ok := f.pages[r.URL.Query().Get("cursor")]
		if !ok {
			reply(400, map[string]string{"error": "invalid_request", "message": "cursor: bad", "field": "cursor"})
			return
		}
		reply(200, page)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/requests/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/requests/")
		answers := f.requests[id]
		if len(answers) == 0 {
			reply(404, map[string]string{"error": "not_found", "message": "no such request"})
			return
		}
		reply(200, answers[0])
		if len(answers) > 1 {
			f.requests[id] = answers[1:]
		}
	default:
		reply(404, map[string]string{"message": "Not Found"})
	}
}

// canned is a fixed answer.
type canned struct {
	status int
	header map[string]string
	body   any
}

// with changes the fake's answers while no call is being served.
func (f *fakeAPI) with(change func(f *fakeAPI)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

// recorded is what the fake has seen so far.
type recorded struct {
	calls  []*http.Request
	bodies []string
	sts    []string
}

func (f *fakeAPI) snap() recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return recorded{calls: slices.Clone(f.calls), bodies: slices.Clone(f.bodies), sts: slices.Clone(f.sts)}
}

func (f *fakeAPI) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// harness runs jit commands in-process against a fakeAPI.
type harness struct {
	t   *testing.T
	api *fakeAPI
	srv *httptest.Server
	env map[string]string
	// execed records what exec would have run.
	execed  []string
	execEnv []string
	// opened records the links jit audit open opened; openErr fails it.
	opened  []string
	openErr error
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	api := &fakeAPI{t: t, requests: map[string][]map[string]any{}, pages: map[string]map[string]any{}, createStatus: 201, stacks: map[string]string{}, routes: map[string]canned{}, handlers: map[string]http.HandlerFunc{}}
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &harness{t: t, api: api, srv: srv, env: map[string]string{"JIT_API_URL": srv.URL}}
}

type outcomeOf struct {
	code           int
	stdout, stderr string
}

func (o outcomeOf) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", o.code, o.stdout, o.stderr)
}

func (h *harness) app(stdout, stderr *bytes.Buffer) *app {
	return &app{
		stdout: stdout, stderr: stderr, stdin: strings.NewReader(""),
		getenv:  func(k string) string { return h.env[k] },
		environ: func() []string { return []string{"PATH=/usr/bin", "AWS_ACCESS_KEY_ID=OLD", "AWS_PROFILE=work"} },
		now:     func() time.Time { return now },
		loc:     time.UTC,
		loadAWS: func(ctx context.Context, g *globals) (aws.Config, error) {
			return aws.Config{
				Region:       "us-east-1",
				Credentials:  credentials.NewStaticCredentialsProvider(testKeyID, "unit-secret", ""),
				BaseEndpoint: aws.String(h.srv.URL),
				HTTPClient:   h.srv.Client(),
			}, nil
		},
		http:    h.srv.Client(),
		pollMin: time.Millisecond, pollMax: 4 * time.Millisecond,
		retry: []time.Duration{time.Millisecond, time.Millisecond},
		execve: func(path string, argv, env []string) error {
			h.execed, h.execEnv = argv, env
			return nil
		},
		openURL: func(ctx context.Context, u string) error {
			if h.openErr != nil {
				return h.openErr
			}
			h.opened = append(h.opened, u)
			return nil
		},
	}
}

// run runs one jit command line.
func (h *harness) run(args ...string) outcomeOf {
	h.t.Helper()
	var stdout, stderr bytes.Buffer
	code := h.app(&stdout, &stderr).run(context.Background(), args)
	return outcomeOf{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// req is a request as the API shows it, with fields changed by kv pairs.
func req(status string, kv ...any) map[string]any {
	r := map[string]any{
		"id": testID, "status": status, "resource": "sandbox-admin", "requester": alice,
		"duration": "1h", "reason": "fix the broken deploy", "policy_version": 1,
		"target":     map[string]any{"provider": "iam_role_trust", "role_arn": roleARN},
		"approvers":  []string{"carol@example.com"},
		"created_at": now.Add(-5 * time.Minute).Format(time.RFC3339), "updated_at": now.Format(time.RFC3339),
	}
	switch status {
	case "active", "expired", "revoked":
		r["decided_by"] = "carol@example.com"
		r["decided_at"] = now.Add(-4 * time.Minute).Format(time.RFC3339)
		r["granted_at"] = now.Add(-4 * time.Minute).Format(time.RFC3339)
		r["expires_at"] = now.Add(30 * time.Minute).Format(time.RFC3339)
	case "approved", "denied":
		r["decided_by"] = "carol@example.com"
		r["decided_at"] = now.Add(-4 * time.Minute).Format(time.RFC3339)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}

func history(events ...map[string]any) []map[string]any { return events }

func ev(typ, actor string, ago time.Duration, detail map[string]string) map[string]any {
	e := map[string]any{"request_id": testID, "type": typ, "actor": actor, "at": now.Add(-ago).Format(time.RFC3339)}
	if detail != nil {
		e["detail"] = detail
	}
	return e
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./cmd/jit -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test ./cmd/jit -update rewrites it)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
