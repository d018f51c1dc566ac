package access

import "fmt"

// Status is where a request is in its lifecycle.
type Status string

// The lifecycle (the transitions map below is the rule; this is a sketch):
//
//	pending --approve--> approved --grant ok--> active --expiry--> expired
//	   |  \--deny--> denied          \--grant failed--> failed \--revoke--> revoked
//	   |--cancel--> cancelled
//	   |--no decision in time--> timed_out
//	   \--workflow could not start / notify failed--> failed
//
// An approved request may also be revoked before its grant, and an active
// one may fail (a revoke that could not complete).
const (
	Pending   Status = "pending"
	Approved  Status = "approved"
	Active    Status = "active"
	Denied    Status = "denied"
	Cancelled Status = "cancelled"
	TimedOut  Status = "timed_out"
	Failed    Status = "failed"
	Revoked   Status = "revoked"
	Expired   Status = "expired"
)

// transitions lists, for each status, the statuses it may move to. Anything
// not listed is refused, which is what makes every status write conditional
// on a known previous status.
var transitions = map[Status][]Status{
	Pending:  {Approved, Denied, Cancelled, TimedOut, Failed},
	Approved: {Active, Failed, Revoked, Cancelled},
	Active:   {Expired, Revoked, Failed},
}

// Statuses lists every status, in lifecycle order.
func Statuses() []Status {
	return []Status{Pending, Approved, Active, Denied, Cancelled, TimedOut, Failed, Revoked, Expired}
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, k := range Statuses() {
		if s == k {
			return true
		}
	}
	return false
}

// Terminal reports whether no further transition can leave s.
func (s Status) Terminal() bool {
	return s.Valid() && len(transitions[s]) == 0
}

// CanMove reports whether a request in status from may move to status to.
func CanMove(from, to Status) bool {
	for _, next := range transitions[from] {
		if next == to {
			return true
		}
	}
	return false
}

// Sources returns the statuses from which a request may move to to.
func Sources(to Status) []Status {
	var from []Status
	for _, s := range Statuses() {
		if CanMove(s, to) {
			from = append(from, s)
		}
	}
	return from
}

// ErrTransition is returned when a request is not in a status that allows
// the requested move (for example approving a request that was already
// denied).
type ErrTransition struct {
	ID       string
	From, To Status
}

func (e *ErrTransition) Error() string {
	return fmt.Sprintf("request %s is %s and cannot become %s", e.ID, e.From, e.To)
}
