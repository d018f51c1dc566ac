package iampolicy

import (
	"strings"
	"testing"
)

const (
	acct    = "123456789012"
	alice   = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	bob     = "arn:aws:sts::123456789012:assumed-role/Engineer/bob@example.com"
	engRole = "arn:aws:iam::123456789012:role/Engineer"
	target  = "arn:aws:iam::123456789012:role/jit-sandbox-admin"
)

func ctx(kv ...string) Context {
	c := Context{}
	for i := 0; i+1 < len(kv); i += 2 {
		v, _ := c.Values(kv[i])
		c.Set(kv[i], append(v, kv[i+1])...)
	}
	return c
}

func session(arn string) Principal {
	return Principal{ARN: arn, Account: acct, RoleARN: engRole}
}

// The cases follow the examples of AWS's IAM User Guide (policy
// evaluation logic, condition operators, single- vs multivalued context
// keys, revoking role sessions, the STS condition keys), plus the two
// statements jit writes.
func TestEvaluate(t *testing.T) {
	tests := []struct {
		name        string
		policy      string
		give        Request
		want        Decision
		wantAccount bool
	}{
		{
			name:   "date window: inside (condition operators, DateGreaterThan and DateLessThan)",
			policy: `{"Statement":{"Effect":"Allow","Action":"service-prefix:action-name","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}`,
			give:   Request{Action: "service-prefix:action-name", Resource: "*", Context: ctx("aws:CurrentTime", "2020-05-01T12:00:00Z")},
			want:   Allowed,
		},
		{
			name:   "date window: before it",
			policy: `{"Statement":{"Effect":"Allow","Action":"service-prefix:action-name","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}`,
			give:   Request{Action: "service-prefix:action-name", Resource: "*", Context: ctx("aws:CurrentTime", "2020-03-31T23:59:59Z")},
			want:   NotAllowed,
		},
		{
			name:   "date window: after it",
			policy: `{"Statement":{"Effect":"Allow","Action":"service-prefix:action-name","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-04-01T00:00:00Z"},"DateLessThan":{"aws:CurrentTime":"2020-06-30T23:59:59Z"}}}}`,
			give:   Request{Action: "service-prefix:action-name", Resource: "*", Context: ctx("aws:CurrentTime", "2020-06-30T23:59:59Z")},
			want:   NotAllowed,
		},
		{
			name:   "date as epoch seconds",
			policy: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThanEquals":{"aws:EpochTime":"1588334400"}}}}`,
			give:   Request{Action: "s3:GetObject", Resource: "*", Context: ctx("aws:EpochTime", "2020-05-01T12:00:00Z")},
			want:   Allowed,
		},
		{
			name:   "revoke older sessions: a session issued before the cut-off is denied (revoking IAM role temporary credentials)",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2014-05-07T23:47:00Z"}}}]}`,
			give:   Request{Action: "ec2:DescribeInstances", Resource: "*", Context: ctx("aws:TokenIssueTime", "2014-05-07T20:00:00Z")},
			want:   Denied,
		},
		{
			name:   "revoke older sessions: a later session is not",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":["*"],"Resource":["*"],"Condition":{"DateLessThan":{"aws:TokenIssueTime":"2014-05-07T23:47:00Z"}}}]}`,
			give:   Request{Action: "ec2:DescribeInstances", Resource: "*", Context: ctx("aws:TokenIssueTime", "2014-05-08T00:00:00Z")},
			want:   Allowed,
		},
		{
			name:   "revoke older sessions: long-term credentials have no aws:TokenIssueTime, so the Deny does not apply",
			policy: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":"2014-05-07T23:47:00Z"}}}]}`,
			give:   Request{Action: "ec2:DescribeInstances", Resource: "*", Context: ctx()},
			want:   Allowed,
		},
		{
			name:   "several values of one key are alternatives (StringEquals)",
			policy: `{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/department":["finance","hr","legal"]}}}}`,
			give:   Request{Action: "iam:GetRole", Resource: "*", Context: ctx("aws:PrincipalTag/department", "hr")},
			want:   Allowed,
		},
		{
			name:   "condition key names are case-insensitive, values are not",
			policy: `{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringEquals":{"AWS:PrincipalTag/Department":"HR"}}}}`,
			give:   Request{Action: "iam:GetRole", Resource: "*", Context: ctx("aws:principaltag/department", "hr")},
			want:   NotAllowed,
		},
		{
			name:   "StringEqualsIgnoreCase",
			policy: `{"Statement":{"Effect":"Allow","Action":"iam:*","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":"HR"}}}}`,
			give:   Request{Action: "iam:GetRole", Resource: "*", Context: ctx("aws:PrincipalTag/department", "hr")},
			want:   Allowed,
		},
		{
			name:   "several operators and keys must all hold",
			policy: `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"sts:RoleSessionName":"alice"},"StringLike":{"sts:SourceIdentity":"*@example.com"}}}}`,
			give:   Request{Action: "sts:AssumeRole", Resource: "*", Context: ctx("sts:RoleSessionName", "alice", "sts:SourceIdentity", "alice@example.org")},
			want:   NotAllowed,
		},
		{
			name:   "a missing key makes a condition false",
			policy: `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringEquals":{"sts:SourceIdentity":"DiegoRamirez"}}}}`,
			give:   Request{Action: "sts:AssumeRole", Resource: "*", Context: ctx()},
			want:   NotAllowed,
		},
		{
			name:   "a negated operator is true for a missing key",
			policy: `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}}}`,
			give:   Request{Action: "ec2:RunInstances", Resource: "*", Context: ctx()},
			want:   Denied,
		},
		{
			name:   "a negated operator with several values: none may match",
			policy: `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":["us-east-1","eu-west-1"]}}}}`,
			give:   Request{Action: "ec2:RunInstances", Resource: "*", Context: ctx("aws:RequestedRegion", "eu-west-1")},
			want:   NotAllowed,
		},
		{
			name:   "BoolIfExists false: a missing key holds (deny unless MFA)",
			policy: `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`,
			give:   Request{Action: "iam:DeleteRole", Resource: "*", Context: ctx()},
			want:   Denied,
		},
		{
			name:   "BoolIfExists false: MFA present",
			policy: `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}}`,
			give:   Request{Action: "iam:DeleteRole", Resource: "*", Context: ctx("aws:MultiFactorAuthPresent", "true")},
			want:   NotAllowed,
		},
		{
			name:   "Null true: only long-term credentials",
			policy: `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}`,
			give:   Request{Action: "s3:GetObject", Resource: "*", Context: ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z")},
			want:   NotAllowed,
		},
		{
			name:   "NumericLessThanEquals",
			policy: `{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::amzn-s3-demo-bucket","Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}`,
			give:   Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::amzn-s3-demo-bucket", Context: ctx("s3:max-keys", "10")},
			want:   Allowed,
		},
		{
			name:   "ForAllValues: every value must be allowed",
			policy: `{"Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}}`,
			give:   Request{Action: "ec2:CreateTags", Resource: "*", Context: ctx("aws:TagKeys", "environment", "aws:TagKeys", "owner")},
			want:   NotAllowed,
		},
		{
			name:   "ForAllValues: a missing key holds",
			policy: `{"Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":["environment","cost-center"]}}}}`,
			give:   Request{Action: "ec2:CreateTags", Resource: "*", Context: ctx()},
			want:   Allowed,
		},
		{
			name:   "ForAnyValue: one value suffices, a missing key does not",
			policy: `{"Statement":{"Effect":"Deny","Action":"ec2:CreateTags","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"aws:TagKeys":["webserver"]}}}}`,
			give:   Request{Action: "ec2:CreateTags", Resource: "*", Context: ctx("aws:TagKeys", "owner", "aws:TagKeys", "webserver")},
			want:   Denied,
		},
		{
			name:   "ArnLike on aws:SourceArn",
			policy: `{"Statement":{"Effect":"Allow","Action":"sns:Publish","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:s3:::amzn-s3-demo-*"}}}}`,
			give:   Request{Action: "sns:Publish", Resource: "*", Context: ctx("aws:SourceArn", "arn:aws:s3:::amzn-s3-demo-bucket")},
			want:   Allowed,
		},
		{
			name:   "NotAction: everything but IAM",
			policy: `{"Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`,
			give:   Request{Action: "iam:CreateUser", Resource: "*"},
			want:   NotAllowed,
		},
		{
			name:   "actions match case-insensitively with wildcards",
			policy: `{"Statement":{"Effect":"Allow","Action":"DynamoDB:Get*","Resource":"arn:aws:dynamodb:us-east-1:123456789012:table/jit"}}`,
			give:   Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/jit"},
			want:   Allowed,
		},
		{
			name:   "resources match case-sensitively",
			policy: `{"Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/JIT"}}`,
			give:   Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/jit"},
			want:   NotAllowed,
		},
		{
			name:   "NotResource",
			policy: `{"Statement":{"Effect":"Deny","Action":"s3:*","NotResource":"arn:aws:s3:::public/*"}}`,
			give:   Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::public/index.html"},
			want:   NotAllowed,
		},
		{
			name:   "a policy variable in a condition (sts:RoleSessionName bound to the user name)",
			policy: `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringLike":{"sts:RoleSessionName":"${aws:username}"}}}}`,
			give:   Request{Action: "sts:AssumeRole", Resource: "*", Context: ctx("aws:username", "diego", "sts:RoleSessionName", "diego")},
			want:   Allowed,
		},
		{
			name:   "a policy variable that is missing matches nothing",
			policy: `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*","Condition":{"StringLike":{"sts:RoleSessionName":"${aws:username}"}}}}`,
			give:   Request{Action: "sts:AssumeRole", Resource: "*", Context: ctx("sts:RoleSessionName", "diego")},
			want:   NotAllowed,
		},
		{
			name:   "explicit Deny beats Allow",
			policy: `{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"dynamodb:DeleteTable","Resource":"*"}]}`,
			give:   Request{Action: "dynamodb:DeleteTable", Resource: "arn:aws:dynamodb:us-east-1:123456789012:table/jit"},
			want:   Denied,
		},
		{
			name:   "nothing applies: implicit deny",
			policy: `{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}`,
			give:   Request{Action: "dynamodb:GetItem", Resource: "*"},
			want:   NotAllowed,
		},
		{
			name:   "trust: the role session named directly",
			policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"sts:AssumeRole"}}`,
			give:   Request{Principal: session(alice), Action: "sts:AssumeRole", Resource: target},
			want:   Allowed,
		},
		{
			name:   "trust: another session of the same role is not named",
			policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"sts:AssumeRole"}}`,
			give:   Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:   NotAllowed,
		},
		{
			name:        "trust: the account root delegates to the caller's identity policies",
			policy:      `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"}}`,
			give:        Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:        Allowed,
			wantAccount: true,
		},
		{
			name:        "trust: the account ID alone is the root",
			policy:      `{"Statement":{"Effect":"Allow","Principal":{"AWS":["111122223333","123456789012"]},"Action":"sts:AssumeRole"}}`,
			give:        Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:        Allowed,
			wantAccount: true,
		},
		{
			name:        "trust: the caller's role names its sessions through the account",
			policy:      `{"Statement":{"Effect":"Allow","Principal":{"AWS":"` + engRole + `"},"Action":"sts:AssumeRole"}}`,
			give:        Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:        Allowed,
			wantAccount: true,
		},
		{
			name:   "trust: another account's root does not name the caller",
			policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}}`,
			give:   Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:   NotAllowed,
		},
		{
			name:   "trust: a partial wildcard in Principal matches nothing",
			policy: `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::123456789012:assumed-role/Engineer/*"},"Action":"sts:AssumeRole"}}`,
			give:   Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:   NotAllowed,
		},
		{
			name:   "trust: Principal * is anyone",
			policy: `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}}`,
			give:   Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target, Context: ctx("aws:PrincipalAccount", acct)},
			want:   Allowed,
		},
		{
			name:   "trust: a service principal does not name an AWS principal",
			policy: `{"Statement":{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}}`,
			give:   Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:   NotAllowed,
		},
		{
			name:   "trust: NotPrincipal with Deny denies everyone else",
			policy: `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"},{"Effect":"Deny","NotPrincipal":{"AWS":"` + alice + `"},"Action":"sts:AssumeRole"}]}`,
			give:   Request{Principal: session(bob), Action: "sts:AssumeRole", Resource: target},
			want:   Denied,
		},
		{
			name:   "jit's grant statement: in the window, with the bound session name",
			policy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"},{"Sid":"Jit01","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"sts:AssumeRole","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T10:00:00Z"},"StringEquals":{"sts:RoleSessionName":"alice@example.com"}}}]}`,
			give:   Request{Principal: session(alice), Action: "sts:AssumeRole", Resource: target, Context: ctx("aws:CurrentTime", "2030-01-01T09:59:59Z", "sts:RoleSessionName", "alice@example.com")},
			want:   Allowed,
		},
		{
			name:        "jit's grant statement: another session name leaves only the root statement",
			policy:      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"},{"Sid":"Jit01","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"sts:AssumeRole","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T10:00:00Z"},"StringEquals":{"sts:RoleSessionName":"alice@example.com"}}}]}`,
			give:        Request{Principal: session(alice), Action: "sts:AssumeRole", Resource: target, Context: ctx("aws:CurrentTime", "2030-01-01T09:00:00Z", "sts:RoleSessionName", "admin")},
			want:        Allowed,
			wantAccount: true,
		},
		{
			name:        "jit's grant statement: past the expiry",
			policy:      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"sts:AssumeRole"},{"Sid":"Jit01","Effect":"Allow","Principal":{"AWS":"` + alice + `"},"Action":"sts:AssumeRole","Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T10:00:00Z"},"StringEquals":{"sts:RoleSessionName":"alice@example.com"}}}]}`,
			give:        Request{Principal: session(alice), Action: "sts:AssumeRole", Resource: target, Context: ctx("aws:CurrentTime", "2030-01-01T10:00:00Z", "sts:RoleSessionName", "alice@example.com")},
			want:        Allowed,
			wantAccount: true,
		},
		{
			name:   "jit's revoke deny: the person's session issued before the revoke",
			policy: `{"Version":"2012-10-17","Statement":[{"Sid":"JitRevoke01","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:userid":"AROAEXAMPLEID:alice@example.com"},"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T10:00:00Z"}}}]}`,
			give:   Request{Action: "dynamodb:ListTables", Resource: "*", Context: ctx("aws:userid", "AROAEXAMPLEID:alice@example.com", "aws:TokenIssueTime", "2030-01-01T09:59:59.5Z")},
			want:   Denied,
		},
		{
			name:   "jit's revoke deny: someone else's session",
			policy: `{"Version":"2012-10-17","Statement":[{"Sid":"JitRevoke01","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:userid":"AROAEXAMPLEID:alice@example.com"},"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T10:00:00Z"}}}]}`,
			give:   Request{Action: "dynamodb:ListTables", Resource: "*", Context: ctx("aws:userid", "AROAEXAMPLEID:bob@example.com", "aws:TokenIssueTime", "2030-01-01T09:00:00Z")},
			want:   NotAllowed,
		},
		{
			name:   "jit's revoke deny: a session issued after the revoke",
			policy: `{"Version":"2012-10-17","Statement":[{"Sid":"JitRevoke01","Effect":"Deny","Action":"*","Resource":"*","Condition":{"StringLike":{"aws:userid":"AROAEXAMPLEID:alice@example.com"},"DateLessThan":{"aws:TokenIssueTime":"2030-01-01T10:00:00Z"}}}]}`,
			give:   Request{Action: "dynamodb:ListTables", Resource: "*", Context: ctx("aws:userid", "AROAEXAMPLEID:alice@example.com", "aws:TokenIssueTime", "2030-01-01T10:00:01Z")},
			want:   NotAllowed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.policy)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.give.Context == nil {
				tt.give.Context = Context{}
			}
			got := p.Evaluate(tt.give)
			if got.Decision != tt.want || got.ThroughAccount != tt.wantAccount {
				t.Fatalf("Evaluate = %v (through account %v), want %v (through account %v)", got.Decision, got.ThroughAccount, tt.want, tt.wantAccount)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct {
		name, give, wantErr string
	}{
		{"not JSON", `{`, "policy document"},
		{"no statement", `{"Version":"2012-10-17"}`, "no Statement"},
		{"bad effect", `{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, "Effect"},
		{"no action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "Action"},
		{"unevaluated operator", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}}}`, "not evaluated"},
		{"unknown qualifier", `{"Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"ForSome:StringEquals":{"k":"v"}}}}`, "qualifier"},
		{"bare principal", `{"Statement":{"Effect":"Allow","Principal":"arn:aws:iam::123456789012:root","Action":"*"}}`, "Principal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.give)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Parse error = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

func TestParseURLEncoded(t *testing.T) {
	p, err := Parse("%7B%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D")
	if err != nil || len(p.Statements) != 1 {
		t.Fatalf("Parse = %v, %v", p, err)
	}
}

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"a*c", "abbbc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"*@example.com", "alice@example.com", true},
		{"*@example.com", "alice@example.org", false},
		{"AROA*:alice", "AROA12:alice", true},
		{"abc", "abcd", false},
	}
	for _, tt := range tests {
		if got := Glob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Glob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}
