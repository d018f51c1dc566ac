package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestAutoApproveWindow applies a policy whose auto-approve windows are
// computed from the real clock: one that excludes now (so it must not
// apply) and one that contains it.
func TestAutoApproveWindow(t *testing.T) {
	t.Parallel()
	code, got := call(t, "erin", "GET", "/v1/policy", nil)
	if code != http.StatusOK {
		t.Fatalf("read policy: %d %v", code, got)
	}
	now := time.Now().UTC()
	days := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	today, tomorrow := days[now.Weekday()], days[(now.Weekday()+1)%7]
	// Both windows cover the whole day except the last minute, in UTC:
	// "closed" is only open tomorrow, "open" today. Skip the minute before
	// midnight, where the day changes under the test.
	if now.Hour() == 23 && now.Minute() >= 58 {
		t.Skip("too close to midnight UTC")
	}
	extra := fmt.Sprintf(`
  - name: window-closed
    target: {role_arn: "arn:aws:iam::123456789012:role/jit-sandbox-admin"}
    requesters: ["arn:aws:sts::123456789012:assumed-role/Engineer/*"]
    min_duration: 5s
    max_duration: 1h
    approval: {levels: [{approvers: [{email: carol@example.com}]}]}
    auto_approve:
      - name: tomorrow-only
        window: {days: [%s], start: "00:00", end: "23:59", timezone: UTC}
  - name: window-open
    target: {role_arn: "arn:aws:iam::123456789012:role/jit-sandbox-admin"}
    requesters: ["arn:aws:sts::123456789012:assumed-role/Engineer/*"]
    min_duration: 5s
    max_duration: 1h
    approval: {levels: [{approvers: [{email: carol@example.com}]}]}
    auto_approve:
      - name: today
        window: {days: [%s], start: "00:00", end: "23:59", timezone: UTC}
`, tomorrow, today)
	doc := strings.TrimRight(got["document"].(string), "\n") + "\n" + extra
	version := int(got["version"].(float64))
	code, got = callRawWith(t, "erin", "PUT", "/v1/policy", doc, map[string]string{"If-Match": fmt.Sprint(version)})
	if code != http.StatusOK {
		t.Fatalf("apply policy: %d %v", code, got)
	}
	if added := fmt.Sprint(got["changes"].(map[string]any)["added"]); !strings.Contains(added, "window-closed") {
		t.Errorf("change summary = %v", got["changes"])
	}
	closed := ask(t, "alice", map[string]any{"resource": "window-closed", "duration": "1m"})
	if s := status(t, closed); s != "pending" {
		t.Fatalf("outside its window the request is %s, want pending (no auto-approval)", s)
	}
	code, body := call(t, "alice", "POST", "/v1/requests", map[string]any{"resource": "window-open", "duration": "1m", "reason": "inside the window"})
	if code != http.StatusCreated || body["status"] != "approved" || body["auto_approved_by"] != "today" {
		t.Fatalf("inside its window: %d %v, want approved by rule today", code, body)
	}
	if v := int(body["policy_version"].(float64)); v != version+1 {
		t.Errorf("request made under policy version %d, want %d", v, version+1)
	}
}
