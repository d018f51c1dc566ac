package access

import "time"

// View is a request as the API shows it and the CLI reads it: durations
// written as requesters write them, the chain as policy-like levels, the
// tokens left out.
type View struct {
	ID             string      `json:"id"`
	Status         Status      `json:"status"`
	Resource       string      `json:"resource"`
	Requester      string      `json:"requester"`
	Duration       string      `json:"duration"`
	Reason         string      `json:"reason"`
	PolicyVersion  int         `json:"policy_version"`
	Target         Target      `json:"target"`
	Approvers      []string    `json:"approvers"`
	CreatedAt      time.Time   `json:"created_at"`
	UpdatedAt      time.Time   `json:"updated_at"`
	DecidedBy      string      `json:"decided_by,omitempty"`
	DecidedAt      *time.Time  `json:"decided_at,omitempty"`
	GrantedAt      *time.Time  `json:"granted_at,omitempty"`
	ExpiresAt      *time.Time  `json:"expires_at,omitempty"`
	EndedAt        *time.Time  `json:"ended_at,omitempty"`
	Ticket         string      `json:"ticket,omitempty"`
	TicketURL      string      `json:"ticket_url,omitempty"`
	StartAt        *time.Time  `json:"start_at,omitempty"`
	BreakGlass     bool        `json:"break_glass"`
	AutoApprovedBy string      `json:"auto_approved_by,omitempty"`
	Chain          []LevelView `json:"chain"`
	Level          int         `json:"level"`
	Approvals      int         `json:"approvals"`
	History        []Event     `json:"history,omitempty"`
}

// LevelView is one level of a View's chain.
type LevelView struct {
	Name         string   `json:"name,omitempty"`
	Approvers    []string `json:"approvers"`
	EscalateTo   []string `json:"escalate_to,omitempty"`
	MinApprovals int      `json:"min_approvals"`
	Timeout      string   `json:"timeout"`
	OnTimeout    string   `json:"on_timeout"`
}

// View returns r as the API shows it, with its history when given.
func (r *Request) View(history []Event) View {
	chain := make([]LevelView, 0, len(r.Chain))
	for _, l := range r.Chain {
		chain = append(chain, LevelView{Name: l.Name, Approvers: l.Approvers, EscalateTo: l.EscalateTo,
			MinApprovals: l.MinApprovals, Timeout: FormatDuration(l.Timeout), OnTimeout: l.OnTimeout})
	}
	return View{
		ID: r.ID, Status: r.Status, Resource: r.Resource, Requester: r.Requester,
		Duration: FormatDuration(r.Duration), Reason: r.Reason, PolicyVersion: r.PolicyVersion,
		Target: r.Target, Approvers: r.Approvers, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, GrantedAt: r.GrantedAt, ExpiresAt: r.ExpiresAt,
		EndedAt: r.EndedAt, History: history,
		Ticket: r.Ticket, TicketURL: r.TicketURL, StartAt: r.StartAt, BreakGlass: r.BreakGlass,
		AutoApprovedBy: r.AutoApprovedBy, Chain: chain, Level: r.Level, Approvals: r.Approvals,
	}
}
