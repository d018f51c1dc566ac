package e2e

// Faults under the running system: a function that crashes mid-invocation
// (the state machine's Retry takes over, or the crashes outlast it), SES
// or SNS refusing to send, and the AWS emulator dying. Each runs on a
// private cloud: a fault hits every call that matches it, whoever makes
// it, so the subtests that inject one run one after another.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/provision"
)

// logBuffer keeps a private cloud's own log (runner, edge, faults) for
// assertions. It is written from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// ownCloud starts a private local cloud for t with policy and, as target
// roles, the jit-managed roles named (policy may only name those), and
// stops it when t ends. The returned buffer holds the cloud's log.
func ownCloud(t *testing.T, policy string, roles ...string) (*cloud.Cloud, *logBuffer) {
	t.Helper()
	root, _ := filepath.Abs("../..")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	build := sharedBuildDir(root)
	if build == "" {
		build = filepath.Join(dir, "build")
		if err := cloud.BuildFunctions(ctx, root, build); err != nil {
			t.Fatal(err)
		}
	}
	pol := filepath.Join(dir, "policies.yaml")
	if err := os.WriteFile(pol, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	type role struct {
		Name              string            `json:"name"`
		Tags              map[string]string `json:"tags"`
		MaxSessionSeconds int32             `json:"max_session_seconds"`
	}
	var rs []role
	for _, r := range roles {
		rs = append(rs, role{Name: r, Tags: map[string]string{"jit:managed": "true"}, MaxSessionSeconds: 3600})
	}
	b, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	rolesFile := filepath.Join(dir, "roles.json")
	if err := os.WriteFile(rolesFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	var out io.Writer = logs
	opts := cloud.Options{Root: root, BuildDir: build, Policy: pol, Roles: rolesFile}
	if os.Getenv("JIT_E2E_VERBOSE") != "" {
		out = io.MultiWriter(logs, os.Stderr)
		opts.Output = os.Stderr
	}
	opts.Logger = slog.New(slog.NewTextHandler(out, nil))
	start := time.Now()
	c, err := cloud.Start(ctx, opts)
	if err != nil {
		t.Fatalf("start private local cloud: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	t.Logf("private cloud up in %s", time.Since(start).Round(time.Millisecond))
	return c, logs
}

const faultPolicy = `# crash_test.go: one resource per fault, each on a role of its own.
# The Engineer and Approver roles stand for Identity Center roles: their
# sessions are the people they name.
identities:
  trusted_roles:
    - arn:aws:iam::123456789012:role/Engineer
    - arn:aws:iam::123456789012:role/Approver
resources:
  - name: crashy
    description: Granted while its grant function crashes.
    target:
      role_arn: arn:aws:iam::123456789012:role/jit-crash
    requesters: ["arn:aws:sts::123456789012:assumed-role/Engineer/*"]
    min_duration: 2s
    max_duration: 1h
    approval:
      levels:
        - approvers: [{email: carol@example.com}]
  - name: two-channels
    description: Carol is asked by email and by SMS.
    target:
      role_arn: arn:aws:iam::123456789012:role/jit-channels
    requesters: ["arn:aws:sts::123456789012:assumed-role/Engineer/*"]
    min_duration: 2s
    max_duration: 1h
    channels: [email, sms]
    approval:
      levels:
        - approvers:
            - email: carol@example.com
              phone: "+15555550102"
`

// TestFaults injects, one after another on one private cloud: a crash of
// the grant function's next invocation (the Grant state's Retry takes
// over and the request is granted once), crashes outlasting that Retry
// (the request fails, its access is removed and the requester is told),
// and an SES and an SNS send failure (the other channel still delivers,
// the failure is audited, the request proceeds). The crash subtests wait
// for their executions to end, so none of their invocations is left to
// meet the next subtest's fault.
func TestFaults(t *testing.T) {
	t.Parallel()
	c, logs := ownCloud(t, faultPolicy, "jit-crash", "jit-channels")

	retries := grantRetries(t)
	t.Run("grant crashes once", func(t *testing.T) {
		before := c.Runner.Stats()["GrantFunction"]
		id := createOn(t, c, "alice", "crashy", "2s", "grant survives a crash")
		link := approvalLink(t, c, id, "email")
		if err := c.Faults.Add(cloud.Fault{Service: "lambda", Operation: "Invoke", Code: cloud.CodeCrash, Function: "GrantFunction", Count: 1}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Faults.Clear)
		approved := time.Now()
		if r, err := postDecision(link, url.Values{"decision": {"approve"}}); err != nil || r.Code != http.StatusOK {
			t.Fatalf("approve: %v %d %s", err, r.Code, r.Body)
		}
		waitStatus(t, c, "alice", id, "active", 30*time.Second)
		if n := trustStatements(t, c, "jit-crash", "Jit"+id); n != 1 {
			t.Fatalf("active with %d trust statements, want 1", n)
		}
		s := waitStatus(t, c, "alice", id, "expired", 30*time.Second)
		t.Logf("approve → granted despite a crash → expired: %s", time.Since(approved).Round(time.Millisecond))
		waitExecution(t, c, id, "SUCCEEDED")
		if s.count("active") != 1 || s.count("failed") != 0 {
			t.Fatalf("history %v: want one grant and no failure", s.Events)
		}
		if n := trustStatements(t, c, "jit-crash", "Jit"+id); n != 0 {
			t.Fatalf("expired with %d trust statements", n)
		}
		if n := c.Faults.Pending(); n != 0 {
			t.Fatalf("the crash was never injected (%d pending)", n)
		}
		after := c.Runner.Stats()["GrantFunction"]
		if got := after.InjectedCrashes - before.InjectedCrashes; got != 1 {
			t.Fatalf("grant function crashed %d times, want 1 (stats %+v)", got, after)
		}
		if got := failedTasks(t, c, id, "Runtime.ExitError"); got != 1 {
			t.Fatalf("execution history shows %d Runtime.ExitError task failures, want 1", got)
		}
		if !strings.Contains(logs.String(), "injected crash: killing the process before it answers") {
			t.Fatal("the runner's log does not show the crash")
		}
	})

	t.Run("grant crashes outlast the retries", func(t *testing.T) {
		before := c.Runner.Stats()["GrantFunction"]
		id := createOn(t, c, "alice", "crashy", "1m", "grant crashes every time")
		link := approvalLink(t, c, id, "email")
		crashes := retries + 1
		if err := c.Faults.Add(cloud.Fault{Service: "lambda", Operation: "Invoke", Code: cloud.CodeCrash, Function: "GrantFunction", Count: crashes}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Faults.Clear)
		approved := time.Now()
		if r, err := postDecision(link, url.Values{"decision": {"approve"}}); err != nil || r.Code != http.StatusOK {
			t.Fatalf("approve: %v %d %s", err, r.Code, r.Body)
		}
		s := waitStatus(t, c, "alice", id, "failed", 90*time.Second)
		t.Logf("approve → failed after %d crashes: %s", crashes, time.Since(approved).Round(time.Millisecond))
		waitExecution(t, c, id, "FAILED")
		if n := trustStatements(t, c, "jit-crash", "Jit"+id); n != 0 {
			t.Fatalf("failed with %d trust statements left", n)
		}
		if s.count("failed") != 1 {
			t.Fatalf("history %v: want one failed", s.Events)
		}
		if got := c.Runner.Stats()["GrantFunction"].InjectedCrashes - before.InjectedCrashes; got != crashes || c.Faults.Pending() != 0 {
			t.Fatalf("grant function crashed %d times (%d pending), want %d: 1 + the Grant state's %d retries", got, c.Faults.Pending(), crashes, retries)
		}
		if got := failedTasks(t, c, id, "Runtime.ExitError"); got != crashes {
			t.Fatalf("execution history shows %d Runtime.ExitError task failures, want %d", got, crashes)
		}
		waitFor(t, "failure notice to alice", 30*time.Second, func() bool {
			return len(messagesAbout(t, c, id, func(m mail) bool {
				return m.To == "alice@example.com" && strings.Contains(strings.ToLower(m.Subject+m.Body), "fail")
			})) == 1
		})
	})

	t.Run("email fails, SMS delivers", func(t *testing.T) {
		sendFailure(t, c, cloud.Fault{Service: "ses", Operation: "SendEmail", Code: "MessageRejected", Status: 400, Count: 1}, "email", "sms")
	})
	t.Run("SMS fails, email delivers", func(t *testing.T) {
		sendFailure(t, c, cloud.Fault{Service: "sns", Operation: "Publish", Code: "InvalidParameter", Status: 400, Count: 1}, "sms", "email")
	})
}

// sendFailure asks carol for a decision on two channels while fault makes
// the first channel's send fail. The other channel delivers, the failure
// is audited as a failed notification_sent, and the request goes on:
// approving through the channel that worked grants it.
func sendFailure(t *testing.T, c *cloud.Cloud, fault cloud.Fault, failing, working string) {
	if err := c.Faults.Add(fault); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Faults.Clear)
	id := createOn(t, c, "alice", "two-channels", "1m", "send failure on "+failing)
	link := approvalLink(t, c, id, working)
	if n := c.Faults.Pending(); n != 0 {
		t.Fatalf("the %s send was never attempted (%d faults pending)", failing, n)
	}
	var failed []map[string]any
	waitFor(t, "the failed send in the audit trail", 20*time.Second, func() bool {
		failed = eventsOf(t, c, id, "notification_sent", func(d map[string]any) bool { return d["outcome"] == "failed" })
		return len(failed) > 0
	})
	if len(failed) != 1 || failed[0]["channel"] != failing {
		t.Fatalf("failed sends audited: %v, want one on %s", failed, failing)
	}
	if n := len(messagesAbout(t, c, id, func(m mail) bool { return m.Channel == failing })); n != 0 {
		t.Fatalf("%d %s messages delivered although the send failed", n, failing)
	}
	if r, err := postDecision(link, url.Values{"decision": {"approve"}}); err != nil || r.Code != http.StatusOK {
		t.Fatalf("approve through %s: %v %d %s", working, err, r.Code, r.Body)
	}
	waitStatus(t, c, "alice", id, "active", 30*time.Second)
	if n := trustStatements(t, c, "jit-channels", "Jit"+id); n != 1 {
		t.Fatalf("active with %d trust statements, want 1", n)
	}
}

// mail is one message the inbox holds; Link is its decision link
// (without the query string), if it has one.
type mail struct{ Channel, To, Subject, Body, Link string }

// messagesAbout lists the messages on c about id (mentioning it, or, for
// an SMS, which has no room for it, carrying one of its decision links)
// that pass keep.
func messagesAbout(t testing.TB, c *cloud.Cloud, id string, keep func(mail) bool) []mail {
	t.Helper()
	if err := c.Inbox.Poll(context.Background()); err != nil {
		// moto now and then fails this read while it is busy.
		t.Logf("inbox poll (will retry): %.120s", err)
		return nil
	}
	var out []mail
	for _, m := range c.Inbox.Messages() {
		x := mail{Channel: m.Channel, To: m.To, Subject: m.Subject, Body: m.Body}
		if x.Channel == "" {
			x.Channel = "email"
		}
		for _, l := range m.Links {
			if strings.HasPrefix(l, c.APIURL+"/d/") {
				x.Link = strings.SplitN(l, "?", 2)[0]
			}
		}
		about := strings.Contains(m.Body, id) || x.Link != "" && linkRequest(t, c, x.Link) == id
		if about && keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// linkRequest is the request a decision link on c decides.
func linkRequest(t testing.TB, c *cloud.Cloud, link string) string {
	t.Helper()
	return attrString(linkItem(t, c, link)["request_id"])
}

// approvalLink waits for the decision link about id sent on channel
// (email or sms) and returns it.
func approvalLink(t testing.TB, c *cloud.Cloud, id, channel string) string {
	t.Helper()
	var link string
	waitFor(t, channel+" with the decision link for "+id, 30*time.Second, func() bool {
		for _, m := range messagesAbout(t, c, id, func(m mail) bool { return m.Channel == channel && m.Link != "" }) {
			link = m.Link
			return true
		}
		return false
	})
	return link
}

// eventsOf returns the details of id's events of type typ that pass keep.
func eventsOf(t testing.TB, c *cloud.Cloud, id, typ string, keep func(map[string]any) bool) []map[string]any {
	t.Helper()
	r := apiCall(t, c, "alice", "GET", "/v1/requests/"+id, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("get %s: %d %s", id, r.Code, r.Body)
	}
	hist, _ := r.JSON()["history"].([]any)
	var out []map[string]any
	for _, e := range hist {
		ev, _ := e.(map[string]any)
		d, _ := ev["detail"].(map[string]any)
		if ev["type"] == typ && keep(d) {
			out = append(out, d)
		}
	}
	return out
}

func sfnClient(c *cloud.Cloud) *sfn.Client {
	return sfn.NewFromConfig(provision.EmulatorConfig(c.EdgeURL, cloud.Region))
}

func executionArn(c *cloud.Cloud, id string) string {
	return strings.Replace(c.StateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + id
}

// waitExecution waits until id's execution on c has the status want.
func waitExecution(t testing.TB, c *cloud.Cloud, id, want string) {
	t.Helper()
	arn := executionArn(c, id)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		out, err := sfnClient(c).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
		if err != nil {
			t.Fatal(err)
		}
		switch got := string(out.Status); {
		case got == want:
			return
		case got != string(sfntypes.ExecutionStatusRunning):
			t.Fatalf("execution of %s ended %s, want %s: %s", id, got, want, executionTrail(t, c, id))
		case time.Now().After(deadline):
			t.Fatalf("execution of %s still running after 30s, want %s: %s", id, want, executionTrail(t, c, id))
		}
	}
}

// executionTrail renders id's execution on c for a failure message: its
// status and the types of its history events, failures with their error.
func executionTrail(t testing.TB, c *cloud.Cloud, id string) string {
	t.Helper()
	arn := executionArn(c, id)
	ctx := context.Background()
	out, err := sfnClient(c).DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		return err.Error()
	}
	trail := []string{string(out.Status) + ":"}
	p := sfn.NewGetExecutionHistoryPaginator(sfnClient(c), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return strings.Join(append(trail, err.Error()), " ")
		}
		for _, e := range page.Events {
			s := string(e.Type)
			if d := e.TaskFailedEventDetails; d != nil {
				s += "(" + aws.ToString(d.Error) + ")"
			}
			if d := e.StateEnteredEventDetails; d != nil {
				s += "(" + aws.ToString(d.Name) + ")"
			}
			trail = append(trail, s)
		}
	}
	return strings.Join(trail, " ")
}

// failedTasks counts the task failures with error name errName in id's
// execution history on c.
func failedTasks(t testing.TB, c *cloud.Cloud, id, errName string) int {
	t.Helper()
	arn := executionArn(c, id)
	n := 0
	p := sfn.NewGetExecutionHistoryPaginator(sfnClient(c), &sfn.GetExecutionHistoryInput{ExecutionArn: &arn})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page.Events {
			if d := e.TaskFailedEventDetails; d != nil && aws.ToString(d.Error) == errName {
				n++
			}
		}
	}
	return n
}

// grantRetries reads from the state machine how many times the Grant
// state retries a crashed function (Runtime.ExitError).
func grantRetries(t testing.TB) int {
	t.Helper()
	b, err := os.ReadFile("../../statemachine/access.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	var asl struct {
		States map[string]struct {
			Retry []struct {
				ErrorEquals []string
				MaxAttempts *int
			}
		}
	}
	if err := json.Unmarshal(b, &asl); err != nil {
		t.Fatal(err)
	}
	for _, r := range asl.States["Grant"].Retry {
		if slices.Contains(r.ErrorEquals, "Runtime.ExitError") || slices.Contains(r.ErrorEquals, "States.ALL") {
			if r.MaxAttempts == nil {
				return 3 // the ASL default
			}
			return *r.MaxAttempts
		}
	}
	t.Fatal("the Grant state does not retry Runtime.ExitError: a crashed grant function fails the request at once")
	return 0
}

// TestEmulatorDies kills the AWS emulator under a running private cloud.
// Nothing hangs: the health endpoint says what happened, API calls are
// answered at once with a 503 that names the emulator, the edge answers
// AWS calls the same way, and the cloud's log says it once.
func TestEmulatorDies(t *testing.T) {
	t.Parallel()
	c, logs := ownCloud(t, faultPolicy, "jit-crash", "jit-channels")
	id := createOn(t, c, "alice", "crashy", "10m", "created before the emulator dies")

	if code, h := health(t, c.APIURL); code != http.StatusOK || h.OK != true || h.Emulator != "running" {
		t.Fatalf("health of a running cloud: %d %+v", code, h)
	}

	// A stopped (hung) emulator is reported as not answering, not waited
	// for; it answers again once it continues.
	if err := syscall.Kill(c.Moto.PID(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	code, h := health(t, c.EdgeURL)
	if err := syscall.Kill(c.Moto.PID(), syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	if code != http.StatusServiceUnavailable || h.OK || !strings.HasPrefix(h.Emulator, "not answering") || !strings.Contains(h.Problem, "does not answer") {
		t.Fatalf("health of a stopped emulator: %d %+v", code, h)
	}
	waitFor(t, "the emulator to answer again", 30*time.Second, func() bool {
		code, _ := health(t, c.APIURL)
		return code == http.StatusOK
	})

	if err := syscall.Kill(-c.Moto.PID(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Moto.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("moto did not exit after SIGKILL")
	}
	for _, base := range []string{c.APIURL, c.EdgeURL} {
		code, h := health(t, base)
		if code != http.StatusServiceUnavailable || h.OK || h.Emulator != "exited (signal: killed)" || !strings.Contains(h.Problem, "AWS emulator (moto") {
			t.Errorf("health on %s after the emulator died: %d %+v", base, code, h)
		}
	}

	// The HTTP API: a read and a write.
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/requests/" + id, nil},
		{"POST", "/v1/requests", map[string]string{"resource": "crashy", "duration": "5m", "reason": "while the emulator is dead"}},
	} {
		start := time.Now()
		r := apiCall(t, c, "alice", tc.method, tc.path, tc.body)
		took := time.Since(start)
		msg, _ := r.JSON()["message"].(string)
		if r.Code != http.StatusServiceUnavailable || !strings.Contains(msg, "AWS emulator (moto") || !strings.Contains(msg, "exited (signal: killed)") {
			t.Errorf("%s %s with the emulator dead: %d %s", tc.method, tc.path, r.Code, r.Body)
		}
		t.Logf("%s %s answered %d in %s", tc.method, tc.path, r.Code, took.Round(time.Millisecond))
	}

	// An AWS call on the edge (what the functions and the CLI make).
	start := time.Now()
	r, err := doHTTP(c.EdgeURL, "POST", "/", []byte(`{"TableName":"AccessTable"}`),
		map[string]string{"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.DescribeTable"}, signing{})
	if err != nil {
		t.Fatal(err)
	}
	if msg, _ := r.JSON()["message"].(string); r.Code != http.StatusServiceUnavailable || r.Header.Get("X-Amzn-Errortype") != "EmulatorExited" || !strings.Contains(msg, "AWS emulator (moto") {
		t.Errorf("DynamoDB call on the edge with the emulator dead: %d %s %s", r.Code, r.Header.Get("X-Amzn-Errortype"), r.Body)
	}
	t.Logf("edge answered %d in %s", r.Code, time.Since(start).Round(time.Millisecond))

	// Once, as an error of its own (function errors may quote the 503 too).
	line := fmt.Sprintf(`level=ERROR msg="the AWS emulator (moto, pid %d, %s) exited (signal: killed)`, c.Moto.PID(), c.MotoURL)
	waitFor(t, "the cloud's log to report the emulator's death", 10*time.Second, func() bool {
		return strings.Contains(logs.String(), line)
	})
	if n := strings.Count(logs.String(), line); n != 1 {
		t.Errorf("the emulator's death logged %d times, want once", n)
	}
}

// health reads GET /_local/health on base.
func health(t testing.TB, base string) (int, cloud.Health) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Get(base + "/_local/health")
	if err != nil {
		t.Fatalf("health on %s: %v", base, err)
	}
	defer resp.Body.Close()
	var h cloud.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("health on %s: %v", base, err)
	}
	return resp.StatusCode, h
}
