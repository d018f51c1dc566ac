package notify

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/target"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./shared/notify/ -update creates it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./shared/notify/ -update rewrites it)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// goldenMessage checks a message's subject and text part in
// name.text.golden and its HTML part in name.html.golden.
func goldenMessage(t *testing.T, name string, m Message) {
	t.Helper()
	golden(t, name+".text.golden", "Subject: "+m.Subject+"\nTo: "+m.To+"\n\n"+m.Text)
	golden(t, name+".html.golden", m.HTML)
	if strings.Contains(m.HTML, "<script") || strings.Contains(m.HTML, "<img") {
		t.Errorf("%s: HTML carries a script or a remote image", name)
	}
}

var (
	t0       = time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	linkBase = "https://jit.example.com"
	// testToken is a fixed token's URL form (43 characters).
	testToken = "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc"
)

// askAt is level asked at t0, its links expiring after linkLife.
func askAt(level int, escalated bool, linkLife time.Duration) Ask {
	return Ask{Level: level, Escalated: escalated, At: t0, LinkExpires: t0.Add(linkLife)}
}

// chainRequest is a pending request with a ticket and two levels.
func chainRequest() *access.Request {
	return &access.Request{
		ID: "01m8h2vc7v9a4e39t9w0bj74tr", Resource: "prod-readonly", Duration: 90 * time.Minute,
		Requester: "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com",
		Reason:    `investigate <b>INC-4711</b>: "orders" & payments`, Status: access.Pending,
		Target: target.New(target.IAMRoleTrust, target.RoleARN, "arn:aws:iam::123456789012:role/jit-prod-readonly"),
		Ticket: "INC-4711", TicketURL: "https://tracker.example.com/browse/INC-4711",
		CreatedAt: t0, UpdatedAt: t0, PolicyVersion: 3,
		Chain: []access.Level{
			{Name: "team lead", Approvers: []string{"carol@example.com"}, EscalateTo: []string{"erin@example.com"}, MinApprovals: 1, Timeout: 30 * time.Minute, OnTimeout: "fail"},
			{Name: "security", Approvers: []string{"dave@example.com", "frank@example.com"}, MinApprovals: 2, Timeout: time.Hour, OnTimeout: "fail"},
		},
		Approvers: []string{"carol@example.com"},
	}
}

func TestApprovalEmailGolden(t *testing.T) {
	r := chainRequest()
	url := linkBase + "/d/" + testToken
	m, err := ApprovalEmail(r, "carol@example.com", url, askAt(0, false, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	goldenMessage(t, "email-approval", m)

	m, err = ApprovalEmail(r, "erin@example.com", url, askAt(0, true, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	goldenMessage(t, "email-escalated", m)

	// The second level: quorum of two, no escalation.
	m, err = ApprovalEmail(r, "dave@example.com", url, askAt(1, false, 2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	goldenMessage(t, "email-level2", m)

	bg := chainRequest()
	bg.BreakGlass, bg.Ticket, bg.TicketURL, bg.Status = true, "", "", access.Approved
	bg.Reason = "production is down and I am on call"
	m, err = BreakGlassEmail(bg, "carol@example.com")
	if err != nil {
		t.Fatal(err)
	}
	goldenMessage(t, "email-break-glass", m)
}
