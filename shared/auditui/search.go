package auditui

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/audit"
	"github.com/jitaccess/jit/shared/store"
)

// Page sizes: a screenful for people (as GET /v1/audit), and the export's
// bound. A Lambda response carries at most 6 MB; 10,000 rows fit once
// compressed, and maxExportBytes refuses what would not.
const (
	pageSize       = 50
	pageMax        = 200
	exportPageSize = 1000
	// ExportMax is the most events one CSV from the page holds; larger
	// searches go through `jit audit export`.
	ExportMax      = 10000
	maxExportBytes = 5 << 20
	// maxExportCalls bounds the searches one export makes (sparse pages
	// over a long period come back short).
	maxExportCalls = 100
)

// formFields are the search form's fields, in order; their names are
// audit.ParseQuery's parameters.
var formFields = []struct{ name, label, hint string }{
	{"requester", "Requester", "Principal ARN of who asked, e.g. arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"},
	{"actor", "Actor", "Who acted: a principal ARN, an approver's email, policy, break-glass or system"},
	{"resource", "Resource", "Resource name from the policy, e.g. prod-readonly"},
	{"action", "Event type", "e.g. created, approved, denied, active, revoked, expired, extended"},
	{"status", "Status reached", ""},
	{"from", "From", "RFC 3339, e.g. 2026-11-01T00:00:00Z. Empty: 30 days before To"},
	{"to", "To", "RFC 3339, e.g. 2026-11-28T09:00:00Z. Empty: now"},
}

// eventTypes are suggested for the event type field.
var eventTypes = []string{
	access.EventCreated, access.EventPolicyEvaluated, access.EventApprovalRequested, access.EventLinkOpened,
	access.EventApproval, access.EventLevelApproved, access.EventEscalated, access.EventLevelTimedOut,
	string(access.Approved), string(access.Denied), string(access.Cancelled), string(access.TimedOut),
	string(access.Active), access.EventExtended, access.EventRevokeRequested, string(access.Revoked),
	string(access.Expired), string(access.Failed), access.EventRevokeFailed, access.EventReconciled,
	access.EventBreakGlassNotified, "notification_sent",
}

// userParams are the query parameters the person gave: empty form fields
// are not filters.
func userParams(raw map[string]string) map[string]string {
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		if v = strings.TrimSpace(v); v != "" {
			out[k] = v
		}
	}
	return out
}

// newForm fills the form with what was asked.
func newForm(params map[string]string) *searchForm {
	f := &searchForm{EventTypes: eventTypes}
	for _, ff := range formFields {
		fl := field{Name: ff.name, Label: ff.label, Hint: ff.hint, Value: params[ff.name]}
		if ff.name == "status" {
			fl.Options = append(fl.Options, option{Value: "", Label: "any", Selected: fl.Value == ""})
			for _, s := range access.Statuses() {
				fl.Options = append(fl.Options, option{Value: string(s), Label: string(s), Selected: fl.Value == string(s)})
			}
		}
		f.Fields = append(f.Fields, fl)
	}
	return f
}

// fail puts a validation message next to its field, or above the form
// when it names none of them (an unknown parameter, a stale cursor).
func (f *searchForm) fail(fieldName, message string) {
	for i := range f.Fields {
		if f.Fields[i].Name == fieldName {
			f.Fields[i].Error = message
			f.Error = "Check the " + strings.ToLower(f.Fields[i].Label) + " field."
			return
		}
	}
	if fieldName != "" {
		message = fieldName + ": " + message
	}
	f.Error = message
}

// search answers GET /audit: the form, and one page of matching events,
// newest first.
func (h *Handler) search(ctx context.Context, req events.APIGatewayV2HTTPRequest, principal string) events.APIGatewayV2HTTPResponse {
	params := userParams(req.QueryStringParameters)
	form := newForm(params)
	form.StatsURL = statsLink(params)
	p := page{Title: "Audit trail", Principal: principal, Search: form}
	q, err := audit.ParseQuery(params, h.Now(), pageSize, pageMax)
	if refused, ok := invalid(err, form); ok {
		p.Title = "Audit trail: check the search"
		return render(http.StatusBadRequest, p)
	} else if refused != nil {
		return h.internal(ctx, principal, refused)
	}
	res, err := h.Store.SearchAudit(ctx, q)
	if errors.Is(err, store.ErrBadCursor) {
		form.fail("cursor", "this page link belongs to another search or is damaged; search again")
		return render(http.StatusBadRequest, p)
	}
	if err != nil {
		return h.internal(ctx, principal, err)
	}
	h.Logger.InfoContext(ctx, "auditor page search", "principal", principal, "index", res.Index, "queries", res.Queries,
		"scanned", res.Scanned, "events", len(res.Events))
	form.Searched = true
	form.Period = periodText(q.From, q.To)
	for _, ev := range res.Events {
		form.Rows = append(form.Rows, row(ev))
	}
	if res.Next != "" {
		next := pinPeriod(params, q)
		next.Set("cursor", res.Next)
		form.NextURL = "/audit?" + next.Encode()
	}
	exp := pinPeriod(params, q)
	exp.Del("limit")
	form.ExportURL = "/audit/export?" + exp.Encode()
	return render(http.StatusOK, p)
}

// invalid reports whether err is a validation error, shown on the form;
// any other error comes back as refused.
func invalid(err error, form *searchForm) (refused error, ok bool) {
	if err == nil {
		return nil, false
	}
	var ve *access.ValidationError
	if errors.As(err, &ve) {
		form.fail(ve.Field, ve.Message)
		return nil, true
	}
	return err, false
}

// pinPeriod is the search's parameters with its period written out: a
// search without "to" ends at now, and the next page (whose cursor is
// bound to the period) and the export must mean the same events.
func pinPeriod(params map[string]string, q store.AuditQuery) url.Values {
	v := url.Values{}
	for k, s := range params {
		v.Set(k, s)
	}
	v.Del("cursor")
	v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	return v
}

func periodText(from, to time.Time) string {
	return "Events from " + from.UTC().Format(timeLayout) + " to " + to.UTC().Format(timeLayout) + ", newest first."
}

// export answers GET /audit/export: every matching event, newest first,
// as one CSV of at most ExportMax rows. A search that matches more is
// refused with a page saying so, never cut short.
func (h *Handler) export(ctx context.Context, req events.APIGatewayV2HTTPRequest, principal string) events.APIGatewayV2HTTPResponse {
	params := userParams(req.QueryStringParameters)
	delete(params, "cursor")
	delete(params, "limit")
	form := newForm(params)
	q, err := audit.ParseQuery(params, h.Now(), exportPageSize, exportPageSize)
	if refused, ok := invalid(err, form); ok {
		return render(http.StatusBadRequest, page{Title: "Audit trail: check the search", Principal: principal, Search: form})
	} else if refused != nil {
		return h.internal(ctx, principal, refused)
	}
	evs, more, err := h.collect(ctx, q)
	if err != nil {
		return h.internal(ctx, principal, err)
	}
	back := "/audit?" + pinPeriod(params, q).Encode()
	if more {
		h.Logger.InfoContext(ctx, "auditor page export refused: too many events", "principal", principal)
		return tooLarge(principal, back, fmt.Sprintf("This search matches more than %s events, more than one download from this page holds.", thousands(ExportMax)))
	}
	var csv bytes.Buffer
	if err := audit.WriteCSV(&csv, evs, true); err != nil {
		return h.internal(ctx, principal, err)
	}
	headers := map[string]string{
		"Content-Type":           "text/csv; charset=utf-8",
		"Content-Disposition":    `attachment; filename="` + exportName(q) + `"`,
		"Cache-Control":          "no-store",
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "no-referrer",
		"Vary":                   "Accept-Encoding",
	}
	resp := events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Headers: headers, Body: csv.String()}
	if acceptsGzip(req.Headers["accept-encoding"]) {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		if _, err := zw.Write(csv.Bytes()); err != nil {
			return h.internal(ctx, principal, err)
		}
		if err := zw.Close(); err != nil {
			return h.internal(ctx, principal, err)
		}
		headers["Content-Encoding"] = "gzip"
		resp.Body, resp.IsBase64Encoded = base64.StdEncoding.EncodeToString(z.Bytes()), true
	}
	if len(resp.Body) > maxExportBytes {
		h.Logger.InfoContext(ctx, "auditor page export refused: too large", "principal", principal, "events", len(evs), "bytes", len(resp.Body))
		return tooLarge(principal, back, fmt.Sprintf("This search's %s events make a file larger than one download from this page can carry.", thousands(len(evs))))
	}
	h.Logger.InfoContext(ctx, "auditor page export", "principal", principal, "events", len(evs))
	return resp
}

// collect reads the search's pages until it has every event, or ExportMax
// and more reports that at least one more matches.
func (h *Handler) collect(ctx context.Context, q store.AuditQuery) (evs []access.Event, more bool, err error) {
	for calls := 0; ; calls++ {
		if calls == maxExportCalls {
			return nil, false, fmt.Errorf("export: still not done after %d searches", calls)
		}
		q.Limit = min(exportPageSize, ExportMax-len(evs))
		if q.Limit == 0 {
			// Full: does anything else match? One event is enough to know.
			q.Limit = 1
		}
		res, err := h.Store.SearchAudit(ctx, q)
		if err != nil {
			return nil, false, err
		}
		if len(evs) == ExportMax && len(res.Events) > 0 {
			return nil, true, nil
		}
		if len(evs) < ExportMax {
			evs = append(evs, res.Events...)
		}
		if res.Next == "" {
			return evs, false, nil
		}
		q.Cursor = res.Next
	}
}

func tooLarge(principal, back, why string) events.APIGatewayV2HTTPResponse {
	return render(http.StatusRequestEntityTooLarge, page{Title: "Too many events for one download", Principal: principal, Tone: "warn",
		Message: why + " Nothing was downloaded.", TooLarge: true, BackURL: back})
}

// exportName names the file after the period it covers.
func exportName(q store.AuditQuery) string {
	const stamp = "20060102T150405Z"
	return "jit-audit-" + q.From.UTC().Format(stamp) + "-" + q.To.UTC().Format(stamp) + ".csv"
}

func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(strings.TrimSpace(params), " ", "") != "q=0"
		}
	}
	return false
}

func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// timeline answers GET /audit/requests/{id}: the request and its events,
// oldest first.
func (h *Handler) timeline(ctx context.Context, req events.APIGatewayV2HTTPRequest, principal string) events.APIGatewayV2HTTPResponse {
	id := req.PathParameters["id"]
	missing := page{Title: "No such request", Principal: principal, Tone: "warn", Back: true,
		Message: "There is no request with this id. Request ids are 26 letters and digits, as in the search results."}
	if !access.ValidID(id) {
		return render(http.StatusNotFound, missing)
	}
	r, err := h.Store.GetRequest(ctx, id)
	if errors.Is(err, access.ErrNotFound) {
		return render(http.StatusNotFound, missing)
	}
	if err != nil {
		return h.internal(ctx, principal, err)
	}
	hist, err := h.Store.History(ctx, id)
	if err != nil {
		return h.internal(ctx, principal, err)
	}
	h.Logger.InfoContext(ctx, "auditor page request", "principal", principal, "request", id)
	return render(http.StatusOK, page{Title: "Request " + id, Principal: principal, Back: true, Timeline: newTimeline(r, hist)})
}
