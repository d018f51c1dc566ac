package iampolicy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Policy is a parsed policy document.
type Policy struct {
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect string // "Allow" or "Deny"
	// Action or NotAction, Resource or NotResource: the patterns as
	// written. A statement without Resource and NotResource (a trust
	// policy's) applies to any resource.
	Action, NotAction     []string
	Resource, NotResource []string
	// Principal or NotPrincipal, by kind ("AWS", "Service", "Federated";
	// "*" for the bare wildcard). Nil for identity policies.
	Principal, NotPrincipal map[string][]string
	Conditions              []Condition
}

// Condition is one operator applied to one condition key.
type Condition struct {
	Operator string // as written, e.g. "ForAnyValue:StringLikeIfExists"
	Key      string
	Values   []string

	op       baseOp
	set      string // "", "ForAnyValue" or "ForAllValues"
	ifExists bool
}

// Parse reads a policy document, as JSON or URL-encoded JSON (the form
// IAM returns documents in). It refuses what it cannot evaluate faithfully,
// so that a caller can fail closed.
func Parse(doc string) (*Policy, error) {
	if strings.HasPrefix(strings.TrimSpace(doc), "%7B") {
		if dec, err := url.QueryUnescape(doc); err == nil {
			doc = dec
		}
	}
	var raw struct {
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	var list []json.RawMessage
	trimmed := strings.TrimSpace(string(raw.Statement))
	switch {
	case trimmed == "" || trimmed == "null":
		return nil, errors.New("policy document has no Statement")
	case trimmed[0] == '{':
		list = []json.RawMessage{raw.Statement}
	default:
		if err := json.Unmarshal(raw.Statement, &list); err != nil {
			return nil, fmt.Errorf("policy Statement: %w", err)
		}
	}
	p := &Policy{}
	for i, r := range list {
		st, err := parseStatement(r)
		if err != nil {
			return nil, fmt.Errorf("statement %d: %w", i, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var s struct {
		Sid          string                                `json:"Sid"`
		Effect       string                                `json:"Effect"`
		Action       json.RawMessage                       `json:"Action"`
		NotAction    json.RawMessage                       `json:"NotAction"`
		Resource     json.RawMessage                       `json:"Resource"`
		NotResource  json.RawMessage                       `json:"NotResource"`
		Principal    json.RawMessage                       `json:"Principal"`
		NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
		Condition    map[string]map[string]json.RawMessage `json:"Condition"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return Statement{}, err
	}
	st := Statement{Sid: s.Sid, Effect: s.Effect}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, fmt.Errorf("Effect %q: want Allow or Deny", s.Effect)
	}
	var err error
	if st.Action, err = stringList(s.Action); err != nil {
		return st, fmt.Errorf("Action: %w", err)
	}
	if st.NotAction, err = stringList(s.NotAction); err != nil {
		return st, fmt.Errorf("NotAction: %w", err)
	}
	if (st.Action == nil) == (st.NotAction == nil) {
		return st, errors.New("want exactly one of Action and NotAction")
	}
	if st.Resource, err = stringList(s.Resource); err != nil {
		return st, fmt.Errorf("Resource: %w", err)
	}
	if st.NotResource, err = stringList(s.NotResource); err != nil {
		return st, fmt.Errorf("NotResource: %w", err)
	}
	if st.Principal, err = principalMap(s.Principal); err != nil {
		return st, fmt.Errorf("Principal: %w", err)
	}
	if st.NotPrincipal, err = principalMap(s.NotPrincipal); err != nil {
		return st, fmt.Errorf("NotPrincipal: %w", err)
	}
	ops := make([]string, 0, len(s.Condition))
	for op := range s.Condition {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		for key, v := range s.Condition[op] {
			c, err := parseCondition(op, key, v)
			if err != nil {
				return st, err
			}
			st.Conditions = append(st.Conditions, c)
		}
	}
	return st, nil
}

// stringList reads a policy element that is a string or a list of
// strings (condition values may also be booleans or numbers). Nil means
// the element is absent.
func stringList(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one any
	if err := json.Unmarshal(raw, &one); err != nil {
		return nil, err
	}
	items, ok := one.([]any)
	if !ok {
		items = []any{one}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		switch v := it.(type) {
		case string:
			out = append(out, v)
		case bool:
			out = append(out, strconv.FormatBool(v))
		case float64:
			out = append(out, strconv.FormatFloat(v, 'f', -1, 64))
		default:
			return nil, fmt.Errorf("value %v is not a string", it)
		}
	}
	return out, nil
}

func principalMap(raw json.RawMessage) (map[string][]string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var star string
	if err := json.Unmarshal(raw, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf("%q: a bare Principal must be \"*\"", star)
		}
		return map[string][]string{"*": {"*"}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for kind, v := range m {
		list, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", kind, err)
		}
		out[kind] = list
	}
	return out, nil
}
