package access

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/policy"
)

var rulesPolicy = fixture("../policy/testdata/rules.yaml")

var validPolicy = fixture("../policy/testdata/valid.yaml")

func TestAutoApproval(t *testing.T) {
	doc, err := policy.Parse([]byte(rulesPolicy))
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Resources[0]
	ci := Principal{ARN: "arn:aws:sts::123456789012:assumed-role/CI/deploy"}
	alice := Principal{ARN: "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com", Person: "alice@example.com"}
	// 2026-11-25 is a Wednesday; Berlin is UTC+1 in November.
	wed := func(h, m int) time.Time { return time.Date(2026, 11, 25, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name      string
		principal Principal
		d         time.Duration
		now       time.Time
		wantRule  string
	}{
		{"ci short at night", ci, 20 * time.Minute, wed(2, 0), "short-ci"},
		{"ci too long at night", ci, 2 * time.Hour, wed(2, 0), ""},
		{"human short at night", alice, 20 * time.Minute, wed(2, 0), ""},
		{"office hours Berlin 09:00 = 08:00 UTC", alice, 4 * time.Hour, wed(8, 0), "office-hours"},
		{"before office hours Berlin (07:59 UTC = 08:59 Berlin)", alice, 4 * time.Hour, wed(7, 59), ""},
		{"last office minute", alice, time.Minute, wed(15, 59), "office-hours"},
		{"access that runs past closing time", alice, time.Hour, wed(15, 59), ""},
		{"access that ends at closing time", alice, time.Hour, wed(15, 0), "office-hours"},
		{"friday evening for saturday 03:00: the access window decides", alice, time.Hour, time.Date(2026, 11, 28, 2, 0, 0, 0, time.UTC), ""},
		{"office closed at 17:00 Berlin", alice, time.Hour, wed(16, 0), ""},
		{"weekend office hours do not apply", alice, time.Hour, time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), ""},
		{"saturday night", alice, time.Hour, time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC), "night-shift"},
		{"sunday early morning belongs to saturday's window", alice, time.Minute, time.Date(2026, 11, 29, 5, 0, 0, 0, time.UTC), "night-shift"},
		{"saturday night access that runs into sunday morning", alice, 7 * time.Hour, time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC), "night-shift"},
		{"saturday night access past the window's end", alice, 8 * time.Hour, time.Date(2026, 11, 28, 23, 0, 0, 0, time.UTC), ""},
		{"sunday night is not in the window", alice, time.Hour, time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, ok := AutoApproval(&r, tt.principal, tt.d, tt.now)
			if rule != tt.wantRule || ok != (tt.wantRule != "") {
				t.Fatalf("AutoApproval = %q, %v; want %q", rule, ok, tt.wantRule)
			}
		})
	}
}

func TestMayRequestByPerson(t *testing.T) {
	r := &policy.Resource{Requesters: []string{"*@example.com"}}
	sso := Principal{ARN: "arn:aws:sts::1:assumed-role/AWSReservedSSO_Dev/Alice@Example.com", Person: "alice@example.com"}
	if !MayRequest(r, sso) {
		t.Error("a person identified by email should match an email pattern")
	}
	chosen := Principal{ARN: "arn:aws:sts::1:assumed-role/CI/alice@example.com"}
	if MayRequest(r, chosen) {
		t.Error("a session merely named like an email matched an email pattern")
	}
}

func TestDirectoryBindsApprovers(t *testing.T) {
	doc, err := policy.Parse([]byte(strings.Replace(validPolicy, "- email: a@example.com", "- email: a@example.com\n              principal: arn:aws:iam::123456789012:user/a", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if p := DirectoryOf(doc).Identify("arn:aws:iam::123456789012:user/a"); p.Person != "a@example.com" {
		t.Fatalf("approver's principal identifies %+v, want a@example.com", p)
	}
}

// openPolicy has a resource with two approvers, one whose only approver
// is bound to a principal, and an Identity Center resource.
var openPolicy = fixture("testdata/open.yaml")

// fixture reads a file of testdata.
func fixture(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

const alice = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"

func TestOpen(t *testing.T) {
	doc, err := policy.Parse([]byte(openPolicy))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name                       string
		resource, duration, reason string
		caller                     string
		wantDuration               time.Duration
		wantKind                   Kind // for *Error refusals
		wantErr                    string
	}{
		{name: "ok", resource: "db", duration: "15m", reason: "fix prod", caller: alice, wantDuration: 15 * time.Minute},
		{name: "default duration", resource: "db", reason: "fix prod", caller: alice, wantDuration: 10 * time.Minute},
		{name: "missing resource", duration: "15m", reason: "fix prod", caller: alice, wantErr: "resource: is required"},
		{name: "unknown resource", resource: "nope", duration: "15m", reason: "fix prod", caller: alice, wantErr: `resource: "nope" is not a resource`},
		{name: "not a requester", resource: "db", duration: "15m", reason: "fix prod", caller: "arn:aws:sts::123456789012:assumed-role/Auditor/frank", wantKind: KindForbidden},
		{name: "too short", resource: "db", duration: "30s", reason: "fix prod", caller: alice, wantErr: "shorter than the 1m minimum"},
		{name: "too long", resource: "db", duration: "2h", reason: "fix prod", caller: alice, wantErr: "exceeds the 1h maximum"},
		{name: "zero", resource: "db", duration: "0s", reason: "fix prod", caller: alice, wantErr: "must be positive"},
		{name: "negative", resource: "db", duration: "-5m", reason: "fix prod", caller: alice, wantErr: "must be positive"},
		{name: "garbage duration", resource: "db", duration: "1 hour", reason: "fix prod", caller: alice, wantErr: "is not a duration"},
		{name: "no reason", resource: "db", duration: "15m", reason: "   ", caller: alice, wantErr: "reason: is required"},
		{name: "short reason", resource: "db", duration: "15m", reason: "fix", caller: alice, wantErr: "at least 5 characters"},
		{name: "huge reason", resource: "db", duration: "15m", reason: strings.Repeat("x", 1001), caller: alice, wantErr: "the limit is 1000"},
		{name: "only approver is the requester", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/Ops/ops@example.com", wantKind: KindUnprocessable},
		{name: "only approver is the requester by bound principal", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/Ops/deploy-7", wantKind: KindUnprocessable},
		{name: "only approver is the requester by session name on any role", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/CI/ops@example.com", wantKind: KindUnprocessable},
		{name: "account root", resource: "solo", duration: "15m", reason: "fix", caller: "arn:aws:iam::123456789012:root", wantKind: KindForbidden},
		{name: "identity center needs an identified person", resource: "sso", duration: "15m", reason: "fix", caller: "arn:aws:sts::123456789012:assumed-role/CI/carol@example.com", wantKind: KindForbidden},
		{name: "identity center for an identified person", resource: "sso", duration: "15m", reason: "fix prod", caller: "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1234/dave@example.com", wantDuration: 15 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(Ask{Resource: tt.resource, Duration: tt.duration, Reason: tt.reason}, DirectoryOf(doc).Identify(tt.caller), doc, 3, now)
			var e *Error
			switch {
			case tt.wantKind != 0:
				if !errors.As(err, &e) || e.Kind != tt.wantKind {
					t.Fatalf("err = %v, want kind %d", err, tt.wantKind)
				}
			case tt.wantErr != "":
				var ve *ValidationError
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want validation error containing %q", err, tt.wantErr)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if r.Duration != tt.wantDuration || r.Status != Pending || r.PolicyVersion != 3 || r.Requester != tt.caller {
					t.Fatalf("request = %+v", r)
				}
			}
		})
	}
}

func TestOpenLeavesRequesterOutOfApprovers(t *testing.T) {
	doc, _ := policy.Parse([]byte(openPolicy))
	r, err := Open(Ask{Resource: "db", Duration: "15m", Reason: "fix prod"}, DirectoryOf(doc).Identify(alice), doc, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Approvers) != 1 || r.Approvers[0] != "carol@example.com" {
		t.Fatalf("approvers = %v, want only carol", r.Approvers)
	}
}
