package access

import (
	"errors"
	"fmt"
	"time"
)

// ErrStaleLevel is returned for a decision at a level the request has
// left: it is no longer needed.
var ErrStaleLevel = errors.New("decision link belongs to a level the request has moved past")

// Decision is what one approver's decision does to a pending request.
type Decision struct {
	// Outcome: Approved when the last level reached its quorum, Denied
	// on a deny, Pending when the approval was counted (more are needed,
	// or the request moved on to NextLevel).
	Outcome Status
	// NextLevel is set when this approval completed a level that is not
	// the last; the request now waits on that level.
	NextLevel *int
	// Approvals and Needed describe the level the approval counted at.
	Approvals, Needed int
	Level             int
	// Event records the decision in the trail.
	Event Event
}

// Resumes reports whether the workflow task waiting on the level must be
// completed: the request was decided, or moved to its next level.
func (d *Decision) Resumes() bool {
	return d.Outcome != Pending || d.NextLevel != nil
}

// Decide works out what approver's decision (Approved or Denied), made
// through a link for level over channel, does to r as it was read. A deny
// ends the request; an approval counts towards the level's quorum, and
// the one that reaches it moves the request to the next level or, at the
// last, approves it. It decides only: the store writes the result on the
// condition that r is still what was read, so a quorum is reached once.
// That an approver counts once per level is the store's to enforce (a
// marker per approver and level in the same write).
func Decide(r *Request, approver string, level int, outcome Status, channel, comment string, at time.Time) (*Decision, error) {
	if outcome != Approved && outcome != Denied {
		return nil, fmt.Errorf("decide %s: %s is not a decision", r.ID, outcome)
	}
	if r.Status != Pending {
		return nil, &ErrTransition{ID: r.ID, From: r.Status, To: outcome}
	}
	if level != r.Level {
		return nil, fmt.Errorf("decide %s: %w", r.ID, ErrStaleLevel)
	}
	d := &Decision{Level: r.Level, Needed: r.Needed(r.Level), Approvals: r.Approvals}
	detail := map[string]string{"level": fmt.Sprint(level), "channel": channel}
	if comment != "" {
		detail["comment"] = comment
	}
	event := func(typ string, to Status) Event {
		ev := Event{Type: typ, Actor: approver, At: at, Detail: detail}.About(r)
		if to != "" {
			ev.From, ev.To = Pending, to
		}
		return ev
	}
	if outcome == Denied {
		d.Outcome = Denied
		d.Event = event(string(Denied), Denied)
		return d, nil
	}
	d.Approvals = r.Approvals + 1
	detail["approvals"] = fmt.Sprintf("%d of %d", d.Approvals, d.Needed)
	switch {
	case d.Approvals < d.Needed:
		d.Outcome = Pending
		d.Event = event(EventApproval, "")
	case !r.LastLevel():
		d.Outcome = Pending
		next := r.Level + 1
		d.NextLevel = &next
		d.Event = event(EventLevelApproved, "")
	default:
		d.Outcome = Approved
		d.Event = event(string(Approved), Approved)
	}
	return d, nil
}
