package channel

import (
	"slices"
	"testing"
)

func TestBuiltInChannels(t *testing.T) {
	if got := Names(); !slices.Equal(got, []string{"email", "slack", "sms"}) {
		t.Errorf("Names = %v", got)
	}
	if got := Fields(); !slices.Equal(got, []string{"email", "slack", "phone"}) {
		t.Errorf("Fields = %v", got)
	}
	for _, tc := range []struct {
		channel, address string
		valid            bool
	}{
		{Email, "carol@example.com", true},
		{Email, "Carol <carol@example.com>", false},
		{Email, "carol", false},
		{SMS, "+15555550102", true},
		{SMS, "555-1234", false},
		{SMS, "+0123456789", false},
		{Slack, "U024BE7LH", true},
		{Slack, "W024BE7LH", true},
		{Slack, "@carol", false},
		{Slack, "u024be7lh", false},
	} {
		if got := Lookup(tc.channel).Valid(tc.address); got != tc.valid {
			t.Errorf("%s %q valid = %v, want %v", tc.channel, tc.address, got, tc.valid)
		}
	}
	if ByField("phone") != Lookup(SMS) || Lookup("pager") != nil || ByField("pager") != nil {
		t.Error("lookups by name and field disagree")
	}
}

func TestRegisterRefusesDuplicatesAndGaps(t *testing.T) {
	for name, k := range map[string]Kind{
		"same name":  {Name: SMS, Field: "pager", Want: "x", Valid: func(string) bool { return true }},
		"same field": {Name: "pager", Field: "phone", Want: "x", Valid: func(string) bool { return true }},
		"no check":   {Name: "pager", Field: "pager", Want: "x"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: registered", name)
				}
			}()
			Register(k)
		}()
	}
}
