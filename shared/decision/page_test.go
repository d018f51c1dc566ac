package decision

import (
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

func TestRenderEscapesAndLocksDown(t *testing.T) {
	r := &access.Request{
		ID: "01m8h2vc7v9a4e39t9w0bj74tr", Resource: "db", Duration: 15 * time.Minute,
		Requester: `arn:aws:sts::1:assumed-role/E/<script>alert(1)</script>`,
		Reason:    `"><img src=x onerror=alert(1)>`, CreatedAt: time.Now(),
	}
	resp := render(200, page{Title: "Approve access?", Request: summary(r), Form: true, Approver: "carol@example.com"})
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(resp.Body, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"Referrer-Policy":         "no-referrer",
		"Cache-Control":           "no-store",
		"X-Frame-Options":         "DENY",
	} {
		if !strings.Contains(resp.Headers[h], want) {
			t.Errorf("%s = %q, want %q", h, resp.Headers[h], want)
		}
	}
	if !strings.Contains(resp.Body, `<label for="comment">`) || !strings.Contains(resp.Body, `name="viewport"`) {
		t.Error("page lacks the labelled comment field or the mobile viewport")
	}
}

// TestPageHostileReason: the reason shows as the requester's words, its
// lines apart, with nothing invisible that reorders what the approver
// reads.
func TestPageHostileReason(t *testing.T) {
	r := &access.Request{
		ID: "01m8h2vc7v9a4e39t9w0bj74tr", Resource: "db", Duration: 15 * time.Minute,
		Requester: "arn:aws:sts::1:assumed-role/E/alice@example.com\u202e",
		Reason:    "fix it\nYou approved this already.\u202e <a href=https://evil.example>Approve</a>\u200b",
		Ticket:    "INC-1\u2028Approved", CreatedAt: time.Now(),
	}
	body := render(200, page{Title: "Approve access?", Request: summary(r), Form: true, Approver: "carol@example.com"}).Body
	for _, bad := range []string{"\u202e", "\u200b", "\u2028", "<a href=https://evil"} {
		if strings.Contains(body, bad) {
			t.Errorf("page carries %q", bad)
		}
	}
	if !strings.Contains(body, "<dd><blockquote") || !strings.Contains(body, "fix it<br>You approved this already. &lt;a href=https://evil.example&gt;Approve&lt;/a&gt;</blockquote></dd>") {
		t.Errorf("reason not shown quoted, line by line:\n%s", body)
	}
}
