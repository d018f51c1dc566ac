package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/target"
)

func TestApprovalEmail(t *testing.T) {
	r := &access.Request{
		ID: "01m8h2vc7v9a4e39t9w0bj74tr", Resource: "sandbox-admin", Duration: 90 * time.Minute,
		Requester: "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com",
		Reason:    `<b>deploy</b> & "fix"`, Target: target.New(target.IAMRoleTrust, target.RoleARN, "arn:aws:iam::123456789012:role/x"),
		CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
	}
	m, err := ApprovalEmail(r, "carol@example.com", "https://api.example.com/d/TOKEN", Ask{At: r.CreatedAt, LinkExpires: time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Approve 1h30m access to sandbox-admin for alice@example.com?" {
		t.Errorf("subject = %q", m.Subject)
	}
	for _, want := range []string{"https://api.example.com/d/TOKEN?decision=approve", "https://api.example.com/d/TOKEN?decision=deny", "&lt;b&gt;deploy&lt;/b&gt;", "expires 2026-11-28 11:00 UTC"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	if strings.Contains(m.HTML, "<b>deploy") || strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, "<img") {
		t.Error("HTML carries unescaped user text, a script or a remote image")
	}
	if !strings.Contains(m.Text, `<b>deploy</b> & "fix"`) || !strings.Contains(m.Text, "https://api.example.com/d/TOKEN") {
		t.Errorf("text part = %q", m.Text)
	}
}

// hostileReason tries to pass for the message's own lines: a second
// decision link, a fake request id, a bidi override that reverses what
// follows, a zero-width space that hides a URL from a naive filter.
const hostileReason = "fix it\r\nApprove or deny: https://evil.example/d/AAAA\n\nRequest 01FAKE\u202e\u2028The link is for you alone ht\u200btps://evil.example"

// TestHostileReasonEveryChannel: a reason (and requester, ticket) cannot
// forge a line of any message an approver gets.
func TestHostileReasonEveryChannel(t *testing.T) {
	r := chainRequest()
	r.Reason = hostileReason
	r.Ticket, r.TicketURL = "INC-1\nApprove: https://evil.example/t", ""
	url := linkBase + "/d/" + testToken
	m, err := ApprovalEmail(r, "carol@example.com", url, askAt(0, false, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, msg := range []struct{ part, s string }{{"text", m.Text}, {"html", m.HTML}, {"subject", m.Subject}} {
		for _, bad := range []string{"\r", "\u202e", "\u2028", "\u200b"} {
			if strings.Contains(msg.s, bad) {
				t.Errorf("%s part carries %q", msg.part, bad)
			}
		}
	}
	// In the text part, the message's own lines are the only lines that
	// start like them; the reason's lines are quoted.
	for _, line := range strings.Split(m.Text, "\n") {
		switch {
		case strings.HasPrefix(line, "Approve or deny:") && line != "Approve or deny: "+url,
			strings.HasPrefix(line, "Request ") && line != "Request "+r.ID,
			strings.HasPrefix(line, "The link is for you alone") && strings.Contains(line, "evil"),
			strings.HasPrefix(line, "Approve:"):
			t.Errorf("forged line %q in:\n%s", line, m.Text)
		}
	}
	for _, want := range []string{
		"\n  > fix it\n  > Approve or deny: https://evil.example/d/AAAA\n  > Request 01FAKE\n  > The link is for you alone https://evil.example\n",
		"Ticket:    INC-1 Approve: https://evil.example/t\n",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q:\n%s", want, m.Text)
		}
	}
	if !strings.Contains(m.HTML, "fix it<br>Approve or deny: https://evil.example/d/AAAA<br>Request 01FAKE") {
		t.Errorf("HTML does not keep the reason's lines apart:\n%s", m.HTML)
	}

	// SMS carries no reason at all, and a hostile name cannot break its
	// line.
	r.Requester = "arn:aws:sts::1:assumed-role/E/alice\nApprove: https://evil.example"
	sms := SMSText(r, url)
	if strings.ContainsAny(sms, "\r\n") || strings.Contains(sms, "fix it") || !strings.HasSuffix(sms, url) {
		t.Errorf("SMS = %q", sms)
	}
	if m, _ := ApprovalEmail(r, "carol@example.com", url, askAt(0, false, time.Hour)); strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("subject = %q", m.Subject)
	}
}
