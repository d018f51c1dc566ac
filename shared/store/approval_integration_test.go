package store_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// A level may ask more approvers on more channels than one transaction
// holds (DynamoDB takes 100 actions; the request update and the event
// take two): 33 approvers on 3 channels are 99 links. Every link is
// stored, the request records the task, and the event lists every link.
func TestRequestApprovalLargeLevel(t *testing.T) {
	tests := []struct {
		name             string
		give             int // links
		wantTransactions int
	}{
		{name: "98 links fit next to the request and the event", give: 98, wantTransactions: 1},
		{name: "33 approvers on 3 channels", give: 99, wantTransactions: 2},
		{name: "250 links", give: 250, wantTransactions: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			s, wire := serialStore(emu.table)
			r := mustCreate(t, s, unique(t, "alice"), t0)
			links := make([]store.Link, tt.give)
			channels := []string{"email", "slack", "sms"}
			for i := range links {
				links[i] = store.Link{
					Hash: randHex(t, 32), RequestID: r.ID, Level: 0,
					Approver: fmt.Sprintf("approver%03d@example.com", i/3), Channel: channels[i%3],
					CreatedAt: linkCreated, ExpiresAt: linkCreated.Add(time.Hour),
				}
			}
			before := wire.transacts()
			if err := s.RequestApproval(ctx, r, 0, "token-"+r.ID, links, linkCreated); err != nil {
				t.Fatalf("RequestApproval of %d links: %v", tt.give, err)
			}
			if n := wire.transacts() - before; n != tt.wantTransactions {
				t.Errorf("RequestApproval sent %d transactions, want %d", n, tt.wantTransactions)
			}
			for _, l := range links {
				got, err := s.GetLink(ctx, l.Hash)
				if err != nil || got.Approver != l.Approver || got.Channel != l.Channel || got.RequestID != r.ID {
					t.Fatalf("GetLink(%s of %s) = %+v, %v", l.Channel, l.Approver, got, err)
				}
			}
			if tok, err := s.TaskToken(ctx, r.ID); err != nil || tok != "token-"+r.ID {
				t.Errorf("TaskToken = %q, %v; want the level's token", tok, err)
			}
			evs := history(t, s, r.ID)
			if countType(evs, access.EventApprovalRequested) != 1 {
				t.Fatalf("history = %s, want one approval_requested event", jsonOf(evs))
			}
			for _, ev := range evs {
				if ev.Type == access.EventApprovalRequested {
					if n := len(strings.Split(ev.Detail["sent_to"], ", ")); n != tt.give {
						t.Errorf("approval_requested sent_to lists %d links, want %d", n, tt.give)
					}
				}
			}
		})
	}
}
