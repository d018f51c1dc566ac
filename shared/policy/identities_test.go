package policy

import (
	"fmt"
	"strings"
	"testing"
)

func TestIdentitiesValidation(t *testing.T) {
	with := func(ids string) string { return "identities:\n" + ids + valid }
	tests := []struct {
		name     string
		give     string
		wantErr  string // substring of the error, "" for valid
		wantWarn string // substring of a warning, "" for none
	}{
		{"identity center roles", with("  trusted_roles:\n    - arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*\n"), "", "requesters[0]: \"*\" matches sessions of any role"},
		{"every role trusted", with("  trusted_roles: [\"arn:aws:iam::123456789012:role/*\"]\n"), "identities.trusted_roles[0]: \"arn:aws:iam::123456789012:role/*\" trusts the session names of every role", ""},
		{"every role under a path trusted", with("  trusted_roles: [\"arn:aws:iam::123456789012:role/sso/*\"]\n"), "trusts the session names of every role", ""},
		{"not a role", with("  trusted_roles: [\"arn:aws:sts::123456789012:assumed-role/Eng/*\"]\n"), "must be an IAM role ARN pattern", ""},
		{"person", with("  people:\n    - email: carol@example.com\n      principals: [\"arn:aws:iam::123456789012:user/carol\"]\n"), "", ""},
		{"person without principals", with("  people:\n    - email: carol@example.com\n      principals: []\n"), "identities.people[0].principals: at least one principal ARN pattern is required", ""},
		{"person bound to any role", with("  people:\n    - email: carol@example.com\n      principals: [\"arn:aws:sts::123456789012:assumed-role/*\"]\n"), "matches sessions of any role", ""},
		{"person bound by email", with("  people:\n    - email: carol@example.com\n      principals: [\"carol@example.com\"]\n"), "must be a principal ARN pattern", ""},
		{"person twice", with("  people:\n    - {email: c@example.com, principals: [\"arn:aws:iam::1:user/c\"]}\n    - {email: C@example.com, principals: [\"arn:aws:iam::1:user/d\"]}\n"), "C@example.com is listed twice", ""},
		{"email requesters and no identities", strings.Replace(valid, `["*"]`, `["*@example.com"]`, 1), "", "email patterns match only people the policy identifies"},
		{"any session of any role", strings.Replace(valid, `["*"]`, `["arn:aws:sts::123456789012:assumed-role/*"]`, 1), "", "matches sessions of any role"},
		{"sessions of one role", strings.Replace(valid, `["*"]`, `["arn:aws:sts::123456789012:assumed-role/Eng/*"]`, 1), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Parse([]byte(tt.give))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			var warnings []string
			for _, w := range doc.Warnings {
				warnings = append(warnings, w.String())
			}
			joined := strings.Join(warnings, "\n")
			if tt.wantWarn == "" && strings.Contains(joined, "any role") && !strings.Contains(tt.give, `["*"]`) {
				t.Fatalf("unexpected warnings: %s", joined)
			}
			if tt.wantWarn != "" && !strings.Contains(joined, tt.wantWarn) {
				t.Fatalf("warnings %q lack %q", joined, tt.wantWarn)
			}
		})
	}
}

func TestApproverAtTwoLevels(t *testing.T) {
	chain := `resources:
  - name: db
    target:
      role_arn: arn:aws:iam::123456789012:role/db
    requesters: ["arn:aws:sts::123456789012:assumed-role/Eng/*"]
    max_duration: 1h
    approval:%s
      levels:
        - approvers: [{email: carol@example.com}, {email: dave@example.com}]
        - approvers: [{email: erin@example.com}]
          escalate_to: [{email: Carol@example.com}]
`
	doc, err := Parse([]byte(fmt.Sprintf(chain, "")))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Warnings) != 1 || !strings.Contains(doc.Warnings[0].String(), "resources[0].approval.levels[1].escalate_to[0].email: Carol@example.com is also at level 1") {
		t.Fatalf("warnings = %v", doc.Warnings)
	}
	_, err = Parse([]byte(fmt.Sprintf(chain, "\n      distinct_approvers: true")))
	if err == nil || !strings.Contains(err.Error(), "distinct_approvers needs a different person at every level") {
		t.Fatalf("with distinct_approvers: %v", err)
	}
}

func TestExecutionBound(t *testing.T) {
	doc := func(maxDuration, ahead string) string {
		return `resources:
  - name: db
    target:
      role_arn: arn:aws:iam::123456789012:role/db
    requesters: ["arn:aws:sts::123456789012:assumed-role/Eng/*"]
    max_duration: ` + maxDuration + `
    start: {allow_future: true, max_ahead: ` + ahead + `}
    approval:
      levels:
        - approvers: [{email: carol@example.com}]
          timeout: 24h
          escalate_to: [{email: dave@example.com}]
`
	}
	if _, err := Parse([]byte(doc("8000h", "400h"))); err != nil {
		t.Fatalf("a request of 8400h plus two days of levels fits a year: %v", err)
	}
	_, err := Parse([]byte(doc("8000h", "600h")))
	if err == nil || !strings.Contains(err.Error(), "resources[0].max_duration: with start.max_ahead and the levels' timeouts a request could take 8648h0m0s") {
		t.Fatalf("8648h: %v", err)
	}
}
