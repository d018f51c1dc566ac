// Package e2e runs the real system end to end on the local cloud: the real
// ASL on moto's Step Functions interpreter, the real function binaries
// behind the local Lambda runner, SigV4-signed HTTP calls through the local
// API gateway, and assertions on what AWS APIs (DynamoDB, IAM, SFN) hold.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/gateway"
	"github.com/jitaccess/jit/shared/local/provision"
	"github.com/jitaccess/jit/shared/local/testenv"
)

var lc *cloud.Cloud

func TestMain(m *testing.M) {
	if testenv.SkipMain("end-to-end tests") {
		return
	}
	os.Exit(run(m))
}

func run(m *testing.M) int {
	c, stop, err := cloud.StartForTests("../..", "test/e2e/testdata/policies.yaml")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	lc = c
	return m.Run()
}

// identity returns a local dev identity by name.
func identity(t testing.TB, name string) gateway.Identity {
	t.Helper()
	return identityOf(t, lc, name)
}

// call sends a SigV4-signed request as who (unsigned when who is "").
func call(t testing.TB, who, method, path string, body any) (int, map[string]any) {
	t.Helper()
	return callWith(t, who, method, path, body, nil)
}

// callRaw sends a raw (YAML) body, signed.
func callRaw(t testing.TB, who, method, path, body string) (int, map[string]any) {
	t.Helper()
	return callRawWith(t, who, method, path, body, nil)
}

func callRawWith(t testing.TB, who, method, path, body string, headers map[string]string) (int, map[string]any) {
	t.Helper()
	return send(t, who, method, path, []byte(body), "application/yaml", headers)
}

func callWith(t testing.TB, who, method, path string, body any, headers map[string]string) (int, map[string]any) {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	ct := ""
	if body != nil {
		ct = "application/json"
	}
	return send(t, who, method, path, raw, ct, headers)
}

func send(t testing.TB, who, method, path string, raw []byte, contentType string, headers map[string]string) (int, map[string]any) {
	t.Helper()
	all := map[string]string{}
	if contentType != "" {
		all["Content-Type"] = contentType
	}
	for k, v := range headers { // headers win over contentType
		all[http.CanonicalHeaderKey(k)] = v
	}
	r, err := lc.CallAPI(context.Background(), who, method, path, raw, all)
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Object()
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return r.Code, out
}

// create asks for sandbox-admin as alice and returns the request id.
func create(t testing.TB, resource, duration string) string {
	t.Helper()
	status, body := call(t, "alice", "POST", "/v1/requests", map[string]string{
		"resource": resource, "duration": duration, "reason": "end-to-end test " + t.Name(),
	})
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, body)
	}
	if body["status"] != "pending" {
		t.Fatalf("new request status = %v, want pending", body["status"])
	}
	return body["id"].(string)
}

// waitFor polls until cond holds or the deadline passes.
// deliveryEvents are recorded as messages go out and as decision pages
// are opened: where they land among the lifecycle's events depends on
// timing, so lifecycle assertions leave them out (golden_test.go checks
// them on their own).
var deliveryEvents = map[string]bool{"notification_sent": true, "link_opened": true}

// lifecycle is a request's history without its delivery events.
func lifecycle(hist []any) []map[string]any {
	var out []map[string]any
	for _, e := range hist {
		ev := e.(map[string]any)
		if !deliveryEvents[fmt.Sprint(ev["type"])] {
			out = append(out, ev)
		}
	}
	return out
}

func waitFor(t testing.TB, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func status(t testing.TB, id string) string {
	t.Helper()
	code, body := call(t, "alice", "GET", "/v1/requests/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("get %s: %d %v", id, code, body)
	}
	return body["status"].(string)
}

// decisionLink waits for the approval email about id and returns its link.
func decisionLink(t testing.TB, id string) string {
	t.Helper()
	var link string
	waitFor(t, "approval email for "+id, 30*time.Second, func() bool {
		if err := lc.Inbox.Poll(context.Background()); err != nil {
			// The emulator sometimes fails this read while it is busy.
			t.Logf("inbox poll: %v (retrying)", err)
			return false
		}
		for _, m := range lc.Inbox.Messages() {
			if m.To != "carol@example.com" || !strings.Contains(m.Body, id) {
				continue
			}
			for _, l := range m.Links {
				if strings.HasPrefix(l, lc.APIURL+"/d/") {
					link = strings.SplitN(l, "?", 2)[0]
					return true
				}
			}
		}
		return false
	})
	return link
}

func page(t testing.TB, method, link string, form url.Values) (int, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == "GET" {
		resp, err = http.Get(link)
	} else {
		resp, err = http.PostForm(link, form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func trustPolicy(t testing.TB, role string) string {
	t.Helper()
	out, err := iam.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region)).GetRole(context.Background(), &iam.GetRoleInput{RoleName: aws.String(role)})
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := url.QueryUnescape(aws.ToString(out.Role.AssumeRolePolicyDocument))
	return doc
}

func executionStatus(t testing.TB, id string) string {
	t.Helper()
	arn := strings.Replace(lc.StateMachineArn, ":stateMachine:", ":execution:", 1) + ":" + id
	out, err := sfn.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region)).DescribeExecution(context.Background(), &sfn.DescribeExecutionInput{ExecutionArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	return string(out.Status)
}

func TestApproveGrantExpire(t *testing.T) {
	t.Parallel()
	start := time.Now()
	id := create(t, "sandbox-admin", "6s")
	link := decisionLink(t, id)
	t.Logf("request accepted -> approver email: %s", time.Since(start).Round(time.Millisecond))

	code, body := page(t, "GET", link, nil)
	if code != http.StatusOK || !strings.Contains(body, "end-to-end test") || !strings.Contains(body, `value="approve"`) {
		t.Fatalf("decision page: %d\n%s", code, body)
	}
	if got := status(t, id); got != "pending" {
		t.Fatalf("after GET of the link, status = %s, want pending (GET must change nothing)", got)
	}

	approved := time.Now()
	code, body = page(t, "POST", link, url.Values{"decision": {"approve"}})
	if code != http.StatusOK || !strings.Contains(body, "You approved") {
		t.Fatalf("approve: %d\n%s", code, body)
	}
	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	t.Logf("approve POST -> grant applied: %s", time.Since(approved).Round(time.Millisecond))

	sid := "Jit" + id
	doc := trustPolicy(t, "jit-sandbox-admin")
	for _, want := range []string{sid, `"aws:CurrentTime"`, `"sts:RoleSessionName":"alice@example.com"`, "assumed-role/Engineer/alice@example.com"} {
		if !strings.Contains(doc, want) {
			t.Errorf("trust policy lacks %s:\n%s", want, doc)
		}
	}

	// The link is spent: a replay is refused and changes nothing.
	code, body = page(t, "POST", link, url.Values{"decision": {"deny"}})
	if code != http.StatusConflict || !strings.Contains(body, "already approved") {
		t.Fatalf("replayed link: %d\n%s", code, body)
	}

	waitFor(t, id+" expired", 60*time.Second, func() bool { return status(t, id) == "expired" })
	if doc := trustPolicy(t, "jit-sandbox-admin"); strings.Contains(doc, sid) {
		t.Fatalf("statement still in trust policy after expiry:\n%s", doc)
	}
	waitFor(t, "execution to succeed", 10*time.Second, func() bool { return executionStatus(t, id) == "SUCCEEDED" })

	types := history(t, "alice", id)
	want := "created policy_evaluated approval_requested approved active expired"
	if strings.Join(types, " ") != want {
		t.Fatalf("history = %v, want %s", types, want)
	}
	// The granted event holds the exact statement the grant added.
	_, got := call(t, "alice", "GET", "/v1/requests/"+id, nil)
	for _, ev := range lifecycle(got["history"].([]any)) {
		if ev["type"] != "active" {
			continue
		}
		statement := fmt.Sprint(ev["detail"].(map[string]any)["statement"])
		for _, want := range []string{`"Sid":"Jit` + id + `"`, `"Action":["sts:AssumeRole","sts:SetSourceIdentity"]`, `"sts:SourceIdentity":"jit-` + id + `"`, `"aws:CurrentTime"`, `"sts:RoleSessionName":"alice@example.com"`} {
			if !strings.Contains(statement, want) {
				t.Errorf("granted event's statement lacks %s: %s", want, statement)
			}
		}
	}
	golden(t, "approved_expired", id)
}

func TestDeny(t *testing.T) {
	t.Parallel()
	id := create(t, "sandbox-admin", "10m")
	link := decisionLink(t, id)
	code, body := page(t, "POST", link, url.Values{"decision": {"deny"}, "comment": {"<b>not today</b>"}})
	if code != http.StatusOK || !strings.Contains(body, "You denied") {
		t.Fatalf("deny: %d\n%s", code, body)
	}
	if got := status(t, id); got != "denied" {
		t.Fatalf("status = %s, want denied", got)
	}
	waitFor(t, "execution to succeed", 10*time.Second, func() bool { return executionStatus(t, id) == "SUCCEEDED" })
	if doc := trustPolicy(t, "jit-sandbox-admin"); strings.Contains(doc, "Jit"+id) {
		t.Fatalf("denied request was granted:\n%s", doc)
	}
	_, got := call(t, "alice", "GET", "/v1/requests/"+id, nil)
	hist := lifecycle(got["history"].([]any))
	last := hist[len(hist)-1]
	if last["type"] != "denied" || last["actor"] != "carol@example.com" || last["detail"].(map[string]any)["comment"] != "<b>not today</b>" {
		t.Fatalf("last event = %v", last)
	}
	// Opening the link again shows what happened, and the comment that was
	// stored stays escaped wherever it is shown.
	code, body = page(t, "GET", link, nil)
	if code != http.StatusOK || !strings.Contains(body, "already denied") || strings.Contains(body, "<b>") {
		t.Fatalf("spent link page: %d\n%s", code, body)
	}
	golden(t, "denied", id)
}

func TestGrantFailureEndsFailed(t *testing.T) {
	t.Parallel()
	id := create(t, "legacy-admin", "1m")
	link := decisionLink(t, id)
	if code, body := page(t, "POST", link, url.Values{"decision": {"approve"}}); code != http.StatusOK {
		t.Fatalf("approve: %d\n%s", code, body)
	}
	waitFor(t, id+" failed", 60*time.Second, func() bool { return status(t, id) == "failed" })
	waitFor(t, "execution to fail", 10*time.Second, func() bool { return executionStatus(t, id) == "FAILED" })
	if doc := trustPolicy(t, "legacy-admin"); strings.Contains(doc, "Jit"+id) {
		t.Fatalf("unmanaged role was changed:\n%s", doc)
	}
	// The requester is told.
	waitFor(t, "failure message to alice", 20*time.Second, func() bool {
		if err := lc.Inbox.Poll(context.Background()); err != nil {
			// The emulator sometimes fails this read while it is busy.
			t.Logf("inbox poll: %v (retrying)", err)
			return false
		}
		for _, m := range lc.Inbox.Messages() {
			if m.To == "alice@example.com" && strings.Contains(m.Body, id) && strings.Contains(strings.ToLower(m.Subject+m.Body), "fail") {
				return true
			}
		}
		return false
	})
	golden(t, "grant_failed", id)
}

func TestListAndAuth(t *testing.T) {
	t.Parallel()
	id := create(t, "sandbox-admin", "10m")
	code, body := call(t, "alice", "GET", "/v1/requests?limit=100", nil)
	if code != http.StatusOK {
		t.Fatalf("list: %d %v", code, body)
	}
	found := false
	for _, r := range body["requests"].([]any) {
		if r.(map[string]any)["id"] == id {
			found = true
		}
	}
	if !found {
		t.Fatalf("list does not show %s", id)
	}
	// Someone else's request does not exist for bob.
	if code, _ := call(t, "bob", "GET", "/v1/requests/"+id, nil); code != http.StatusNotFound {
		t.Fatalf("bob reading alice's request: %d, want 404", code)
	}
	if code, body := call(t, "", "GET", "/v1/requests", nil); code != http.StatusForbidden {
		t.Fatalf("unsigned: %d %v, want 403", code, body)
	}
	if code, body := call(t, "frank", "POST", "/v1/requests", map[string]string{"resource": "sandbox-admin", "duration": "5m", "reason": "auditor wants in"}); code != http.StatusForbidden {
		t.Fatalf("auditor requesting: %d %v, want 403", code, body)
	}
	tests := []struct {
		name string
		give any
		want string
	}{
		{"unknown resource", map[string]string{"resource": "nope", "duration": "5m", "reason": "valid reason"}, `resource: "nope" is not a resource`},
		{"too long", map[string]string{"resource": "sandbox-admin", "duration": "5h", "reason": "valid reason"}, "exceeds the 4h maximum"},
		{"unparseable", map[string]string{"resource": "sandbox-admin", "duration": "soon", "reason": "valid reason"}, `"soon" is not a duration`},
		{"unknown field", map[string]any{"resource": "sandbox-admin", "duration": "5m", "reason": "valid reason", "admin": true}, `unknown field "admin"`},
		{"short reason", map[string]string{"resource": "sandbox-admin", "duration": "5m", "reason": "x"}, "reason: must be at least 5 characters"},
	}
	for _, tt := range tests {
		code, body := call(t, "alice", "POST", "/v1/requests", tt.give)
		if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), tt.want) {
			t.Errorf("%s: %d %v, want 400 with %q", tt.name, code, body, tt.want)
		}
	}
}

func TestIdempotentCreate(t *testing.T) {
	t.Parallel()
	key := "ci-run-" + fmt.Sprint(time.Now().UnixNano())
	body := map[string]string{"resource": "sandbox-admin", "duration": "10m", "reason": "deploy from CI"}
	const n = 20
	ids := make(chan string, n)
	codes := make(chan int, n)
	for i := 0; i < n; i++ {
		go func() {
			code, got := callWith(t, "ci-bot", "POST", "/v1/requests", body, map[string]string{"Idempotency-Key": key})
			codes <- code
			ids <- fmt.Sprint(got["id"])
		}()
	}
	seen := map[string]bool{}
	created := 0
	for i := 0; i < n; i++ {
		if c := <-codes; c == http.StatusCreated {
			created++
		} else if c != http.StatusOK {
			t.Errorf("retry answered %d", c)
		}
		seen[<-ids] = true
	}
	if created != 1 || len(seen) != 1 {
		t.Fatalf("%d concurrent creates with one key: %d created, ids %v; want exactly one request", n, created, seen)
	}
	body["reason"] = "a different request"
	if code, got := callWith(t, "ci-bot", "POST", "/v1/requests", body, map[string]string{"Idempotency-Key": key}); code != http.StatusUnprocessableEntity {
		t.Fatalf("reused key for another request: %d %v, want 422", code, got)
	}
}
