// Package iam checks the IAM policies template.yaml gives the functions:
// that no function can change or delete an audit event, and that this
// does not stop them from writing what they must.
package iam

import (
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// statement is one IAM policy statement, as far as these checks read it.
type statement struct {
	Effect    string
	Actions   []string
	Resources []string // logical ids of tables ("AccessTable"), or "*"
	// LeadingKeys are the dynamodb:LeadingKeys patterns of a
	// ForAnyValue:StringLike condition; none means any key.
	LeadingKeys []string
	// Attributes are the dynamodb:Attributes of a ForAnyValue:StringEquals
	// condition: the statement applies when the request names any of them;
	// none means any request.
	Attributes []string
	Other      bool // has a condition these checks do not model
}

// loadTemplate returns each function's statements, its inline ones and
// those of the managed policies it references.
func loadTemplate(t *testing.T) map[string][]statement {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		t.Fatal(err)
	}
	resources := get(root.Content[0], "Resources")
	managed := map[string][]statement{}
	for i := 0; i < len(resources.Content); i += 2 {
		id, r := resources.Content[i].Value, resources.Content[i+1]
		if get(r, "Type").Value == "AWS::IAM::ManagedPolicy" {
			managed[id] = statements(t, get(get(get(r, "Properties"), "PolicyDocument"), "Statement"))
		}
	}
	functions := map[string][]statement{}
	for i := 0; i < len(resources.Content); i += 2 {
		id, r := resources.Content[i].Value, resources.Content[i+1]
		if get(r, "Type").Value != "AWS::Serverless::Function" {
			continue
		}
		var all []statement
		for _, p := range get(get(r, "Properties"), "Policies").Content {
			switch {
			case p.Tag == "!Ref":
				ss, ok := managed[p.Value]
				if !ok {
					t.Fatalf("%s references %s, not a managed policy of the template", id, p.Value)
				}
				all = append(all, ss...)
			case get(p, "Statement") != nil:
				all = append(all, statements(t, get(p, "Statement"))...)
			case p.Kind == yaml.MappingNode && strings.HasPrefix(p.Content[0].Value, "DynamoDB"):
				t.Fatalf("%s uses the SAM policy template %s, which these checks do not model", id, p.Content[0].Value)
			}
		}
		functions[id] = all
	}
	if len(functions) == 0 {
		t.Fatal("no functions in template.yaml")
	}
	return functions
}

func get(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func list(n *yaml.Node) []*yaml.Node {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		return n.Content
	}
	return []*yaml.Node{n}
}

func statements(t *testing.T, n *yaml.Node) []statement {
	var out []statement
	for _, s := range list(n) {
		st := statement{Effect: get(s, "Effect").Value}
		for _, a := range list(get(s, "Action")) {
			st.Actions = append(st.Actions, a.Value)
		}
		for _, r := range list(get(s, "Resource")) {
			st.Resources = append(st.Resources, tableOf(r))
		}
		if c := get(s, "Condition"); c != nil {
			for i := 0; i < len(c.Content); i += 2 {
				op, body := c.Content[i].Value, c.Content[i+1]
				if op == "ForAnyValue:StringLike" && len(body.Content) == 2 && body.Content[0].Value == "dynamodb:LeadingKeys" {
					for _, k := range list(body.Content[1]) {
						st.LeadingKeys = append(st.LeadingKeys, k.Value)
					}
					continue
				}
				if op == "ForAnyValue:StringEquals" && len(body.Content) == 2 && body.Content[0].Value == "dynamodb:Attributes" {
					for _, a := range list(body.Content[1]) {
						st.Attributes = append(st.Attributes, a.Value)
					}
					continue
				}
				st.Other = true
			}
		}
		out = append(out, st)
	}
	return out
}

// tableOf names the table a Resource entry is: the logical id for
// !GetAtt X.Arn (the table itself), "" for anything else (its indexes,
// other services).
func tableOf(r *yaml.Node) string {
	switch {
	case r.Tag == "!GetAtt" && strings.HasSuffix(r.Value, ".Arn"):
		return strings.TrimSuffix(r.Value, ".Arn")
	case r.Value == "*":
		return "*"
	}
	return ""
}

// allowed evaluates action on the table with a partition key and the
// request's attribute names (an item's, for PutItem) as IAM does for these
// statements: an explicit Deny wins, else some Allow must match.
func allowed(ss []statement, action, table, partitionKey string, attributes ...string) bool {
	matches := func(s statement) bool {
		hitAction, hitResource := false, false
		for _, a := range s.Actions {
			if ok, _ := path.Match(strings.ToLower(a), strings.ToLower(action)); ok {
				hitAction = true
			}
		}
		for _, r := range s.Resources {
			if r == table || r == "*" {
				hitResource = true
			}
		}
		if !hitAction || !hitResource {
			return false
		}
		if len(s.Attributes) > 0 && !slices.ContainsFunc(attributes, func(a string) bool { return slices.Contains(s.Attributes, a) }) {
			return false
		}
		if len(s.LeadingKeys) == 0 {
			return true
		}
		for _, k := range s.LeadingKeys {
			if ok, _ := path.Match(k, partitionKey); ok {
				return true
			}
		}
		return false
	}
	allow := false
	for _, s := range ss {
		if !matches(s) {
			continue
		}
		if s.Effect == "Deny" {
			return false
		}
		allow = allow || !s.Other
	}
	return allow
}

// TestAuditEventsCannotBeChanged: no function of the template may update
// or delete an audit event (partition keys EVENT#…), while each may still
// append events and change requests.
func TestAuditEventsCannotBeChanged(t *testing.T) {
	const event, request = "EVENT#01m8hc53352cktrbj461fmpre6", "REQ#01m8hc53352cktrbj461fmpre6"
	writes := []string{"dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PartiQLUpdate", "dynamodb:PartiQLDelete"}
	// What the store writes for an event (shared/store eventItem): never
	// the TTL attribute.
	eventAttributes := []string{"PK", "SK", "GSI3PK", "GSI3SK", "GSI7PK", "GSI7SK", "kind", "request_id", "type", "actor", "at"}
	ttl := ttlAttribute(t)
	for fn, ss := range loadTemplate(t) {
		for _, a := range writes {
			if allowed(ss, a, "AccessTable", event) {
				t.Errorf("%s may %s an audit event", fn, a)
			}
		}
		if !allowed(ss, "dynamodb:PutItem", "AccessTable", event, eventAttributes...) {
			t.Errorf("%s cannot append audit events (PutItem on EVENT#)", fn)
		}
		// An event written with the TTL attribute would be deleted by TTL.
		if allowed(ss, "dynamodb:PutItem", "AccessTable", event, append(eventAttributes, ttl)...) {
			t.Errorf("%s may write an audit event with the TTL attribute %q", fn, ttl)
		}
		if !allowed(ss, "dynamodb:PutItem", "AccessTable", request, "PK", "SK", ttl) {
			t.Errorf("%s cannot write items that expire (PutItem with %q outside EVENT#): the Deny is too wide", fn, ttl)
		}
		if !allowed(ss, "dynamodb:UpdateItem", "AccessTable", request) {
			t.Errorf("%s cannot change requests: the Deny on events is too wide", fn)
		}
	}
}

// ttlAttribute is the access table's TTL attribute name, from the template.
func ttlAttribute(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources struct {
			AccessTable struct {
				Properties struct {
					TimeToLiveSpecification struct {
						AttributeName string `yaml:"AttributeName"`
						Enabled       bool   `yaml:"Enabled"`
					} `yaml:"TimeToLiveSpecification"`
				} `yaml:"Properties"`
			} `yaml:"AccessTable"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	spec := doc.Resources.AccessTable.Properties.TimeToLiveSpecification
	if !spec.Enabled || spec.AttributeName == "" {
		t.Fatalf("AccessTable has no TTL attribute: %+v", spec)
	}
	return spec.AttributeName
}

// TestEvaluator makes sure the checks above can fail.
func TestEvaluator(t *testing.T) {
	allow := statement{Effect: "Allow", Actions: []string{"dynamodb:UpdateItem", "dynamodb:Put*"}, Resources: []string{"AccessTable"}}
	deny := statement{Effect: "Deny", Actions: []string{"dynamodb:UpdateItem"}, Resources: []string{"AccessTable"}, LeadingKeys: []string{"EVENT#*"}}
	noTTL := statement{Effect: "Deny", Actions: []string{"dynamodb:PutItem"}, Resources: []string{"AccessTable"}, LeadingKeys: []string{"EVENT#*"}, Attributes: []string{"ttl"}}
	for _, c := range []struct {
		ss     []statement
		action string
		key    string
		want   bool
		attrs  []string
	}{
		{[]statement{allow}, "dynamodb:UpdateItem", "EVENT#x", true, nil},
		{[]statement{allow, deny}, "dynamodb:UpdateItem", "EVENT#x", false, nil},
		{[]statement{allow, deny}, "dynamodb:UpdateItem", "REQ#x", true, nil},
		{[]statement{allow, deny}, "dynamodb:PutItem", "EVENT#x", true, nil},
		{[]statement{deny}, "dynamodb:DeleteItem", "EVENT#x", false, nil},
		{[]statement{{Effect: "Allow", Actions: []string{"dynamodb:*"}, Resources: []string{"*"}}}, "dynamodb:DeleteItem", "EVENT#x", true, nil},
		{[]statement{allow, noTTL}, "dynamodb:PutItem", "EVENT#x", true, nil},
		{[]statement{allow, noTTL}, "dynamodb:PutItem", "EVENT#x", false, []string{"PK", "ttl"}},
		{[]statement{allow, noTTL}, "dynamodb:PutItem", "REQ#x", true, []string{"PK", "ttl"}},
	} {
		if got := allowed(c.ss, c.action, "AccessTable", c.key, c.attrs...); got != c.want {
			t.Errorf("%s on %s with %+v = %v, want %v", c.action, c.key, c.ss, got, c.want)
		}
	}
}
