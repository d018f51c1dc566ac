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
	"github.com/jitaccess/jit/shared/store/storetest"
)

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
	newMem := func() *storetest.Memory {
		m := storetest.New(&access.Request{ID: "r1", Resource: "db", Requester: "arn:aws:sts::1:assumed-role/E/alice@example.com", Status: access.Pending, PolicyVersion: 1,
			Chain: []access.Level{{Approvers: []string{"carol@example.com"}, MinApprovals: 1}}}).WithPolicy(1, slackPolicy)
		m.Links = []store.Link{
			{Hash: tok.Hash(), RequestID: "r1", Approver: "carol@example.com", Channel: "slack", ExpiresAt: now.Add(time.Hour)},
			{Hash: emailTok.Hash(), RequestID: "r1", Approver: "carol@example.com", Channel: "email", ExpiresAt: now.Add(time.Hour)},
		}
		m.ApprovalTokens["r1"] = "tok"
		return m
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
			m, wf := newMem(), &fuzzWorkflow{}
			h := &Handler{Store: m, Workflow: wf, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now,
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
			if fmt.Sprint(m.Decided) != fmt.Sprint(tt.wantDecide) {
				t.Fatalf("decisions = %v, want %v", m.Decided, tt.wantDecide)
			}
			if len(tt.wantDecide) > 0 && len(wf.completed) != 1 {
				t.Fatalf("workflow resumed %d times, want 1", len(wf.completed))
			}
		})
	}
}
