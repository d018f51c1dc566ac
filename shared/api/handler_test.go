package api

import (
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
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
