package api

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store/storetest"
	"github.com/jitaccess/jit/shared/workflow"
)

// authPolicy trusts the Engineer and Approver roles' session names (as
// Identity Center's are); GitHubActions sessions are named by their
// callers.
const authPolicy = `identities:
  trusted_roles:
    - arn:aws:iam::123456789012:role/Engineer
    - arn:aws:iam::123456789012:role/Approver
    - arn:aws:iam::123456789012:role/JitAdmin
resources:
  - name: db
    target:
      role_arn: arn:aws:iam::123456789012:role/db
    requesters: ["*@example.com", "arn:aws:sts::123456789012:assumed-role/GitHubActions/*"]
    max_duration: 4h
    approval:
      levels:
        - approvers:
            - email: carol@example.com
`

type signalWorkflow struct{ Workflow }

func (signalWorkflow) Signal(context.Context, string, workflow.Signal) error     { return nil }
func (signalWorkflow) Complete(context.Context, string, workflow.Decision) error { return nil }
func (signalWorkflow) Stop(context.Context, string, string) error                { return nil }

// TestSessionNameIsNotIdentity: a session of a role whose session names
// its callers choose, named after an approver or an admin, is neither.
func TestSessionNameIsNotIdentity(t *testing.T) {
	const (
		id        = "01m8hj4xkc4btwcn31xh0mj6z5"
		bob       = "arn:aws:sts::123456789012:assumed-role/Engineer/bob@example.com"
		carol     = "arn:aws:sts::123456789012:assumed-role/Approver/carol@example.com"
		erin      = "arn:aws:sts::123456789012:assumed-role/JitAdmin/erin@example.com"
		fakeCarol = "arn:aws:sts::123456789012:assumed-role/GitHubActions/carol@example.com"
		fakeErin  = "arn:aws:sts::123456789012:assumed-role/GitHubActions/erin@example.com"
		fakeBob   = "arn:aws:sts::123456789012:assumed-role/GitHubActions/bob@example.com"
	)
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	expires := now.Add(time.Hour)
	active := func(status access.Status) *access.Request {
		return &access.Request{ID: id, Resource: "db", Requester: bob, Status: status, Duration: time.Hour,
			GrantedAt: &now, ExpiresAt: &expires, HoldToken: "hold-token",
			Chain: []access.Level{{Approvers: []string{"carol@example.com"}, MinApprovals: 1}}}
	}
	tests := []struct {
		name   string
		caller string
		route  string
		body   string
		status access.Status
		want   int
	}{
		{"approver reads", carol, "GET /v1/requests/{id}", "", access.Active, http.StatusOK},
		{"approver's name on an untrusted role cannot read", fakeCarol, "GET /v1/requests/{id}", "", access.Active, http.StatusNotFound},
		{"approver revokes", carol, "POST /v1/requests/{id}/revoke", "", access.Active, http.StatusAccepted},
		{"approver's name on an untrusted role cannot revoke", fakeCarol, "POST /v1/requests/{id}/revoke", "", access.Active, http.StatusNotFound},
		{"approver extends", carol, "POST /v1/requests/{id}/extend", `{"by":"1h"}`, access.Active, http.StatusOK},
		{"approver's name on an untrusted role cannot extend", fakeCarol, "POST /v1/requests/{id}/extend", `{"by":"3h"}`, access.Active, http.StatusNotFound},
		{"approver cancels an approved request", carol, "POST /v1/requests/{id}/cancel", "", access.Approved, http.StatusOK},
		{"approver's name on an untrusted role cannot cancel", fakeCarol, "POST /v1/requests/{id}/cancel", "", access.Approved, http.StatusNotFound},
		{"approver cannot cancel a pending request (they deny it)", carol, "POST /v1/requests/{id}/cancel", "", access.Pending, http.StatusForbidden},
		{"requester's name on an untrusted role is not the requester", fakeBob, "POST /v1/requests/{id}/revoke", "", access.Active, http.StatusNotFound},
		{"admin by email reads the policy", erin, "GET /v1/policy", "", access.Active, http.StatusOK},
		{"admin's name on an untrusted role is not an admin", fakeErin, "GET /v1/policy", "", access.Active, http.StatusForbidden},
		{"admin's name on an untrusted role cannot apply a policy", fakeErin, "PUT /v1/policy", authPolicy, access.Active, http.StatusForbidden},
		{"auditor's name on an untrusted role cannot search", fakeErin, "GET /v1/audit", "", access.Active, http.StatusForbidden},
		{"admin by email revokes", erin, "POST /v1/requests/{id}/revoke", "", access.Active, http.StatusAccepted},
		{"admin's name on an untrusted role cannot revoke", fakeErin, "POST /v1/requests/{id}/revoke", "", access.Active, http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := storetest.New(active(tt.status)).WithPolicy(1, authPolicy)
			st.HoldTokens[id] = "hold-token"
			h := &Handler{Store: st, Workflow: signalWorkflow{}, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
				Admins: []string{"erin@example.com"}, Auditors: []string{"erin@example.com"}}
			req := events.APIGatewayV2HTTPRequest{RouteKey: tt.route, Body: tt.body,
				PathParameters: map[string]string{"id": id},
				Headers:        map[string]string{"content-type": "application/json"},
				RequestContext: events.APIGatewayV2HTTPRequestContext{Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
					IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{UserARN: tt.caller}}}}
			if tt.route == "PUT /v1/policy" {
				req.Headers["content-type"] = "application/yaml"
			}
			resp, err := h.Handle(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.want {
				t.Fatalf("%s as %s = %d %s, want %d", tt.route, tt.caller, resp.StatusCode, resp.Body, tt.want)
			}
			if tt.want >= 400 && len(st.Changes) > 0 {
				t.Fatalf("refused call changed %v", st.Changes)
			}
		})
	}
}
