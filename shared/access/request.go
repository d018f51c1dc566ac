package access

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/target"
)

// Request is one ask for temporary access to one resource.
type Request struct {
	ID            string        `json:"id"`
	Resource      string        `json:"resource"`
	Requester     string        `json:"requester"`
	Reason        string        `json:"reason"`
	Duration      time.Duration `json:"-"`
	Status        Status        `json:"status"`
	PolicyVersion int           `json:"policy_version"`
	Target        Target        `json:"target"`
	Approvers     []string      `json:"approvers"`
	CreatedAt     time.Time     `json:"created_at"`
	UpdatedAt     time.Time     `json:"updated_at"`
	DecidedBy     string        `json:"decided_by,omitempty"`
	DecidedAt     *time.Time    `json:"decided_at,omitempty"`
	GrantedAt     *time.Time    `json:"granted_at,omitempty"`
	ExpiresAt     *time.Time    `json:"expires_at,omitempty"`
	EndedAt       *time.Time    `json:"ended_at,omitempty"`

	Ticket    string     `json:"ticket,omitempty"`
	TicketURL string     `json:"ticket_url,omitempty"`
	StartAt   *time.Time `json:"start_at,omitempty"`
	// BreakGlass marks an emergency request that skipped approval.
	BreakGlass bool `json:"break_glass"`
	// AutoApprovedBy names the policy rule that approved the request.
	AutoApprovedBy string `json:"auto_approved_by,omitempty"`
	// Chain is the approval chain, resolved from the policy when the
	// request was made; later policy changes do not alter it.
	Chain []Level `json:"chain"`
	// Level is the index of the level now deciding; Escalated says its
	// escalation approvers were added; Approvals counts its approvals.
	Level     int  `json:"level"`
	Escalated bool `json:"escalated,omitempty"`
	Approvals int  `json:"approvals"`
	// TaskToken is the workflow task waiting on the current level, if
	// any. It completes a workflow step, so it never leaves the service.
	TaskToken string `json:"-"`
	// HoldToken is the workflow task holding active access, once the
	// grant has handed over to it: revoke and extend signal it. Like the
	// task token it never leaves the service.
	HoldToken string `json:"-"`
	// RevokeRequestedBy is who asked to end active access early.
	RevokeRequestedBy string `json:"revoke_requested_by,omitempty"`
	// Source is where the request was made from (SourceCLI, SourceAPI,
	// SourceWeb, SourceSlack); "" for requests made before it was kept.
	Source string `json:"source,omitempty"`
}

// Level is one step of a request's approval chain.
type Level struct {
	Name         string        `json:"name,omitempty"`
	Approvers    []string      `json:"approvers"`
	EscalateTo   []string      `json:"escalate_to,omitempty"`
	MinApprovals int           `json:"min_approvals"`
	Timeout      time.Duration `json:"-"`
	OnTimeout    string        `json:"on_timeout"`
}

// LastLevel reports whether the request is at its chain's last level.
func (r *Request) LastLevel() bool { return r.Level >= len(r.Chain)-1 }

// Needed is how many approvals level needs (1 for a request made without
// a chain).
func (r *Request) Needed(level int) int {
	if level >= 0 && level < len(r.Chain) && r.Chain[level].MinApprovals > 0 {
		return r.Chain[level].MinApprovals
	}
	return 1
}

// TimeoutStep is what the workflow does when a level times out.
type TimeoutStep struct {
	// Action is "escalate" (ask the level's escalation approvers and wait
	// again), "next" (move to the next level) or "timed_out" (end).
	Action string
	Level  int
}

// Timeout steps.
const (
	StepEscalate = "escalate"
	StepNext     = "next"
	StepTimedOut = "timed_out"
)

// OnLevelTimeout decides what happens when level times out without a
// quorum: escalate once if the level has escalation approvers, else move
// on if the level says so and a next level exists, else end.
func (r *Request) OnLevelTimeout(level int) TimeoutStep {
	if level < 0 || level >= len(r.Chain) {
		return TimeoutStep{Action: StepTimedOut, Level: level}
	}
	l := r.Chain[level]
	if !r.Escalated && len(l.EscalateTo) > 0 {
		return TimeoutStep{Action: StepEscalate, Level: level}
	}
	if l.OnTimeout == "next" && level+1 < len(r.Chain) {
		return TimeoutStep{Action: StepNext, Level: level + 1}
	}
	return TimeoutStep{Action: StepTimedOut, Level: level}
}

// AskedAt returns who is asked at level: its approvers, or after
// escalation only the approvers escalated to (the first ones were asked
// already and their links still work).
func (r *Request) AskedAt(level int, escalated bool) []string {
	if level < 0 || level >= len(r.Chain) {
		return nil
	}
	if escalated {
		return r.Chain[level].EscalateTo
	}
	return r.Chain[level].Approvers
}

// MayApprove reports whether approver belongs to the level (first asked or
// escalated to).
func (r *Request) MayApprove(level int, approver string) bool {
	if level < 0 || level >= len(r.Chain) {
		return false
	}
	for _, a := range append(append([]string{}, r.Chain[level].Approvers...), r.Chain[level].EscalateTo...) {
		if strings.EqualFold(a, approver) {
			return true
		}
	}
	return false
}

// Target is what a grant changes, as the policy names it (package
// target). A request keeps a copy of its resource's target as it was when
// asked.
type Target = target.Target

// Event is one immutable entry of a request's audit trail. Resource and
// Requester repeat the request's so that audit search can find events by
// them; SourceIP and UserAgent are those of the HTTP call that caused the
// event, when one did.
type Event struct {
	RequestID string            `json:"request_id"`
	Type      string            `json:"type"`
	Actor     string            `json:"actor"`
	At        time.Time         `json:"at"`
	Resource  string            `json:"resource,omitempty"`
	Requester string            `json:"requester,omitempty"`
	From      Status            `json:"from,omitempty"`
	To        Status            `json:"to,omitempty"`
	SourceIP  string            `json:"source_ip,omitempty"`
	UserAgent string            `json:"user_agent,omitempty"`
	Detail    map[string]string `json:"detail,omitempty"`
}

// About returns ev with the request's resource and requester filled in.
func (ev Event) About(r *Request) Event {
	ev.RequestID, ev.Resource, ev.Requester = r.ID, r.Resource, r.Requester
	return ev
}

// Event types. A transition's event type is the status it reaches; these
// are the events that do not change status.
const (
	EventCreated = "created"
	// EventPolicyEvaluated records how the policy decided a new request:
	// the version, the mode (approval, auto, break_glass) and the rule.
	EventPolicyEvaluated   = "policy_evaluated"
	EventApprovalRequested = "approval_requested"
	// EventApproval counts one approval at a level that needs more.
	EventApproval = "approval"
	// EventLevelApproved closes a level that reached its quorum.
	EventLevelApproved = "level_approved"
	EventEscalated     = "escalated"
	// EventLevelTimedOut moves past a level that timed out (on_timeout: next).
	EventLevelTimedOut      = "level_timed_out"
	EventBreakGlassNotified = "break_glass_notified"
	EventExtended           = "extended"
	// EventLinkOpened: an approver's decision page was loaded (a person or
	// a mail scanner; the user agent tells which).
	EventLinkOpened = "link_opened"
	// EventRevokeRequested: someone asked to end an active grant early;
	// the revoked event follows when the workflow has removed it.
	EventRevokeRequested = "revoke_requested"
	// EventRevokeFailed: access could not be removed after retries; the
	// reconciler will.
	EventRevokeFailed = "revoke_failed"
	// EventReconciled: the reconciler removed access left behind.
	EventReconciled = "reconciled"
)

// Actors that are not people.
const (
	ActorPolicy     = "policy"
	ActorBreakGlass = "break-glass"
)

// System is the actor recorded for steps the workflow takes on its own.
const System = "system"

// Sentinel errors, matched with errors.Is at the edges.
var (
	ErrNotFound  = errors.New("not found")
	ErrForbidden = errors.New("forbidden")
)

// ValidationError says which input field is wrong and why, in words meant
// for the caller.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid builds a ValidationError.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ParseDuration reads a duration as requesters write it: "90s", "15m",
// "2h", "1h30m". It must be positive and a whole number of seconds.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("is required (e.g. \"15m\", \"2h\")")
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (use e.g. \"90s\", \"15m\", \"2h\")", s)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive", s)
	}
	if d%time.Second != 0 {
		return 0, fmt.Errorf("%q must be a whole number of seconds", s)
	}
	return d, nil
}

// FormatDuration writes d the way ParseDuration reads it, without the
// zero units time.Duration.String adds ("1h0m0s" becomes "1h").
func FormatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// crockford is the base32 alphabet of ULIDs: sortable, no ambiguous letters.
const crockford = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID returns a request id that sorts by creation time: 48 bits of
// milliseconds then 80 random bits, 26 base32 characters. It is also the
// Step Functions execution name, so it must stay within [0-9a-z].
func NewID(now time.Time, random io.Reader) (string, error) {
	if random == nil {
		random = rand.Reader
	}
	var b [16]byte
	ms := uint64(now.UnixMilli())
	for i := 5; i >= 0; i-- {
		b[i] = byte(ms)
		ms >>= 8
	}
	if _, err := io.ReadFull(random, b[6:]); err != nil {
		return "", fmt.Errorf("new request id: %w", err)
	}
	// 128 bits as 26 five-bit groups, most significant first (the first
	// group holds only the top 3 bits).
	var out [26]byte
	var acc uint64
	var hi uint64 = uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 |
		uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	var lo uint64 = uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 |
		uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	for i := 25; i >= 0; i-- {
		acc = lo & 31
		lo = lo>>5 | hi<<59
		hi >>= 5
		out[i] = crockford[acc]
	}
	return string(out[:]), nil
}

// ValidID reports whether s has the shape of a request id, so malformed ids
// are refused before any lookup.
func ValidID(s string) bool {
	if len(s) != 26 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune(crockford, rune(s[i])) {
			return false
		}
	}
	return true
}
