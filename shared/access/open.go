package access

import (
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/policy"
)

// Ask is what a requester asks for, as they wrote it.
type Ask struct {
	Resource   string
	Duration   string
	Reason     string
	Ticket     string
	StartAt    string
	BreakGlass bool
}

// Open checks an ask against the policy and builds the request: pending
// with its approval chain resolved, or approved on the spot by an
// auto-approve rule or break-glass. caller is the principal that signed
// the ask, identified by the policy's identities. Every refusal is a
// *ValidationError naming the field, or an *Error: KindForbidden when the
// policy does not let the caller ask, KindUnprocessable ("no_approver")
// when no one but the caller could approve.
func Open(ask Ask, caller Principal, doc *policy.Document, version int, now time.Time) (*Request, error) {
	if err := ValidRequester(caller.ARN); err != nil {
		return nil, Fail(KindForbidden, "", "%s", err.Error())
	}
	name := strings.TrimSpace(ask.Resource)
	if name == "" {
		return nil, Invalid("resource", "is required")
	}
	res, ok := doc.Resource(name)
	if !ok {
		return nil, Invalid("resource", "%q is not a resource in the policy", name)
	}
	if !MayRequest(res, caller) {
		return nil, Fail(KindForbidden, "", "%s may not request %q under the current policy", caller.ARN, name)
	}
	if res.Target.ForPeople() && caller.Person == "" {
		return nil, Fail(KindForbidden, "", "%q is granted to a person (%s), so it must be requested by an identified person (an Identity Center session, or a principal bound under identities.people); %s is not one", name, res.Target.Provider, caller.ARN)
	}
	d, err := duration(ask.Duration, res)
	if err != nil {
		return nil, err
	}
	reason, err := reasonFor(ask, res)
	if err != nil {
		return nil, err
	}
	ticket := strings.TrimSpace(ask.Ticket)
	if err := res.CheckTicket(ticket); err != nil {
		return nil, Invalid("ticket", "%s", err.Error())
	}
	start, err := startAt(ask.StartAt, res, now)
	if err != nil {
		return nil, err
	}
	r := &Request{
		Resource: res.Name, Requester: caller.ARN, Reason: reason, Duration: d,
		Status: Pending, PolicyVersion: version,
		Target:    res.Target,
		CreatedAt: now, UpdatedAt: now,
		Ticket: ticket, TicketURL: res.TicketURL(ticket), StartAt: start,
	}
	if r.Chain, err = chain(res, caller); err != nil {
		return nil, err
	}
	r.Approvers = r.Chain[0].Approvers
	switch {
	case ask.BreakGlass:
		if res.BreakGlass == nil || !res.BreakGlass.Allowed {
			return nil, Fail(KindForbidden, "", "break-glass is not allowed for %q", res.Name)
		}
		r.BreakGlass = true
		r.Status = Approved
		r.DecidedBy = ActorBreakGlass
		r.DecidedAt = &now
	default:
		accessStart := now
		if start != nil {
			accessStart = *start
		}
		if rule, ok := AutoApproval(res, caller, d, accessStart); ok {
			r.AutoApprovedBy = rule
			r.Status = Approved
			r.DecidedBy = ActorPolicy + ":" + rule
			r.DecidedAt = &now
		}
	}
	return r, nil
}

// MayRequest reports whether the principal matches one of the resource's
// requester patterns: ARN patterns ("*" matches any run of characters, so
// "arn:aws:sts::123456789012:assumed-role/Engineer/*" admits every session
// of that role) against its ARN, email patterns ("*@example.com") against
// the person the policy's identities say it is.
func MayRequest(res *policy.Resource, p Principal) bool {
	return p.MatchesAny(res.Requesters)
}

// AutoApproval returns the first of the resource's auto-approve rules that
// admits a request by the principal for the access window [start,
// start+d), if any. A rule's time window must hold the whole access
// window, not the moment of asking: a request made on Friday afternoon for
// Saturday 03:00 is outside office hours.
func AutoApproval(res *policy.Resource, p Principal, d time.Duration, start time.Time) (string, bool) {
	for _, rule := range res.AutoApprove {
		if admits(rule, p, d, start) {
			return rule.Name, true
		}
	}
	return "", false
}

func admits(rule policy.AutoRule, p Principal, d time.Duration, start time.Time) bool {
	if rule.Always {
		return true
	}
	if rule.MaxDuration > 0 && d > rule.MaxDuration.Std() {
		return false
	}
	if len(rule.Requesters) > 0 && !p.MatchesAny(rule.Requesters) {
		return false
	}
	if rule.Window != nil && !rule.Window.Holds(start, d) {
		return false
	}
	return true
}

func duration(s string, res *policy.Resource) (time.Duration, error) {
	var d time.Duration
	if strings.TrimSpace(s) == "" && res.DefaultDuration > 0 {
		d = res.DefaultDuration.Std()
	} else {
		var err error
		if d, err = ParseDuration(s); err != nil {
			return 0, Invalid("duration", "%s", err.Error())
		}
	}
	if d < res.MinDuration.Std() {
		return 0, Invalid("duration", "%s is shorter than the %s minimum for %q", FormatDuration(d), FormatDuration(res.MinDuration.Std()), res.Name)
	}
	if d > res.MaxDuration.Std() {
		return 0, Invalid("duration", "%s exceeds the %s maximum for %q", FormatDuration(d), FormatDuration(res.MaxDuration.Std()), res.Name)
	}
	return d, nil
}

// reasonFor checks the reason's length: the resource's minimum, or
// break-glass's when it asks for more.
func reasonFor(ask Ask, res *policy.Resource) (string, error) {
	reason := strings.TrimSpace(ask.Reason)
	minimum := res.ReasonMinLength
	if ask.BreakGlass && res.BreakGlass != nil && res.BreakGlass.ReasonMinLength > minimum {
		minimum = res.BreakGlass.ReasonMinLength
	}
	n := len([]rune(reason))
	switch {
	case n < minimum && n == 0:
		return "", Invalid("reason", "is required")
	case n < minimum:
		return "", Invalid("reason", "must be at least %d characters", minimum)
	case n > policy.MaxReasonLength:
		return "", Invalid("reason", "is %d characters; the limit is %d", n, policy.MaxReasonLength)
	}
	return reason, nil
}

// startAt reads an optional RFC 3339 start. A start in the past (beyond a
// minute of clock skew) is refused; one within that minute means now.
func startAt(s string, res *policy.Resource, now time.Time) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, Invalid("start_at", "%q is not an RFC 3339 time (e.g. \"2026-12-01T09:00:00Z\")", s)
	}
	if t.Before(now.Add(-time.Minute)) {
		return nil, Invalid("start_at", "%s is in the past", t.UTC().Format(time.RFC3339))
	}
	if !t.After(now) {
		return nil, nil
	}
	if err := res.CheckStart(t, now); err != nil {
		return nil, Invalid("start_at", "%s", err.Error())
	}
	t = t.UTC().Truncate(time.Second)
	return &t, nil
}

// chain resolves the resource's approval levels for this requester. The
// requester is never one of their own approvers under any of their
// identities (SamePerson); a level that cannot reach its quorum without
// them is refused now rather than left to time out.
func chain(res *policy.Resource, caller Principal) ([]Level, error) {
	others := func(list []policy.Approver) []string {
		var out []string
		for _, a := range list {
			if SamePerson(a.Email, a.Principal, caller) {
				continue
			}
			out = append(out, a.Email)
		}
		return out
	}
	var levels []Level
	for i, l := range res.Approval.Levels {
		lv := Level{
			Name: l.Name, Approvers: others(l.Approvers), EscalateTo: others(l.EscalateTo),
			MinApprovals: l.MinApprovals, Timeout: l.Timeout.Std(), OnTimeout: l.OnTimeout,
		}
		if len(lv.Approvers) == 0 || len(lv.Approvers)+len(lv.EscalateTo) < lv.MinApprovals {
			return nil, Fail(KindUnprocessable, "no_approver", "level %d of %q needs %d approvals but only %d approvers other than you are listed; you cannot approve your own request, ask an admin to add approvers", i+1, res.Name, lv.MinApprovals, len(lv.Approvers)+len(lv.EscalateTo))
		}
		levels = append(levels, lv)
	}
	return levels, nil
}
