package access

// Staff names, by principal pattern, who the deployment makes admins and
// auditors. Email patterns match only identified people (see Directory).
type Staff struct {
	Admins, Auditors []string
}

// Actor is a principal with the standing the deployment gives it.
type Actor struct {
	Principal
	Admin, Auditor bool
}

// Actor returns what the deployment lets p do beyond requesting.
func (s Staff) Actor(p Principal) Actor {
	return Actor{Principal: p, Admin: p.MatchesAny(s.Admins), Auditor: p.MatchesAny(s.Auditors)}
}

// IsRequester reports whether the actor is r's requester: the very
// principal that asked, or the same identified person signing another
// way (requester is r's requester as the directory identifies them).
func (a Actor) IsRequester(r *Request, requester Principal) bool {
	return a.ARN == r.Requester || (a.Person != "" && a.Person == requester.Person)
}

// IsApprover reports whether the actor is a person asked to decide r at
// any level (first asked or escalated to). Only an identified person can
// be: a session named like an approver's email is not that approver.
func (a Actor) IsApprover(r *Request) bool {
	for _, l := range r.Chain {
		for _, email := range append(append([]string{}, l.Approvers...), l.EscalateTo...) {
			if a.Is(email) {
				return true
			}
		}
	}
	return false
}

// MayManage reports whether the actor may revoke or extend r: its
// requester, one of its approvers, or an admin.
func (a Actor) MayManage(r *Request, requester Principal) bool {
	return a.Admin || a.IsRequester(r, requester) || a.IsApprover(r)
}

// MayRead reports whether the actor may see r: whoever may manage it,
// and auditors.
func (a Actor) MayRead(r *Request, requester Principal) bool {
	return a.Auditor || a.MayManage(r, requester)
}

// MayCancel reports whether the actor may cancel r in its current status:
// the requester or an admin while it is pending or approved but not yet
// granted; an approver once it is approved and waiting for its start
// (while pending, an approver denies instead).
func (a Actor) MayCancel(r *Request, requester Principal) bool {
	switch r.Status {
	case Pending:
		return a.Admin || a.IsRequester(r, requester)
	case Approved:
		return a.MayManage(r, requester)
	}
	return false
}
