package notify

import (
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

func TestOutcomeEmailGolden(t *testing.T) {
	at := func(d time.Duration) *time.Time { x := t0.Add(d); return &x }
	req := func(status access.Status) *access.Request {
		r := chainRequest()
		r.Status = status
		return r
	}
	approved := req(access.Approved)
	approved.DecidedBy = "dave@example.com"
	scheduled := req(access.Approved)
	scheduled.DecidedBy, scheduled.StartAt = "carol@example.com", at(3*time.Hour)
	auto := req(access.Approved)
	auto.AutoApprovedBy = "short"
	denied := req(access.Denied)
	denied.DecidedBy = "carol@example.com"
	granted := req(access.Active)
	granted.GrantedAt, granted.ExpiresAt = at(5*time.Minute), at(95*time.Minute)
	revoked := req(access.Revoked)
	revoked.EndedAt = at(30 * time.Minute)
	expired := req(access.Expired)
	expired.EndedAt = at(95 * time.Minute)
	failed := req(access.Failed)
	timedOut := req(access.TimedOut)

	cases := []struct {
		name    string
		r       *access.Request
		outcome string
		history []access.Event
		must    []string
	}{
		{"outcome-approved", approved, OutcomeApproved, nil, []string{"approved by dave@example.com", "jit creds 01m8h2vc7v9a4e39t9w0bj74tr"}},
		{"outcome-approved-scheduled", scheduled, OutcomeApproved, nil, []string{"Access starts at 2026-11-28 13:00 UTC"}},
		{"outcome-approved-auto", auto, OutcomeApproved, nil, []string{"policy rule \"short\""}},
		{"outcome-denied", denied, OutcomeDenied, []access.Event{
			{Type: "created"}, {Type: "approval_requested", Actor: access.System},
			{Type: "denied", Actor: "carol@example.com", Detail: map[string]string{"comment": `not during the <freeze> & "launch"`, "level": "0"}},
		}, []string{"carol@example.com denied", "not during the"}},
		{"outcome-timed-out", timedOut, OutcomeTimedOut, nil, []string{"timed out"}},
		{"outcome-granted", granted, OutcomeGranted, nil, []string{"arn:aws:iam::123456789012:role/jit-prod-readonly", "alice@example.com", "2026-11-28 11:35 UTC", "jit creds"}},
		{"outcome-revoked", revoked, OutcomeRevoked, []access.Event{
			{Type: "active", Actor: access.System},
			{Type: "revoked", Actor: "erin@example.com", Detail: map[string]string{"reason": "incident closed"}},
		}, []string{"revoked by erin@example.com", "incident closed"}},
		{"outcome-expired", expired, OutcomeExpired, nil, []string{"ended at 2026-11-28 11:35 UTC"}},
		{"outcome-failed", failed, OutcomeFailed, []access.Event{
			{Type: "approved", Actor: "carol@example.com"},
			{Type: "failed", Actor: access.System, Detail: map[string]string{"error": "role jit-prod-readonly is not tagged jit:managed=true"}},
		}, []string{"not tagged jit:managed=true"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := OutcomeEmail(c.r, c.outcome, c.history, "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			goldenMessage(t, c.name, m)
			for _, w := range c.must {
				if !strings.Contains(m.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, m.Text)
				}
			}
			if m.To != "alice@example.com" || m.Subject == "" || m.Channel != ChannelEmail {
				t.Errorf("message = %+v", m)
			}
		})
	}
	if _, err := OutcomeEmail(approved, "exploded", nil, "alice@example.com"); err == nil {
		t.Error("unknown outcome rendered")
	}
}

// TestNeedsHistory: the request's events are read only for a notice that
// says what only they hold.
func TestNeedsHistory(t *testing.T) {
	decided := &access.Request{DecidedBy: "carol@example.com"}
	auto := &access.Request{AutoApprovedBy: "short"}
	glass := &access.Request{BreakGlass: true}
	unnamed := &access.Request{}
	for _, c := range []struct {
		r       *access.Request
		outcome string
		want    bool
	}{
		{decided, OutcomeGranted, false},
		{decided, OutcomeExpired, false},
		{unnamed, OutcomeTimedOut, false},
		{decided, OutcomeApproved, false},
		{auto, OutcomeApproved, false},
		{glass, OutcomeApproved, false},
		{unnamed, OutcomeApproved, true},
		{decided, OutcomeDenied, true},
		{decided, OutcomeRevoked, true},
		{decided, OutcomeFailed, true},
	} {
		if got := needsHistory(c.r, c.outcome); got != c.want {
			t.Errorf("needsHistory(%+v, %s) = %v, want %v", *c.r, c.outcome, got, c.want)
		}
	}
}
