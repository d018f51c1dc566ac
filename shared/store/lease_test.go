package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

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
