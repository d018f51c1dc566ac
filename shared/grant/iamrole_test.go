package grant

import (
	"encoding/json"
	"testing"
)

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
