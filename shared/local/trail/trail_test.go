package trail

import (
	"reflect"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

func TestTrailIsLargeRealisticAndReproducible(t *testing.T) {
	c := Config{Requests: 2000, Seed: 7, Start: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC), Days: 90}
	tr := Make(c)
	if len(tr.Requests) != 2000 || len(tr.Events) < 8*2000 || len(tr.Events) > 11*2000 {
		t.Fatalf("%d requests, %d events", len(tr.Requests), len(tr.Events))
	}
	if again := Make(c); !reflect.DeepEqual(again.Requests[17], tr.Requests[17]) || len(again.Events) != len(tr.Events) {
		t.Error("the same config made another trail")
	}
	ended := map[access.Status]int{}
	byRequest := map[string][]access.Event{}
	for _, ev := range tr.Events {
		byRequest[ev.RequestID] = append(byRequest[ev.RequestID], ev)
	}
	ids := map[string]bool{}
	for _, r := range tr.Requests {
		if ids[r.ID] || !access.ValidID(r.ID) {
			t.Fatalf("request id %q repeated or invalid", r.ID)
		}
		ids[r.ID] = true
		ended[r.Status]++
		evs := byRequest[r.ID]
		if len(evs) == 0 || evs[0].Type != access.EventCreated {
			t.Fatalf("%s: events %v", r.ID, evs)
		}
		// Each event after the one before; the last transition reaches
		// the request's status.
		var last access.Status
		for i, ev := range evs {
			if i > 0 && !ev.At.After(evs[i-1].At) {
				t.Fatalf("%s: %s not after %s", r.ID, ev.Type, evs[i-1].Type)
			}
			if ev.Resource != r.Resource || ev.Requester != r.Requester {
				t.Fatalf("%s: event %s is about another request", r.ID, ev.Type)
			}
			if ev.To != "" {
				if ev.From != last {
					t.Fatalf("%s: %s goes from %q, the request was %q", r.ID, ev.Type, ev.From, last)
				}
				last = ev.To
			}
		}
		if last != r.Status {
			t.Fatalf("%s: events end at %s, request is %s", r.ID, last, r.Status)
		}
		if r.Status == access.Expired && (r.GrantedAt == nil || r.EndedAt == nil || r.EndedAt.Before(*r.ExpiresAt)) {
			t.Fatalf("%s: expired without its window", r.ID)
		}
	}
	for _, s := range []access.Status{access.Expired, access.Revoked, access.Denied, access.Cancelled, access.TimedOut} {
		if ended[s] == 0 {
			t.Errorf("no request ends %s: %v", s, ended)
		}
	}
}
