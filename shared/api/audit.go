package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/audit"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/store"
)

// Audit page sizes: a search page for people and tools, an export page
// for files (well inside the 6 MB a Lambda response may carry).
const (
	auditPageSize   = 50
	auditPageMax    = 200
	exportPageSize  = 1000
	exportPageMax   = 1000
	statsMaxRequest = 10000
	// signInValidity bounds how long a page sign-in link can be used
	// (auditui.DefaultSessionValidity is how long its session lasts).
	signInValidity = 5 * time.Minute
)

// NextCursorHeader carries an export page's continuation.
const NextCursorHeader = "Jit-Next-Cursor"

func (h *Handler) mayAudit(ctx context.Context, caller string) error {
	if a := h.actor(ctx, caller); !a.Auditor && !a.Admin {
		return forbidden("auditors and admins can search the audit trail")
	}
	return nil
}

// auditEvents is the JSON of a search page.
type auditEvents struct {
	Events     []access.Event `json:"events"`
	NextCursor string         `json:"next_cursor,omitempty"`
	// Index, Queries and Scanned say how the search was answered: which
	// index, how many Query calls, how many index entries read.
	Index   string `json:"index"`
	Queries int    `json:"queries"`
	Scanned int    `json:"scanned"`
}

// searchAudit answers GET /v1/audit: one page of events, newest first.
func (h *Handler) searchAudit(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if err := h.mayAudit(ctx, caller); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	q, err := audit.ParseQuery(withoutFormat(req.QueryStringParameters), h.Now(), auditPageSize, auditPageMax)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	page, err := h.Store.SearchAudit(ctx, q)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return jsonResponse(http.StatusOK, eventsPage(page)), nil
}

func eventsPage(p *store.AuditPage) auditEvents {
	evs := p.Events
	if evs == nil {
		evs = []access.Event{}
	}
	return auditEvents{Events: evs, NextCursor: p.Next, Index: p.Index, Queries: p.Queries, Scanned: p.Scanned}
}

// exportAudit answers GET /v1/audit/export: a page of up to 1000 events
// as CSV (format=csv, the default) or JSON. A page that is not the last
// names the next in the Jit-Next-Cursor header and a Link rel="next", so
// an export is never cut short silently.
func (h *Handler) exportAudit(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if err := h.mayAudit(ctx, caller); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	format := req.QueryStringParameters["format"]
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "json" {
		return events.APIGatewayV2HTTPResponse{}, access.Invalid("format", "must be csv or json")
	}
	q, err := audit.ParseQuery(withoutFormat(req.QueryStringParameters), h.Now(), exportPageSize, exportPageMax)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	page, err := h.Store.SearchAudit(ctx, q)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	headers := map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
	if page.Next != "" {
		headers[NextCursorHeader] = page.Next
		next := url.Values{}
		for k, v := range req.QueryStringParameters {
			next.Set(k, v)
		}
		next.Set("cursor", page.Next)
		headers["Link"] = "</v1/audit/export?" + next.Encode() + `>; rel="next"`
	}
	var body bytes.Buffer
	if format == "json" {
		headers["Content-Type"] = "application/json"
		if err := json.NewEncoder(&body).Encode(eventsPage(page)); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	} else {
		headers["Content-Type"] = "text/csv; charset=utf-8"
		headers["Content-Disposition"] = `attachment; filename="audit.csv"`
		// The header row starts the first page only, so pages concatenate
		// into one file.
		if err := audit.WriteCSV(&body, page.Events, q.Cursor == ""); err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	}
	return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: headers, Body: body.String()}, nil
}

func withoutFormat(params map[string]string) map[string]string {
	out := make(map[string]string, len(params))
	for k, v := range params {
		if k != "format" {
			out[k] = v
		}
	}
	return out
}

// createAuditSession answers POST /v1/audit/sessions: a single-use link,
// valid for minutes, that signs the calling auditor into the auditor
// page (browsers cannot sign requests with SigV4).
func (h *Handler) createAuditSession(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if err := h.mayAudit(ctx, caller); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	tok, err := link.New(h.Random)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	now := h.Now().UTC()
	expires := now.Add(signInValidity)
	if err := h.Store.CreateSignIn(ctx, tok.Hash(), caller, now, expires); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	h.Logger.InfoContext(ctx, "auditor page sign-in created", "principal", caller)
	return jsonResponse(http.StatusCreated, map[string]string{
		"url":        h.baseURL(req) + "/audit/session/" + tok.Reveal(),
		"expires_at": expires.Format(time.RFC3339),
	}), nil
}

// stats answers GET /v1/stats: time to decision and to grant, the share
// auto-approved, escalations and outcomes of the requests created in a
// period (from, to; default the last 30 days), in all, by resource and by
// day; ?resource= narrows it to one resource.
func (h *Handler) stats(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if err := h.mayAudit(ctx, caller); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	q, err := audit.ParseStatsQuery(req.QueryStringParameters, h.Now())
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	// The policy says who each requester is and whom it names; without
	// one, every requester counts by principal.
	doc, err := h.PolicyDocument(ctx)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	b, truncated, err := audit.Compute(ctx, h.Store, doc, q.From, q.To, q.Resource, statsMaxRequest)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"from": q.From.Format(time.RFC3339Nano), "to": q.To.Format(time.RFC3339Nano), "resource": q.Resource,
		"truncated": truncated, "total": b.Total, "by_resource": b.ByResource, "by_day": b.ByDay, "by_week": b.ByWeek,
	}), nil
}
