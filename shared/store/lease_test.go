package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// TestLeaseFencing: a holder whose lease ran out cannot write the role's
// state, nor pass the check before an IAM write, once another took the
// lease; the new holder's token is larger.
func TestLeaseFencing(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	name := unique(t, "role/fence")
	// No deadline: the lease lasts its ttl.
	first, err := s.Lock(context.WithoutCancel(ctx), name, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Check(ctx); err != nil {
		t.Fatalf("Check of a fresh lease: %v", err)
	}
	if err := first.Save(ctx, store.RolePolicies{Grants: `[{"Sid":"JitA"}]`, Denies: `{}`}); err != nil {
		t.Fatalf("Save under a fresh lease: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	second, err := s.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatalf("Lock after the first lease ran out: %v", err)
	}
	defer second.Release()
	if second.Token() <= first.Token() {
		t.Errorf("fencing tokens %d then %d, want increasing", first.Token(), second.Token())
	}
	if err := first.Check(ctx); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Check by the expired holder = %v, want ErrLeaseLost", err)
	}
	if err := first.Save(ctx, store.RolePolicies{Grants: `[]`, Denies: `{}`}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Save by the expired holder = %v, want ErrLeaseLost", err)
	}
	// The second holder's Lock returned the state: what the first holder
	// saved, and not its later, refused write.
	if got := second.Policies(); !got.Known || got.Grants != `[{"Sid":"JitA"}]` {
		t.Errorf("Policies = %+v; want what the first holder saved, and not its later write", got)
	}
	// The expired holder's release says it had lost the lease, and takes
	// nothing from the second holder.
	if err := first.Release(); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Release by the expired holder = %v, want ErrLeaseLost", err)
	}
	if err := second.Check(ctx); err != nil {
		t.Errorf("Check by the holder after the expired one released = %v, want nil", err)
	}
	// Releasing keeps the state for the next holder.
	if err := second.Release(); err != nil {
		t.Errorf("Release by the holder = %v, want nil", err)
	}
	third, err := s.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Release()
	if got := third.Policies(); got.Grants != `[{"Sid":"JitA"}]` {
		t.Errorf("after release, Policies = %+v", got)
	}
}

// TestLeaseOutlivesDeadline: a lease lasts at least until the caller's
// deadline (the function's timeout) plus a margin, so a holder whose lease
// ran out is a holder that no longer runs.
func TestLeaseOutlivesDeadline(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	name := unique(t, "role/deadline")
	deadline := time.Now().Add(90 * time.Second)
	dctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
	defer cancel()
	l, err := s.Lock(dctx, name, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if !l.Until().After(deadline) {
		t.Fatalf("lease until %s, want after the caller's deadline %s", l.Until(), deadline)
	}
}

// TestOutcomeReleasesLease: the write recording a grant (or an end) made
// under a role's lease gives the lease up in the same transaction, and
// records nothing once the lease was lost: the holder's IAM writes may
// have been overwritten by the next holder's, so it must write again
// before the outcome stands.
func TestOutcomeReleasesLease(t *testing.T) {
	s := newStore()
	ctx := testContext(t)
	r, links := pendingWithLinks(t, s, 1)
	walk(t, s, r.ID, links, []access.Status{access.Approved})
	at := stepAt(1)

	// Lost: the lease ran out and another holder took it.
	name := unique(t, "role/outcome")
	lost, err := s.Lock(context.WithoutCancel(ctx), name, 200*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	next, err := s.Lock(ctx, name, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	err = s.ActivateUnder(ctx, lost, read(t, s, r.ID), at, at.Add(time.Hour), nil)
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("ActivateUnder a lost lease = %v, want ErrLeaseLost", err)
	}
	if got := read(t, s, r.ID).Status; got != access.Approved {
		t.Errorf("after the refused record, status %s, want approved (nothing written)", got)
	}
	if err := next.Check(ctx); err != nil {
		t.Errorf("the refused record touched the next holder's lease: %v", err)
	}

	// Held: the grant is recorded and the lease is free at once.
	if err := s.ActivateUnder(ctx, next, read(t, s, r.ID), at, at.Add(time.Hour), nil); err != nil {
		t.Fatalf("ActivateUnder the held lease: %v", err)
	}
	if got := read(t, s, r.ID).Status; got != access.Active {
		t.Errorf("status %s, want active", got)
	}
	if err := next.Check(ctx); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("after the record, the lease is still held (Check = %v)", err)
	}
	quick, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	again, err := s.Lock(quick, name, time.Minute)
	if err != nil {
		t.Fatalf("Lock after the record released the lease: %v", err)
	}
	// A record refused for the request's sake leaves the lease held.
	err = s.EndUnder(ctx, again, &access.Request{ID: r.ID, Resource: r.Resource, Requester: r.Requester, Status: access.Approved}, access.Cancelled, at, access.System, nil)
	var te *access.ErrTransition
	if !errors.As(err, &te) || te.From != access.Active {
		t.Fatalf("EndUnder cancelled from active = %v, want a refused transition from active", err)
	}
	if err := again.Check(ctx); err != nil {
		t.Errorf("a refused record released the lease: %v", err)
	}
	if err := s.EndUnder(ctx, again, read(t, s, r.ID), access.Revoked, at, "alice", nil); err != nil {
		t.Fatalf("EndUnder revoked: %v", err)
	}
	if err := again.Check(ctx); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("after the end, the lease is still held (Check = %v)", err)
	}
}
