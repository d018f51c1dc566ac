package policy

import (
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/jitaccess/jit/shared/channel"
)

// Approver is a person who may decide, and where to reach them. Principal,
// when set, is the ARN pattern of their AWS identity: a requester it
// matches is never asked to approve their own request (nor is one whose
// session name is this email).
//
// In a policy an approver is one flat mapping: name, email, principal,
// and one field per channel they can be reached on besides email, named
// as the channel's approver field (phone: for sms, slack: for slack; see
// shared/channel).
type Approver struct {
	Name      string
	Email     string
	Principal string
	// Addresses are the approver's addresses on channels other than
	// email, by channel name.
	Addresses map[string]string
}

// Address returns the approver's address on channel ch, "" when they have
// none there.
func (a Approver) Address(ch string) string {
	if ch == channel.Email {
		return a.Email
	}
	return a.Addresses[ch]
}

// flat is the approver as one object of strings.
func (a Approver) flat() map[string]string {
	m := map[string]string{"email": a.Email}
	for k, v := range map[string]string{"name": a.Name, "principal": a.Principal} {
		if v != "" {
			m[k] = v
		}
	}
	for ch, addr := range a.Addresses {
		if k := channel.Lookup(ch); k != nil && addr != "" {
			m[k.Field] = addr
		}
	}
	return m
}

// approverFromFlat reads the flat object; it returns the first field that
// is neither an approver's own nor a channel's.
func approverFromFlat(m map[string]string) (Approver, string) {
	var a Approver
	for field, v := range m {
		switch field {
		case "name":
			a.Name = v
		case "email":
			a.Email = v
		case "principal":
			a.Principal = v
		default:
			k := channel.ByField(field)
			if k == nil {
				return a, field
			}
			if v == "" {
				continue
			}
			if a.Addresses == nil {
				a.Addresses = map[string]string{}
			}
			a.Addresses[k.Name] = v
		}
	}
	return a, ""
}

// approverField reports whether an approver may have field: its own, or
// a channel's address.
func approverField(field string) bool {
	switch field {
	case "name", "email", "principal":
		return true
	}
	return channel.ByField(field) != nil
}

// approverFields names the fields an approver may have, for a problem.
func approverFields() string {
	return strings.Join(append([]string{"name", "principal"}, channel.Fields()...), ", ")
}

// MarshalJSON writes the flat object.
func (a Approver) MarshalJSON() ([]byte, error) { return json.Marshal(a.flat()) }

// UnmarshalJSON reads the flat object; every value is a string.
func (a *Approver) UnmarshalJSON(b []byte) error {
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("approver: every field is a string: %w", err)
	}
	got, unknown := approverFromFlat(m)
	if unknown != "" {
		return fmt.Errorf("approver: unknown field %q (an approver has %s)", unknown, approverFields())
	}
	*a = got
	return nil
}

// MarshalYAML writes the flat mapping.
func (a Approver) MarshalYAML() (any, error) { return a.flat(), nil }

// UnmarshalYAML reads the flat mapping; every value is a string.
func (a *Approver) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: an approver must be a mapping (email and how to reach them)", n.Line)
	}
	m := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: approver field %q must be a string", v.Line, k.Value)
		}
		if !approverField(k.Value) {
			return fmt.Errorf("line %d: unknown field %q (an approver has %s)", k.Line, k.Value, approverFields())
		}
		m[k.Value] = v.Value
	}
	*a, _ = approverFromFlat(m)
	return nil
}
