package store

import (
	"fmt"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

// requestItem is a request as stored. Times are fixed-width strings so they
// sort; optional times are empty when unset.
type requestItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	GSI2PK string `dynamodbav:"GSI2PK"`
	GSI2SK string `dynamodbav:"GSI2SK"`
	GSI3PK string `dynamodbav:"GSI3PK"`
	GSI3SK string `dynamodbav:"GSI3SK"`

	Kind            string `dynamodbav:"kind"`
	ID              string `dynamodbav:"id"`
	Resource        string `dynamodbav:"resource"`
	Requester       string `dynamodbav:"requester"`
	Reason          string `dynamodbav:"reason"`
	DurationSeconds int64  `dynamodbav:"duration_seconds"`
	Status          string `dynamodbav:"status"`
	PolicyVersion   int    `dynamodbav:"policy_version"`
	TargetProvider  string `dynamodbav:"target_provider"`
	// TargetParams are the provider's parameters (package target), kept
	// as one map so that the table names no provider's fields.
	TargetParams      map[string]string `dynamodbav:"target_params,omitempty"`
	Approvers         []string          `dynamodbav:"approvers"`
	CreatedAt         string            `dynamodbav:"created_at"`
	UpdatedAt         string            `dynamodbav:"updated_at"`
	DecidedBy         string            `dynamodbav:"decided_by,omitempty"`
	DecidedAt         string            `dynamodbav:"decided_at,omitempty"`
	GrantedAt         string            `dynamodbav:"granted_at,omitempty"`
	ExpiresAt         string            `dynamodbav:"expires_at,omitempty"`
	EndedAt           string            `dynamodbav:"ended_at,omitempty"`
	TaskToken         string            `dynamodbav:"task_token,omitempty"`
	HoldToken         string            `dynamodbav:"hold_token,omitempty"`
	RevokeRequestedBy string            `dynamodbav:"revoke_requested_by,omitempty"`
	Level             int               `dynamodbav:"level"`
	Escalated         bool              `dynamodbav:"escalated"`
	Approvals         int               `dynamodbav:"approvals"`
	Chain             []levelItem       `dynamodbav:"chain"`
	Ticket            string            `dynamodbav:"ticket,omitempty"`
	TicketURL         string            `dynamodbav:"ticket_url,omitempty"`
	StartAt           string            `dynamodbav:"start_at,omitempty"`
	BreakGlass        bool              `dynamodbav:"break_glass"`
	AutoApprovedBy    string            `dynamodbav:"auto_approved_by,omitempty"`
	Source            string            `dynamodbav:"source,omitempty"`
}

// levelItem is one level of a request's chain as stored.
type levelItem struct {
	Name           string   `dynamodbav:"name,omitempty"`
	Approvers      []string `dynamodbav:"approvers"`
	EscalateTo     []string `dynamodbav:"escalate_to,omitempty"`
	MinApprovals   int      `dynamodbav:"min_approvals"`
	TimeoutSeconds int64    `dynamodbav:"timeout_seconds"`
	OnTimeout      string   `dynamodbav:"on_timeout"`
}

const (
	kindRequest     = "request"
	kindEvent       = "event"
	kindLink        = "link"
	kindPolicy      = "policy"
	kindIdempotency = "idempotency"
)

func newRequestItem(r *access.Request) requestItem {
	it := requestItem{
		PK:              requestPK(r.ID),
		SK:              skRequest,
		GSI1PK:          requesterKey(r.Requester),
		GSI1SK:          createdKey(r.CreatedAt, r.ID),
		GSI2PK:          resourceKey(r.Resource),
		GSI2SK:          createdKey(r.CreatedAt, r.ID),
		GSI3PK:          statusKey(string(r.Status), r.ID),
		GSI3SK:          createdKey(r.CreatedAt, r.ID),
		Kind:            kindRequest,
		ID:              r.ID,
		Resource:        r.Resource,
		Requester:       r.Requester,
		Reason:          r.Reason,
		DurationSeconds: int64(r.Duration / time.Second),
		Status:          string(r.Status),
		PolicyVersion:   r.PolicyVersion,
		TargetProvider:  r.Target.Provider,
		TargetParams:    r.Target.Params,
		Approvers:       r.Approvers,
		CreatedAt:       formatTime(r.CreatedAt),
		UpdatedAt:       formatTime(r.UpdatedAt),
		Level:           r.Level,
		Escalated:       r.Escalated,
		Approvals:       r.Approvals,
		Chain:           chainItems(r.Chain),
		Ticket:          r.Ticket,
		TicketURL:       r.TicketURL,
		BreakGlass:      r.BreakGlass,
		AutoApprovedBy:  r.AutoApprovedBy,
		DecidedBy:       r.DecidedBy,
		Source:          r.Source,
	}
	if r.StartAt != nil {
		it.StartAt = formatTime(*r.StartAt)
	}
	if r.DecidedAt != nil {
		it.DecidedAt = formatTime(*r.DecidedAt)
	}
	return it
}

func chainItems(chain []access.Level) []levelItem {
	out := make([]levelItem, len(chain))
	for i, l := range chain {
		out[i] = levelItem{Name: l.Name, Approvers: l.Approvers, EscalateTo: l.EscalateTo, MinApprovals: l.MinApprovals,
			TimeoutSeconds: int64(l.Timeout / time.Second), OnTimeout: l.OnTimeout}
	}
	return out
}

func (it requestItem) request() (*access.Request, error) {
	r := &access.Request{
		ID:                it.ID,
		Resource:          it.Resource,
		Requester:         it.Requester,
		Reason:            it.Reason,
		Duration:          time.Duration(it.DurationSeconds) * time.Second,
		Status:            access.Status(it.Status),
		PolicyVersion:     it.PolicyVersion,
		Target:            access.Target{Provider: it.TargetProvider, Params: it.TargetParams},
		Approvers:         it.Approvers,
		DecidedBy:         it.DecidedBy,
		Level:             it.Level,
		Escalated:         it.Escalated,
		Approvals:         it.Approvals,
		Ticket:            it.Ticket,
		TicketURL:         it.TicketURL,
		BreakGlass:        it.BreakGlass,
		AutoApprovedBy:    it.AutoApprovedBy,
		Source:            it.Source,
		TaskToken:         it.TaskToken,
		HoldToken:         it.HoldToken,
		RevokeRequestedBy: it.RevokeRequestedBy,
	}
	for _, l := range it.Chain {
		r.Chain = append(r.Chain, access.Level{Name: l.Name, Approvers: l.Approvers, EscalateTo: l.EscalateTo,
			MinApprovals: l.MinApprovals, Timeout: time.Duration(l.TimeoutSeconds) * time.Second, OnTimeout: l.OnTimeout})
	}
	var err error
	if r.CreatedAt, err = parseTime(it.CreatedAt); err != nil {
		return nil, fmt.Errorf("request %s created_at: %w", it.ID, err)
	}
	if r.UpdatedAt, err = parseTime(it.UpdatedAt); err != nil {
		return nil, fmt.Errorf("request %s updated_at: %w", it.ID, err)
	}
	for _, f := range []struct {
		raw string
		dst **time.Time
	}{{it.DecidedAt, &r.DecidedAt}, {it.GrantedAt, &r.GrantedAt}, {it.ExpiresAt, &r.ExpiresAt}, {it.EndedAt, &r.EndedAt}, {it.StartAt, &r.StartAt}} {
		if f.raw == "" {
			continue
		}
		t, err := parseTime(f.raw)
		if err != nil {
			return nil, fmt.Errorf("request %s: %w", it.ID, err)
		}
		*f.dst = &t
	}
	return r, nil
}

// eventItem is one audit event, in its request's event partition and in
// the audit indexes: by day (all events), requester, actor, resource and
// type. Index keys of empty values are left out, so the item is not in
// that index.
type eventItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI3PK string `dynamodbav:"GSI3PK"`
	GSI3SK string `dynamodbav:"GSI3SK"`
	GSI4PK string `dynamodbav:"GSI4PK,omitempty"`
	GSI4SK string `dynamodbav:"GSI4SK,omitempty"`
	GSI5PK string `dynamodbav:"GSI5PK,omitempty"`
	GSI5SK string `dynamodbav:"GSI5SK,omitempty"`
	GSI6PK string `dynamodbav:"GSI6PK,omitempty"`
	GSI6SK string `dynamodbav:"GSI6SK,omitempty"`
	GSI7PK string `dynamodbav:"GSI7PK"`
	GSI7SK string `dynamodbav:"GSI7SK"`

	Kind      string            `dynamodbav:"kind"`
	RequestID string            `dynamodbav:"request_id"`
	Type      string            `dynamodbav:"type"`
	Actor     string            `dynamodbav:"actor"`
	At        string            `dynamodbav:"at"`
	Resource  string            `dynamodbav:"resource,omitempty"`
	Requester string            `dynamodbav:"requester,omitempty"`
	From      string            `dynamodbav:"from,omitempty"`
	To        string            `dynamodbav:"to,omitempty"`
	SourceIP  string            `dynamodbav:"source_ip,omitempty"`
	UserAgent string            `dynamodbav:"user_agent,omitempty"`
	Detail    map[string]string `dynamodbav:"detail,omitempty"`
}

func newEventItem(e access.Event) eventItem {
	sk := auditSK(e.At, e.RequestID, e.Type)
	month, day, shard := e.At.UTC().Format(monthLayout), e.At.UTC().Format(dayLayout), shardOf(e.RequestID)
	it := eventItem{
		PK:        eventPK(e.RequestID),
		SK:        eventSK(e.At, e.Type),
		GSI3PK:    auditDayKey(day, shard),
		GSI3SK:    sk,
		GSI5PK:    auditActorKey(e.Actor, month),
		GSI5SK:    sk,
		GSI7PK:    auditTypeKey(e.Type, month, shard),
		GSI7SK:    sk,
		Kind:      kindEvent,
		RequestID: e.RequestID,
		Type:      e.Type,
		Actor:     e.Actor,
		At:        formatTime(e.At),
		Resource:  e.Resource,
		Requester: e.Requester,
		From:      string(e.From),
		To:        string(e.To),
		SourceIP:  e.SourceIP,
		UserAgent: e.UserAgent,
		Detail:    e.Detail,
	}
	if e.Requester != "" {
		it.GSI4PK, it.GSI4SK = auditRequesterKey(e.Requester, month), sk
	}
	if e.Resource != "" {
		it.GSI6PK, it.GSI6SK = auditResourceKey(e.Resource, month), sk
	}
	return it
}

func (it eventItem) event() (access.Event, error) {
	at, err := parseTime(it.At)
	if err != nil {
		return access.Event{}, fmt.Errorf("event %s %s: %w", it.PK, it.SK, err)
	}
	return access.Event{
		RequestID: it.RequestID, Type: it.Type, Actor: it.Actor, At: at,
		Resource: it.Resource, Requester: it.Requester,
		From: access.Status(it.From), To: access.Status(it.To),
		SourceIP: it.SourceIP, UserAgent: it.UserAgent, Detail: it.Detail,
	}, nil
}

// linkItem binds a decision-link hash to what it may decide. The token
// itself is never stored.
type linkItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`

	Kind        string `dynamodbav:"kind"`
	RequestID   string `dynamodbav:"request_id"`
	Level       int    `dynamodbav:"level"`
	Approver    string `dynamodbav:"approver"`
	Channel     string `dynamodbav:"channel"`
	CreatedAt   string `dynamodbav:"created_at"`
	ExpiresAt   string `dynamodbav:"expires_at"`
	TTL         int64  `dynamodbav:"ttl"`
	UsedAt      string `dynamodbav:"used_at,omitempty"`
	UsedOutcome string `dynamodbav:"used_outcome,omitempty"`
	OpenedAt    string `dynamodbav:"opened_at,omitempty"`
}

// idempotencyItem remembers which request an idempotency key created.
type idempotencyItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Kind        string `dynamodbav:"kind"`
	RequestID   string `dynamodbav:"request_id"`
	Fingerprint string `dynamodbav:"fingerprint"`
	TTL         int64  `dynamodbav:"ttl"`
}

// policyItem is one applied version of the policy document.
type policyItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Kind      string `dynamodbav:"kind"`
	Version   int    `dynamodbav:"version"`
	Document  string `dynamodbav:"document"`
	AppliedBy string `dynamodbav:"applied_by"`
	AppliedAt string `dynamodbav:"applied_at"`
}
