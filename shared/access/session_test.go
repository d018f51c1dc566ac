package access

import "testing"

func TestRoleSessionName(t *testing.T) {
	tests := []struct{ give, want string }{
		{"arn:aws:sts::1:assumed-role/Engineer/alice@example.com", "alice@example.com"},
		{"arn:aws:iam::1:user/bob", "bob"},
		{"arn:aws:sts::1:assumed-role/GitHubActions/ci deploy#1", "ci-deploy-1"},
		{"arn:aws:sts::1:assumed-role/R/x", "x-"},
		{"arn:aws:sts::1:assumed-role/R/" + string(make([]byte, 0)) + "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij", "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd"},
	}
	for _, tt := range tests {
		if got := RoleSessionName(tt.give); got != tt.want {
			t.Errorf("RoleSessionName(%q) = %q, want %q", tt.give, got, tt.want)
		}
	}
}

func TestGrantSourceIdentity(t *testing.T) {
	if got := GrantSourceIdentity("01m8h2vc7v9a4e39t9w0bj74tr"); got != "jit-01m8h2vc7v9a4e39t9w0bj74tr" {
		t.Errorf("GrantSourceIdentity = %q", got)
	}
}
