package api

import (
	"time"

	"github.com/jitaccess/jit/shared/access"
)

// requestView is a request as the API shows it.
type requestView struct {
	ID             string         `json:"id"`
	Status         access.Status  `json:"status"`
	Resource       string         `json:"resource"`
	Requester      string         `json:"requester"`
	Duration       string         `json:"duration"`
	Reason         string         `json:"reason"`
	PolicyVersion  int            `json:"policy_version"`
	Target         access.Target  `json:"target"`
	Approvers      []string       `json:"approvers"`
	CreatedAt      time.Time      `json:"created_at"`
	UpdatedAt      time.Time      `json:"updated_at"`
	DecidedBy      string         `json:"decided_by,omitempty"`
	DecidedAt      *time.Time     `json:"decided_at,omitempty"`
	GrantedAt      *time.Time     `json:"granted_at,omitempty"`
	ExpiresAt      *time.Time     `json:"expires_at,omitempty"`
	EndedAt        *time.Time     `json:"ended_at,omitempty"`
	Ticket         string         `json:"ticket,omitempty"`
	TicketURL      string         `json:"ticket_url,omitempty"`
	StartAt        *time.Time     `json:"start_at,omitempty"`
	BreakGlass     bool           `json:"break_glass"`
	AutoApprovedBy string         `json:"auto_approved_by,omitempty"`
	Chain          []levelView    `json:"chain"`
	Level          int            `json:"level"`
	Approvals      int            `json:"approvals"`
	History        []access.Event `json:"history,omitempty"`
}

type levelView struct {
	Name         string   `json:"name,omitempty"`
	Approvers    []string `json:"approvers"`
	EscalateTo   []string `json:"escalate_to,omitempty"`
	MinApprovals int      `json:"min_approvals"`
	Timeout      string   `json:"timeout"`
	OnTimeout    string   `json:"on_timeout"`
}

type listView struct {
	Requests   []requestView `json:"requests"`
	NextCursor string        `json:"next_cursor,omitempty"`
}

func view(r *access.Request, history []access.Event) requestView {
	return requestView{
		ID: r.ID, Status: r.Status, Resource: r.Resource, Requester: r.Requester,
		Duration: access.FormatDuration(r.Duration), Reason: r.Reason, PolicyVersion: r.PolicyVersion,
		Target: r.Target, Approvers: r.Approvers, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
		DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, GrantedAt: r.GrantedAt, ExpiresAt: r.ExpiresAt,
		EndedAt: r.EndedAt, History: history,
		Ticket: r.Ticket, TicketURL: r.TicketURL, StartAt: r.StartAt, BreakGlass: r.BreakGlass,
		AutoApprovedBy: r.AutoApprovedBy, Chain: chainView(r.Chain), Level: r.Level, Approvals: r.Approvals,
	}
}

func chainView(chain []access.Level) []levelView {
	out := make([]levelView, 0, len(chain))
	for _, l := range chain {
		out = append(out, levelView{Name: l.Name, Approvers: l.Approvers, EscalateTo: l.EscalateTo,
			MinApprovals: l.MinApprovals, Timeout: access.FormatDuration(l.Timeout), OnTimeout: l.OnTimeout})
	}
	return out
}
