package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

// Store is what notifying needs from the table.
type Store interface {
	GetRequest(context.Context, string) (*access.Request, error)
	RequestApproval(ctx context.Context, id string, level int, taskToken string, links []store.Link, at time.Time) error
}

// Sender delivers one message on one channel.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Message is one rendered message to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Handler runs the workflow's AwaitApproval task.
type Handler struct {
	Store  Store
	Email  Sender
	Logger *slog.Logger
	Now    func() time.Time
	Random io.Reader
}

// ErrNobodyToAsk is returned when a level has no approver other than the
// requester, so no decision could ever arrive.
var ErrNobodyToAsk = errors.New("no approver other than the requester")

// RequestApproval sends the level's approvers their decision links.
func (h *Handler) RequestApproval(ctx context.Context, task workflow.ApprovalTask) error {
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	if r.Status != access.Pending {
		// Cancelled or decided before we ran: nothing to ask.
		h.Logger.InfoContext(ctx, "request no longer pending", "request", r.ID, "status", r.Status)
		return nil
	}
	now := h.Now().UTC()
	expires := now.Add(time.Duration(task.TimeoutSeconds) * time.Second)
	var links []store.Link
	var msgs []Message
	for _, approver := range r.Approvers {
		if access.SamePerson(approver, r.Requester) {
			continue
		}
		tok, err := link.New(h.Random)
		if err != nil {
			return err
		}
		links = append(links, store.Link{
			Hash: tok.Hash(), RequestID: r.ID, Level: task.Level, Approver: approver,
			Channel: "email", CreatedAt: now, ExpiresAt: expires,
		})
		url := strings.TrimRight(task.LinkBaseURL, "/") + "/d/" + tok.Reveal()
		msg, err := ApprovalEmail(r, approver, url, expires)
		if err != nil {
			return err
		}
		msgs = append(msgs, msg)
	}
	if len(links) == 0 {
		return fmt.Errorf("request %s level %d: %w", r.ID, task.Level, ErrNobodyToAsk)
	}
	if err := h.Store.RequestApproval(ctx, r.ID, task.Level, string(task.TaskToken), links, now); err != nil {
		return fmt.Errorf("notify %s: %w", r.ID, err)
	}
	sent := 0
	for _, m := range msgs {
		if err := h.Email.Send(ctx, m); err != nil {
			// One failing recipient must not stop the others.
			h.Logger.ErrorContext(ctx, "send approval email", "request", r.ID, "to", m.To, "error", err.Error())
			continue
		}
		sent++
	}
	if sent == 0 {
		return fmt.Errorf("notify %s: no approval message could be sent", r.ID)
	}
	h.Logger.InfoContext(ctx, "approval requested", "request", r.ID, "level", task.Level, "sent", sent, "of", len(msgs))
	return nil
}
