package store_test

import (
	"errors"
	"testing"

	"github.com/jitaccess/jit/shared/access"
)

// Only an active request takes a hold token; for any other the store
// says which status it is in, so the Hold task fails with a transition
// error rather than a raw cancelled transaction.
func TestSetHoldTokenOnlyWhileActive(t *testing.T) {
	s := newStore()
	tests := []struct {
		name     string
		give     []access.Status // path from pending
		wantFrom access.Status   // "" means the token is stored
	}{
		{name: "active", give: []access.Status{access.Approved, access.Active}},
		{name: "pending", give: nil, wantFrom: access.Pending},
		{name: "approved, not granted yet", give: []access.Status{access.Approved}, wantFrom: access.Approved},
		{name: "revoked", give: []access.Status{access.Approved, access.Active, access.Revoked}, wantFrom: access.Revoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := testContext(t)
			r, links := pendingWithLinks(t, s, 1)
			walk(t, s, r.ID, links, tt.give)
			token := "hold-token-" + r.ID

			held, err := s.SetHoldToken(ctx, r.ID, token)
			got, gerr := s.HoldToken(ctx, r.ID)
			if gerr != nil {
				t.Fatal(gerr)
			}
			if tt.wantFrom == "" {
				if err != nil || got != token {
					t.Errorf("SetHoldToken = %v, token %q; want nil, %q", err, got, token)
				}
				// The answer is the request as written: no second read.
				if held == nil || held.ID != r.ID || held.Status != access.Active || held.HoldToken != token {
					t.Errorf("SetHoldToken returned %+v, want the active request with its hold token", held)
				}
				return
			}
			var te *access.ErrTransition
			if !errors.As(err, &te) || te.From != tt.wantFrom || te.To != access.Active {
				t.Errorf("SetHoldToken = %v, want ErrTransition from %s", err, tt.wantFrom)
			}
			if got != "" {
				t.Errorf("hold token = %q after a refused SetHoldToken, want none", got)
			}
		})
	}
}
