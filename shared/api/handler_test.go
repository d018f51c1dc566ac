package api

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
)

const testPolicy = `resources:
  - name: db
    target:
      role_arn: arn:aws:iam::123456789012:role/db
    requesters: ["arn:aws:sts::123456789012:assumed-role/Engineer/*"]
    min_duration: 1m
    default_duration: 10m
    max_duration: 1h
    reason_min_length: 5
    approval:
      levels:
        - approvers:
            - email: carol@example.com
            - email: alice@example.com
  - name: solo
    target:
      role_arn: arn:aws:iam::123456789012:role/solo
    requesters: ["*"]
    max_duration: 1h
    approval:
      levels:
        - approvers:
            - email: ops@example.com
              principal: arn:aws:sts::123456789012:assumed-role/Ops/*
  - name: sso
    target:
      provider: identity_center
      instance_arn: arn:aws:sso:::instance/ssoins-1234567890abcdef
      permission_set_arn: arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef
      account_id: "123456789012"
    requesters: ["*@example.com", "arn:aws:sts::123456789012:assumed-role/CI/*"]
    max_duration: 1h
    approval:
      levels:
        - approvers:
            - email: carol@example.com
identities:
  trusted_roles: ["arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*"]
`

const alice = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"

func TestNewRequest(t *testing.T) {
	doc, err := policy.Parse([]byte(testPolicy))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name                       string
		resource, duration, reason string
		caller                     string
		wantDuration               time.Duration
		wantStatus                 int // for *apiError refusals
		wantErr                    string
	}{
		{name: "ok", resource: "db", duration: "15m", reason: "fix prod", caller: alice, wantDuration: 15 * time.Minute},
		{name: "default duration", resource: "db", reason: "fix prod", caller: alice, wantDuration: 10 * time.Minute},
		{name: "missing resource", duration: "15m", reason: "fix prod", caller: alice, wantErr: "resource: is required"},
		{name: "unknown resource", resource: "nope", duration: "15m", reason: "fix prod", caller: alice, wantErr: `resource: "nope" is not a resource`},
		{name: "not a requester", resource: "db", duration: "15m", reason: "fix prod", caller: "arn:aws:sts::123456789012:assumed-role/Auditor/frank", wantStatus: http.StatusForbidden},
		{name: "too short", resource: "db", duration: "30s", reason: "fix prod", caller: alice, wantErr: "shorter than the 1m minimum"},
		{name: "too long", resource: "db", duration: "2h", reason: "fix prod", caller: alice, wantErr: "exceeds the 1h maximum"},
		{name: "zero", resource: "db", duration: "0s", reason: "fix prod", caller: alice, wantErr: "must be positive"},
		{name: "negative", resource: "db", duration: "-5m", reason: "fix prod", caller: alice, wantErr: "must be positive"},
		{name: "garbage duration", resource: "db", duration: "1 hour", reason: "fix prod", caller: alice, wantErr: "is not a duration"},
		{name: "no reason", resource: "db", duration: "15m", reason: "   ", caller: alice, wantErr: "reason: is required"},
		{name: "short reason", resource: "db", duration: "15m", reason: "fix", caller: alice, wantErr: "at least 5 characters"},
		{name: "huge reason", resource: "db", duration: "15m", reason: strings.Repeat("x", 1001), caller: alice, wantErr: "the limit is 1000"},
		{name: "only approver is the requester", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/Ops/ops@example.com", wantStatus: http.StatusUnprocessableEntity},
		{name: "only approver is the requester by bound principal", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/Ops/deploy-7", wantStatus: http.StatusUnprocessableEntity},
		{name: "only approver is the requester by session name on any role", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/CI/ops@example.com", wantStatus: http.StatusUnprocessableEntity},
		{name: "account root", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:iam::123456789012:root", wantStatus: http.StatusForbidden},
		{name: "identity center needs an identified person", resource: "sso", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/CI/carol@example.com", wantStatus: http.StatusForbidden},
		{name: "identity center for an identified person", resource: "sso", duration: "15m", reason: "fix prod", caller: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1234/dave@example.com", wantDuration: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewRequest(Ask{Resource: tt.resource, Duration: tt.duration, Reason: tt.reason}, doc.Directory().Identify(tt.caller), doc, 3, now)
			var ae *apiError
			switch {
			case tt.wantStatus != 0:
				if !errors.As(err, &ae) || ae.Status != tt.wantStatus {
					t.Fatalf("err = %v, want status %d", err, tt.wantStatus)
				}
			case tt.wantErr != "":
				var ve *access.ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want validation error containing %q", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if r.Duration != tt.wantDuration || r.Status != access.Pending || r.PolicyVersion != 3 || r.Requester != tt.caller {
					t.Fatalf("request = %+v", r)
				}
			}
		})
	}
}

func TestNewRequestLeavesRequesterOutOfApprovers(t *testing.T) {
	doc, _ := policy.Parse([]byte(testPolicy))
	r, err := NewRequest(Ask{Resource: "db", Duration: "15m", Reason: "fix prod"}, doc.Directory().Identify(alice), doc, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Approvers) != 1 || r.Approvers[0] != "carol@example.com" {
		t.Fatalf("approvers = %v, want only carol", r.Approvers)
	}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name, body, contentType string
		want                    string
	}{
		{"ok", `{"resource":"db","duration":"5m","reason":"x"}`, "application/json", ""},
		{"empty", ``, "application/json", "body is required"},
		{"malformed", `{"resource":`, "application/json", "JSON ends too early"},
		{"syntax", `{"resource" "db"}`, "application/json", "malformed JSON at byte"},
		{"wrong type", `{"duration": 15}`, "application/json", `field "duration" must be a string, not number`},
		{"unknown field", `{"resource":"db","role":"admin"}`, "application/json", `unknown field "role"`},
		{"two objects", `{"resource":"db"}{"resource":"db"}`, "application/json", "single JSON object"},
		{"not json", `resource=db`, "application/x-www-form-urlencoded", "Content-Type must be application/json"},
		{"too big", `{"reason":"` + strings.Repeat("x", maxBodyBytes) + `"}`, "application/json", "the limit is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b createBody
			err := decodeJSON(events.APIGatewayV2HTTPRequest{Body: tt.body, Headers: map[string]string{"content-type": tt.contentType}}, &b)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}
