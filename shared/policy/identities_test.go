package policy

import (
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
