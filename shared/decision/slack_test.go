package decision

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/slack"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

// memory is an in-memory Store for the handler's own logic; the store's
// DynamoDB behaviour is tested against the emulator in shared/store.
type memory struct {
	links   map[string]*store.Link
	request *access.Request
	decided []access.Status
	policyV string
	resumed int
}

func (m *memory) GetLink(_ context.Context, hash string) (*store.Link, error) {
	if l, ok := m.links[hash]; ok {
		return l, nil
	}
	return nil, access.ErrNotFound
}
func (m *memory) GetRequest(context.Context, string) (*access.Request, error) { return m.request, nil }
func (m *memory) LinkOpened(context.Context, *store.Link, access.Event) error { return nil }
func (m *memory) Decide(_ context.Context, l *store.Link, outcome access.Status, _ time.Time, _ string) (*store.Decision, error) {
	m.decided = append(m.decided, outcome)
	return &store.Decision{Decision: access.Decision{Outcome: outcome, Level: 0, Approvals: 1, Needed: 1}, TaskToken: "tok"}, nil
}
func (m *memory) PolicyVersion(context.Context, int) (*store.PolicyVersion, error) {
	return &store.PolicyVersion{Version: 1, Document: []byte(m.policyV)}, nil
}
func (m *memory) Complete(context.Context, string, workflow.Decision) error { m.resumed++; return nil }

const slackPolicy = `resources:
  - name: db
    target: {role_arn: "arn:aws:iam::123456789012:role/db"}
    requesters: ["*"]
    max_duration: 1h
    channels: [email, slack]
    approval:
      levels:
        - approvers: [{email: carol@example.com, slack: U0CAROL}]
`

func TestSlackInteraction(t *testing.T) {
	secret := "s3cret"
	now := time.Now()
	tok, _ := link.New(nil)
	emailTok, _ := link.New(nil)
	newMem := func() *memory {
		return &memory{
			links: map[string]*store.Link{
				tok.Hash():      {Hash: tok.Hash(), RequestID: "r1", Approver: "carol@example.com", Channel: "slack", ExpiresAt: now.Add(time.Hour)},
				emailTok.Hash(): {Hash: emailTok.Hash(), RequestID: "r1", Approver: "carol@example.com", Channel: "email", ExpiresAt: now.Add(time.Hour)},
			},
			request: &access.Request{ID: "r1", Resource: "db", Requester: "arn:aws:sts::1:assumed-role/E/alice@example.com", Status: access.Pending, PolicyVersion: 1,
				Chain: []access.Level{{Approvers: []string{"carol@example.com"}, MinApprovals: 1}}},
			policyV: slackPolicy,
		}
	}
	clickIn := func(team, user, action string, token link.Token) string {
		p, _ := json.Marshal(map[string]any{
			"type": "block_actions", "user": map[string]string{"id": user}, "team": map[string]string{"id": team},
			"actions": []map[string]string{{"action_id": action, "value": token.Reveal()}},
		})
		return url.Values{"payload": {string(p)}}.Encode()
	}
	click := func(user, action string, token link.Token) string { return clickIn("T1", user, action, token) }
	tests := []struct {
		name       string
		body       string
		sign       string // secret used to sign; "" = unsigned
		wantStatus int
		wantText   string
		wantDecide []access.Status
	}{
		{"approve", click("U0CAROL", slack.ActionApprove, tok), secret, http.StatusOK, "You approved", []access.Status{access.Approved}},
		{"deny", click("U0CAROL", slack.ActionDeny, tok), secret, http.StatusOK, "denied", []access.Status{access.Denied}},
		{"another Slack user", click("U0MALLORY", slack.ActionApprove, tok), secret, http.StatusOK, "Only carol@example.com can decide", nil},
		{"email link in a Slack button", click("U0CAROL", slack.ActionApprove, emailTok), secret, http.StatusOK, "not valid", nil},
		{"wrong secret", click("U0CAROL", slack.ActionApprove, tok), "other", http.StatusUnauthorized, "invalid Slack signature", nil},
		{"unsigned", click("U0CAROL", slack.ActionApprove, tok), "", http.StatusUnauthorized, "invalid Slack signature", nil},
		{"another workspace", clickIn("T2OTHER", "U0CAROL", slack.ActionApprove, tok), secret, http.StatusOK, "another Slack workspace", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMem()
			h := &Handler{Store: m, Workflow: m, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
				Slack: &SlackApp{Secret: func(context.Context) (string, error) { return secret, nil }, Policies: m, TeamID: "T1"}}
			headers := map[string]string{"content-type": "application/x-www-form-urlencoded"}
			if tt.sign != "" {
				ts := fmt.Sprint(now.Unix())
				headers["x-slack-request-timestamp"] = ts
				headers["x-slack-signature"] = slack.Sign([]byte(tt.sign), ts, []byte(tt.body))
			}
			req := events.APIGatewayV2HTTPRequest{RouteKey: "POST /slack/interactions", Body: tt.body, Headers: headers}
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.wantText) {
				t.Fatalf("got %d %s, want %d containing %q", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantText)
			}
			if fmt.Sprint(m.decided) != fmt.Sprint(tt.wantDecide) {
				t.Fatalf("decisions = %v, want %v", m.decided, tt.wantDecide)
			}
			if len(tt.wantDecide) > 0 && m.resumed != 1 {
				t.Fatalf("workflow resumed %d times, want 1", m.resumed)
			}
		})
	}
}
