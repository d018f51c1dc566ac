package grant

import (
	"encoding/json"
	"testing"
)

func TestSessionName(t *testing.T) {
	tests := []struct{ give, want string }{
		{"arn:aws:sts::1:assumed-role/Engineer/alice@example.com", "alice@example.com"},
		{"arn:aws:iam::1:user/bob", "bob"},
		{"arn:aws:sts::1:assumed-role/GitHubActions/ci deploy#1", "ci-deploy-1"},
		{"arn:aws:sts::1:assumed-role/R/x", "x-"},
		{"arn:aws:sts::1:assumed-role/R/" + string(make([]byte, 0)) + "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"},
	}
	for _, tt := range tests {
		if got := SessionName(tt.give); got != tt.want {
			t.Errorf("SessionName(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestTrustPolicyEditKeepsForeignStatements(t *testing.T) {
	var doc policyDocument
	in := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`
	if err := json.Unmarshal([]byte(in), &doc); err != nil {
		t.Fatal(err)
	}
	doc.Statement = append(doc.Statement, map[string]any{"Sid": statementID("01abc"), "Effect": "Allow"})
	doc.remove(statementID("01abc"))
	doc.remove(statementID("never-added"))
	out, _ := json.Marshal(doc)
	want := `{"Version":"2012-10-17","Statement":[{"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:SecureTransport":"true"}},"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}]}`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
}

func TestRoleName(t *testing.T) {
	tests := []struct {
		give, want string
		wantErr    bool
	}{
		{"arn:aws:iam::123456789012:role/jit-sandbox-admin", "jit-sandbox-admin", false},
		{"arn:aws:iam::123456789012:role/team/path/db", "db", false},
		{"arn:aws:iam::123456789012:user/bob", "", true},
		{"not an arn", "", true},
	}
	for _, tt := range tests {
		got, err := roleName(tt.give)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("roleName(%q) = %q, %v", tt.give, got, err)
		}
	}
}
