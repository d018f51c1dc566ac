package channel

import (
	"fmt"
	"sort"
)

// Kind is one channel.
type Kind struct {
	// Name is how a resource's channels list, decision links and the
	// audit trail name the channel.
	Name string
	// Field is the approver field that holds the address, e.g. "phone".
	Field string
	// Valid reports whether an address is one on this channel; Want says
	// what one is, with an example, for the problem a policy reports.
	Valid func(address string) bool
	Want  string
}

var (
	kinds   = map[string]*Kind{}
	byField = map[string]*Kind{}
)

// Register adds a channel. Names and fields are unique; registering one
// twice is a programming error.
func Register(k Kind) {
	if k.Name == "" || k.Field == "" || k.Valid == nil || k.Want == "" {
		panic(fmt.Sprintf("channel: incomplete kind %+v", k))
	}
	if kinds[k.Name] != nil || byField[k.Field] != nil {
		panic("channel: " + k.Name + " registered twice")
	}
	kinds[k.Name], byField[k.Field] = &k, &k
}

// Lookup returns the channel named name, nil when there is none.
func Lookup(name string) *Kind { return kinds[name] }

// ByField returns the channel whose approver address is field, nil when
// there is none.
func ByField(field string) *Kind { return byField[field] }

// Names lists the channels, email first, the others in name order.
func Names() []string {
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		if n != Email {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return append([]string{Email}, out...)
}

// Fields lists the approver fields of the channels, in Names order.
func Fields() []string {
	var out []string
	for _, n := range Names() {
		out = append(out, kinds[n].Field)
	}
	return out
}
