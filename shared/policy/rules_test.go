package policy

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// withResource adds YAML under the valid resource's top level.
func withResource(extra string) string {
	return strings.Replace(valid, "    max_duration: 1h\n", "    max_duration: 1h\n"+extra, 1)
}

// withLevel adds YAML under the valid resource's first level.
func withLevel(extra string) string {
	return strings.Replace(valid, "        - approvers:\n", "        - "+strings.TrimPrefix(extra, "          ")+"          approvers:\n", 1)
}

func TestParseChainAndRuleErrors(t *testing.T) {
	tests := []struct {
		name string
		give string
		want string
	}{
		{"ticket bad regex", withResource("    ticket:\n      pattern: \"INC-[\"\n"), "resources[0].ticket.pattern: is not a valid regular expression"},
		{"ticket url without placeholder", withResource("    ticket:\n      url: https://tracker/browse\n"), `ticket.url: "https://tracker/browse" must be an http(s) URL containing {ticket}`},
		{"ticket url not http", withResource("    ticket:\n      url: ftp://x/{ticket}\n"), "must be an http(s) URL"},
		{"empty ticket rule", withResource("    ticket: {}\n"), "resources[0].ticket: says nothing"},
		{"future start without max", withResource("    start:\n      allow_future: true\n"), "start.max_ahead: is required when allow_future is true"},
		{"max ahead without future", withResource("    start:\n      allow_future: false\n      max_ahead: 1h\n"), "has no effect unless allow_future is true"},
		{"unknown channel", withResource("    channels: [email, pigeon]\n"), `channels[1]: "pigeon" is not a channel`},
		{"escalation quorum", withLevel("          min_approvals: 3\n          escalate_to:\n            - email: b@example.com\n"), "min_approvals: 3 exceeds the 2 approvers listed"},
		{"bad escalation email", withLevel("          escalate_to:\n            - email: nobody\n"), `escalate_to[0].email: "nobody" is not an email address`},
		{"duplicate approver", strings.Replace(valid, "            - email: a@example.com\n", "            - email: a@example.com\n            - email: A@example.com\n", 1), "A@example.com is listed twice at this level"},
		{"bad phone", strings.Replace(valid, "            - email: a@example.com\n", "            - email: a@example.com\n              phone: \"555-1234\"\n", 1), `phone: "555-1234" is not an E.164 phone number`},
		{"bad slack", strings.Replace(valid, "            - email: a@example.com\n", "            - email: a@example.com\n              slack: \"@carol\"\n", 1), `slack: "@carol" is not a Slack user id`},
		{"unknown field in approver", strings.Replace(valid, "            - email: a@example.com\n", "            - email: a@example.com\n              pager: \"P123\"\n", 1), `unknown field "pager" (an approver has name, principal, email, slack, phone)`},
		{"approver field not a string", strings.Replace(valid, "            - email: a@example.com\n", "            - email: a@example.com\n              phone: [\"+15555550100\"]\n", 1), `approver field "phone" must be a string`},
		{"bad approver principal", strings.Replace(valid, "            - email: a@example.com\n", "            - email: a@example.com\n              principal: carol\n", 1), `principal: "carol" must be a principal ARN pattern`},
		{"timeout too short", withLevel("          timeout: 5s\n"), "timeout: 5s is shorter than the 10s minimum"},
		{"timeout too long", withLevel("          timeout: 200h\n"), "timeout: 200h0m0s is longer than 24h, the most a decision link lives"},
		{"timeout longer than a link", withLevel("          timeout: 25h\n"), "timeout: 25h0m0s is longer than 24h, the most a decision link lives"},
		{"on_timeout unknown", withLevel("          on_timeout: escalate\n"), `on_timeout: "escalate" must be "fail" or "next"`},
		{"on_timeout next on last level", withLevel("          on_timeout: next\n"), `"next" on the last level has no next level`},
		{"min approvals zero", withLevel("          min_approvals: -1\n"), "min_approvals: must be at least 1"},
		{"auto rule empty", withResource("    auto_approve:\n      - name: nothing\n"), "auto_approve[0]: has no condition"},
		{"auto always combined", withResource("    auto_approve:\n      - always: true\n        max_duration: 5m\n"), "auto_approve[0].always: cannot be combined"},
		{"auto bad requester", withResource("    auto_approve:\n      - requesters: [alice]\n"), `auto_approve[0].requesters[0]: "alice" must be a principal ARN pattern`},
		{"window bad day", withResource("    auto_approve:\n      - window: {days: [mon, funday], start: \"09:00\", end: \"17:00\", timezone: UTC}\n"), `window.days: "funday" is not a day`},
		{"window bad time", withResource("    auto_approve:\n      - window: {days: [mon], start: \"9am\", end: \"17:00\", timezone: UTC}\n"), `window.start: "9am" is not a time of day`},
		{"window empty", withResource("    auto_approve:\n      - window: {days: [mon], start: \"09:00\", end: \"09:00\", timezone: UTC}\n"), "window.end: equals start"},
		{"window bad zone", withResource("    auto_approve:\n      - window: {days: [mon], start: \"09:00\", end: \"17:00\", timezone: Mars/Olympus}\n"), `window.timezone: "Mars/Olympus" is not a known time zone`},
		{"window no zone", withResource("    auto_approve:\n      - window: {days: [mon], start: \"09:00\", end: \"17:00\"}\n"), "window.timezone: is required"},
		{"window no days", withResource("    auto_approve:\n      - window: {days: [], start: \"09:00\", end: \"17:00\", timezone: UTC}\n"), "window.days: at least one day is required"},
		{"break glass reason", withResource("    break_glass:\n      allowed: true\n      reason_min_length: -3\n"), "break_glass.reason_min_length: must be between 1 and 1000"},
		{"unknown field in level", withLevel("          quorum: 2\n"), `unknown field "quorum"`},
		{"unknown field in rule", withResource("    auto_approve:\n      - weekdays: true\n"), `unknown field "weekdays"`},
		{"default outside range", withResource("    default_duration: 2h\n"), "default_duration: 2h0m0s is outside"},
		{"missing max", strings.Replace(valid, "    max_duration: 1h\n", "", 1), "max_duration: is required and must be positive"},
		{"no levels", strings.Replace(valid, "      levels:\n        - approvers:\n            - email: a@example.com\n", "      levels: []\n", 1), "approval.levels: at least one approval level is required"},
		{"no approvers", strings.Replace(valid, "        - approvers:\n            - email: a@example.com\n", "        - approvers: []\n", 1), "approvers: at least one approver is required"},
		{"no requesters", strings.Replace(valid, `    requesters: ["*"]`+"\n", "", 1), "requesters: at least one pattern is required"},
		{"name missing", strings.Replace(valid, "  - name: db\n    target:", "  - target:", 1), "resources[0].name: is required"},
	}
	if len(tests) < 25 {
		t.Fatalf("only %d invalid documents", len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.give))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("Parse() err = %v, want *InvalidError\n%s", err, tt.give)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse() err = %q, want it to contain %q", err, tt.want)
			}
			for _, p := range ie.Problems {
				if p.Line == 0 {
					t.Errorf("problem without a line: %v", p)
				}
			}
		})
	}
}

// rulesPolicy has a ticket rule, scheduled starts and auto-approve rules.
var rulesPolicy = fixture("testdata/rules.yaml")

func TestTicketAndStart(t *testing.T) {
	doc, err := Parse([]byte(rulesPolicy))
	if err != nil {
		t.Fatal(err)
	}
	r := doc.Resources[0]
	for _, tt := range []struct{ give, want string }{
		{"INC-42", ""},
		{"", "is required"},
		{"inc-42", "does not match"},
		{strings.Repeat("1", 129), "limit is 128"},
	} {
		err := r.CheckTicket(tt.give)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("CheckTicket(%q) = %v, want %q", tt.give, err, tt.want)
		}
	}
	if got := r.TicketURL("INC-42"); got != "https://tracker.example.com/browse/INC-42" {
		t.Errorf("TicketURL = %q", got)
	}
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if err := r.CheckStart(now.Add(2*time.Hour), now); err != nil {
		t.Errorf("2h ahead: %v", err)
	}
	if err := r.CheckStart(now.Add(48*time.Hour), now); err == nil || !strings.Contains(err.Error(), "at most 24h") {
		t.Errorf("48h ahead: %v", err)
	}
}
