package api

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
)

// Ask is what a requester asks for.
type Ask struct {
	Resource   string
	Duration   string
	Reason     string
	Ticket     string
	StartAt    string
	BreakGlass bool
}

// NewRequest checks an ask against the policy and builds the request:
// pending with its approval chain resolved, or approved on the spot by an
// auto-approve rule or break-glass. Every refusal is a
// *access.ValidationError naming the field, or an *apiError with its
// status (403 when the policy does not let the caller ask, 422 when no one
// but the caller could approve).
//
// caller is the principal that signed the call, identified by the policy's
// identities: email patterns and approvers match only an identified person.
func NewRequest(ask Ask, caller access.Principal, doc *policy.Document, version int, now time.Time) (*access.Request, error) {
	if err := access.ValidRequester(caller.ARN); err != nil {
		return nil, &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: err.Error()}
	}
	resource := strings.TrimSpace(ask.Resource)
	if resource == "" {
		return nil, access.Invalid("resource", "is required")
	}
	res, ok := doc.Resource(resource)
	if !ok {
		return nil, access.Invalid("resource", "%q is not a resource in the policy", resource)
	}
	if !res.MayRequest(caller) {
		return nil, &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf("%s may not request %q under the current policy", caller.ARN, resource)}
	}
	if res.Target.Provider == policy.ProviderIdentityCenter && caller.Person == "" {
		return nil, &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf("%q assigns an Identity Center user, so it must be requested by an identified person (an Identity Center session, or a principal bound under identities.people); %s is not one", resource, caller.ARN)}
	}
	d, err := duration(ask.Duration, res)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(ask.Reason)
	minReason := res.ReasonMinLength
	if ask.BreakGlass && res.BreakGlass != nil && res.BreakGlass.ReasonMinLength > minReason {
		minReason = res.BreakGlass.ReasonMinLength
	}
	if n := len([]rune(reason)); n < minReason {
		if n == 0 {
			return nil, access.Invalid("reason", "is required")
		}
		return nil, access.Invalid("reason", "must be at least %d characters", minReason)
	} else if n > policy.MaxReasonLength {
		return nil, access.Invalid("reason", "is %d characters; the limit is %d", n, policy.MaxReasonLength)
	}
	ticket := strings.TrimSpace(ask.Ticket)
	if err := res.CheckTicket(ticket); err != nil {
		return nil, access.Invalid("ticket", "%s", err.Error())
	}
	start, err := startAt(ask.StartAt, res, now)
	if err != nil {
		return nil, err
	}
	r := &access.Request{
		Resource: res.Name, Requester: caller.ARN, Reason: reason, Duration: d,
		Status: access.Pending, PolicyVersion: version,
		Target: access.Target{Provider: res.Target.Provider, RoleARN: res.Target.RoleARN,
			InstanceARN: res.Target.InstanceARN, PermissionSetARN: res.Target.PermissionSetARN, AccountID: res.Target.AccountID},
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
			return nil, &apiError{Status: http.StatusForbidden, Code: "forbidden", Message: fmt.Sprintf("break-glass is not allowed for %q", res.Name)}
		}
		r.BreakGlass = true
		r.Status = access.Approved
		r.DecidedBy = access.ActorBreakGlass
		r.DecidedAt = &now
	default:
		accessStart := now
		if start != nil {
			accessStart = *start
		}
		if rule, ok := res.AutoApproval(caller, d, accessStart); ok {
			r.AutoApprovedBy = rule
			r.Status = access.Approved
			r.DecidedBy = access.ActorPolicy + ":" + rule
			r.DecidedAt = &now
		}
	}
	return r, nil
}

func duration(s string, res *policy.Resource) (time.Duration, error) {
	var d time.Duration
	if strings.TrimSpace(s) == "" && res.DefaultDuration > 0 {
		d = res.DefaultDuration.Std()
	} else {
		var err error
		if d, err = access.ParseDuration(s); err != nil {
			return 0, access.Invalid("duration", "%s", err.Error())
		}
	}
	if d < res.MinDuration.Std() {
		return 0, access.Invalid("duration", "%s is shorter than the %s minimum for %q", access.FormatDuration(d), access.FormatDuration(res.MinDuration.Std()), res.Name)
	}
	if d > res.MaxDuration.Std() {
		return 0, access.Invalid("duration", "%s exceeds the %s maximum for %q", access.FormatDuration(d), access.FormatDuration(res.MaxDuration.Std()), res.Name)
	}
	return d, nil
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
		return nil, access.Invalid("start_at", "%q is not an RFC 3339 time (e.g. \"2026-12-01T09:00:00Z\")", s)
	}
	if t.Before(now.Add(-time.Minute)) {
		return nil, access.Invalid("start_at", "%s is in the past", t.UTC().Format(time.RFC3339))
	}
	if !t.After(now) {
		return nil, nil
	}
	if err := res.CheckStart(t, now); err != nil {
		return nil, access.Invalid("start_at", "%s", err.Error())
	}
	t = t.UTC().Truncate(time.Second)
	return &t, nil
}

// chain resolves the resource's approval levels for this requester. The
// requester is never one of their own approvers under any of their
// identities (access.SamePerson); a level that cannot reach its quorum
// without them is refused now rather than left to time out.
func chain(res *policy.Resource, caller access.Principal) ([]access.Level, error) {
	others := func(list []policy.Approver) []string {
		var out []string
		for _, a := range list {
			if access.SamePerson(a.Email, a.Principal, caller) {
				continue
			}
			out = append(out, a.Email)
		}
		return out
	}
	var levels []access.Level
	for i, l := range res.Approval.Levels {
		lv := access.Level{
			Name: l.Name, Approvers: others(l.Approvers), EscalateTo: others(l.EscalateTo),
			MinApprovals: l.MinApprovals, Timeout: l.Timeout.Std(), OnTimeout: l.OnTimeout,
		}
		if len(lv.Approvers) == 0 || len(lv.Approvers)+len(lv.EscalateTo) < lv.MinApprovals {
			return nil, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_approver",
				Message: fmt.Sprintf("level %d of %q needs %d approvals but only %d approvers other than you are listed; you cannot approve your own request, ask an admin to add approvers", i+1, res.Name, lv.MinApprovals, len(lv.Approvers)+len(lv.EscalateTo))}
		}
		levels = append(levels, lv)
	}
	return levels, nil
}
