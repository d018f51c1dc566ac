package access

import (
	"errors"
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	twoLevels := func(level, approvals int) *Request {
		return &Request{ID: "r1", Resource: "db", Requester: "arn:aws:iam::1:user/alice", Status: Pending, Level: level, Approvals: approvals,
			Chain: []Level{{Approvers: []string{"carol@example.com", "dave@example.com", "erin@example.com"}, MinApprovals: 2}, {Approvers: []string{"frank@example.com"}, MinApprovals: 1}}}
	}
	next := 1
	tests := []struct {
		name      string
		give      *Request
		level     int
		outcome   Status
		want      Decision
		wantEvent string
		wantErr   error
	}{
		{"first of two approvals", twoLevels(0, 0), 0, Approved, Decision{Outcome: Pending, Approvals: 1, Needed: 2, Level: 0}, EventApproval, nil},
		{"quorum of a level that is not the last", twoLevels(0, 1), 0, Approved, Decision{Outcome: Pending, NextLevel: &next, Approvals: 2, Needed: 2, Level: 0}, EventLevelApproved, nil},
		{"quorum of the last level", twoLevels(1, 0), 1, Approved, Decision{Outcome: Approved, Approvals: 1, Needed: 1, Level: 1}, string(Approved), nil},
		{"a deny ends the request at any level", twoLevels(0, 1), 0, Denied, Decision{Outcome: Denied, Approvals: 1, Needed: 2, Level: 0}, string(Denied), nil},
		{"a link of a level the request left", twoLevels(1, 0), 0, Approved, Decision{}, "", ErrStaleLevel},
		{"no chain: one approval decides", &Request{ID: "r2", Status: Pending}, 0, Approved, Decision{Outcome: Approved, Approvals: 1, Needed: 1}, string(Approved), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(tt.give, "carol@example.com", tt.level, tt.outcome, "email", "looks fine", at)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d.Outcome != tt.want.Outcome || d.Approvals != tt.want.Approvals || d.Needed != tt.want.Needed || d.Level != tt.want.Level ||
				(d.NextLevel == nil) != (tt.want.NextLevel == nil) || (d.NextLevel != nil && *d.NextLevel != *tt.want.NextLevel) {
				t.Fatalf("Decide = %+v, want %+v", d, tt.want)
			}
			ev := d.Event
			if ev.Type != tt.wantEvent || ev.Actor != "carol@example.com" || ev.RequestID != tt.give.ID || ev.Detail["comment"] != "looks fine" || ev.Detail["channel"] != "email" {
				t.Fatalf("event = %+v, want a %s event by carol", ev, tt.wantEvent)
			}
			if final := d.Outcome != Pending; final != (ev.To == d.Outcome) {
				t.Fatalf("event moves %s → %s for outcome %s", ev.From, ev.To, d.Outcome)
			}
			if d.Resumes() != (d.Outcome != Pending || d.NextLevel != nil) {
				t.Fatal("Resumes")
			}
		})
	}
	for _, s := range []Status{Approved, Denied, Cancelled, TimedOut} {
		r := twoLevels(0, 0)
		r.Status = s
		var te *ErrTransition
		if _, err := Decide(r, "carol@example.com", 0, Approved, "email", "", at); !errors.As(err, &te) {
			t.Errorf("deciding a %s request: %v, want ErrTransition", s, err)
		}
	}
	if _, err := Decide(twoLevels(0, 0), "carol@example.com", 0, Expired, "email", "", at); err == nil {
		t.Error("expired is not a decision")
	}
}
