// Package cli tests the jit command-line tool end to end: the real binary,
// built with CGO_ENABLED=0, run as a subprocess against the local cloud
// (started in-process as test/e2e does) with the local identities' keys in
// its environment, as a person or a CI job would run it.
package cli

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/gateway"
	"github.com/jitaccess/jit/shared/local/testenv"
)

var (
	lc  *cloud.Cloud
	bin string // the jit binary under test
)

func TestMain(m *testing.M) {
	if testenv.SkipMain("CLI end-to-end tests") {
		return
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, _ := filepath.Abs("../..")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	tmp, err := os.MkdirTemp("", "jit-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	// The CLI and the functions build at the same time.
	bin = filepath.Join(tmp, "jit")
	var wg sync.WaitGroup
	var buildErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/jit")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/jit: %v\n%s", err, out)
		}
	}()
	functions := filepath.Join(tmp, "functions")
	began := time.Now()
	err = cloud.BuildFunctions(ctx, root, functions)
	wg.Wait()
	built := time.Now()
	if err == nil {
		err = buildErr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	var out io.Writer = io.Discard
	if os.Getenv("JIT_E2E_VERBOSE") != "" {
		out = os.Stderr
	}
	lc, err = cloud.Start(ctx, cloud.Options{
		Root: root, BuildDir: functions,
		Policy: filepath.Join(root, "test/e2e/testdata/policies.yaml"),
		Output: out, Logger: slog.New(slog.NewTextHandler(out, nil)),
		// As in AWS, a grant's trust statement is not honoured at once:
		// the CLI must wait for it (see iam_test.go).
		IAMPropagation: propagation,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "start local cloud: %v\n(run `make venv` if moto is missing)\n", err)
		return 1
	}
	defer lc.Close()
	if os.Getenv("JIT_E2E_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, "builds %s, local cloud start %s\n", built.Sub(began).Round(time.Millisecond), time.Since(built).Round(time.Millisecond))
	}
	return m.Run()
}

func identity(t testing.TB, name string) gateway.Identity {
	t.Helper()
	id, err := lc.Identity(name)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// env is the environment of a jit run as who: nothing from the machine's
// AWS configuration, the local cloud's API and AWS endpoint, and who's keys.
func env(t testing.TB, who string, extra map[string]string) []string {
	t.Helper()
	vars := map[string]string{
		"PATH":                        os.Getenv("PATH"),
		"HOME":                        os.Getenv("HOME"),
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_REGION":                  cloud.Region,
		"AWS_ENDPOINT_URL":            lc.EdgeURL,
		"JIT_API_URL":                 lc.APIURL,
	}
	if who != "" {
		id := identity(t, who)
		vars["AWS_ACCESS_KEY_ID"] = id.AccessKeyID
		vars["AWS_SECRET_ACCESS_KEY"] = id.SecretAccessKey
	}
	for k, v := range extra {
		if v == "" {
			delete(vars, k)
		} else {
			vars[k] = v
		}
	}
	var out []string
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	return out
}

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout:\n%s--- stderr:\n%s", r.code, r.stdout, r.stderr)
}

type proc struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// start runs jit as who in the background.
func start(t testing.TB, who string, extra map[string]string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(bin, args...)}
	p.cmd.Env = env(t, who, extra)
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

func (p *proc) wait(t testing.TB) result {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
		t.Fatalf("jit %v did not finish in 60s\n%s\n%s", p.cmd.Args[1:], p.stdout.String(), p.stderr.String())
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
}

// jit runs jit as who and returns how it ended.
func jit(t testing.TB, who string, extra map[string]string, args ...string) result {
	t.Helper()
	return start(t, who, extra, args...).wait(t)
}

func decodeJSON(t testing.TB, r result) map[string]any {
	t.Helper()
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not a JSON document: %v\n%s", err, r)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON document\n%s", r)
	}
	return doc
}

// decide finds the approval email carol got for the request with this
// reason and posts the decision on its page.
func decide(t testing.TB, reason, decision string) {
	t.Helper()
	var link string
	deadline := time.Now().Add(30 * time.Second)
	for link == "" {
		if time.Now().After(deadline) {
			t.Fatalf("no approval email with reason %q", reason)
		}
		if err := lc.Inbox.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, m := range lc.Inbox.Messages() {
			if m.To == "carol@example.com" && strings.Contains(m.Body, reason) && len(m.Links) > 0 {
				link = strings.SplitN(m.Links[0], "?", 2)[0]
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	form := url.Values{"decision": {decision}}
	if decision == "deny" {
		form.Set("comment", "not during the freeze")
	}
	resp, err := http.PostForm(link, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: %d", decision, resp.StatusCode)
	}
}

func unique(t testing.TB, what string) string {
	return fmt.Sprintf("%s %s %d", what, t.Name(), time.Now().UnixNano())
}

func mustContain(t testing.TB, r result, where, want string) {
	t.Helper()
	s := r.stdout
	if where == "stderr" {
		s = r.stderr
	}
	if !strings.Contains(s, want) {
		t.Errorf("%s lacks %q\n%s", where, want, r)
	}
}

var idPattern = regexp.MustCompile(`\b[0-9a-hjkmnp-tv-z]{26}\b`)

// TestApprovedWaitCredsExec is the happy path a person takes: request and
// wait, get approved, then use the role through creds and exec.
func TestApprovedWaitCredsExec(t *testing.T) {
	t.Parallel()
	reason := unique(t, "deploy hotfix")
	p := start(t, "alice", nil, "request", "sandbox-admin", "--duration", "2m", "--reason", reason, "--wait", "-o", "json")
	decide(t, reason, "approve")
	res := p.wait(t)
	if res.code != 0 {
		t.Fatalf("request --wait approved: want exit 0\n%s", res)
	}
	doc := decodeJSON(t, res)
	id, _ := doc["id"].(string)
	if doc["status"] != "active" || !idPattern.MatchString(id) || doc["replayed"] != false {
		t.Fatalf("request --wait -o json = %v", doc)
	}
	if k, _ := doc["idempotency_key"].(string); !strings.HasPrefix(k, "cli-") {
		t.Errorf("idempotency_key = %q, want a random cli- key outside CI", k)
	}
	if len(doc["history"].([]any)) < 4 {
		t.Errorf("final JSON should carry the history: %v", doc["history"])
	}
	// Not a terminal: timestamped progress lines on stderr.
	mustContain(t, res, "stderr", "jit: request "+id+" pending: waiting for approval from carol@example.com")
	mustContain(t, res, "stderr", "active until")

	t.Run("creds env with the AWS CLI", func(t *testing.T) {
		res := jit(t, "alice", nil, "creds", id, "--format", "env")
		if res.code != 0 {
			t.Fatalf("creds: %s", res)
		}
		vars := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(res.stdout), "\n") {
			m := regexp.MustCompile(`^export ([A-Z_]+)='([^']*)'$`).FindStringSubmatch(line)
			if m == nil {
				t.Fatalf("not an export line: %q", line)
			}
			vars[m[1]] = m[2]
		}
		if vars["AWS_ACCESS_KEY_ID"] == "" || vars["AWS_ACCESS_KEY_ID"] == identity(t, "alice").AccessKeyID || vars["AWS_SESSION_TOKEN"] == "" {
			t.Fatalf("creds env = %v", vars)
		}
		arn := callerIdentity(t, vars)
		if want := "assumed-role/jit-sandbox-admin/alice@example.com"; !strings.Contains(arn, want) {
			t.Fatalf("caller identity with jit's credentials = %s, want %s", arn, want)
		}
	})

	t.Run("creds json and credential-process", func(t *testing.T) {
		res := jit(t, "alice", nil, "creds", id, "-o", "json")
		c := decodeJSON(t, res)
		if res.code != 0 || c["AccessKeyId"] == "" || c["RoleSessionName"] != "alice@example.com" || c["RequestId"] != id {
			t.Fatalf("creds -o json = %v\n%s", c, res)
		}
		if _, err := time.Parse(time.RFC3339, c["Expiration"].(string)); err != nil {
			t.Errorf("Expiration: %v", err)
		}
		res = jit(t, "alice", nil, "creds", id, "--format", "credential-process")
		cp := decodeJSON(t, res)
		if res.code != 0 || cp["Version"] != float64(1) || cp["SessionToken"] == "" || cp["Expiration"] == "" {
			t.Fatalf("credential-process = %v\n%s", cp, res)
		}
	})

	t.Run("exec", func(t *testing.T) {
		res := jit(t, "alice", nil, "exec", id, "--", "sh", "-c", `echo "$AWS_ACCESS_KEY_ID $JIT_REQUEST_ID"`)
		if res.code != 0 {
			t.Fatalf("exec: %s", res)
		}
		got := strings.Fields(res.stdout)
		if len(got) != 2 || got[0] == identity(t, "alice").AccessKeyID || !strings.HasPrefix(got[0], "ASIA") || got[1] != id {
			t.Fatalf("exec printed %q, want the assumed role's key and the request id", res.stdout)
		}
		if res := jit(t, "alice", nil, "exec", id, "--", "sh", "-c", "exit 42"); res.code != 42 {
			t.Errorf("exec exit code: %s, want 42", res)
		}
		if res := jit(t, "alice", nil, "exec", id, "--", "no-such-command-jit"); res.code != 127 || !strings.Contains(res.stderr, "command not found") {
			t.Errorf("exec of a missing command: %s, want 127", res)
		}
	})

	defer t.Run("revoked by an approver", func(t *testing.T) {
		res := jit(t, "carol", nil, "revoke", id)
		// An approver can read the request, so the CLI waits and reports the end.
		if res.code != 0 || !strings.Contains(res.stdout, "Request "+id+" is revoked") {
			t.Fatalf("carol revokes alice's request: %s", res)
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			st := decodeJSON(t, jit(t, "alice", nil, "status", id, "-o", "json"))
			if st["status"] == "revoked" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still %v 30s after the revoke", st["status"])
			}
			time.Sleep(200 * time.Millisecond)
		}
		if res := jit(t, "alice", nil, "creds", id); res.code != 6 || !strings.Contains(res.stderr, "is revoked: it gives no access") {
			t.Errorf("creds after revoke: want exit 6\n%s", res)
		}
	})

	t.Run("status and list", func(t *testing.T) {
		res := jit(t, "alice", nil, "status", id)
		if res.code != 0 {
			t.Fatalf("status: %s", res)
		}
		for _, want := range []string{"active until", "arn:aws:iam::123456789012:role/jit-sandbox-admin", "History:", "approved", "carol@example.com", "jit exec " + id} {
			mustContain(t, res, "stdout", want)
		}
		st := decodeJSON(t, jit(t, "alice", nil, "status", id, "-o", "json"))
		if st["id"] != id || st["status"] != "active" {
			t.Errorf("status -o json = %v", st)
		}
		res = jit(t, "alice", nil, "list", "--status", "active", "--limit", "100")
		mustContain(t, res, "stdout", id)
		list := decodeJSON(t, jit(t, "alice", nil, "list", "-o", "json", "--limit", "100"))
		found := false
		for _, r := range list["requests"].([]any) {
			found = found || r.(map[string]any)["id"] == id
		}
		if !found {
			t.Errorf("list -o json lacks %s: %v", id, list)
		}
	})
}

// callerIdentity asks STS who the credentials are: with the AWS CLI when
// it is installed, else with the Go SDK.
func callerIdentity(t testing.TB, vars map[string]string) string {
	t.Helper()
	awsCLI, err := exec.LookPath("aws")
	if err != nil {
		if _, serr := os.Stat("/root/.pyenv/shims/aws"); serr == nil {
			awsCLI, err = "/root/.pyenv/shims/aws", nil
		}
	}
	if err == nil {
		cmd := exec.Command(awsCLI, "sts", "get-caller-identity", "--endpoint-url", lc.EdgeURL, "--region", cloud.Region, "--output", "json")
		cmd.Env = env(t, "", map[string]string{
			"AWS_ACCESS_KEY_ID": vars["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": vars["AWS_SECRET_ACCESS_KEY"],
			"AWS_SESSION_TOKEN": vars["AWS_SESSION_TOKEN"],
		})
		out, err := cmd.Output()
		if err == nil {
			var id struct{ Arn string }
			if err := json.Unmarshal(out, &id); err != nil {
				t.Fatalf("aws sts get-caller-identity: %v\n%s", err, out)
			}
			return id.Arn
		}
		t.Logf("aws CLI failed (%v); asking with the Go SDK instead", err)
	}
	client := sts.New(sts.Options{
		Region: cloud.Region, BaseEndpoint: aws.String(lc.EdgeURL),
		Credentials: credentials.NewStaticCredentialsProvider(vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], vars["AWS_SESSION_TOKEN"]),
	})
	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Arn)
}

func TestDenied(t *testing.T) {
	t.Parallel()
	reason := unique(t, "poke production")
	p := start(t, "alice", nil, "request", "sandbox-admin", "--duration", "10m", "--reason", reason, "--wait")
	decide(t, reason, "deny")
	res := p.wait(t)
	if res.code != 3 {
		t.Fatalf("request --wait denied: want exit 3\n%s", res)
	}
	mustContain(t, res, "stdout", `was denied by carol@example.com: "not during the freeze"`)
	id := idPattern.FindString(res.stdout)
	res = jit(t, "alice", nil, "creds", id)
	if res.code != 3 || !strings.Contains(res.stderr, "is denied: it gives no access") {
		t.Errorf("creds of a denied request: want exit 3\n%s", res)
	}
}

// TestCIRetry runs the same request twice in one CI job: the second run
// finds the request the first made.
func TestCIRetry(t *testing.T) {
	t.Parallel()
	run := fmt.Sprint(time.Now().UnixNano())
	ci := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": run, "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "deploy"}
	reason := unique(t, "deploy from CI")
	args := []string{"request", "sandbox-admin", "--duration", "10m", "--reason", reason}

	first := jit(t, "ci-bot", ci, append(args, "-o", "json")...)
	second := jit(t, "ci-bot", ci, append(args, "-o", "json")...)
	a, b := decodeJSON(t, first), decodeJSON(t, second)
	if first.code != 0 || second.code != 0 || a["id"] != b["id"] || a["id"] == nil {
		t.Fatalf("two runs made two requests:\n%s\n%s", first, second)
	}
	if want := "gh:" + run + ":1:deploy:sandbox-admin"; a["idempotency_key"] != want || b["idempotency_key"] != want {
		t.Errorf("idempotency keys %v, %v; want %s", a["idempotency_key"], b["idempotency_key"], want)
	}
	if a["replayed"] != false || b["replayed"] != true {
		t.Errorf("replayed = %v then %v, want false then true", a["replayed"], b["replayed"])
	}
	id := a["id"].(string)

	text := jit(t, "ci-bot", ci, args...)
	if text.code != 0 || idPattern.FindString(text.stdout) != id {
		t.Fatalf("third run (text) should print %s\n%s", id, text)
	}
	mustContain(t, text, "stdout", "already exists for this idempotency key")

	list := decodeJSON(t, jit(t, "ci-bot", nil, "list", "--limit", "100", "-o", "json"))
	n := 0
	for _, r := range list["requests"].([]any) {
		if r.(map[string]any)["reason"] == reason {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d requests with the reason, want 1", n)
	}

	// The same key for a different request is refused, with what to do.
	res := jit(t, "ci-bot", ci, "request", "sandbox-admin", "--duration", "10m", "--reason", reason+" (changed)")
	if res.code != 2 || !strings.Contains(res.stderr, "--idempotency-key") {
		t.Errorf("reused key for another request: want exit 2 and advice\n%s", res)
	}

	// The request is pending: no credentials yet, and waiting gives up at
	// --timeout with exit 7.
	res = jit(t, "ci-bot", nil, "creds", id)
	if res.code != 1 || !strings.Contains(res.stderr, "not active yet") || !strings.Contains(res.stderr, "jit wait "+id) {
		t.Errorf("creds of a pending request: want exit 1 and advice\n%s", res)
	}
	res = jit(t, "ci-bot", nil, "wait", id, "--timeout", "1s")
	if res.code != 7 || !strings.Contains(res.stdout, "Stopped waiting") {
		t.Errorf("wait --timeout 1s on a pending request: want exit 7\n%s", res)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	closed := func() string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return "http://" + addr
	}()
	tests := []struct {
		name  string
		who   string
		env   map[string]string
		args  []string
		code  int
		wants []string
	}{
		{"wrong secret", "alice", map[string]string{"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, []string{"list"}, 1,
			[]string{"AWS refused the call (403", "check AWS credentials / region"}},
		{"unknown key", "alice", map[string]string{"AWS_ACCESS_KEY_ID": "AKIANOTAJITKEY000000"}, []string{"list"}, 1,
			[]string{"UnrecognizedClientException", "access key is not known"}},
		{"no credentials", "", nil, []string{"list"}, 1,
			[]string{"AWS credentials", "aws sso login"}},
		{"nothing listening", "alice", map[string]string{"JIT_API_URL": closed}, []string{"list"}, 1,
			[]string{"cannot reach the jit API", "is `make dev` running?", "JIT_API_URL"}},
		{"someone else's or no request", "alice", nil, []string{"status", "01jb2k3m4n5p6q7r8s9t0vwxyz"}, 1,
			[]string{`request 01jb2k3m4n5p6q7r8s9t0vwxyz: no request with id "01jb2k3m4n5p6q7r8s9t0vwxyz"`, "jit list"}},
		{"invalid for the policy", "alice", nil, []string{"request", "sandbox-admin", "--duration", "5h", "--reason", "too long"}, 2,
			[]string{"exceeds the 4h maximum", "fix --duration"}},
		{"not allowed by the policy", "frank", nil, []string{"request", "sandbox-admin", "--reason", "auditor wants in"}, 1,
			[]string{"may not request", "ask a jit admin"}},
		{"audit trail for a requester", "alice", nil, []string{"audit", "search"}, 1,
			[]string{"only auditors and admins can search the audit trail", "AuditorPrincipals"}},
		{"option the policy refuses", "alice", nil, []string{"request", "sandbox-admin", "--reason", "outage!", "--break-glass"}, 1,
			[]string{`break-glass is not allowed for "sandbox-admin"`, "ask a jit admin"}},
		{"unknown flag", "alice", nil, []string{"list", "--colour"}, 2,
			[]string{"flag provided but not defined", "jit list --help"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := jit(t, tt.who, tt.env, tt.args...)
			if res.code != tt.code {
				t.Fatalf("want exit %d\n%s", tt.code, res)
			}
			for _, w := range tt.wants {
				mustContain(t, res, "stderr", w)
			}
		})
	}

	t.Run("json error document", func(t *testing.T) {
		t.Parallel()
		res := jit(t, "alice", map[string]string{"AWS_SECRET_ACCESS_KEY": "not-the-secret"}, "list", "-o", "json")
		doc := decodeJSON(t, res)
		if res.code != 1 || doc["exit_code"] != float64(1) || doc["http_status"] != float64(403) || doc["hint"] == nil {
			t.Fatalf("error as JSON = %v\n%s", doc, res)
		}
	})
}

func TestCancel(t *testing.T) {
	t.Parallel()
	res := jit(t, "alice", nil, "request", "sandbox-admin", "--duration", "10m", "--reason", unique(t, "maybe later"), "-q")
	id := strings.TrimSpace(res.stdout)
	if res.code != 0 || !idPattern.MatchString(id) {
		t.Fatalf("request -q: %s", res)
	}
	waiting := start(t, "alice", nil, "wait", id)
	time.Sleep(300 * time.Millisecond)
	if res := jit(t, "alice", nil, "cancel", id); res.code != 0 || !strings.Contains(res.stdout, "Cancelled request "+id) {
		t.Fatalf("cancel: %s", res)
	}
	res = waiting.wait(t)
	if res.code != 5 || !strings.Contains(res.stdout, "was cancelled by Engineer/alice@example.com") {
		t.Errorf("wait on a cancelled request: want exit 5\n%s", res)
	}
	if res := jit(t, "alice", nil, "cancel", id); res.code != 1 || !strings.Contains(res.stderr, "only pending or not yet granted requests can be cancelled") {
		t.Errorf("second cancel: want exit 1 and why\n%s", res)
	}
}

// TestApprovedWithoutWaitingForPeople: break-glass and auto-approve rules
// approve on the spot; --wait returns once the grant is active.
func TestApprovedWithoutWaitingForPeople(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		args  []string
		field string
		want  any
	}{
		{"break-glass", []string{"--duration", "10m", "--break-glass"}, "break_glass", true},
		{"auto-approve", []string{"--duration", "1m"}, "auto_approved_by", "short"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"request", "auto-short", "--reason", unique(t, "on the spot"), "--wait", "-o", "json"}, tt.args...)
			res := jit(t, "alice", nil, args...)
			doc := decodeJSON(t, res)
			if res.code != 0 || doc["status"] != "active" || doc[tt.field] != tt.want {
				t.Fatalf("want active with %s=%v\n%s", tt.field, tt.want, res)
			}
		})
	}
	t.Run("scheduled start", func(t *testing.T) {
		t.Parallel()
		res := jit(t, "alice", nil, "request", "auto-short", "--duration", "1m", "--reason", unique(t, "tonight"), "--start-at", "30m", "--wait", "--timeout", "2s")
		if res.code != 7 || !strings.Contains(res.stdout, "is still approved by policy rule short: access starts") {
			t.Fatalf("want exit 7 while approved until the start\n%s", res)
		}
		id := idPattern.FindString(res.stdout)
		if res := jit(t, "alice", nil, "cancel", id); res.code != 0 {
			t.Errorf("cancel a scheduled request: %s", res)
		}
	})
}

func TestTicket(t *testing.T) {
	t.Parallel()
	args := []string{"request", "two-levels", "--duration", "5m", "--reason", unique(t, "look at prod")}
	res := jit(t, "alice", nil, append(args, "--ticket", "INC-42", "-o", "json")...)
	doc := decodeJSON(t, res)
	if res.code != 0 || doc["ticket"] != "INC-42" || doc["ticket_url"] != "https://tracker.example.com/browse/INC-42" {
		t.Fatalf("request with a ticket: %s", res)
	}
	res = jit(t, "alice", nil, "status", doc["id"].(string))
	mustContain(t, res, "stdout", "Ticket     INC-42  https://tracker.example.com/browse/INC-42")
	mustContain(t, res, "stdout", "level 1 of 2 (team lead)")
	res = jit(t, "alice", nil, append(args, "--ticket", "JIRA-1")...)
	if res.code != 2 || !strings.Contains(res.stderr, "fix --ticket") {
		t.Errorf("a ticket the policy does not accept: want exit 2 and advice\n%s", res)
	}
}

// TestPolicyAdmin: an admin reads the policy to a file, checks it and
// applies it back; a stale --if-version is refused.
func TestPolicyAdmin(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "policy.yaml")
	res := jit(t, "erin", nil, "policy", "get", "-f", file)
	m := regexp.MustCompile(`--if-version (\d+)`).FindStringSubmatch(res.stdout)
	if res.code != 0 || m == nil {
		t.Fatalf("policy get -f: %s", res)
	}
	if b, err := os.ReadFile(file); err != nil || !strings.Contains(string(b), "name: sandbox-admin") {
		t.Fatalf("written policy: %v %s", err, b)
	}
	if res := jit(t, "erin", nil, "policy", "validate", "-f", file); res.code != 0 || !strings.Contains(res.stdout, "valid") {
		t.Errorf("validate: %s", res)
	}
	res = jit(t, "erin", nil, "policy", "apply", "-f", file, "--if-version", m[1], "-o", "json")
	applied := decodeJSON(t, res)
	if res.code != 0 || fmt.Sprint(applied["version"]) == m[1] {
		t.Fatalf("apply: %s", res)
	}
	res = jit(t, "erin", nil, "policy", "apply", "-f", file, "--if-version", m[1])
	if res.code != 1 || !strings.Contains(res.stderr, "jit policy get -f FILE") {
		t.Errorf("stale apply: want exit 1 and advice\n%s", res)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("resources:\n  - name: Not_Valid\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := jit(t, "erin", nil, "policy", "validate", "-f", bad); res.code != 2 || !strings.Contains(res.stdout, "line 2: resources[0].name") {
		t.Errorf("invalid policy: want exit 2 and the line\n%s", res)
	}
	if res := jit(t, "alice", nil, "policy", "validate", "-f", file); res.code != 1 || !strings.Contains(res.stderr, "--local") {
		t.Errorf("non-admin validate: want exit 1 and the --local advice\n%s", res)
	}
	if res := jit(t, "alice", nil, "policy", "validate", "--local", "-f", file); res.code != 0 {
		t.Errorf("validate --local: %s", res)
	}
}

// TestExtendAndRevoke: the requester extends within the auto-approve rule,
// is told to ask an approver beyond it, then ends the access early.
func TestExtendAndRevoke(t *testing.T) {
	t.Parallel()
	res := jit(t, "alice", nil, "request", "auto-short", "--duration", "1m", "--reason", unique(t, "short job"), "--wait", "-o", "json")
	doc := decodeJSON(t, res)
	if res.code != 0 || doc["status"] != "active" {
		t.Fatalf("auto-approved request: %s", res)
	}
	id := doc["id"].(string)
	before, _ := time.Parse(time.RFC3339, doc["expires_at"].(string))

	// Right after the grant its workflow may not hold it yet: the API then
	// answers busy having changed nothing, so trying again is safe.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		res = jit(t, "alice", nil, "extend", id, "--by", "2m", "-o", "json")
		if res.code == 0 || !strings.Contains(res.stdout, "nothing was changed") || time.Now().After(deadline) {
			break
		}
	}
	ext := decodeJSON(t, res)
	after, _ := time.Parse(time.RFC3339, fmt.Sprint(ext["expires_at"]))
	if res.code != 0 || after.Sub(before) != 2*time.Minute || ext["duration"] != "3m" {
		t.Fatalf("extend by 2m: expires %s -> %s\n%s", before, after, res)
	}
	res = jit(t, "alice", nil, "extend", id, "--by", "10m")
	if res.code != 1 || !strings.Contains(res.stderr, "ask an approver of the resource to run: jit extend "+id+" --by 10m") {
		t.Errorf("extend beyond the auto-approve rule: want exit 1 and advice\n%s", res)
	}

	res = jit(t, "alice", nil, "revoke", id)
	if res.code != 0 || !strings.Contains(res.stdout, "is revoked: its access has ended") {
		t.Fatalf("revoke: %s", res)
	}
	if res := jit(t, "alice", nil, "revoke", id); res.code != 1 || !strings.Contains(res.stderr, "only active access can be revoked") {
		t.Errorf("second revoke: want exit 1\n%s", res)
	}

	pending := strings.TrimSpace(jit(t, "alice", nil, "request", "sandbox-admin", "--duration", "10m", "--reason", unique(t, "not yet"), "-q").stdout)
	if res := jit(t, "alice", nil, "revoke", pending); res.code != 1 || !strings.Contains(res.stderr, "`jit cancel "+pending+"` withdraws it") {
		t.Errorf("revoke of a pending request: want exit 1 and the cancel advice\n%s", res)
	}
	jit(t, "alice", nil, "cancel", pending)
}

// TestAudit: an auditor finds a requester's events, exports them and reads
// the stats; the requester is refused. Other events (notifications, policy
// evaluation, ...) may come and go: only the ones these requests must have
// are looked for.
func TestAudit(t *testing.T) {
	t.Parallel()
	// quorum is a resource no other test asks for.
	reason := unique(t, "audit trail")
	ask := func(why string) string {
		res := jit(t, "alice", nil, "request", "quorum", "--duration", "10m", "--reason", why, "-q")
		id := strings.TrimSpace(res.stdout)
		if res.code != 0 || !idPattern.MatchString(id) {
			t.Fatalf("request: %s", res)
		}
		return id
	}
	cancelled, pending := ask(reason+" one"), ask(reason+" two")
	if res := jit(t, "alice", nil, "cancel", cancelled); res.code != 0 {
		t.Fatalf("cancel: %s", res)
	}
	aliceARN := "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	want := [][2]string{{cancelled, "created"}, {cancelled, "cancelled"}, {pending, "created"}}

	t.Run("search", func(t *testing.T) {
		var found map[[2]string]bool
		var res result
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			res = jit(t, "frank", nil, "audit", "search", "--resource", "quorum", "--since", "1h", "--all", "-o", "json")
			if res.code != 0 {
				t.Fatalf("audit search -o json: %s", res)
			}
			found = map[[2]string]bool{}
			for _, e := range decodeJSON(t, res)["events"].([]any) {
				ev := e.(map[string]any)
				found[[2]string{fmt.Sprint(ev["request_id"]), fmt.Sprint(ev["type"])}] = true
				if ev["resource"] != "quorum" {
					t.Errorf("--resource quorum returned %v", ev)
				}
			}
			if found[want[0]] && found[want[1]] && found[want[2]] || time.Now().After(deadline) {
				break
			}
		}
		for _, w := range want {
			if !found[w] {
				t.Errorf("no %s event of %s in\n%s", w[1], w[0], res)
			}
		}

		res = jit(t, "frank", nil, "audit", "search", "--resource", "quorum", "--since", "1h", "--all")
		for _, w := range []string{"TIME", "EVENT", "REQUEST", cancelled, pending, "created", "cancelled", "Engineer/alice@example.com", "pending→cancelled"} {
			mustContain(t, res, "stdout", w)
		}

		// Filters combine: alice's cancellations.
		res = jit(t, "frank", nil, "audit", "search", "--requester", aliceARN, "--action", "cancelled", "--since", "1h", "--all")
		if res.code != 0 || !strings.Contains(res.stdout, cancelled) || strings.Contains(res.stdout, pending) {
			t.Errorf("--requester alice --action cancelled: want %s only\n%s", cancelled, res)
		}

		// One event a page: the next page is named on stderr, and continues.
		res = jit(t, "frank", nil, "audit", "search", "--resource", "quorum", "--since", "1h", "--limit", "1")
		next := regexp.MustCompile(`jit audit search (.*--cursor \S+)`).FindStringSubmatch(res.stderr)
		if res.code != 0 || next == nil {
			t.Fatalf("--limit 1: want the next page on stderr\n%s", res)
		}
		res = jit(t, "frank", nil, append([]string{"audit", "search"}, strings.Fields(next[1])...)...)
		if res.code != 0 || !strings.Contains(res.stdout, "1 event(s)") {
			t.Errorf("the next page: %s", res)
		}
	})

	t.Run("export csv", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "audit.csv")
		res := jit(t, "frank", nil, "audit", "export", "--format", "csv", "--resource", "quorum", "--since", "1h", "-f", file)
		if res.code != 0 {
			t.Fatalf("export: %s", res)
		}
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		records, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
		if err != nil || len(records) < 4 {
			t.Fatalf("not a CSV file with a header and events: %v\n%s", err, b)
		}
		if h := records[0]; len(h) < 3 || h[0] != "at" || h[1] != "request_id" || h[2] != "type" {
			t.Errorf("header row = %q", h)
		}
		found := map[[2]string]bool{}
		for _, r := range records[1:] {
			if r[0] == "at" {
				t.Errorf("the header row is repeated")
			}
			found[[2]string{r[1], r[2]}] = true
		}
		for _, w := range want {
			if !found[w] {
				t.Errorf("the export lacks the %s event of %s", w[1], w[0])
			}
		}
		mustContain(t, res, "stderr", fmt.Sprintf("exported %d event(s)", len(records)-1))

		res = jit(t, "frank", nil, "audit", "export", "--format", "csv", "--resource", "quorum", "--since", "1h")
		if res.code != 0 || !strings.HasPrefix(res.stdout, "at,request_id,type,") || !strings.Contains(res.stdout, cancelled) {
			t.Errorf("export to stdout: %s", res)
		}
	})

	t.Run("stats", func(t *testing.T) {
		res := jit(t, "frank", nil, "stats", "--since", "1h", "--resource", "quorum", "-o", "json")
		doc := decodeJSON(t, res)
		total, _ := doc["total"].(map[string]any)
		outcomes, _ := total["outcomes"].(map[string]any)
		if res.code != 0 || total["requests"].(float64) < 2 || outcomes["cancelled"].(float64) < 1 || doc["resource"] != "quorum" {
			t.Fatalf("stats -o json: %s", res)
		}
		res = jit(t, "frank", nil, "stats")
		if res.code != 0 {
			t.Fatalf("stats: %s", res)
		}
		for _, w := range []string{"Requests created from", "Time to decision", "Auto-approved", "Escalation rate", "RESOURCE", "quorum"} {
			mustContain(t, res, "stdout", w)
		}
	})

	t.Run("open --print", func(t *testing.T) {
		res := jit(t, "frank", nil, "audit", "open", "--print")
		if res.code != 0 || !strings.Contains(res.stdout, "/audit/session/") {
			t.Errorf("audit open --print: %s", res)
		}
	})

	t.Run("refused for a requester", func(t *testing.T) {
		for _, args := range [][]string{{"audit", "search", "--resource", "quorum"}, {"audit", "export"}, {"stats"}} {
			res := jit(t, "alice", nil, args...)
			if res.code != 1 || !strings.Contains(res.stderr, "only auditors and admins") || !strings.Contains(res.stderr, "AuditorPrincipals") {
				t.Errorf("%v as alice: want exit 1 and who may\n%s", args, res)
			}
		}
	})
}
