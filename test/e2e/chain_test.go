package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// ask creates a request as who and returns its id.
func ask(t testing.TB, who string, body map[string]any) string {
	t.Helper()
	if _, ok := body["reason"]; !ok {
		body["reason"] = "end-to-end test " + t.Name()
	}
	code, got := call(t, who, "POST", "/v1/requests", body)
	if code != http.StatusCreated {
		t.Fatalf("create %v: %d %v", body, code, got)
	}
	return got["id"].(string)
}

// linkFor waits for the approval email to approver about id. The wait
// covers an escalation level's timeout plus a slow delivery under -race.
func linkFor(t testing.TB, approver, id string) string {
	t.Helper()
	var link string
	waitFor(t, "approval email to "+approver+" for "+id, 90*time.Second, func() bool {
		if err := lc.Inbox.Poll(context.Background()); err != nil {
			// The emulator sometimes fails this read while it is busy.
			t.Logf("inbox poll: %v (retrying)", err)
			return false
		}
		for _, m := range lc.Inbox.Messages() {
			if m.To != approver || !strings.Contains(m.Body, id) {
				continue
			}
			// Only the decision link: an email may also link a ticket.
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

// mailsTo counts the messages to addr mentioning id whose subject has word.
func mailsTo(t testing.TB, addr, id, word string) int {
	t.Helper()
	if err := lc.Inbox.Poll(context.Background()); err != nil {
		t.Logf("inbox poll: %v", err)
	}
	n := 0
	for _, m := range lc.Inbox.Messages() {
		if m.To == addr && strings.Contains(m.Body, id) && strings.Contains(m.Subject, word) {
			n++
		}
	}
	return n
}

func decide(t testing.TB, link, decision string) (int, string) {
	t.Helper()
	return page(t, "POST", link, url.Values{"decision": {decision}})
}

func history(t testing.TB, who, id string) []string {
	t.Helper()
	_, got := call(t, who, "GET", "/v1/requests/"+id, nil)
	var types []string
	for _, e := range lifecycle(got["history"].([]any)) {
		types = append(types, e["type"].(string))
	}
	return types
}

func statusAs(t testing.TB, who, id string) string {
	t.Helper()
	code, body := call(t, who, "GET", "/v1/requests/"+id, nil)
	if code != http.StatusOK {
		t.Fatalf("get %s: %d %v", id, code, body)
	}
	return body["status"].(string)
}

func TestTwoOfThree(t *testing.T) {
	t.Parallel()
	id := ask(t, "alice", map[string]any{"resource": "quorum", "duration": "1m"})
	carol, dave := linkFor(t, "carol@example.com", id), linkFor(t, "dave@example.com", id)
	if code, body := decide(t, carol, "approve"); code != http.StatusOK || !strings.Contains(body, "1 of 2 needed") {
		t.Fatalf("first approval: %d %s", code, body)
	}
	if got := status(t, id); got != "pending" {
		t.Fatalf("after 1 of 2 approvals status = %s, want pending", got)
	}
	// The same person cannot count twice.
	if code, _ := decide(t, carol, "approve"); code != http.StatusConflict {
		t.Fatalf("carol approving again: %d, want 409", code)
	}
	if code, body := decide(t, dave, "approve"); code != http.StatusOK || !strings.Contains(body, "You approved") {
		t.Fatalf("second approval: %d %s", code, body)
	}
	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	// The third approver's link no longer decides anything.
	frank := linkFor(t, "frank@example.com", id)
	if code, body := decide(t, frank, "deny"); code != http.StatusConflict || !strings.Contains(body, "already approved") {
		t.Fatalf("late deny: %d %s", code, body)
	}
	if h := strings.Join(history(t, "alice", id), " "); h != "created policy_evaluated approval_requested approval approved active" {
		t.Fatalf("history = %s", h)
	}
	golden(t, "two_of_three", id)
}

func TestTwoLevelsWithTicket(t *testing.T) {
	t.Parallel()
	// A ticket is required and must match the pattern.
	code, body := call(t, "alice", "POST", "/v1/requests", map[string]any{"resource": "two-levels", "duration": "1m", "reason": "deploy fix", "ticket": "bug 7"})
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(body["message"]), `ticket: "bug 7" does not match`) {
		t.Fatalf("bad ticket: %d %v", code, body)
	}
	id := ask(t, "alice", map[string]any{"resource": "two-levels", "duration": "1m", "ticket": "INC-42"})
	lead := linkFor(t, "carol@example.com", id)
	_, lp := page(t, "GET", lead, nil)
	if !strings.Contains(lp, "INC-42") {
		t.Errorf("decision page lacks the ticket")
	}
	if mailsTo(t, "dave@example.com", id, "Approve") != 0 {
		t.Fatal("level 2 was asked before level 1 decided")
	}
	if code, body := decide(t, lead, "approve"); code != http.StatusOK || !strings.Contains(body, "now goes to level 2") {
		t.Fatalf("level 1 approval: %d %s", code, body)
	}
	sec := linkFor(t, "dave@example.com", id)
	// A level-1 link does nothing once the request moved on.
	if code, _ := decide(t, lead, "deny"); code != http.StatusConflict {
		t.Fatalf("reused level-1 link: %d, want 409", code)
	}
	if code, body := decide(t, sec, "approve"); code != http.StatusOK || !strings.Contains(body, "You approved") {
		t.Fatalf("level 2 approval: %d %s", code, body)
	}
	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	_, got := call(t, "alice", "GET", "/v1/requests/"+id, nil)
	if got["ticket_url"] != "https://tracker.example.com/browse/INC-42" {
		t.Errorf("ticket_url = %v", got["ticket_url"])
	}
	golden(t, "two_levels", id)
}

func TestDenyAtLevelTwo(t *testing.T) {
	t.Parallel()
	id := ask(t, "bob", map[string]any{"resource": "two-levels", "duration": "1m", "ticket": "INC-7"})
	if code, _ := decide(t, linkFor(t, "carol@example.com", id), "approve"); code != http.StatusOK {
		t.Fatal("level 1 approval failed")
	}
	if code, body := decide(t, linkFor(t, "dave@example.com", id), "deny"); code != http.StatusOK || !strings.Contains(body, "You denied") {
		t.Fatalf("deny at level 2: %d %s", code, body)
	}
	if got := statusAs(t, "bob", id); got != "denied" {
		t.Fatalf("status = %s, want denied", got)
	}
	waitFor(t, "execution to end", 15*time.Second, func() bool { return executionStatus(t, id) == "SUCCEEDED" })
	if h := strings.Join(history(t, "bob", id), " "); h != "created policy_evaluated approval_requested level_approved approval_requested denied" {
		t.Fatalf("history = %s", h)
	}
	golden(t, "denied_at_level_two", id)
}

func TestEscalation(t *testing.T) {
	t.Parallel()
	id := ask(t, "alice", map[string]any{"resource": "escalating", "duration": "1m"})
	linkFor(t, "carol@example.com", id)
	// Nobody answers: after the 40s level timeout Dave is asked too.
	dave := linkFor(t, "dave@example.com", id)
	if code, body := decide(t, dave, "approve"); code != http.StatusOK {
		t.Fatalf("escalated approval: %d %s", code, body)
	}
	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	if h := strings.Join(history(t, "alice", id), " "); h != "created policy_evaluated approval_requested escalated approval_requested approved active" {
		t.Fatalf("history = %s", h)
	}
	golden(t, "escalated", id)
}

func TestTimeoutEndsTimedOut(t *testing.T) {
	t.Parallel()
	id := ask(t, "alice", map[string]any{"resource": "short-fuse", "duration": "1m"})
	link := linkFor(t, "carol@example.com", id)
	waitFor(t, id+" timed_out", 40*time.Second, func() bool { return status(t, id) == "timed_out" })
	code, body := page(t, "GET", link, nil)
	if code != http.StatusOK || !strings.Contains(body, "timed out") {
		t.Fatalf("link after timeout: %d %s", code, body)
	}
	golden(t, "timed_out", id)
}

func TestAutoApproveAndScheduledStart(t *testing.T) {
	t.Parallel()
	start := time.Now().Add(6 * time.Second).UTC().Truncate(time.Second)
	code, got := call(t, "alice", "POST", "/v1/requests", map[string]any{
		"resource": "auto-short", "duration": "2m", "reason": "quick look at logs", "start_at": start.Format(time.RFC3339),
	})
	if code != http.StatusCreated || got["status"] != "approved" || got["auto_approved_by"] != "short" {
		t.Fatalf("auto-approved create: %d %v", code, got)
	}
	id := got["id"].(string)
	time.Sleep(2 * time.Second)
	if s := status(t, id); s != "approved" {
		t.Fatalf("before start_at status = %s, want approved (waiting to start)", s)
	}
	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	_, got = call(t, "alice", "GET", "/v1/requests/"+id, nil)
	granted, _ := time.Parse(time.RFC3339, got["granted_at"].(string))
	if granted.Before(start) {
		t.Fatalf("granted at %s, before start_at %s", granted, start)
	}
	approved := lifecycle(got["history"].([]any))[2]
	if approved["type"] != "approved" || approved["actor"] != "policy" || approved["detail"].(map[string]any)["rule"] != "short" {
		t.Fatalf("auto-approval event = %v", approved)
	}
	// A longer request is not auto-approved.
	long := ask(t, "alice", map[string]any{"resource": "auto-short", "duration": "1h"})
	if s := status(t, long); s != "pending" {
		t.Fatalf("1h request status = %s, want pending", s)
	}
	// A start further ahead than the policy allows is refused.
	code, got = call(t, "alice", "POST", "/v1/requests", map[string]any{"resource": "auto-short", "duration": "2m", "reason": "later", "start_at": time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)})
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(got["message"]), "allows at most 1h") {
		t.Fatalf("start too far ahead: %d %v", code, got)
	}
	golden(t, "auto_approved", id)
}

func TestBreakGlass(t *testing.T) {
	t.Parallel()
	code, got := call(t, "bob", "POST", "/v1/requests", map[string]any{"resource": "auto-short", "duration": "1h", "reason": "prod down", "break_glass": true})
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(got["message"]), "at least 20 characters") {
		t.Fatalf("short break-glass reason: %d %v", code, got)
	}
	code, got = call(t, "bob", "POST", "/v1/requests", map[string]any{"resource": "sandbox-admin", "duration": "1h", "reason": "production is down and I am on call", "break_glass": true})
	if code != http.StatusForbidden {
		t.Fatalf("break-glass where not allowed: %d %v", code, got)
	}
	id := ask(t, "bob", map[string]any{"resource": "auto-short", "duration": "1h", "reason": "production is down and I am on call", "break_glass": true})
	waitFor(t, id+" active", 30*time.Second, func() bool { return statusAs(t, "bob", id) == "active" })
	waitFor(t, "break-glass notice to carol", 20*time.Second, func() bool { return mailsTo(t, "carol@example.com", id, "BREAK-GLASS") == 1 })
	_, got = call(t, "bob", "GET", "/v1/requests/"+id, nil)
	if got["break_glass"] != true {
		t.Fatalf("request not flagged break-glass: %v", got)
	}
	h := strings.Join(history(t, "bob", id), " ")
	if !strings.Contains(h, "created policy_evaluated approved") || !strings.Contains(h, "break_glass_notified") {
		t.Fatalf("history = %s", h)
	}
	golden(t, "break_glass", id)
}

func TestSelfApprovalRefused(t *testing.T) {
	t.Parallel()
	code, got := call(t, "carol", "POST", "/v1/requests", map[string]any{"resource": "self-check", "duration": "1m", "reason": "my own access"})
	if code != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(got["message"]), "cannot approve your own request") {
		t.Fatalf("carol asking for what only she approves: %d %v", code, got)
	}
	// In a 2-of-3 level Carol is left out of her own request's approvers,
	// and the two others must both approve.
	id := ask(t, "carol", map[string]any{"resource": "quorum", "duration": "1m"})
	_, got = call(t, "carol", "GET", "/v1/requests/"+id, nil)
	approvers := fmt.Sprint(got["chain"].([]any)[0].(map[string]any)["approvers"])
	if strings.Contains(approvers, "carol") {
		t.Fatalf("carol is an approver of her own request: %s", approvers)
	}
	linkFor(t, "dave@example.com", id)
	if n := mailsTo(t, "carol@example.com", id, "Approve"); n != 0 {
		t.Fatalf("carol was asked to approve her own request (%d emails)", n)
	}
}

func TestCancelWhilePending(t *testing.T) {
	t.Parallel()
	id := ask(t, "alice", map[string]any{"resource": "sandbox-admin", "duration": "10m"})
	link := linkFor(t, "carol@example.com", id)
	if code, _ := call(t, "bob", "POST", "/v1/requests/"+id+"/cancel", nil); code != http.StatusNotFound {
		t.Fatalf("bob cancelling alice's request: %d, want 404", code)
	}
	code, got := call(t, "alice", "POST", "/v1/requests/"+id+"/cancel", nil)
	if code != http.StatusOK || got["status"] != "cancelled" {
		t.Fatalf("cancel: %d %v", code, got)
	}
	waitFor(t, "execution to end", 15*time.Second, func() bool { s := executionStatus(t, id); return s == "ABORTED" || s == "SUCCEEDED" })
	if code, body := decide(t, link, "approve"); code != http.StatusConflict || !strings.Contains(body, "cancelled") {
		t.Fatalf("approve after cancel: %d %s", code, body)
	}
	if code, _ := call(t, "alice", "POST", "/v1/requests/"+id+"/cancel", nil); code != http.StatusConflict {
		t.Fatalf("second cancel: %d, want 409", code)
	}
	golden(t, "cancelled", id)
}

func TestPolicyAdmin(t *testing.T) {
	t.Parallel()
	code, got := call(t, "frank", "GET", "/v1/policy", nil)
	if code != http.StatusOK || got["version"] == nil || !strings.Contains(fmt.Sprint(got["document"]), "sandbox-admin") {
		t.Fatalf("auditor reading the policy: %d %v", code, got)
	}
	if code, _ := call(t, "alice", "GET", "/v1/policy", nil); code != http.StatusForbidden {
		t.Fatalf("requester reading the policy: %d, want 403", code)
	}
	bad := "resources:\n  - name: x\n    target: {role_arn: nope}\n    requesters: ['*']\n    max_duration: 1h\n    approval: {levels: [{approvers: [{email: a@example.com}], min_approvals: 3}]}\n"
	code, got = callRaw(t, "erin", "POST", "/v1/policy/validate", bad)
	if code != http.StatusBadRequest || !strings.Contains(fmt.Sprint(got["message"]), "min_approvals: 3 exceeds the 1 approvers listed") {
		t.Fatalf("validate: %d %v", code, got)
	}
	if code, _ := callRaw(t, "frank", "PUT", "/v1/policy", bad); code != http.StatusForbidden {
		t.Fatalf("auditor applying a policy: %d, want 403", code)
	}
	if code, _ := callRaw(t, "erin", "PUT", "/v1/policy", bad); code != http.StatusBadRequest {
		t.Fatalf("applying an invalid policy: %d, want 400", code)
	}
	code, got = call(t, "erin", "GET", "/v1/policy", nil)
	if code != http.StatusOK {
		t.Fatalf("admin reading the policy: %d %v", code, got)
	}
	version := int(got["version"].(float64))
	code, got = callRawWith(t, "erin", "PUT", "/v1/policy", "resources: []\n", map[string]string{"If-Match": fmt.Sprint(version + 5)})
	if code != http.StatusBadRequest {
		t.Fatalf("empty policy: %d %v", code, got)
	}
	code, got = callRawWith(t, "erin", "PUT", "/v1/policy", fmt.Sprint(got), map[string]string{"If-Match": fmt.Sprint(version + 5)})
	if code != http.StatusBadRequest && code != http.StatusPreconditionFailed {
		t.Fatalf("stale If-Match: %d %v", code, got)
	}
}
