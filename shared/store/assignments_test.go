package store_test

// Integration tests of assignment reference counting and leases against
// moto's DynamoDB (the shared table of TestMain). Each test uses its own
// assignment keys and request ids.

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/store"
)

func newAssignments() *store.Assignments { return store.NewAssignments(emu.db, emu.table) }

func assignmentKey(t *testing.T) store.AssignmentKey {
	t.Helper()
	return store.AssignmentKey{
		InstanceARN:      "arn:aws:sso:::instance/ssoins-0123456789abcdef",
		AccountID:        "210987654321",
		PermissionSetARN: "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-" + randHex(t, 8),
		UserID:           unique(t, "user"),
	}
}

func TestAssignmentHoldAndRelease(t *testing.T) {
	ctx := testContext(t)
	s := newAssignments()
	k := assignmentKey(t)
	a, b := unique(t, "req-a"), unique(t, "req-b")

	first, got, err := s.Hold(ctx, k, a, t0)
	if err != nil || !first || !slices.Equal(got.Holders, []string{a}) || got.State != store.AssignmentAbsent {
		t.Fatalf("Hold(a) = %v, %+v, %v; want first, holders [a], absent", first, got, err)
	}
	// Holding again is one hold, and not first.
	if first, got, err = s.Hold(ctx, k, a, t0); err != nil || first || len(got.Holders) != 1 {
		t.Fatalf("Hold(a) again = %v, %+v, %v; want not first, one holder", first, got, err)
	}
	if first, got, err = s.Hold(ctx, k, b, t0); err != nil || first || len(got.Holders) != 2 {
		t.Fatalf("Hold(b) = %v, %+v, %v; want not first, two holders", first, got, err)
	}
	if held, err := s.HeldBy(ctx, b); err != nil || held == nil || *held != k {
		t.Fatalf("HeldBy(b) = %v, %v; want %v", held, err, k)
	}
	// A request holds one assignment only.
	other := assignmentKey(t)
	if _, _, err := s.Hold(ctx, other, b, t0); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Hold(b) of another assignment = %v, want ErrConflict", err)
	}

	last, got, err := s.Release(ctx, a, t0)
	if err != nil || last || !slices.Equal(got.Holders, []string{b}) {
		t.Fatalf("Release(a) = %v, %+v, %v; want not last, holders [b]", last, got, err)
	}
	if last, got, err = s.Release(ctx, a, t0); err != nil || last || !slices.Equal(got.Holders, []string{b}) {
		t.Fatalf("Release(a) again = %v, %+v, %v; want not last, holders [b]", last, got, err)
	}
	if last, got, err = s.Release(ctx, b, t0); err != nil || !last || len(got.Holders) != 0 {
		t.Fatalf("Release(b) = %v, %+v, %v; want last, no holders", last, got, err)
	}
	if last, _, err = s.Release(ctx, b, t0); err != nil || last {
		t.Fatalf("Release(b) again = %v, %v; want not last", last, err)
	}
	if cur, err := s.Get(ctx, k); err != nil || cur.Held() {
		t.Fatalf("Get = %+v, %v; want no holders", cur, err)
	}
	// Releasing a request that never held anything.
	if last, got, err := s.Release(ctx, unique(t, "never"), t0); err != nil || last || got != nil {
		t.Fatalf("Release(never) = %v, %+v, %v; want nothing", last, got, err)
	}
}

func TestAssignmentHoldsCountExactlyUnderConcurrency(t *testing.T) {
	ctx := testContext(t)
	s := newAssignments()
	k := assignmentKey(t)
	const n = 20
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%02d", unique(t, "req"), i)
	}
	var firsts, lasts atomic.Int32
	var wg sync.WaitGroup
	for _, id := range ids {
		for range 2 { // every request holds twice, concurrently
			wg.Go(func() {
				first, _, err := s.Hold(ctx, k, id, t0)
				if err != nil {
					t.Error(err)
				}
				if first {
					firsts.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if got := firsts.Load(); got != 1 {
		t.Fatalf("%d holds were first, want 1", got)
	}
	cur, err := s.Get(ctx, k)
	if err != nil || len(cur.Holders) != n {
		t.Fatalf("holders = %d (%v), want %d", len(cur.Holders), err, n)
	}
	for _, id := range ids {
		for range 2 {
			wg.Go(func() {
				last, _, err := s.Release(ctx, id, t0)
				if err != nil {
					t.Error(err)
				}
				if last {
					lasts.Add(1)
				}
			})
		}
	}
	wg.Wait()
	if got := lasts.Load(); got != 1 {
		t.Fatalf("%d releases were last, want 1", got)
	}
	if cur, err := s.Get(ctx, k); err != nil || cur.Held() {
		t.Fatalf("after releases: %+v, %v; want no holders", cur, err)
	}
}

func TestAssignmentLease(t *testing.T) {
	ctx := testContext(t)
	s := newAssignments()
	k := assignmentKey(t)
	now := time.Now()

	if _, err := s.Lease(ctx, k, "alpha", now, time.Minute); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Lease of a missing assignment = %v, want ErrConflict", err)
	}
	req := unique(t, "req")
	if _, _, err := s.Hold(ctx, k, req, t0); err != nil {
		t.Fatal(err)
	}
	a, err := s.Lease(ctx, k, "alpha", now, time.Minute)
	if err != nil || a.LeaseOwner != "alpha" || !slices.Equal(a.Holders, []string{req}) {
		t.Fatalf("Lease(alpha) = %+v, %v", a, err)
	}
	// Another owner waits, and sees who has it.
	a, err = s.Lease(ctx, k, "beta", now, time.Minute)
	if !errors.Is(err, store.ErrAssignmentLeased) || a == nil || a.LeaseOwner != "alpha" {
		t.Fatalf("Lease(beta) = %+v, %v; want ErrAssignmentLeased showing alpha", a, err)
	}
	// Only the owner writes state.
	if _, err := s.SetState(ctx, k, "beta", store.AssignmentCreating, "", false, t0); !errors.Is(err, store.ErrNotLeaseOwner) {
		t.Fatalf("SetState(beta) = %v, want ErrNotLeaseOwner", err)
	}
	a, err = s.SetState(ctx, k, "alpha", store.AssignmentPresent, "op-1", false, t0)
	if err != nil || a.State != store.AssignmentPresent || a.OperationID != "op-1" || !a.Held() {
		t.Fatalf("SetState(alpha, present) = %+v, %v", a, err)
	}
	// Taking access away needs nobody holding it.
	if _, err := s.SetState(ctx, k, "alpha", store.AssignmentDeleting, "", true, t0); !errors.Is(err, store.ErrNotLeaseOwner) {
		t.Fatalf("SetState(deleting) while held = %v, want refused", err)
	}
	if _, _, err := s.Release(ctx, req, t0); err != nil {
		t.Fatal(err)
	}
	a, err = s.SetState(ctx, k, "alpha", store.AssignmentDeleting, "", true, t0)
	if err != nil || a.State != store.AssignmentDeleting || a.OperationID != "" {
		t.Fatalf("SetState(deleting) unheld = %+v, %v", a, err)
	}
	// An expired lease is taken over; the old owner is fenced off.
	if _, err := s.Lease(ctx, k, "beta", now.Add(2*time.Minute), time.Minute); err != nil {
		t.Fatalf("Lease(beta) after expiry: %v", err)
	}
	if _, err := s.SetState(ctx, k, "alpha", store.AssignmentAbsent, "", false, t0); !errors.Is(err, store.ErrNotLeaseOwner) {
		t.Fatalf("SetState(alpha) after takeover = %v, want ErrNotLeaseOwner", err)
	}
	if err := s.Unlease(ctx, k, "alpha"); err != nil {
		t.Fatal(err)
	}
	if a, _ := s.Get(ctx, k); a.LeaseOwner != "beta" {
		t.Fatalf("alpha's unlease removed beta's lease: %+v", a)
	}
	if a, err = s.SetState(ctx, k, "beta", store.AssignmentAbsent, "", true, t0); err != nil || a.State != store.AssignmentAbsent {
		t.Fatalf("SetState(beta, absent) = %+v, %v", a, err)
	}
	if err := s.Unlease(ctx, k, "beta"); err != nil {
		t.Fatal(err)
	}
	if a, err := s.Get(ctx, k); err != nil || a.LeaseOwner != "" || !a.LeaseUntil.IsZero() {
		t.Fatalf("after unlease: %+v, %v", a, err)
	}
}
