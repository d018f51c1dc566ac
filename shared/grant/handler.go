package grant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

// Provider gives and takes away one kind of access.
type Provider interface {
	Apply(context.Context, Grant) error
	Remove(context.Context, Grant) error
}

// Record writes the outcome of a provider's change. A provider that
// edits under a lease passes it, so the same write gives the lease up
// (store.ActivateUnder, store.EndUnder); others pass nil.
type Record func(ctx context.Context, lease *store.Lease) error

// Recording is a provider whose change ends in the write that records its
// outcome, made while the lease it edits under is still held: one write
// less per change than recording after releasing.
type Recording interface {
	ApplyRecorded(context.Context, Grant, Record) error
	RemoveRecorded(context.Context, Grant, Record) error
}

// change applies g with p (or removes it), then records the outcome with
// record: inside the provider's edit when it is Recording, after it
// otherwise. It tells the change's failure (nothing recorded) from the
// record's (the change was made but not recorded).
func change(ctx context.Context, p Provider, g Grant, remove bool, record Record) (changeErr, recordErr error) {
	rp, ok := p.(Recording)
	if !ok {
		if remove {
			changeErr = p.Remove(ctx, g)
		} else {
			changeErr = p.Apply(ctx, g)
		}
		if changeErr != nil {
			return changeErr, nil
		}
		return nil, record(ctx, nil)
	}
	var last error
	rec := func(ctx context.Context, lease *store.Lease) error {
		last = record(ctx, lease)
		return last
	}
	var err error
	if remove {
		err = rp.RemoveRecorded(ctx, g, rec)
	} else {
		err = rp.ApplyRecorded(ctx, g, rec)
	}
	// A lost lease starts the edit again; only a record refused for
	// another reason ends it with the change made and unrecorded.
	if err != nil && last != nil && !errors.Is(last, store.ErrLeaseLost) {
		return nil, err
	}
	return err, nil
}

// Describer is a provider that can say exactly what a grant changed, for
// the audit trail (the statement added, the assignment held).
type Describer interface {
	Describe(Grant) map[string]string
}

// Store is what granting needs from the table.
type Store interface {
	GetRequest(context.Context, string) (*access.Request, error)
	ActivateUnder(ctx context.Context, lease *store.Lease, r *access.Request, grantedAt, expiresAt time.Time, detail map[string]string) error
	EndUnder(ctx context.Context, lease *store.Lease, r *access.Request, to access.Status, at time.Time, actor string, detail map[string]string) error
	SetHoldToken(ctx context.Context, id, token string) (*access.Request, error)
	Record(ctx context.Context, ev access.Event) error
}

// Handle dispatches the grant function's payload on its action.
func (h *Handler) Handle(ctx context.Context, task workflow.GrantTask) (workflow.GrantResult, error) {
	switch task.Action {
	case workflow.ActionGrant, "":
		return h.Grant(ctx, task)
	case workflow.ActionHold:
		return workflow.GrantResult{}, h.Hold(ctx, task)
	case workflow.ActionRefresh:
		return h.Refresh(ctx, task)
	}
	return workflow.GrantResult{}, fmt.Errorf("grant: unknown action %q", task.Action)
}

// Hold records the token of the workflow's Hold task on the active
// request, so revoke and extend can signal the running execution. The
// notify function runs Hold now (notify.Handler.Hold); this serves
// executions started before.
func (h *Handler) Hold(ctx context.Context, task workflow.GrantTask) error {
	r, err := h.Store.SetHoldToken(ctx, task.RequestID, string(task.TaskToken))
	if err != nil {
		return fmt.Errorf("hold %s: %w", task.RequestID, err)
	}
	// A revoke asked for before the hold began could not be signalled:
	// act on it now.
	if r.RevokeRequestedBy != "" {
		return &workflow.RevokeRequested{ID: r.ID, By: r.RevokeRequestedBy}
	}
	return nil
}

// Refresh re-applies an active request's grant with its current window
// (after an extension moved expires_at).
func (h *Handler) Refresh(ctx context.Context, task workflow.GrantTask) (workflow.GrantResult, error) {
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return workflow.GrantResult{}, fmt.Errorf("refresh: %w", err)
	}
	if r.Status != access.Active || r.ExpiresAt == nil {
		return workflow.GrantResult{}, &ErrNotApproved{ID: r.ID, Status: r.Status}
	}
	p, err := h.provider(r)
	if err != nil {
		return workflow.GrantResult{}, err
	}
	g := Grant{RequestID: r.ID, Principal: r.Requester, Target: r.Target, ExpiresAt: *r.ExpiresAt}
	if err := p.Apply(ctx, g); err != nil {
		return workflow.GrantResult{}, surface(fmt.Errorf("refresh %s: %w", r.ID, err))
	}
	return h.result(*r.ExpiresAt), nil
}

func (h *Handler) result(expires time.Time) workflow.GrantResult {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	// Rounded up: the Hold must not end (and revoke) before the window does.
	remaining := int64((expires.Sub(now) + time.Second - 1) / time.Second)
	// A Task timeout must be at least one second.
	if remaining < 1 {
		remaining = 1
	}
	return workflow.GrantResult{ExpiresAt: workflow.Timestamp(expires), RemainingSeconds: remaining}
}

// Handler runs the workflow's Grant and end-of-request tasks.
type Handler struct {
	Store     Store
	Providers map[string]Provider
	Logger    *slog.Logger
	Now       func() time.Time
}

// ErrNotApproved is returned when asked to grant a request that is not
// approved (e.g. it was cancelled meanwhile). Not worth retrying.
type ErrNotApproved struct {
	ID     string
	Status access.Status
}

func (e *ErrNotApproved) Error() string {
	return fmt.Sprintf("request %s is %s, not approved", e.ID, e.Status)
}

// Grant applies an approved request's access for its duration, starting
// now, and records it active. It is safe to retry: an already active
// request returns its existing window.
func (h *Handler) Grant(ctx context.Context, task workflow.GrantTask) (workflow.GrantResult, error) {
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return workflow.GrantResult{}, fmt.Errorf("grant: %w", err)
	}
	if r.Status == access.Active && r.ExpiresAt != nil {
		return h.result(*r.ExpiresAt), nil
	}
	if r.Status != access.Approved {
		return workflow.GrantResult{}, &ErrNotApproved{ID: r.ID, Status: r.Status}
	}
	p, err := h.provider(r)
	if err != nil {
		return workflow.GrantResult{}, err
	}
	// The workflow waits for a scheduled start, but a timer may fire a
	// little early; access never begins before the start asked for.
	if r.StartAt != nil {
		if early := r.StartAt.Sub(h.Now()); early > 0 {
			if early > 10*time.Second {
				return workflow.GrantResult{}, &TransientError{Err: fmt.Errorf("request %s starts at %s", r.ID, r.StartAt.UTC().Format(time.RFC3339))}
			}
			select {
			case <-time.After(early):
			case <-ctx.Done():
				return workflow.GrantResult{}, ctx.Err()
			}
		}
	}
	now := h.Now().UTC()
	// Whole seconds, rounded up so the window is never shorter than asked,
	// so the trust condition, the stored window and the Wait state all name
	// the same instant.
	expires := now.Add(r.Duration).Add(time.Second - 1).Truncate(time.Second)
	g := Grant{RequestID: r.ID, Principal: r.Requester, Target: r.Target, ExpiresAt: expires}
	detail := map[string]string{"provider": r.Target.Provider, "session_name": access.RoleSessionName(r.Requester), "expires_at": workflow.Timestamp(expires)}
	for n, v := range r.Target.Params {
		detail[n] = v
	}
	if d, ok := p.(Describer); ok {
		for k, v := range d.Describe(g) {
			detail[k] = v
		}
	}
	applyErr, err := change(ctx, p, g, false, func(ctx context.Context, lease *store.Lease) error {
		return h.Store.ActivateUnder(ctx, lease, r, now, expires, detail)
	})
	if applyErr != nil {
		return workflow.GrantResult{}, surface(fmt.Errorf("grant %s: %w", r.ID, applyErr))
	}
	if err != nil {
		// The request moved on (e.g. revoked) while we granted: take the
		// access back rather than leave it unrecorded.
		if rmErr := p.Remove(ctx, g); rmErr != nil {
			h.Logger.ErrorContext(ctx, "remove unrecorded grant", "request", r.ID, "error", rmErr.Error())
		}
		return workflow.GrantResult{}, fmt.Errorf("grant %s: record active: %w", r.ID, err)
	}
	// Time to grant runs from when access was wanted: creation, or the
	// scheduled start.
	wanted := r.CreatedAt
	if r.StartAt != nil && r.StartAt.After(wanted) {
		wanted = *r.StartAt
	}
	h.Logger.InfoContext(ctx, "granted", append([]any{"request", r.ID, "target", r.Target.String(), "expires_at", expires},
		lambdaenv.Metric("GrantSeconds", "Seconds", max(0, now.Sub(wanted).Seconds()), now)...)...)
	return h.result(expires), nil
}

// End finishes a request with the task's outcome and removes any access
// it may have. Removal comes first, so a recorded end always means no
// access remains. Safe to retry.
func (h *Handler) End(ctx context.Context, task workflow.EndTask) error {
	if task.Action == workflow.ActionRevokeFailed {
		return h.revokeFailed(ctx, task)
	}
	to := access.Status(task.Outcome)
	if !to.Terminal() {
		return fmt.Errorf("end %s: %q is not a final status", task.RequestID, task.Outcome)
	}
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return fmt.Errorf("end: %w", err)
	}
	if r.Status == to {
		return nil
	}
	detail := map[string]string{}
	if len(task.Error) > 0 {
		detail["error"] = summarize(task.Error)
	}
	from := r.Status
	if to == access.TimedOut && r.Status == access.Approved {
		// The approval was recorded but never reached the workflow before
		// the level timed out; nothing was granted, so the request failed.
		to = access.Failed
		detail["error"] = "approved, but the approval reached the workflow after its timeout; request again"
	}
	actor := access.System
	switch {
	case task.By != "":
		actor = task.By
	case to == access.Revoked && r.RevokeRequestedBy != "":
		actor = r.RevokeRequestedBy
	}
	record := func(ctx context.Context, lease *store.Lease) error {
		return h.Store.EndUnder(ctx, lease, r, to, h.Now().UTC(), actor, detail)
	}
	if from == access.Active || from == access.Approved || to == access.Failed {
		p, err := h.provider(r)
		if err != nil {
			return err
		}
		removeErr, recordErr := change(ctx, p, Grant{RequestID: r.ID, Principal: r.Requester, Target: r.Target}, true, record)
		// A role that is not managed now but was when the grant was
		// applied (the request is active) still trusts the requester, and
		// this service may no longer change it: that is a failed revoke
		// (revoke_failed, the alarm, and the reconciler retrying), never a
		// quiet success. A request never granted changed nothing.
		if errors.Is(removeErr, ErrNotManaged) && from != access.Active && r.GrantedAt == nil {
			removeErr, recordErr = nil, record(ctx, nil)
		}
		if removeErr != nil {
			return surface(fmt.Errorf("end %s: remove access: %w", r.ID, removeErr))
		}
		err = recordErr
	} else {
		err = record(ctx, nil)
	}
	var te *access.ErrTransition
	if errors.As(err, &te) && te.From.Terminal() {
		// Someone else ended it first (e.g. denied while the timeout fired);
		// access was removed above, which is all that matters.
		h.Logger.InfoContext(ctx, "request already ended", "request", r.ID, "status", te.From, "wanted", to)
		return nil
	}
	if err != nil {
		return fmt.Errorf("end %s: %w", r.ID, err)
	}
	h.Logger.InfoContext(ctx, "request ended", "request", r.ID, "status", to)
	return nil
}

// surface returns a transient failure as a *TransientError at the top, so
// the Lambda runtime reports errorType "TransientError" and the state
// machine's Retry matches it; the runtime names only the outermost type.
func surface(err error) error {
	var te *TransientError
	if errors.As(err, &te) {
		return &TransientError{Err: err}
	}
	return err
}

// revokeFailed records that removing access failed even after retries.
// The request stays active past its expiry, which is exactly what the
// reconciler looks for; the log line is the alarm's metric (CloudWatch
// embedded metric format).
func (h *Handler) revokeFailed(ctx context.Context, task workflow.EndTask) error {
	detail := map[string]string{"wanted": task.Outcome}
	if len(task.Error) > 0 {
		detail["error"] = summarize(task.Error)
	}
	h.Logger.ErrorContext(ctx, "revoke failed", append([]any{"request", task.RequestID},
		lambdaenv.Metric("RevokeFailures", "Count", 1, h.Now())...)...)
	r, err := h.Store.GetRequest(ctx, task.RequestID)
	if err != nil {
		return err
	}
	return h.Store.Record(ctx, access.Event{Type: access.EventRevokeFailed, Actor: access.System, At: h.Now().UTC(), Detail: detail}.About(r))
}

func (h *Handler) provider(r *access.Request) (Provider, error) {
	p, ok := h.Providers[r.Target.Provider]
	if !ok {
		return nil, fmt.Errorf("request %s: no provider %q", r.ID, r.Target.Provider)
	}
	return p, nil
}

// summarize keeps the Step Functions error name and a bounded cause.
func summarize(raw json.RawMessage) string {
	var e struct {
		Error string `json:"Error"`
		Cause string `json:"Cause"`
	}
	if json.Unmarshal(raw, &e) != nil || e.Error == "" {
		return "unknown error"
	}
	var cause struct {
		ErrorMessage string `json:"errorMessage"`
	}
	msg := e.Error
	if json.Unmarshal([]byte(e.Cause), &cause) == nil && cause.ErrorMessage != "" {
		msg += ": " + cause.ErrorMessage
	} else if e.Cause != "" {
		msg += ": " + e.Cause
	}
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}
