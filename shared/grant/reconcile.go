package grant

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jitaccess/jit/shared/access"
)

// ReconcileStore is what the reconciler needs from the table.
type ReconcileStore interface {
	ListActive(ctx context.Context, cutoff time.Time) ([]*access.Request, error)
	End(ctx context.Context, r *access.Request, to access.Status, at time.Time, actor string, detail map[string]string) error
	Record(ctx context.Context, ev access.Event) error
}

// Reconciler is defence in depth for a revoke that failed: it finds grants
// still recorded active past their expiry, or whose early revoke was
// asked for a grace period ago, and removes their access.
type Reconciler struct {
	Store     ReconcileStore
	Providers map[string]Provider
	Logger    *slog.Logger
	Now       func() time.Time
	// Grace leaves the workflow's own revoke time to run first.
	Grace time.Duration
}

// ReconcileTask may override the grace period (e.g. on-demand runs).
type ReconcileTask struct {
	GraceSeconds *int64 `json:"grace_seconds,omitempty"`
}

// ReconcileReport says what one run found and did.
type ReconcileReport struct {
	Checked int      `json:"checked"`
	Removed []string `json:"removed"`
	Failed  []string `json:"failed"`
}

// ActorReconciler is the actor recorded for the reconciler's removals.
const ActorReconciler = "reconciler"

// Run removes the access of every active request past expiry (+ grace),
// records each as expired by the reconciler, and reports. One failure does
// not stop the others; any failure makes the run fail, so the schedule's
// error metric alarms.
func (r *Reconciler) Run(ctx context.Context, task ReconcileTask) (ReconcileReport, error) {
	grace := r.Grace
	if task.GraceSeconds != nil {
		grace = time.Duration(*task.GraceSeconds) * time.Second
	}
	now := r.Now().UTC()
	// Every active request, to find early revokes that failed as well as
	// grants past their expiry.
	active, err := r.Store.ListActive(ctx, now.Add(100*365*24*time.Hour))
	if err != nil {
		return ReconcileReport{}, err
	}
	var stale []*access.Request
	for _, req := range active {
		if left(req, now.Add(-grace)) {
			stale = append(stale, req)
		}
	}
	report := ReconcileReport{Checked: len(stale), Removed: []string{}, Failed: []string{}}
	for _, req := range stale {
		if err := r.reconcile(ctx, req, now); err != nil {
			r.Logger.ErrorContext(ctx, "reconcile", "request", req.ID, "error", err.Error())
			report.Failed = append(report.Failed, req.ID)
			continue
		}
		report.Removed = append(report.Removed, req.ID)
	}
	r.Logger.InfoContext(ctx, "reconciled", "checked", report.Checked, "removed", len(report.Removed), "failed", len(report.Failed))
	if len(report.Failed) > 0 {
		return report, fmt.Errorf("reconcile: %d of %d left-over grants could not be removed: %v", len(report.Failed), report.Checked, report.Failed)
	}
	return report, nil
}

// left reports whether an active request's access should be gone by
// cutoff: it expired before, or its revoke was asked for before (and its
// workflow, which stops retrying, failed to remove it: a revoke_failed).
func left(req *access.Request, cutoff time.Time) bool {
	if req.ExpiresAt != nil && req.ExpiresAt.Before(cutoff) {
		return true
	}
	return req.RevokeRequestedBy != "" && req.UpdatedAt.Before(cutoff)
}

func (r *Reconciler) reconcile(ctx context.Context, req *access.Request, now time.Time) error {
	p, ok := r.Providers[req.Target.Provider]
	if !ok {
		return fmt.Errorf("request %s: no provider %q", req.ID, req.Target.Provider)
	}
	g := Grant{RequestID: req.ID, Principal: req.Requester, Target: req.Target}
	if req.ExpiresAt != nil {
		g.ExpiresAt = *req.ExpiresAt
	}
	if err := p.Remove(ctx, g); err != nil {
		return fmt.Errorf("remove access: %w", err)
	}
	if err := r.Store.Record(ctx, access.Event{Type: access.EventReconciled, Actor: ActorReconciler, At: now,
		Detail: map[string]string{"expired_at": req.ExpiresAt.UTC().Format(time.RFC3339)}}.About(req)); err != nil {
		return err
	}
	to, detail := access.Expired, map[string]string{"reconciled": "true"}
	if req.RevokeRequestedBy != "" && (req.ExpiresAt == nil || now.Before(*req.ExpiresAt)) {
		to, detail["revoke_requested_by"] = access.Revoked, req.RevokeRequestedBy
	}
	return r.Store.End(ctx, req, to, now.Add(time.Microsecond), ActorReconciler, detail)
}
