package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"

	"github.com/jitaccess/jit/shared/local/cloud"
	"github.com/jitaccess/jit/shared/local/provision"
)

// activeRequest asks for sandbox-admin as alice for d and approves it.
func activeRequest(t *testing.T, d string) string {
	t.Helper()
	id := ask(t, "alice", map[string]any{"resource": "sandbox-admin", "duration": d})
	if code, body := decide(t, linkFor(t, "carol@example.com", id), "approve"); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	return id
}

// revokedSessions returns the role's jit-revoked-sessions inline policy.
func revokedSessions(t *testing.T, role string) string {
	t.Helper()
	out, err := iam.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region)).GetRolePolicy(context.Background(),
		&iam.GetRolePolicyInput{RoleName: aws.String(role), PolicyName: aws.String("jit-revoked-sessions")})
	if err != nil {
		return ""
	}
	doc, _ := url.QueryUnescape(aws.ToString(out.PolicyDocument))
	return doc
}

func TestEarlyRevoke(t *testing.T) {
	t.Parallel()
	id := activeRequest(t, "1h")
	if code, _ := call(t, "bob", "POST", "/v1/requests/"+id+"/revoke", nil); code != http.StatusNotFound {
		t.Fatalf("bob revoking alice's grant: %d, want 404", code)
	}
	asked := time.Now()
	code, got := call(t, "alice", "POST", "/v1/requests/"+id+"/revoke", nil)
	if code != http.StatusAccepted {
		t.Fatalf("revoke: %d %v", code, got)
	}
	waitFor(t, id+" revoked", 20*time.Second, func() bool { return status(t, id) == "revoked" })
	t.Logf("revoke POST -> revoked: %s", time.Since(asked).Round(time.Millisecond))
	if doc := trustPolicy(t, "jit-sandbox-admin"); strings.Contains(doc, "Jit"+id) {
		t.Fatalf("statement still in the trust policy after revoke:\n%s", doc)
	}
	deny := revokedSessions(t, "jit-sandbox-admin")
	for _, want := range []string{"jit-" + id, `"Effect":"Deny"`, `"aws:userid"`, ":alice@example.com", `"aws:TokenIssueTime"`} {
		if !strings.Contains(deny, want) {
			t.Errorf("revoked-sessions policy lacks %s:\n%s", want, deny)
		}
	}
	_, got = call(t, "alice", "GET", "/v1/requests/"+id, nil)
	hist := lifecycle(got["history"].([]any))
	last := hist[len(hist)-1]
	if last["type"] != "revoked" || !strings.Contains(last["actor"].(string), "alice@example.com") {
		t.Fatalf("last event = %v", last)
	}
	if code, _ := call(t, "alice", "POST", "/v1/requests/"+id+"/revoke", nil); code != http.StatusConflict {
		t.Fatalf("second revoke: %d, want 409", code)
	}
	golden(t, "revoked_early", id)
}

func TestExtend(t *testing.T) {
	t.Parallel()
	id := activeRequest(t, "8s")
	_, before := call(t, "alice", "GET", "/v1/requests/"+id, nil)
	was, _ := time.Parse(time.RFC3339, before["expires_at"].(string))
	// The requester alone may not extend past what auto-approval covers.
	code, got := call(t, "alice", "POST", "/v1/requests/"+id+"/extend", map[string]string{"by": "30m"})
	if code != http.StatusForbidden || got["error"] != "needs_approval" {
		t.Fatalf("requester extending: %d %v", code, got)
	}
	if code, got := call(t, "carol", "POST", "/v1/requests/"+id+"/extend", map[string]string{"by": "5h"}); code != http.StatusBadRequest {
		t.Fatalf("extending past max_duration: %d %v", code, got)
	}
	// An approver extends it.
	code, got = call(t, "carol", "POST", "/v1/requests/"+id+"/extend", map[string]string{"by": "20s"})
	if code != http.StatusOK {
		t.Fatalf("approver extending: %d %v", code, got)
	}
	now, _ := time.Parse(time.RFC3339, got["expires_at"].(string))
	if !now.Equal(was.Add(20 * time.Second)) {
		t.Fatalf("expires_at %s, want %s", now, was.Add(20*time.Second))
	}
	// The trust statement carries the new expiry.
	waitFor(t, "trust statement refreshed", 15*time.Second, func() bool {
		return strings.Contains(trustPolicy(t, "jit-sandbox-admin"), now.UTC().Format(time.RFC3339))
	})
	// Still active after the original expiry, expired after the new one.
	time.Sleep(time.Until(was.Add(2 * time.Second)))
	if s := status(t, id); s != "active" {
		t.Fatalf("after the original expiry status = %s, want active", s)
	}
	waitFor(t, id+" expired", 40*time.Second, func() bool { return status(t, id) == "expired" })
	if h := strings.Join(history(t, "alice", id), " "); !strings.Contains(h, "active extended expired") {
		t.Fatalf("history = %s", h)
	}
	golden(t, "extended", id)
}

func TestRevokeFailureReconciled(t *testing.T) {
	// Not parallel: it makes IAM trust edits fail for everyone.
	id := activeRequest(t, "5s")
	lc.Faults.Add(cloud.Fault{Service: "iam", Operation: "UpdateAssumeRolePolicy", Code: "ServiceFailure"})
	defer lc.Faults.Clear()
	waitFor(t, "revoke to give up", 60*time.Second, func() bool {
		return strings.Contains(strings.Join(history(t, "alice", id), " "), "revoke_failed")
	})
	if s := status(t, id); s != "active" {
		t.Fatalf("after a failed revoke status = %s, want active (left for the reconciler)", s)
	}
	if doc := trustPolicy(t, "jit-sandbox-admin"); !strings.Contains(doc, "Jit"+id) {
		t.Fatalf("statement gone although the revoke failed?\n%s", doc)
	}
	waitFor(t, "execution to fail", 10*time.Second, func() bool { return executionStatus(t, id) == "FAILED" })
	lc.Faults.Clear()
	// The reconciler, run on demand, removes what was left behind.
	fn := lambda.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))
	out, err := fn.Invoke(context.Background(), &lambda.InvokeInput{FunctionName: aws.String("ReconcileFunction"), Payload: []byte(`{"grace_seconds":0}`)})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("reconcile: %v %s", err, out.Payload)
	}
	var report struct{ Removed []string }
	if err := json.Unmarshal(out.Payload, &report); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(report.Removed, " "), id) {
		t.Fatalf("reconciler report %s does not name %s", out.Payload, id)
	}
	if doc := trustPolicy(t, "jit-sandbox-admin"); strings.Contains(doc, "Jit"+id) {
		t.Fatalf("statement still there after reconcile:\n%s", doc)
	}
	if s := status(t, id); s != "expired" {
		t.Fatalf("after reconcile status = %s, want expired", s)
	}
	if h := strings.Join(history(t, "alice", id), " "); !strings.HasSuffix(h, "revoke_failed reconciled expired") {
		t.Fatalf("history = %s", h)
	}
	golden(t, "revoke_failed_reconciled", id)
}

// TestRevokeOnUnmanagedRole: a role that lost its jit:managed tag while a
// grant was active cannot be changed by the service any more; the revoke
// fails loudly (revoke_failed, the alarm metric) instead of recording
// revoked, and the reconciler removes the grant once the tag is back.
func TestRevokeOnUnmanagedRole(t *testing.T) {
	// Not parallel: it untags the role everyone's grants use.
	id := activeRequest(t, "1h")
	ctx := context.Background()
	client := iam.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))
	role := aws.String("jit-sandbox-admin")
	retag := func() {
		if _, err := client.TagRole(ctx, &iam.TagRoleInput{RoleName: role, Tags: []iamtypes.Tag{{Key: aws.String("jit:managed"), Value: aws.String("true")}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := client.UntagRole(ctx, &iam.UntagRoleInput{RoleName: role, TagKeys: []string{"jit:managed"}}); err != nil {
		t.Fatal(err)
	}
	defer retag()
	if code, got := call(t, "alice", "POST", "/v1/requests/"+id+"/revoke", nil); code != http.StatusAccepted {
		t.Fatalf("revoke: %d %v", code, got)
	}
	waitFor(t, "revoke to give up", 60*time.Second, func() bool {
		return strings.Contains(strings.Join(history(t, "alice", id), " "), "revoke_failed")
	})
	if s := status(t, id); s != "active" {
		t.Fatalf("after a revoke that removed nothing, status = %s, want active (left for the reconciler)", s)
	}
	if doc := trustPolicy(t, "jit-sandbox-admin"); !strings.Contains(doc, "Jit"+id) {
		t.Fatalf("statement gone although the role is not managed?\n%s", doc)
	}
	waitFor(t, "execution to fail", 10*time.Second, func() bool { return executionStatus(t, id) == "FAILED" })
	retag()
	// The reconciler retries the early revoke, not only expired grants.
	fn := lambda.NewFromConfig(provision.EmulatorConfig(lc.EdgeURL, cloud.Region))
	out, err := fn.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("ReconcileFunction"), Payload: []byte(`{"grace_seconds":0}`)})
	if err != nil || out.FunctionError != nil {
		t.Fatalf("reconcile: %v %s", err, out.Payload)
	}
	if !strings.Contains(string(out.Payload), id) {
		t.Fatalf("reconciler report %s does not name %s", out.Payload, id)
	}
	if doc := trustPolicy(t, "jit-sandbox-admin"); strings.Contains(doc, "Jit"+id) {
		t.Fatalf("statement still there after reconcile:\n%s", doc)
	}
	if deny := revokedSessions(t, "jit-sandbox-admin"); !strings.Contains(deny, "jit-"+id) {
		t.Errorf("revoked-sessions policy does not deny the grant's sessions:\n%s", deny)
	}
	if s := status(t, id); s != "revoked" {
		t.Fatalf("after reconcile status = %s, want revoked", s)
	}
}

func TestGrantRetriesThrottling(t *testing.T) {
	// Not parallel: it makes IAM trust edits fail for everyone, a few times.
	id := ask(t, "alice", map[string]any{"resource": "sandbox-admin", "duration": "1m"})
	link := linkFor(t, "carol@example.com", id)
	// More throttles than the SDK retries by itself, so the state machine's
	// Retry on TransientError has to take over.
	lc.Faults.Add(cloud.Fault{Service: "iam", Operation: "UpdateAssumeRolePolicy", Code: "Throttling", Count: 4})
	defer lc.Faults.Clear()
	if code, body := decide(t, link, "approve"); code != http.StatusOK {
		t.Fatalf("approve: %d %s", code, body)
	}
	waitFor(t, id+" active despite throttling", 60*time.Second, func() bool { return status(t, id) == "active" })
	if doc := trustPolicy(t, "jit-sandbox-admin"); !strings.Contains(doc, "Jit"+id) {
		t.Fatalf("active without its statement:\n%s", doc)
	}
	if n := lc.Faults.Pending(); n != 0 {
		t.Fatalf("%d injected throttles were never hit", n)
	}
}
