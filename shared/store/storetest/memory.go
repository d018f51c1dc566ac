// Package storetest is the one in-memory stand-in for the store, for
// handler unit tests that run without the emulator (go test -short). It
// keeps requests, the audit trail, policy versions, decision links,
// auditor sign-ins and sessions, and answers as the store does where a
// handler can tell: not found is access.ErrNotFound, a spent sign-in is
// store.ErrSignInSpent, an event recorded twice is refused, a foreign
// cursor is store.ErrBadCursor.
//
// Tests that depend on DynamoDB's semantics (conditions, transactions,
// indexes) talk to the emulator through package store instead.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/store"
)

// Memory is the in-memory store. Its fields may be seeded and read
// directly by a test while no handler runs.
type Memory struct {
	mu sync.Mutex
	// Requests by id.
	Requests map[string]*access.Request
	// Events is the audit trail: seeded and recorded.
	Events []access.Event
	// Policies are documents by version; Current is the version in force.
	Policies map[int]string
	Current  int
	// Links are the decision links RequestApproval stored.
	Links []store.Link
	// SignIns and Sessions are the auditor page's, by token hash.
	SignIns  map[string]SignIn
	Sessions map[string]Session
	// PolicyReads and Searches count calls, for tests that a read was
	// saved or a refused search never ran.
	PolicyReads, Searches int
}

// SignIn is a single-use auditor sign-in link.
type SignIn struct {
	Principal string
	Expires   time.Time
	Used      bool
}

// Session is a live auditor session.
type Session struct {
	Principal string
	Expires   time.Time
}

// New returns an empty store holding rs.
func New(rs ...*access.Request) *Memory {
	m := &Memory{Requests: map[string]*access.Request{}, Policies: map[int]string{},
		SignIns: map[string]SignIn{}, Sessions: map[string]Session{}}
	for _, r := range rs {
		m.Requests[r.ID] = r
	}
	return m
}

// WithPolicy adds document as version and makes it current.
func (m *Memory) WithPolicy(version int, document string) *Memory {
	m.Policies[version] = document
	m.Current = version
	return m
}

// GetRequest returns a copy of the request.
func (m *Memory) GetRequest(_ context.Context, id string) (*access.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.Requests[id]
	if !ok {
		return nil, fmt.Errorf("request %s: %w", id, access.ErrNotFound)
	}
	c := *r
	return &c, nil
}

// RequestApproval keeps the level's links.
func (m *Memory) RequestApproval(_ context.Context, _ *access.Request, _ int, _ string, links []store.Link, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Links = append(m.Links, links...)
	return nil
}

// MoveOn accepts the move; the workflow's order is not modelled.
func (m *Memory) MoveOn(context.Context, *access.Request, int, access.TimeoutStep, time.Time) error {
	return nil
}

// Record appends ev, refusing a second event of its request, type and
// time as the store's conditional put does.
func (m *Memory) Record(_ context.Context, ev access.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.Events {
		if e.RequestID == ev.RequestID && e.At.Equal(ev.At) && e.Type == ev.Type {
			return errors.New("event already recorded (same request, time and type)")
		}
	}
	m.Events = append(m.Events, ev)
	return nil
}

// History returns the request's events, oldest first.
func (m *Memory) History(_ context.Context, id string) ([]access.Event, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []access.Event
	for _, ev := range m.Events {
		if ev.RequestID == id {
			out = append(out, ev)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out, nil
}

// PolicyVersion returns one version of the policy.
func (m *Memory) PolicyVersion(_ context.Context, v int) (*store.PolicyVersion, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.PolicyReads++
	doc, ok := m.Policies[v]
	if !ok {
		return nil, fmt.Errorf("policy version %d: %w", v, access.ErrNotFound)
	}
	return &store.PolicyVersion{Version: v, Document: []byte(doc)}, nil
}

// CurrentPolicy returns the version in force.
func (m *Memory) CurrentPolicy(ctx context.Context) (*store.PolicyVersion, error) {
	m.mu.Lock()
	v := m.Current
	m.mu.Unlock()
	return m.PolicyVersion(ctx, v)
}

// RedeemSignIn spends a sign-in link and opens a session.
func (m *Memory) RedeemSignIn(_ context.Context, signInHash, sessionHash string, at, expires time.Time) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.liveSignIn(signInHash, at)
	if err != nil {
		return "", err
	}
	s.Used = true
	m.SignIns[signInHash] = s
	m.Sessions[sessionHash] = Session{Principal: s.Principal, Expires: expires}
	return s.Principal, nil
}

// CheckSignIn says whether a sign-in link could still be redeemed.
func (m *Memory) CheckSignIn(_ context.Context, signInHash string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, err := m.liveSignIn(signInHash, at)
	return err
}

func (m *Memory) liveSignIn(hash string, at time.Time) (SignIn, error) {
	s, ok := m.SignIns[hash]
	switch {
	case !ok:
		return s, access.ErrNotFound
	case s.Used || !at.Before(s.Expires):
		return s, store.ErrSignInSpent
	}
	return s, nil
}

// AuditSession returns a live session's principal.
func (m *Memory) AuditSession(_ context.Context, hash string, at time.Time) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.Sessions[hash]
	if !ok || !at.Before(s.Expires) {
		return "", access.ErrNotFound
	}
	return s.Principal, nil
}

// EndAuditSession forgets a session.
func (m *Memory) EndAuditSession(_ context.Context, hash string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.Sessions, hash)
	return nil
}

// SearchAudit filters as the store does (every field exact, the period
// inclusive), newest first, paged by offset.
func (m *Memory) SearchAudit(_ context.Context, q store.AuditQuery) (*store.AuditPage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Searches++
	var match []access.Event
	for _, ev := range m.Events {
		if (q.Requester == "" || ev.Requester == q.Requester) && (q.Actor == "" || ev.Actor == q.Actor) &&
			(q.Resource == "" || ev.Resource == q.Resource) && (q.Type == "" || ev.Type == q.Type) &&
			(q.Status == "" || ev.To == q.Status) && !ev.At.Before(q.From) && !ev.At.After(q.To) {
			match = append(match, ev)
		}
	}
	sort.SliceStable(match, func(i, j int) bool { return match[i].At.After(match[j].At) })
	start := 0
	if q.Cursor != "" {
		n, err := strconv.Atoi(q.Cursor)
		if err != nil || n < 0 || n > len(match) {
			return nil, store.ErrBadCursor
		}
		start = n
	}
	end := min(start+q.Limit, len(match))
	page := &store.AuditPage{Events: match[start:end], Index: "memory", Queries: 1}
	if end < len(match) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}
