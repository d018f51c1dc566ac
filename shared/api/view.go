package api

import (
	"time"

	"github.com/jitaccess/jit/shared/access"
)

// requestView is a request as the API shows it.
type requestView struct {
	ID            string         `json:"id"`
	Status        access.Status  `json:"status"`
	Resource      string         `json:"resource"`
	Requester     string         `json:"requester"`
	Duration      string         `json:"duration"`
	Reason        string         `json:"reason"`
	PolicyVersion int            `json:"policy_version"`
	Target        access.Target  `json:"target"`
	Approvers     []string       `json:"approvers"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	DecidedBy     string         `json:"decided_by,omitempty"`
	DecidedAt     *time.Time     `json:"decided_at,omitempty"`
	GrantedAt     *time.Time     `json:"granted_at,omitempty"`
	ExpiresAt     *time.Time     `json:"expires_at,omitempty"`
	EndedAt       *time.Time     `json:"ended_at,omitempty"`
	History       []access.Event `json:"history,omitempty"`
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
	}
}
