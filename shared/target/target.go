package target

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Target says what a grant changes. In a policy, in the API and in the
// CLI's JSON it is one flat object: "provider" and the provider's
// parameters beside it, e.g. {provider: iam_role_trust, role_arn: ...}.
type Target struct {
	Provider string
	Params   map[string]string
}

// New returns a target of provider with params given as name, value pairs.
func New(provider string, params ...string) Target {
	t := Target{Provider: provider, Params: map[string]string{}}
	for i := 0; i+1 < len(params); i += 2 {
		t.Params[params[i]] = params[i+1]
	}
	return t
}

// Param returns the parameter name, "" when absent.
func (t Target) Param(name string) string { return t.Params[name] }

// Kind returns the target's provider description, nil when no provider
// of that name exists.
func (t Target) Kind() *Kind { return kinds[t.Provider] }

// String is how people read the target on one line: the role ARN, or
// e.g. "permission set ... in account ...".
func (t Target) String() string {
	if k := t.Kind(); k != nil && k.Describe != nil {
		return k.Describe(t.Params)
	}
	return t.Provider
}

// Facts are the target's labelled details for a page or a message.
func (t Target) Facts() []Fact {
	k := t.Kind()
	if k == nil {
		return nil
	}
	var fs []Fact
	for _, p := range k.Params {
		if v := t.Params[p.Name]; v != "" {
			fs = append(fs, Fact{Label: p.Label, Value: v})
		}
	}
	return fs
}

// AssumableRole is the IAM role ARN the requester assumes with their own
// credentials while the grant is active, "" when the target is used some
// other way (see Kind.Use).
func (t Target) AssumableRole() string {
	if k := t.Kind(); k != nil && k.AssumeParam != "" {
		return t.Params[k.AssumeParam]
	}
	return ""
}

// ForPeople reports whether the grant goes to a person in a directory
// (not to whichever session asked), so only an identified person may
// request it.
func (t Target) ForPeople() bool {
	k := t.Kind()
	return k != nil && k.ForPeople
}

// Fact is one labelled detail of a target.
type Fact struct{ Label, Value string }

// Kind describes one provider's targets.
type Kind struct {
	// Name is the provider's name in a policy ("provider: ...").
	Name string
	// Params are the provider's parameters, all required, in the order
	// people read them.
	Params []Param
	// Describe renders the parameters on one line; nil means the first
	// parameter's value.
	Describe func(map[string]string) string
	// AssumeParam names the parameter holding a role the requester
	// assumes with their own credentials, "" for none.
	AssumeParam string
	// ForPeople: the grant is made to a directory user resolved from
	// the requester's identity.
	ForPeople bool
	// Use says how a requester uses an active grant that is not an
	// assumable role; it may refer to parameters as {name}.
	Use string
}

// Param is one parameter of a Kind.
type Param struct {
	Name string
	// Label is how a page or a message heads its value.
	Label string
	// Pattern is what a valid value matches; Want says so in words, to
	// complete "%q is not ...".
	Pattern *regexp.Regexp
	Want    string
}

// UseText is Kind.Use with the target's parameters filled in.
func (t Target) UseText() string {
	k := t.Kind()
	if k == nil || k.Use == "" {
		return ""
	}
	s := k.Use
	for n, v := range t.Params {
		s = strings.ReplaceAll(s, "{"+n+"}", v)
	}
	return s
}

// kinds are the providers a target may name.
var kinds = map[string]*Kind{}

func register(k *Kind) *Kind {
	if _, dup := kinds[k.Name]; dup {
		panic("target: provider " + k.Name + " registered twice")
	}
	if k.Describe == nil {
		first := k.Params[0].Name
		k.Describe = func(p map[string]string) string { return p[first] }
	}
	kinds[k.Name] = k
	return k
}

// Names lists the providers, sorted.
func Names() []string {
	ns := make([]string, 0, len(kinds))
	for n := range kinds {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// Problem is one thing wrong with a target: Param names the parameter
// ("provider" for the provider itself).
type Problem struct{ Param, Message string }

// Validate reports everything wrong with t: an unknown provider, a
// missing or malformed parameter, a parameter the provider does not take.
func (t Target) Validate() []Problem {
	k := t.Kind()
	if k == nil {
		return []Problem{{"provider", fmt.Sprintf("%q is not a known provider (known: %s)", t.Provider, strings.Join(Names(), ", "))}}
	}
	var ps []Problem
	takes := map[string]bool{}
	for _, p := range k.Params {
		takes[p.Name] = true
		if v := t.Params[p.Name]; !p.Pattern.MatchString(v) {
			ps = append(ps, Problem{p.Name, fmt.Sprintf("%q is not %s", v, p.Want)})
		}
	}
	var extra []string
	for n := range t.Params {
		if !takes[n] {
			extra = append(extra, n)
		}
	}
	sort.Strings(extra)
	for _, n := range extra {
		msg := "unknown field"
		if owner := ownerOf(n); owner != "" {
			msg = "is for " + owner
		}
		ps = append(ps, Problem{n, fmt.Sprintf("%s; %s takes %s", msg, k.Name, strings.Join(k.paramNames(), ", "))})
	}
	return ps
}

func (k *Kind) paramNames() []string {
	ns := make([]string, len(k.Params))
	for i, p := range k.Params {
		ns[i] = p.Name
	}
	return ns
}

// ownerOf names the provider taking parameter n, "" for none.
func ownerOf(n string) string {
	for _, name := range Names() {
		for _, p := range kinds[name].Params {
			if p.Name == n {
				return name
			}
		}
	}
	return ""
}

// flat is the target as one object of strings.
func (t Target) flat() map[string]string {
	m := make(map[string]string, len(t.Params)+1)
	for n, v := range t.Params {
		m[n] = v
	}
	if t.Provider != "" {
		m["provider"] = t.Provider
	}
	return m
}

func fromFlat(m map[string]string) Target {
	t := Target{Provider: m["provider"], Params: map[string]string{}}
	for n, v := range m {
		if n != "provider" {
			t.Params[n] = v
		}
	}
	return t
}

// MarshalJSON writes the flat object.
func (t Target) MarshalJSON() ([]byte, error) { return json.Marshal(t.flat()) }

// UnmarshalJSON reads the flat object; every value is a string.
func (t *Target) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("target: every field is a string: %w", err)
	}
	*t = fromFlat(m)
	return nil
}

// MarshalYAML writes the flat mapping.
func (t Target) MarshalYAML() (any, error) { return t.flat(), nil }

// UnmarshalYAML reads the flat mapping; every value is a string.
func (t *Target) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: target must be a mapping (provider and its fields)", n.Line)
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: target field %q must be a string", v.Line, k.Value)
		}
		m[k.Value] = v.Value
	}
	*t = fromFlat(m)
	return nil
}
