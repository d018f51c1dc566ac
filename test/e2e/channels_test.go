package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// smsLinkFor waits for the SMS to phone that carries a decision link and
// returns the link.
func smsLinkFor(t testing.TB, phone string, before map[string]bool) string {
	t.Helper()
	var link string
	waitFor(t, "SMS to "+phone, 40*time.Second, func() bool {
		if err := lc.Inbox.Poll(context.Background()); err != nil {
			// The emulator sometimes fails this read while it is busy.
			t.Logf("inbox poll: %v (retrying)", err)
			return false
		}
		for _, m := range lc.Inbox.Messages() {
			if m.Channel != "sms" || m.To != phone {
				continue
			}
			for _, l := range m.Links {
				if strings.HasPrefix(l, lc.APIURL+"/d/") && !before[l] {
					link = l
					return true
				}
			}
		}
		return false
	})
	return link
}

func TestEmailAndSMS(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	if err := lc.Inbox.Poll(context.Background()); err != nil {
		t.Logf("inbox poll: %v", err)
	}
	for _, m := range lc.Inbox.Messages() {
		for _, l := range m.Links {
			seen[l] = true
		}
	}
	id := ask(t, "alice", map[string]any{"resource": "sms-too", "duration": "1m", "reason": `<script>alert("x")</script> rotate keys`})
	email := linkFor(t, "carol@example.com", id)
	sms := smsLinkFor(t, "+15555550102", seen)
	if sms == email {
		t.Fatal("email and SMS share one link; each channel needs its own")
	}
	code, body := page(t, "GET", sms, nil)
	if code != http.StatusOK || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Fatalf("decision page from SMS: %d, reason not escaped:\n%s", code, body)
	}
	if code, body := decide(t, sms, "approve"); code != http.StatusOK || !strings.Contains(body, "You approved") {
		t.Fatalf("approve by SMS link: %d %s", code, body)
	}
	waitFor(t, id+" active", 30*time.Second, func() bool { return status(t, id) == "active" })
	// Each link works once; the other channel's link now only says what happened.
	for _, l := range []string{sms, email} {
		code, body := decide(t, l, "deny")
		if code != http.StatusConflict || !strings.Contains(body, "already") {
			t.Fatalf("second use of %s: %d %s", l, code, body)
		}
	}
	if s := status(t, id); s != "active" {
		t.Fatalf("a spent link changed the request: %s", s)
	}
}
