package api

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

// Store is what the API needs from the table.
type Store interface {
	CreateRequest(ctx context.Context, r *access.Request, ev access.Event, more ...access.Event) error
	CreateRequestOnce(ctx context.Context, r *access.Request, ev access.Event, idem store.Idempotency, more ...access.Event) error
	GetRequest(context.Context, string) (*access.Request, error)
	History(context.Context, string) ([]access.Event, error)
	ListByRequester(ctx context.Context, requester string, limit int32, cursor string) (*store.Page, error)
	CurrentPolicy(context.Context) (*store.PolicyVersion, error)
	PolicyVersion(context.Context, int) (*store.PolicyVersion, error)
	ApplyPolicy(ctx context.Context, previous int, document []byte, by string, at time.Time, detail map[string]string) (int, error)
	HoldToken(ctx context.Context, id string) (string, error)
	RequestRevoke(ctx context.Context, r *access.Request, by string, at time.Time) error
	Extend(ctx context.Context, r *access.Request, was, until time.Time, total time.Duration, by string, at time.Time) error
	End(ctx context.Context, r *access.Request, to access.Status, at time.Time, actor string, detail map[string]string) error
	SearchAudit(ctx context.Context, q store.AuditQuery) (*store.AuditPage, error)
	RequestsCreated(ctx context.Context, from, to time.Time, resource string, max int) ([]*access.Request, bool, error)
	FirstRequest(ctx context.Context, requester string) (time.Time, error)
	CreateSignIn(ctx context.Context, hash, principal string, at, expires time.Time) error
}

// Pages serves the auditor page's routes (/audit...), which browsers
// reach without SigV4.
type Pages interface {
	Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
}

// Workflow starts a request's execution.
type Workflow interface {
	Start(context.Context, workflow.Input) (string, error)
	Stop(ctx context.Context, id, cause string) error
	Complete(ctx context.Context, token string, d workflow.Decision) error
	Signal(ctx context.Context, token string, s workflow.Signal) error
}

// Handler serves the requester API.
type Handler struct {
	Store    Store
	Workflow Workflow
	Logger   *slog.Logger
	Now      func() time.Time
	Random   io.Reader
	// PublicBaseURL overrides the base of decision links (custom domain);
	// empty means the URL the API was called on.
	PublicBaseURL string
	// Admins and Auditors are principal patterns (as in the policy's
	// requesters) of who may manage and read the policy.
	Admins, Auditors []string
	// Pages serves the auditor page; nil answers its routes 404.
	Pages Pages

	parsed atomic.Pointer[parsedPolicy]
}

// Limits on what callers send.
const (
	maxBodyBytes    = 16 << 10
	defaultPageSize = 20
	maxPageSize     = 100
)

// route serves one signed API route for caller.
type route func(h *Handler, ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// routes are the signed API's routes by route key, as template.yaml and
// docs/openapi.yaml name them (the contract test holds the three to each
// other); the auditor page's /audit... routes go to Pages.
var routes = map[string]route{
	"POST /v1/requests": (*Handler).create,
	"GET /v1/requests":  (*Handler).list,
	"GET /v1/requests/{id}": func(h *Handler, ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return h.get(ctx, caller, req.PathParameters["id"])
	},
	"POST /v1/requests/{id}/revoke": func(h *Handler, ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return h.revoke(ctx, caller, req.PathParameters["id"])
	},
	"POST /v1/requests/{id}/extend": func(h *Handler, ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return h.extend(ctx, caller, req.PathParameters["id"], req)
	},
	"POST /v1/requests/{id}/cancel": func(h *Handler, ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return h.cancel(ctx, caller, req.PathParameters["id"])
	},
	"GET /v1/policy":           (*Handler).getPolicy,
	"PUT /v1/policy":           (*Handler).putPolicy,
	"POST /v1/policy/validate": (*Handler).validatePolicy,
	"GET /v1/audit":            (*Handler).searchAudit,
	"GET /v1/audit/export":     (*Handler).exportAudit,
	"POST /v1/audit/sessions":  (*Handler).createAuditSession,
	"GET /v1/stats":            (*Handler).stats,
}

// Routes lists the signed API's route keys.
func Routes() []string {
	keys := make([]string, 0, len(routes))
	for k := range routes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Handle routes one API Gateway v2 event.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if strings.HasPrefix(req.RouteKey, "GET /audit") || strings.HasPrefix(req.RouteKey, "POST /audit/") {
		if h.Pages == nil {
			return h.toResponse(ctx, &access.Error{Kind: access.KindNotFound, Message: "the auditor page is not configured"}), nil
		}
		return h.Pages.Handle(ctx, req)
	}
	caller := callerARN(req)
	if caller == "" {
		// API Gateway's IAM authorizer should never let this through; refuse
		// rather than act for nobody.
		return h.toResponse(ctx, &access.Error{Kind: access.KindForbidden, Message: "request is not signed with AWS credentials (SigV4)"}), nil
	}
	ctx = access.WithOrigin(ctx, access.Origin{SourceIP: req.RequestContext.HTTP.SourceIP, UserAgent: req.RequestContext.HTTP.UserAgent})
	route, ok := routes[req.RouteKey]
	if !ok {
		return h.toResponse(ctx, &access.Error{Kind: access.KindNotFound, Message: "no route " + req.RouteKey}), nil
	}
	resp, err := route(h, ctx, caller, req)
	if err != nil {
		return h.toResponse(ctx, err), nil
	}
	return resp, nil
}

func callerARN(req events.APIGatewayV2HTTPRequest) string {
	if a := req.RequestContext.Authorizer; a != nil && a.IAM != nil {
		return a.IAM.UserARN
	}
	return ""
}

// createBody is the JSON a requester sends.
type createBody struct {
	Resource   string `json:"resource"`
	Duration   string `json:"duration"`
	Reason     string `json:"reason"`
	Ticket     string `json:"ticket"`
	StartAt    string `json:"start_at"`
	BreakGlass bool   `json:"break_glass"`
}

func (h *Handler) create(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	var body createBody
	if err := decodeJSON(req, &body); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	pv, doc, err := h.policy(ctx)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	now := h.Now().UTC()
	r, err := access.Open(access.Ask(body), access.DirectoryOf(doc).Identify(caller), doc, pv.Version, now)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	r.Source = access.SourceOf(req.RequestContext.HTTP.UserAgent)
	if r.ID, err = access.NewID(now, h.Random); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	evs := creationEvents(r, caller, now)
	if key, ok := req.Headers["idempotency-key"]; ok {
		if !idempotencyKeyPattern.MatchString(key) {
			return events.APIGatewayV2HTTPResponse{}, access.Invalid("Idempotency-Key", "must be 1 to 128 letters, digits or . _ : -")
		}
		err := h.Store.CreateRequestOnce(ctx, r, evs[0], store.Idempotency{Key: key, Fingerprint: fingerprint(r)}, evs[1:]...)
		var dup *store.DuplicateError
		if errors.As(err, &dup) {
			return h.replay(ctx, caller, dup)
		}
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, err
		}
	} else if err := h.Store.CreateRequest(ctx, r, evs[0], evs[1:]...); err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	if _, err = h.Workflow.Start(ctx, workflowInput(r, h.baseURL(req))); err != nil {
		// Without an execution nobody would ever be asked; end the request
		// so it does not sit pending forever, and say so.
		h.Logger.ErrorContext(ctx, "start workflow", "request", r.ID, "error", err.Error())
		if endErr := h.Store.End(ctx, r, access.Failed, h.Now().UTC(), access.System, map[string]string{"error": "workflow could not start"}); endErr != nil {
			h.Logger.ErrorContext(ctx, "end request after failed start", "request", r.ID, "error", endErr.Error())
		}
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindUnavailable, Message: "the approval workflow could not be started; request " + r.ID + " was marked failed, please retry"}
	}
	h.Logger.InfoContext(ctx, "request created", "request", r.ID, "resource", r.Resource, "requester", caller, "status", r.Status, "break_glass", r.BreakGlass, "auto_rule", r.AutoApprovedBy)
	return jsonResponse(http.StatusCreated, view(r, nil)), nil
}

// creationEvents are the audit events of a new request: created, how the
// policy evaluated it, and for one approved on the spot, the approval by
// policy or by break-glass. Each is a microsecond after the one before,
// so the trail sorts in that order.
func creationEvents(r *access.Request, caller string, now time.Time) []access.Event {
	created := access.Event{
		Type: access.EventCreated, Actor: caller, At: now, To: access.Pending,
		Detail: map[string]string{"resource": r.Resource, "duration": access.FormatDuration(r.Duration), "policy_version": strconv.Itoa(r.PolicyVersion)},
	}
	if r.Source != "" {
		created.Detail["source"] = r.Source
	}
	if r.Ticket != "" {
		created.Detail["ticket"] = r.Ticket
	}
	if r.StartAt != nil {
		created.Detail["start_at"] = r.StartAt.UTC().Format(time.RFC3339)
	}
	evaluated := access.Event{Type: access.EventPolicyEvaluated, Actor: access.ActorPolicy, At: now.Add(time.Microsecond),
		Detail: map[string]string{"policy_version": strconv.Itoa(r.PolicyVersion), "mode": evaluationMode(r)}}
	if r.AutoApprovedBy != "" {
		evaluated.Detail["rule"] = r.AutoApprovedBy
	}
	if len(r.Chain) > 0 {
		evaluated.Detail["levels"] = strconv.Itoa(len(r.Chain))
		evaluated.Detail["approvers"] = strings.Join(r.Approvers, ", ")
	}
	evs := []access.Event{created.About(r), evaluated.About(r)}
	if r.Status == access.Approved {
		approved := access.Event{Type: string(access.Approved), At: now.Add(2 * time.Microsecond), From: access.Pending, To: access.Approved}
		if r.BreakGlass {
			approved.Actor = access.ActorBreakGlass
			approved.Detail = map[string]string{"break_glass": "true", "requested_by": caller}
		} else {
			approved.Actor = access.ActorPolicy
			approved.Detail = map[string]string{"rule": r.AutoApprovedBy}
		}
		evs = append(evs, approved.About(r))
	}
	return evs
}

// evaluationMode names how the policy decided a new request.
func evaluationMode(r *access.Request) string {
	switch {
	case r.BreakGlass:
		return workflow.ModeBreakGlass
	case r.Status == access.Approved:
		return workflow.ModeAuto
	}
	return workflow.ModeApproval
}

// workflowInput starts the execution in the right mode.
func workflowInput(r *access.Request, linkBase string) workflow.Input {
	in := workflow.Input{RequestID: r.ID, LinkBaseURL: linkBase, Mode: workflow.ModeApproval}
	switch {
	case r.BreakGlass:
		in.Mode = workflow.ModeBreakGlass
	case r.Status == access.Approved:
		in.Mode = workflow.ModeAuto
	}
	in.Await = workflow.Await{Level: 0, TimeoutSeconds: 3600}
	if len(r.Chain) > 0 {
		in.Await.TimeoutSeconds = int64(r.Chain[0].Timeout / time.Second)
	}
	if r.StartAt != nil {
		in.StartAt = workflow.Timestamp(*r.StartAt)
	}
	return in
}

var idempotencyKeyPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// fingerprint identifies what was asked, so a retry can be told from a
// reused key.
func fingerprint(r *access.Request) string {
	start := ""
	if r.StartAt != nil {
		start = r.StartAt.UTC().Format(time.RFC3339)
	}
	sum := sha256.Sum256([]byte(strings.Join([]string{r.Resource, strconv.FormatInt(int64(r.Duration), 10), r.Reason, r.Ticket, start, strconv.FormatBool(r.BreakGlass)}, "\x00")))
	return hex.EncodeToString(sum[:])
}

// replay answers a retried create with the request the first call made.
func (h *Handler) replay(ctx context.Context, caller string, dup *store.DuplicateError) (events.APIGatewayV2HTTPResponse, error) {
	if !dup.SameRequest {
		return events.APIGatewayV2HTTPResponse{}, &access.Error{Kind: access.KindUnprocessable, Code: "idempotency_key_reused", Message: "Idempotency-Key was already used for a different request (" + dup.ExistingID + "); use a new key"}
	}
	r, err := h.Store.GetRequest(ctx, dup.ExistingID)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	resp := jsonResponse(http.StatusOK, view(r, nil))
	resp.Headers["Idempotent-Replayed"] = "true"
	return resp, nil
}

func (h *Handler) policy(ctx context.Context) (*store.PolicyVersion, *policy.Document, error) {
	pv, err := h.Store.CurrentPolicy(ctx)
	if errors.Is(err, access.ErrNotFound) {
		return nil, nil, &access.Error{Kind: access.KindUnavailable, Code: "no_policy", Message: "no policy has been applied yet; an admin must apply one first"}
	}
	if err != nil {
		return nil, nil, err
	}
	// Versions never change once applied, so a warm function parses each
	// one once (parsing was most of a create's own time).
	if c := h.parsed.Load(); c != nil && c.version == pv.Version {
		return pv, c.doc, nil
	}
	doc, err := policy.Parse(pv.Document)
	if err != nil {
		return nil, nil, fmt.Errorf("stored policy version %d: %w", pv.Version, err)
	}
	h.parsed.Store(&parsedPolicy{version: pv.Version, doc: doc})
	return pv, doc, nil
}

// parsedPolicy is the last policy version parsed, read-only once built.
type parsedPolicy struct {
	version int
	doc     *policy.Document
}

// baseURL is where decision links point: the configured public URL, or the
// scheme and host this call arrived on.
func (h *Handler) baseURL(req events.APIGatewayV2HTTPRequest) string {
	if h.PublicBaseURL != "" {
		return strings.TrimRight(h.PublicBaseURL, "/")
	}
	proto := req.Headers["x-forwarded-proto"]
	if proto != "http" {
		proto = "https"
	}
	return proto + "://" + req.RequestContext.DomainName
}

// get shows a request to its requester, its approvers, admins and
// auditors; to anyone else it does not exist, so ids cannot be probed.
func (h *Handler) get(ctx context.Context, caller, id string) (events.APIGatewayV2HTTPResponse, error) {
	r, _, _, err := h.visible(ctx, caller, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	hist, err := h.Store.History(ctx, id)
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	return jsonResponse(http.StatusOK, view(r, hist)), nil
}

func (h *Handler) list(ctx context.Context, caller string, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	limit := defaultPageSize
	for k := range req.QueryStringParameters {
		if k != "limit" && k != "cursor" {
			return events.APIGatewayV2HTTPResponse{}, access.Invalid(k, "is not a known query parameter (known: limit, cursor)")
		}
	}
	if s, ok := req.QueryStringParameters["limit"]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			return events.APIGatewayV2HTTPResponse{}, access.Invalid("limit", "must be a whole number from 1 to %d", maxPageSize)
		}
		limit = n
	}
	page, err := h.Store.ListByRequester(ctx, caller, int32(limit), req.QueryStringParameters["cursor"])
	if err != nil {
		return events.APIGatewayV2HTTPResponse{}, err
	}
	out := listView{Requests: make([]access.View, 0, len(page.Requests)), NextCursor: page.Next}
	for _, r := range page.Requests {
		out.Requests = append(out.Requests, view(r, nil))
	}
	return jsonResponse(http.StatusOK, out), nil
}

// decodeJSON reads exactly one JSON object with only known fields.
func decodeJSON(req events.APIGatewayV2HTTPRequest, dst any) error {
	if ct := req.Headers["content-type"]; ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return &access.Error{Kind: access.KindUnsupported, Message: "Content-Type must be application/json"}
	}
	raw := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		if raw, err = base64.StdEncoding.DecodeString(req.Body); err != nil {
			return access.Invalid("", "body is not valid base64")
		}
	}
	if len(raw) > maxBodyBytes {
		return &access.Error{Kind: access.KindTooLarge, Message: fmt.Sprintf("body is %d bytes; the limit is %d", len(raw), maxBodyBytes)}
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		return access.Invalid("", "body is required: a JSON object like {\"resource\": \"...\", \"duration\": \"15m\", \"reason\": \"...\"}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return access.Invalid("", "body is not valid: %s", describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return access.Invalid("", "body must hold a single JSON object")
	}
	return nil
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		return fmt.Sprintf("field %q must be a %s, not %s", te.Field, te.Type.Kind(), te.Value)
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "JSON ends too early"
	}
	return "malformed JSON"
}
