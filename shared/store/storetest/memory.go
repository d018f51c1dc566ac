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
	// Links are the decision links RequestApproval stored (or a test
	// seeded); ApprovalTokens the workflow token each request waits on.
	Links          []store.Link
	ApprovalTokens map[string]string
	// Decided lists the outcomes Decide committed, in order.
	Decided []access.Status
	// SignIns and Sessions are the auditor page's, by token hash.
	SignIns  map[string]SignIn
	Sessions map[string]Session
	// HoldTokens are active requests' workflow tokens, by request id.
	HoldTokens map[string]string
	// Created lists the requests created, in order; Changes names every
	// write (create, revoke, extend, end), so a test can tell a refused
	// call changed nothing.
	Created []*access.Request
	Changes []string
	// PolicyReads and Searches count calls, for tests that a read was
	// saved or a refused search never ran.
	PolicyReads, Searches int
	// idempotency maps a key to the request it created, with its
	// fingerprint.
	idempotency map[string]store.Idempotency
	idemRequest map[string]string
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
		SignIns: map[string]SignIn{}, Sessions: map[string]Session{}, HoldTokens: map[string]string{}, ApprovalTokens: map[string]string{},
		idempotency: map[string]store.Idempotency{}, idemRequest: map[string]string{}}
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

// CreateRequest keeps a new request and its first events; an id in use
// is refused, as the store's conditional put refuses it.
func (m *Memory) CreateRequest(_ context.Context, r *access.Request, ev access.Event, more ...access.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.create(r, ev, more)
}

func (m *Memory) create(r *access.Request, ev access.Event, more []access.Event) error {
	if _, ok := m.Requests[r.ID]; ok {
		return fmt.Errorf("request %s: %w", r.ID, store.ErrConflict)
	}
	m.Requests[r.ID] = r
	m.Created = append(m.Created, r)
	m.Events = append(append(m.Events, ev), more...)
	m.Changes = append(m.Changes, "create")
	return nil
}

// CreateRequestOnce creates r unless its idempotency key was used: then
// it returns a *store.DuplicateError naming the first request.
func (m *Memory) CreateRequestOnce(_ context.Context, r *access.Request, ev access.Event, idem store.Idempotency, more ...access.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if first, ok := m.idempotency[idem.Key]; ok {
		return &store.DuplicateError{ExistingID: m.idemRequest[idem.Key], SameRequest: first.Fingerprint == idem.Fingerprint}
	}
	if err := m.create(r, ev, more); err != nil {
		return err
	}
	m.idempotency[idem.Key], m.idemRequest[idem.Key] = idem, r.ID
	return nil
}

// HoldToken returns the active request's workflow token.
func (m *Memory) HoldToken(_ context.Context, id string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.HoldTokens[id]
	if !ok {
		return "", fmt.Errorf("hold token of %s: %w", id, access.ErrNotFound)
	}
	return t, nil
}

// SetHoldToken keeps the active request's workflow token and returns the
// request; any other status is refused, as the store's conditional write
// refuses it.
func (m *Memory) SetHoldToken(_ context.Context, id, token string) (*access.Request, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.Requests[id]
	if !ok {
		return nil, fmt.Errorf("hold %s: %w", id, access.ErrNotFound)
	}
	if r.Status != access.Active {
		return nil, &access.ErrTransition{ID: id, From: r.Status, To: access.Active}
	}
	m.HoldTokens[id] = token
	m.Changes = append(m.Changes, "hold")
	c := *r
	return &c, nil
}

// RequestRevoke marks the request for revocation.
func (m *Memory) RequestRevoke(_ context.Context, r *access.Request, by string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if stored, ok := m.Requests[r.ID]; ok {
		stored.RevokeRequestedBy = by
	}
	m.Changes = append(m.Changes, "revoke")
	return nil
}

// Extend moves the request's expiry to until.
func (m *Memory) Extend(_ context.Context, r *access.Request, _, until time.Time, total time.Duration, _ string, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if stored, ok := m.Requests[r.ID]; ok {
		stored.ExpiresAt, stored.Duration = &until, total
	}
	m.Changes = append(m.Changes, "extend")
	return nil
}

// End moves the request to a final status.
func (m *Memory) End(_ context.Context, r *access.Request, to access.Status, at time.Time, _ string, _ map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if stored, ok := m.Requests[r.ID]; ok {
		stored.Status, stored.EndedAt = to, &at
	}
	m.Changes = append(m.Changes, "end")
	return nil
}

// RequestApproval keeps the level's links.
func (m *Memory) RequestApproval(_ context.Context, r *access.Request, _ int, taskToken string, links []store.Link, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.Links = append(m.Links, links...)
	m.ApprovalTokens[r.ID] = taskToken
	return nil
}

// GetLink returns a copy of the decision link with hash.
func (m *Memory) GetLink(_ context.Context, hash string) (*store.Link, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.link(hash); l != nil {
		c := *l
		return &c, nil
	}
	return nil, fmt.Errorf("link: %w", access.ErrNotFound)
}

func (m *Memory) link(hash string) *store.Link {
	for i := range m.Links {
		if m.Links[i].Hash == hash {
			return &m.Links[i]
		}
	}
	return nil
}

// LinkOpened accepts the event; a test reads nothing from it.
func (m *Memory) LinkOpened(context.Context, *store.Link, access.Event) error { return nil }

// Decide spends the link and ends the request's wait under the table's
// conditions: the link unused, unexpired and for the same request, the
// request pending. Every level here needs one approval.
func (m *Memory) Decide(_ context.Context, l *store.Link, _ *access.Request, outcome access.Status, at time.Time, _ string) (*store.Decision, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	stored := m.link(l.Hash)
	if stored == nil || stored.UsedAt != nil || !stored.ExpiresAt.After(at) || stored.RequestID != l.RequestID {
		return nil, store.ErrLinkSpent
	}
	r, ok := m.Requests[l.RequestID]
	if !ok {
		return nil, fmt.Errorf("request %s: %w", l.RequestID, access.ErrNotFound)
	}
	if r.Status != access.Pending {
		return nil, &access.ErrTransition{ID: r.ID, From: r.Status, To: outcome}
	}
	stored.UsedAt, stored.UsedOutcome = &at, outcome
	r.Status = outcome
	m.Decided = append(m.Decided, outcome)
	return &store.Decision{Decision: access.Decision{Outcome: outcome, Level: r.Level, Approvals: 1, Needed: 1},
		TaskToken: m.ApprovalTokens[r.ID]}, nil
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

// ListByRequester lists the requester's requests, newest first, paged
// by offset.
func (m *Memory) ListByRequester(_ context.Context, requester string, limit int32, cursor string) (*store.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []*access.Request
	for _, r := range m.Created {
		if r.Requester == requester {
			rs = append(rs, r)
		}
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].CreatedAt.After(rs[j].CreatedAt) })
	start := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(rs) {
			return nil, store.ErrBadCursor
		}
		start = n
	}
	end := min(start+int(limit), len(rs))
	page := &store.Page{Requests: rs[start:end]}
	if end < len(rs) {
		page.Next = strconv.Itoa(end)
	}
	return page, nil
}

// FirstRequest returns when requester made their first request, the
// zero time if never.
func (m *Memory) FirstRequest(_ context.Context, requester string) (time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var first time.Time
	for _, r := range m.Requests {
		if r.Requester == requester && (first.IsZero() || r.CreatedAt.Before(first)) {
			first = r.CreatedAt
		}
	}
	return first, nil
}

// RequestsCreated returns the stored requests created in [from, to], of
// resource when given, oldest first; more reports that max cut the list.
func (m *Memory) RequestsCreated(_ context.Context, from, to time.Time, resource string, max int) ([]*access.Request, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var rs []*access.Request
	for _, r := range m.Requests {
		if (resource == "" || r.Resource == resource) && !r.CreatedAt.Before(from) && !r.CreatedAt.After(to) {
			rs = append(rs, r)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].CreatedAt.Before(rs[j].CreatedAt) })
	if len(rs) > max {
		return rs[:max], true, nil
	}
	return rs, false, nil
}

// ApplyPolicy stores document as the version after previous, refusing a
// previous that is not the current version.
func (m *Memory) ApplyPolicy(_ context.Context, previous int, document []byte, _ string, _ time.Time, _ map[string]string) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if previous != m.Current {
		return 0, fmt.Errorf("apply policy version %d: %w", previous+1, store.ErrConflict)
	}
	m.Current = previous + 1
	m.Policies[m.Current] = string(document)
	m.Changes = append(m.Changes, "policy")
	return m.Current, nil
}

// CreateSignIn stores a single-use auditor sign-in link.
func (m *Memory) CreateSignIn(_ context.Context, hash, principal string, _, expires time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.SignIns[hash]; ok {
		return fmt.Errorf("create sign-in: %w", store.ErrConflict)
	}
	m.SignIns[hash] = SignIn{Principal: principal, Expires: expires}
	m.Changes = append(m.Changes, "sign-in")
	return nil
}
