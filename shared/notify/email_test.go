package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

func TestApprovalEmail(t *testing.T) {
	r := &access.Request{
		ID: "01m8h2vc7v9a4e39t9w0bj74tr", Resource: "sandbox-admin", Duration: 90 * time.Minute,
		Requester: "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com",
		Reason:    `<b>deploy</b> & "fix"`, Target: access.Target{RoleARN: "arn:aws:iam::123456789012:role/x"},
		CreatedAt: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC),
	}
	m, err := ApprovalEmail(r, "carol@example.com", "https://api.example.com/d/TOKEN", time.Date(2026, 11, 28, 11, 0, 0, 0, time.UTC), 0, false)
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
