package access

import "testing"

const (
	ssoRole = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*"
	carol   = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123abcd/Carol@Example.com"
)

func TestIdentify(t *testing.T) {
	dir := Directory{
		TrustedRoles: []string{ssoRole, "arn:aws:iam::*:role/okta-federated"},
		People: []Person{
			{Email: "Dave@example.com", Principals: []string{"arn:aws:iam::123456789012:user/dave", "arn:aws:sts::123456789012:assumed-role/DaveCI/*"}},
		},
	}
	tests := []struct {
		name string
		give string
		want string
	}{
		{"identity center session", carol, "carol@example.com"},
		{"federated role in any account", "arn:aws:sts::210987654321:assumed-role/okta-federated/erin@example.com", "erin@example.com"},
		{"untrusted role with an email session name", "arn:aws:sts::123456789012:assumed-role/GitHubActions/carol@example.com", ""},
		{"trusted role in another account", "arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Admin_0123abcd/carol@example.com", ""},
		{"role name that only starts like a trusted one", "arn:aws:sts::123456789012:assumed-role/okta-federated-ci/erin@example.com", ""},
		{"trusted role, session that is not an email", "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123abcd/botsession", ""},
		{"bound IAM user", "arn:aws:iam::123456789012:user/dave", "dave@example.com"},
		{"bound role, any session", "arn:aws:sts::123456789012:assumed-role/DaveCI/build-42", "dave@example.com"},
		{"unbound IAM user", "arn:aws:iam::123456789012:user/carol@example.com", ""},
		{"account root", "arn:aws:iam::123456789012:root", ""},
		{"not an ARN", "carol@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := dir.Identify(tt.give)
			if p.ARN != tt.give || p.Person != tt.want {
				t.Fatalf("Identify(%q) = %+v, want person %q", tt.give, p, tt.want)
			}
		})
	}
}

func TestPrincipalMatches(t *testing.T) {
	person := Principal{ARN: carol, Person: "carol@example.com"}
	chosen := Principal{ARN: "arn:aws:sts::123456789012:assumed-role/GitHubActions/carol@example.com"}
	tests := []struct {
		name    string
		give    Principal
		pattern string
		want    bool
	}{
		{"email of the person", person, "carol@example.com", true},
		{"email case-insensitive", person, "CAROL@example.com", true},
		{"email pattern", person, "*@example.com", true},
		{"other email", person, "dave@example.com", false},
		{"ARN pattern", person, "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_*/*", true},
		{"star", chosen, "*", true},
		{"session name is not a person", chosen, "carol@example.com", false},
		{"session name is not a person for patterns either", chosen, "*@example.com", false},
		{"but its ARN matches ARN patterns", chosen, "arn:aws:sts::123456789012:assumed-role/GitHubActions/*", true},
		{"ARN patterns are case-sensitive, as IAM ARNs", chosen, "arn:aws:sts::123456789012:assumed-role/githubactions/*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.give.Matches(tt.pattern); got != tt.want {
				t.Fatalf("%+v.Matches(%q) = %v, want %v", tt.give, tt.pattern, got, tt.want)
			}
		})
	}
	if !chosen.MatchesAny([]string{"dave@example.com", "arn:aws:sts::123456789012:assumed-role/GitHubActions/*"}) || person.MatchesAny(nil) {
		t.Error("MatchesAny")
	}
}

func TestSamePerson(t *testing.T) {
	tests := []struct {
		name      string
		email     string
		principal string
		requester Principal
		want      bool
	}{
		{"the requester's person", "carol@example.com", "", Principal{ARN: carol, Person: "carol@example.com"}, true},
		{"a session named as the approver, even on an untrusted role", "carol@example.com", "", Principal{ARN: "arn:aws:sts::1:assumed-role/CI/carol@example.com"}, true},
		{"the approver's bound principal", "carol@example.com", "arn:aws:iam::1:user/carol", Principal{ARN: "arn:aws:iam::1:user/carol"}, true},
		{"the approver's bound person through the directory", "carol@example.com", "", Principal{ARN: "arn:aws:iam::1:user/c", Person: "carol@example.com"}, true},
		{"someone else", "carol@example.com", "arn:aws:iam::1:user/carol", Principal{ARN: "arn:aws:iam::1:user/dave", Person: "dave@example.com"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SamePerson(tt.email, tt.principal, tt.requester); got != tt.want {
				t.Fatalf("SamePerson = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidRequester(t *testing.T) {
	for _, ok := range []string{"arn:aws:iam::1:user/alice", "arn:aws:sts::1:assumed-role/Eng/alice"} {
		if err := ValidRequester(ok); err != nil {
			t.Errorf("ValidRequester(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"arn:aws:iam::123456789012:root", "", "alice"} {
		if err := ValidRequester(bad); err == nil {
			t.Errorf("ValidRequester(%q) = nil, want an error", bad)
		}
	}
}
