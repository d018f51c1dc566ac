package target_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/target"
)

const role = "arn:aws:iam::123456789012:role/jit-prod-readonly"

func TestValidate(t *testing.T) {
	ic := func(kv ...string) target.Target {
		base := []string{target.InstanceARN, "arn:aws:sso:::instance/ssoins-0123456789abcdef",
			target.PermissionSetARN, "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef",
			target.AccountID, "210987654321"}
		return target.New(target.IdentityCenter, append(base, kv...)...)
	}
	tests := []struct {
		name string
		give target.Target
		want []string // "param: message" prefixes
	}{
		{"role", target.New(target.IAMRoleTrust, target.RoleARN, role), nil},
		{"no role", target.New(target.IAMRoleTrust), []string{`role_arn: "" is not an IAM role ARN`}},
		{"user not role", target.New(target.IAMRoleTrust, target.RoleARN, "arn:aws:iam::123456789012:user/bob"), []string{`role_arn: "arn:aws:iam::123456789012:user/bob" is not an IAM role ARN`}},
		{"identity center", ic(), nil},
		{"bad account", ic(target.AccountID, "12345"), []string{`account_id: "12345" is not a 12-digit AWS account id`}},
		{"another provider's field", ic(target.RoleARN, role), []string{"role_arn: is for iam_role_trust; identity_center takes permission_set_arn, account_id, instance_arn"}},
		{"unknown field", target.New(target.IAMRoleTrust, target.RoleARN, role, "colour", "blue"), []string{"colour: unknown field; iam_role_trust takes role_arn"}},
		{"unknown provider", target.New("magic"), []string{`provider: "magic" is not a known provider (known: iam_role_trust, identity_center`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.give.Validate()
			if len(got) != len(tt.want) {
				t.Fatalf("Validate() = %v, want %d problems %v", got, len(tt.want), tt.want)
			}
			for i, p := range got {
				if s := p.Param + ": " + p.Message; !strings.HasPrefix(s, tt.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, s, tt.want[i])
				}
			}
		})
	}
}

func TestReading(t *testing.T) {
	r := target.New(target.IAMRoleTrust, target.RoleARN, role)
	if r.String() != role || r.AssumableRole() != role || r.ForPeople() || r.UseText() != "" {
		t.Errorf("role target: %q %q %v %q", r.String(), r.AssumableRole(), r.ForPeople(), r.UseText())
	}
	if got, want := r.Facts(), []target.Fact{{Label: "Role", Value: role}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Facts() = %v, want %v", got, want)
	}
	ic := target.New(target.IdentityCenter, target.InstanceARN, "i", target.PermissionSetARN, "ps", target.AccountID, "210987654321")
	if ic.String() != "permission set ps in account 210987654321" || ic.AssumableRole() != "" || !ic.ForPeople() {
		t.Errorf("identity center target: %q %q %v", ic.String(), ic.AssumableRole(), ic.ForPeople())
	}
	if !strings.Contains(ic.UseText(), "account 210987654321") {
		t.Errorf("UseText() = %q, want the account filled in", ic.UseText())
	}
	if got := ic.Facts(); len(got) != 3 || got[0].Label != "Permission set" {
		t.Errorf("Facts() = %v", got)
	}
	if u := target.New("gone", "x", "y"); u.String() != "gone" || u.Facts() != nil || u.AssumableRole() != "" {
		t.Errorf("unknown provider reads as %q %v", u.String(), u.Facts())
	}
}

// The API, the CLI and the stored policy see one flat object, as the
// policy spells it.
func TestFlatForm(t *testing.T) {
	r := target.New(target.IAMRoleTrust, target.RoleARN, role)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"provider":"iam_role_trust","role_arn":"` + role + `"}`; string(b) != want {
		t.Errorf("JSON = %s, want %s", b, want)
	}
	var back target.Target
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, r) {
		t.Errorf("JSON round trip = %+v, %v", back, err)
	}
	if err := json.Unmarshal([]byte(`{"provider":"iam_role_trust","role_arn":7}`), &back); err == nil {
		t.Error("a number as a field was accepted")
	}
	y, err := yaml.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var yback target.Target
	if err := yaml.Unmarshal(y, &yback); err != nil || !reflect.DeepEqual(yback, r) {
		t.Errorf("YAML round trip of %s = %+v, %v", y, yback, err)
	}
	if err := yaml.Unmarshal([]byte("role_arn: [a, b]\n"), &yback); err == nil || !strings.Contains(err.Error(), "must be a string") {
		t.Errorf("a list as a field: %v", err)
	}
}

// A new provider is one Kind in its own file: the policy validates its
// targets (with lines), and every reader shows them, with no change
// outside this package.
func TestNewProviderIsConfined(t *testing.T) {
	target.Register(&target.Kind{
		Name: "example_group",
		Params: []target.Param{{Name: "group", Label: "Group",
			Pattern: regexp.MustCompile(`^[a-z-]+$`), Want: "a group name (lower-case letters and dashes)"}},
		ForPeople: true,
		Use:       "you are in group {group} until the window ends",
	})
	doc := func(group string) []byte {
		return []byte(`resources:
  - name: on-call
    target:
      provider: example_group
      group: ` + group + `
    requesters: ["*@example.com"]
    max_duration: 1h
    approval:
      levels:
        - approvers: [{email: lead@example.com}]
`)
	}
	d, err := policy.Parse(doc("pagers"))
	if err != nil {
		t.Fatalf("a valid example_group target: %v", err)
	}
	got := d.Resources[0].Target
	if got.String() != "pagers" || !got.ForPeople() || got.UseText() != "you are in group pagers until the window ends" {
		t.Errorf("target reads as %q %v %q", got.String(), got.ForPeople(), got.UseText())
	}
	_, err = policy.Parse(doc("Pagers!"))
	var inv *policy.InvalidError
	if !errors.As(err, &inv) || len(inv.Problems) != 1 {
		t.Fatalf("an invalid group: %v", err)
	}
	if p := inv.Problems[0]; p.Line != 5 || p.Field != "resources[0].target.group" || !strings.Contains(p.Message, "is not a group name") {
		t.Errorf("problem = %+v", p)
	}
}
