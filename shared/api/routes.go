package api

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

// cancel ends the caller's own request before it is granted and stops its
// execution, so its links stop working and nothing waits on it.
func (h *Handler) cancel(ctx context.Context, caller, id string) (events.APIGatewayV2HTTPResponse, error) {
	r, a, requester, err := h.visible(ctx, caller, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if r.Status != access.Pending && r.Status != access.Approved {
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindConflict, Message: fmt.Sprintf("request %s is %s; only pending or not yet granted requests can be cancelled", id, r.Status)}
	}
	if !a.MayCancel(r, requester) {
		return events.APIGatewayV2HTTPResponse{}, forbidden("the requester or an admin can cancel a pending request; once it is approved, its approvers can too")
	}
	now := h.Now().UTC()
	if err := h.Store.End(ctx, r, access.Cancelled, now, caller, nil); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	// Release a waiting approval task, then stop the execution; either
	// ends it. The request is cancelled whatever happens here: every step
	// that acts re-reads the status first.
	if r.TaskToken != "" {
		if err := h.Workflow.Complete(ctx, r.TaskToken, workflow.Decision{Outcome: workflow.OutcomeCancelled, By: caller}); err != nil {
			h.Logger.InfoContext(ctx, "release approval task", "request", id, "error", err.Error())
		}
	}
	if err := h.Workflow.Stop(ctx, id, "cancelled by "+caller); err != nil {
		h.Logger.ErrorContext(ctx, "stop execution", "request", id, "error", err.Error())
	}
	// The answer is what End wrote, not a read of it.
	r.Status, r.UpdatedAt, r.EndedAt, r.TaskToken = access.Cancelled, now, &now, ""
	return jsonResponse(http.StatusOK, view(r, nil)), nil
}

func forbidden(what string) error {
	return &access.Error{Kind: access.KindForbidden, Message: "only " + what}
}

// getPolicy returns the current policy, or ?version=N.
func (h *Handler) getPolicy(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if a := h.actor(ctx, caller); !a.Admin && !a.Auditor {
		return events.APIGatewayV2HTTPResponse{}, forbidden("admins and auditors can read the policy")
	}
	var pv *store.PolicyVersion
	var err error
	if v, ok := req.QueryStringParameters["version"]; ok {
		n, perr := strconv.Atoi(v)
		if perr != nil || n < 1 {
			return events.APIGatewayV2HTTPResponse{}, access.Invalid("version", "must be a positive whole number")
		}
		pv, err = h.Store.PolicyVersion(ctx, n)
	} else {
		pv, err = h.Store.CurrentPolicy(ctx)
	}
	if errors.Is(err, access.ErrNotFound) {
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindNotFound, Message: "no such policy version"}
	}
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return jsonResponse(http.StatusOK, policyView{Version: pv.Version, AppliedBy: pv.AppliedBy, AppliedAt: pv.AppliedAt, Document: string(pv.Document)}), nil
}

type policyView struct {
	Version   int       `json:"version"`
	AppliedBy string    `json:"applied_by"`
	AppliedAt time.Time `json:"applied_at"`
	Document  string    `json:"document,omitempty"`
	Changes   *changes  `json:"changes,omitempty"`
	// Warnings are what validation found risky in the applied document.
	Warnings []policy.Problem `json:"warnings,omitempty"`
}

type changes struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// validatePolicy checks a document without applying it.
func (h *Handler) validatePolicy(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if !h.actor(ctx, caller).Admin {
		return events.APIGatewayV2HTTPResponse{}, forbidden("admins can validate and apply the policy")
	}
	raw, err := policyBody(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	doc, err := policy.Parse(raw)
	if err != nil {
		return invalidPolicy(err)
	}
	return jsonResponse(http.StatusOK, map[string]any{"valid": true, "resources": len(doc.Resources), "warnings": warnings(doc)}), nil
}

// putPolicy applies a new version. If-Match names the version the admin
// edited, so two admins cannot silently overwrite each other.
func (h *Handler) putPolicy(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if !h.actor(ctx, caller).Admin {
		return events.APIGatewayV2HTTPResponse{}, forbidden("admins can validate and apply the policy")
	}
	raw, err := policyBody(req)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	doc, err := policy.Parse(raw)
	if err != nil {
		return invalidPolicy(err)
	}
	var prevDoc *policy.Document
	previous := 0
	cur, err := h.Store.CurrentPolicy(ctx)
	switch {
	case errors.Is(err, access.ErrNotFound):
	case err != nil:
		return events.APIGatewayV2HTTPResponse{}, err
	default:
		previous = cur.Version
		if prevDoc, err = policy.Parse(cur.Document); err != nil {
			prevDoc = nil
		}
	}
	if m := strings.Trim(req.Headers["if-match"], `" `); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, access.Invalid("If-Match", "must be the policy version you edited, e.g. 3")
		}
		if n != previous {
			return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindStale, Code: "stale_policy", Message: fmt.Sprintf("the policy is at version %d, not %d; get it again and reapply your change", previous, n)}
		}
	}
	diff := diffPolicies(prevDoc, doc)
	now := h.Now().UTC()
	version, err := h.Store.ApplyPolicy(ctx, previous, raw, caller, now, map[string]string{
		"added": strings.Join(diff.Added, ","), "removed": strings.Join(diff.Removed, ","), "changed": strings.Join(diff.Changed, ","),
	})
	if errors.Is(err, store.ErrConflict) {
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindStale, Code: "stale_policy", Message: "another admin applied a policy at the same moment; get it again and reapply your change"}
	}
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	h.Logger.InfoContext(ctx, "policy applied", "version", version, "by", caller)
	return jsonResponse(http.StatusOK, policyView{Version: version, AppliedBy: caller, AppliedAt: now, Changes: &diff, Warnings: warnings(doc)}), nil
}

// warnings lists what validation found risky but allowed, never null.
func warnings(doc *policy.Document) []policy.Problem {
	return append([]policy.Problem{}, doc.Warnings...)
}

// diffPolicies summarizes a change by resource name.
func diffPolicies(before, after *policy.Document) changes {
	c := changes{Added: []string{}, Removed: []string{}, Changed: []string{}}
	old := map[string]string{}
	if before != nil {
		for _, r := range before.Resources {
			old[r.Name] = fmt.Sprintf("%+v", r)
		}
	}
	for _, r := range after.Resources {
		prev, ok := old[r.Name]
		switch {
		case !ok:
			c.Added = append(c.Added, r.Name)
		case prev != fmt.Sprintf("%+v", r):
			c.Changed = append(c.Changed, r.Name)
		}
		delete(old, r.Name)
	}
	for name := range old {
		c.Removed = append(c.Removed, name)
	}
	return c
}

func policyBody(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return nil, access.Invalid("", "body is not valid base64")
		}
	}
	if len(raw) > policy.MaxDocumentSize {
		return nil, &access.Error{Kind: access.KindTooLarge, Message: fmt.Sprintf("policy is %d bytes; the limit is %d", len(raw), policy.MaxDocumentSize)}
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return nil, access.Invalid("", "body is required: the policy YAML document")
	}
	return raw, nil
}

// invalidPolicy answers 400 with every problem, each with line and field.
func invalidPolicy(err error) (events.APIGatewayV2HTTPResponse, error) {
	var ie *policy.InvalidError
	if !errors.As(err, &ie) {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return jsonResponse(http.StatusBadRequest, map[string]any{
		"error": "invalid_policy", "message": ie.Error(), "problems": ie.Problems,
	}), nil
}

// visible reads a request the caller may see, with who the caller is and
// who its requester is; others are reported missing so ids cannot be
// probed. A requester reading their own request needs no policy read.
func (h *Handler) visible(ctx context.Context, caller, id string) (*access.Request, access.Actor, access.Principal, error) {
	notFound := &access.Error{Kind: access.KindNotFound, Message: fmt.Sprintf("no request with id %q", id)}
	if !access.ValidID(id) {
		return nil, access.Actor{}, access.Principal{}, notFound
	}
	r, err := h.Store.GetRequest(ctx, id)
	if errors.Is(err, access.ErrNotFound) {
		return nil, access.Actor{}, access.Principal{}, notFound
	}
	if err != nil {
		return nil, access.Actor{}, access.Principal{}, err
	}
	if caller == r.Requester {
		// Standing by ARN pattern only; a route that needs the caller's
		// person (extend) identifies them from the policy it reads.
		a := h.staff().Actor(access.Principal{ARN: caller})
		return r, a, a.Principal, nil
	}
	dir := h.Directory(ctx)
	a := h.staff().Actor(dir.Identify(caller))
	requester := dir.Identify(r.Requester)
	if !a.MayRead(r, requester) {
		return nil, access.Actor{}, access.Principal{}, notFound
	}
	return r, a, requester, nil
}

// signal wakes the active request's Hold task, named by token, with s.
func (h *Handler) signal(ctx context.Context, r *access.Request, token string, s workflow.Signal) error {
	if err := h.Workflow.Signal(ctx, token, s); err != nil {
		if errors.Is(err, workflow.ErrTaskGone) {
			return &access.Error{Kind: access.KindBusy, Message: fmt.Sprintf("request %s is changing right now (ending, or another revoke or extension); check it and retry", r.ID)}
		}
		return err
	}
	return nil
}

// revoke ends an active grant now: a signal into the execution's Hold,
// which removes access and denies sessions already issued.
func (h *Handler) revoke(ctx context.Context, caller, id string) (events.APIGatewayV2HTTPResponse, error) {
	r, a, requester, err := h.visible(ctx, caller, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if !a.MayManage(r, requester) {
		return events.APIGatewayV2HTTPResponse{}, forbidden("the requester, an approver of the request or an admin can revoke it")
	}
	if r.Status != access.Active {
		msg := fmt.Sprintf("request %s is %s; only active access can be revoked", id, r.Status)
		if r.Status == access.Pending || r.Status == access.Approved {
			msg += " (cancel it instead: POST /v1/requests/" + id + "/cancel)"
		}
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindConflict, Message: msg}
	}
	// Record the intent first: if the workflow is between granting and
	// holding, the hold acts on it as it starts.
	if err := h.Store.RequestRevoke(ctx, r, caller, h.Now().UTC()); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if token, err := h.Store.HoldToken(ctx, id); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	} else if token != "" {
		if err := h.Workflow.Signal(ctx, token, workflow.Signal{Action: workflow.SignalRevoke, By: caller}); err != nil && !errors.Is(err, workflow.ErrTaskGone) {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	h.Logger.InfoContext(ctx, "revoke requested", "request", id, "by", caller)
	return jsonResponse(http.StatusAccepted, map[string]string{"id": id, "status": string(r.Status), "message": "revoking: access is removed within seconds; GET the request to see it revoked"}), nil
}

type extendBody struct {
	By string `json:"by"`
}

// extend lengthens an active grant, within the resource's max_duration.
// An approver or admin may extend; the requester may when the policy's
// auto-approve rules would approve the new total (otherwise the extension
// needs an approver).
func (h *Handler) extend(ctx context.Context, caller, id string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var body extendBody
	if err := decodeJSON(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	by, err := access.ParseDuration(body.By)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, access.Invalid("by", "%s", err.Error())
	}
	r, a, requester, err := h.visible(ctx, caller, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if !a.MayManage(r, requester) {
		return events.APIGatewayV2HTTPResponse{}, forbidden("the requester, an approver of the request or an admin can extend it")
	}
	if r.Status != access.Active || r.ExpiresAt == nil {
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindConflict, Message: fmt.Sprintf("request %s is %s; only active access can be extended", id, r.Status)}
	}
	_, doc, err := h.policy(ctx)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	a = h.staff().Actor(access.DirectoryOf(doc).Identify(caller))
	res, ok := doc.Resource(r.Resource)
	if !ok {
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindConflict, Message: fmt.Sprintf("resource %q is no longer in the policy; it cannot be extended", r.Resource)}
	}
	total := r.Duration + by
	if total > res.MaxDuration.Std() {
		return events.APIGatewayV2HTTPResponse{}, access.Invalid("by", "would make %s in all, over the %s maximum for %q", access.FormatDuration(total), access.FormatDuration(res.MaxDuration.Std()), r.Resource)
	}
	now := h.Now().UTC()
	if !a.Admin && !a.IsApprover(r) {
		start := now
		if r.GrantedAt != nil {
			start = *r.GrantedAt
		}
		if _, ok := access.AutoApproval(res, a.Principal, total, start); !ok {
			return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindForbidden, Code: "needs_approval", Message: fmt.Sprintf("extending to %s in all needs an approver of %q; ask one of them to extend it (POST /v1/requests/%s/extend)", access.FormatDuration(total), r.Resource, id)}
		}
	}
	// Until the grant has handed over to its Hold task there is nothing to
	// signal: say so before recording anything, so a retry is safe. The
	// token read with the request is the one signalled after the write.
	token := r.HoldToken
	if token == "" {
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindBusy,
			Message: fmt.Sprintf("request %s is still being granted; nothing was changed, retry in a few seconds", id)}
	}
	until := r.ExpiresAt.Add(by)
	if err := h.Store.Extend(ctx, r, *r.ExpiresAt, until, total, caller, now); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if err := h.signal(ctx, r, token, workflow.Signal{Action: workflow.SignalExtend, By: caller}); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	// The answer is what Extend wrote, not a read of it.
	r.ExpiresAt, r.Duration, r.UpdatedAt = &until, total, now
	return jsonResponse(http.StatusOK, view(r, nil)), nil
}
