package policy

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/target"
)

func TestParseSample(t *testing.T) {
	b, err := os.ReadFile("../../infra/local/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Parse(b)
	if err != nil {
		t.Fatalf("sample policy: %v", err)
	}
	r, ok := doc.Resource("sandbox-admin")
	if !ok {
		t.Fatal("sandbox-admin missing")
	}
	if r.MinDuration.Std() != time.Minute || r.MaxDuration.Std() != 4*time.Hour {
		t.Errorf("durations = %v..%v", r.MinDuration.Std(), r.MaxDuration.Std())
	}
	if got := r.Approval.Levels[0].MinApprovals; got != 1 {
		t.Errorf("min_approvals default = %d, want 1", got)
	}
}

// valid is the smallest valid policy; tests edit it.
var valid = fixture("testdata/valid.yaml")

// fixture reads a file of testdata.
func fixture(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string // substring of the error
	}{
		{"empty", "", "document: is empty"},
		{"not yaml", "resources: [", "line"},
		{"unknown field", strings.Replace(valid, "max_duration: 1h", "max_duration: 1h\n    colour: red", 1), `line 7: document: unknown field "colour"`},
		{"no resources", "resources: []\n", "resources: at least one resource is required"},
		{"bad duration", strings.Replace(valid, "max_duration: 1h", "max_duration: forever", 1), `"forever" is not a duration`},
		{"bad name", strings.Replace(valid, "name: db", "name: DB!", 1), `line 2: resources[0].name: "DB!" must be lower-case`},
		{"bad role", strings.Replace(valid, "role/db", "user/db", 1), "resources[0].target.role_arn"},
		{"unknown provider", strings.Replace(valid, "role_arn:", "provider: magic\n      role_arn:", 1), `"magic" is not a known provider`},
		{"quorum too big", strings.Replace(valid, "        - approvers:", "        - min_approvals: 3\n          approvers:", 1), "resources[0].approval.levels[0].min_approvals: 3 exceeds the 1 approvers listed"},
		{"bad email", strings.Replace(valid, "a@example.com", "not-an-email", 1), `line 10: resources[0].approval.levels[0].approvers[0].email: "not-an-email" is not an email address`},
		{"min over max", strings.Replace(valid, "max_duration: 1h", "max_duration: 1h\n    min_duration: 2h", 1), "min_duration: 2h0m0s exceeds max_duration"},
		{"duplicate", valid + strings.TrimPrefix(valid, "resources:\n"), `"db" is already used by resources[0]`},
		{"requester pattern", strings.Replace(valid, `["*"]`, `["alice"]`, 1), `requesters[0]: "alice" must be a principal ARN pattern`},
		{"too big", strings.Repeat("#", MaxDocumentSize+1), "the limit is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.give))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse() err = %v, want *InvalidError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse() err = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseValidDefaults(t *testing.T) {
	doc, err := Parse([]byte(valid))
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Resources[0]
	if r.Target.Provider != target.IAMRoleTrust || r.MinDuration.Std() != DefaultMinDuration || r.Approval.Levels[0].Timeout.Std() != DefaultLevelTimeout {
		t.Fatalf("defaults not applied: %+v", r)
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything", true},
		{"arn:aws:sts::1:assumed-role/Eng/*", "arn:aws:sts::1:assumed-role/Eng/alice", true},
		{"arn:aws:sts::1:assumed-role/Eng/*", "arn:aws:sts::1:assumed-role/Engineer/alice", false},
		{"arn:*:role/*/x", "arn:aws:iam::1:role/a/b/x", true},
		{"exact", "exact", true},
		{"exact", "exactly", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(valid))
	f.Add([]byte("resources: [{name: x}]"))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := Parse(b)
		if err == nil && len(doc.Resources) == 0 {
			t.Fatal("accepted a document without resources")
		}
	})
}
