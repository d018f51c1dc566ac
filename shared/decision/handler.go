package decision

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/htmlpage"
	"github.com/jitaccess/jit/shared/lambdaenv"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/workflow"
)

// Store is what deciding needs from the table.
type Store interface {
	GetLink(ctx context.Context, hash string) (*store.Link, error)
	GetRequest(ctx context.Context, id string) (*access.Request, error)
	Decide(ctx context.Context, l *store.Link, seen *access.Request, outcome access.Status, at time.Time, comment string) (*store.Decision, error)
	LinkOpened(ctx context.Context, l *store.Link, ev access.Event) error
}

// Workflow resumes the execution waiting for the decision.
type Workflow interface {
	Complete(ctx context.Context, token string, d workflow.Decision) error
}

// Handler serves decision links.
type Handler struct {
	Store    Store
	Workflow Workflow
	Logger   *slog.Logger
	Now      func() time.Time
	// Slack serves Slack's interactivity endpoint; nil turns it off.
	Slack *SlackApp
}

const (
	maxFormBytes   = 4 << 10
	maxCommentRune = 500
)

// Handle serves GET and POST /d/{token}, and Slack's button clicks.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = access.WithOrigin(ctx, access.Origin{SourceIP: req.RequestContext.HTTP.SourceIP, UserAgent: req.RequestContext.HTTP.UserAgent})
	if req.RouteKey == "POST /slack/interactions" {
		return h.slack(ctx, req), nil
	}
	tok, err := link.Parse(req.PathParameters["token"])
	if err != nil {
		return render(http.StatusNotFound, invalidLink()), nil
	}
	l, err := h.Store.GetLink(ctx, tok.Hash())
	if errors.Is(err, access.ErrNotFound) {
		return render(http.StatusNotFound, invalidLink()), nil
	}
	if err != nil {
		return h.internal(ctx, err), nil
	}
	r, err := h.Store.GetRequest(ctx, l.RequestID)
	if err != nil {
		return h.internal(ctx, err), nil
	}
	switch req.RequestContext.HTTP.Method {
	case http.MethodGet:
		return h.show(ctx, l, r, req.QueryStringParameters["decision"]), nil
	case http.MethodPost:
		return h.commit(ctx, l, r, req), nil
	}
	return render(http.StatusMethodNotAllowed, page{Title: "Not allowed", Message: "Open the link from your message to decide."}), nil
}

// show renders the confirmation page, or what already happened. It
// changes nothing: mail scanners load links too. The first load of a live
// link is audited (link_opened, with the caller's address and user
// agent); later loads are not, so a flood of GETs writes nothing. A
// failure to record it is logged, not shown.
func (h *Handler) show(ctx context.Context, l *store.Link, r *access.Request, preselect string) events.APIGatewayV2HTTPResponse {
	if p, done := h.settled(l, r); done {
		return render(http.StatusOK, p)
	}
	if l.OpenedAt == nil {
		opened := access.Event{Type: access.EventLinkOpened, Actor: l.Approver, At: h.Now().UTC(),
			Detail: map[string]string{"level": fmt.Sprint(l.Level), "channel": l.Channel}}.About(r)
		if err := h.Store.LinkOpened(ctx, l, opened); err != nil {
			h.Logger.ErrorContext(ctx, "record link opened", "request", r.ID, "error", err.Error())
		}
	}
	p := page{
		Title:     "Approve access?",
		Request:   summary(r),
		Approver:  l.Approver,
		Form:      true,
		Preselect: preselect,
		Expires:   l.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"),
	}
	return render(http.StatusOK, p)
}

// settled returns the page for a link that can no longer decide anything:
// spent, expired, or its request already decided.
func (h *Handler) settled(l *store.Link, r *access.Request) (page, bool) {
	p := page{Request: summary(r), Approver: l.Approver}
	switch {
	case l.UsedAt != nil:
		p.Title = "Already decided"
		p.Message = fmt.Sprintf("You already %s this request at %s.", verb(l.UsedOutcome), l.UsedAt.UTC().Format("2006-01-02 15:04 UTC"))
		p.Tone = tone(l.UsedOutcome)
	case r.Status != access.Pending:
		p.Title = "No decision needed"
		p.Message = statusSentence(r)
		p.Tone = tone(r.Status)
	case !h.Now().Before(l.ExpiresAt):
		p.Title = "Link expired"
		p.Message = fmt.Sprintf("This link expired at %s. The request moves on without it.", l.ExpiresAt.UTC().Format("2006-01-02 15:04 UTC"))
		p.Tone = "warn"
	default:
		return page{}, false
	}
	return p, true
}

func (h *Handler) commit(ctx context.Context, l *store.Link, r *access.Request, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	if !htmlpage.SameOrigin(req) {
		return render(http.StatusForbidden, page{Title: "Refused", Message: "This decision was submitted from another site. Open the link from your message and decide there.", Tone: "bad"})
	}
	form, err := parseForm(req)
	if err != nil {
		return render(http.StatusBadRequest, page{Title: "Could not read your decision", Message: err.Error(), Tone: "bad", Request: summary(r)})
	}
	var outcome access.Status
	switch form.Get("decision") {
	case "approve":
		outcome = access.Approved
	case "deny":
		outcome = access.Denied
	default:
		return render(http.StatusBadRequest, page{Title: "Choose approve or deny", Message: "The form did not say whether to approve or deny.", Tone: "bad", Request: summary(r), Form: true, Approver: l.Approver})
	}
	comment := strings.TrimSpace(form.Get("comment"))
	if n := len([]rune(comment)); n > maxCommentRune {
		return render(http.StatusBadRequest, page{Title: "Comment too long", Message: fmt.Sprintf("Your comment has %d characters; the limit is %d.", n, maxCommentRune), Tone: "bad", Request: summary(r), Form: true, Approver: l.Approver})
	}
	status, p := h.decide(ctx, l, r, outcome, comment)
	if status == http.StatusInternalServerError {
		return h.internal(ctx, errors.New(p.Message))
	}
	return render(status, p)
}

// decide commits one decision through link l, whatever it came from (the
// page's form, a Slack button), and says what happened as a status and a
// page.
func (h *Handler) decide(ctx context.Context, l *store.Link, r *access.Request, outcome access.Status, comment string) (int, page) {
	if p, done := h.settled(l, r); done {
		return http.StatusConflict, p
	}
	// The chain never lists the requester under any identity the policy
	// knew when they asked; this catches a session named as the approver.
	if access.SamePerson(l.Approver, "", access.Principal{ARN: r.Requester}) {
		return http.StatusForbidden, page{Title: "Not allowed", Message: "You cannot decide on your own request.", Tone: "bad", Request: summary(r)}
	}
	now := h.Now().UTC()
	d, err := h.Store.Decide(ctx, l, r, outcome, now, comment)
	var te *access.ErrTransition
	if errors.Is(err, store.ErrLinkStale) {
		return http.StatusConflict, page{Title: "No decision needed", Message: "This request has moved past the level this link was for; your decision is no longer needed.", Tone: "warn", Request: summary(r)}
	}
	if errors.Is(err, store.ErrAlreadyApproved) {
		return http.StatusConflict, page{Title: "Already approved", Message: "You already approved this request at this level through another message. Each person counts once.", Tone: "good", Request: summary(r)}
	}
	if errors.Is(err, store.ErrLinkSpent) || errors.As(err, &te) {
		// Lost a race with another tap or another approver: show what won.
		l2, lerr := h.Store.GetLink(ctx, l.Hash)
		r2, rerr := h.Store.GetRequest(ctx, r.ID)
		if lerr != nil || rerr != nil {
			return http.StatusInternalServerError, page{Message: errors.Join(lerr, rerr).Error()}
		}
		if p, done := h.settled(l2, r2); done {
			return http.StatusConflict, p
		}
		return http.StatusConflict, page{Title: "Try again", Message: "Someone else changed this request at the same moment. Reload to see where it stands.", Tone: "warn"}
	}
	if err != nil {
		return http.StatusInternalServerError, page{Message: err.Error()}
	}
	attrs := []any{"request", r.ID, "approver", l.Approver, "outcome", d.Outcome, "level", d.Level, "approvals", d.Approvals, "needed", d.Needed, "channel", l.Channel}
	if d.Outcome == access.Approved || d.Outcome == access.Denied {
		// The request is decided: time to a person's decision.
		attrs = append(attrs, lambdaenv.Metric("DecisionSeconds", "Seconds", max(0, now.Sub(r.CreatedAt).Seconds()), now)...)
	}
	h.Logger.InfoContext(ctx, "decision recorded", attrs...)
	if d.Resumes() {
		h.resume(ctx, r, d, l.Approver)
	}
	return http.StatusOK, outcomePage(r, d)
}

// outcomePage tells the approver what their decision did.
func outcomePage(r *access.Request, d *store.Decision) page {
	p := page{Request: summary(r), Tone: tone(d.Outcome)}
	switch {
	case d.Outcome == access.Denied:
		p.Title, p.Message = "Denied", fmt.Sprintf("You denied %s's request for %s.", who(r.Requester), r.Resource)
	case d.Outcome == access.Approved && r.StartAt != nil && r.StartAt.After(time.Now()):
		p.Title, p.Message = "Approved", fmt.Sprintf("You approved %s access to %s for %s. Access starts at %s and ends automatically.", access.FormatDuration(r.Duration), r.Resource, who(r.Requester), r.StartAt.UTC().Format("2006-01-02 15:04 UTC"))
	case d.Outcome == access.Approved:
		p.Title, p.Message = "Approved", fmt.Sprintf("You approved %s access to %s for %s. Access starts now and ends automatically.", access.FormatDuration(r.Duration), r.Resource, who(r.Requester))
	case d.NextLevel != nil:
		p.Title, p.Tone = "Approved at this level", "good"
		p.Message = fmt.Sprintf("Your approval completed level %d of %d. The request now goes to level %d for approval.", d.Level+1, len(r.Chain), *d.NextLevel+1)
	default:
		p.Title, p.Tone = "Approval recorded", "good"
		p.Message = fmt.Sprintf("Your approval is recorded: %d of %d needed at this level. Access is granted once enough approvers agree.", d.Approvals, d.Needed)
	}
	return p
}

// resume hands the decision to the waiting workflow, with the token the
// decision read with its level. The decision is already recorded; if the
// workflow cannot take it now, the level's timeout picks it up (the
// timeout handler sees the request approved, or at its new level) rather
// than the approver being shown a failure that is not theirs.
func (h *Handler) resume(ctx context.Context, r *access.Request, d *store.Decision, by string) {
	out := workflow.Decision{Outcome: string(d.Outcome), By: by}
	if d.NextLevel != nil {
		out.Outcome = workflow.OutcomeNextLevel
		next := *d.NextLevel
		out.Await = &workflow.Await{Level: next, TimeoutSeconds: 3600}
		if next < len(r.Chain) {
			out.Await.TimeoutSeconds = int64(r.Chain[next].Timeout / time.Second)
		}
	}
	var err error
	if d.TaskToken == "" {
		err = errors.New("no task token recorded")
	} else {
		err = h.Workflow.Complete(ctx, d.TaskToken, out)
	}
	if err != nil {
		h.Logger.ErrorContext(ctx, "resume workflow", "request", r.ID, "error", err.Error())
	}
}

func (h *Handler) internal(ctx context.Context, err error) events.APIGatewayV2HTTPResponse {
	h.Logger.ErrorContext(ctx, "decision link failed", "error", err.Error())
	return render(http.StatusInternalServerError, page{Title: "Something went wrong", Message: "Nothing was decided. Please try the link again in a minute.", Tone: "bad"})
}

func parseForm(req events.APIGatewayV2HTTPRequest) (url.Values, error) {
	body := req.Body
	if req.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return nil, errors.New("the form was not readable")
		}
		body = string(b)
	}
	if len(body) > maxFormBytes {
		return nil, fmt.Errorf("the form is larger than %d bytes", maxFormBytes)
	}
	ct := strings.ToLower(req.Headers["content-type"])
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return nil, errors.New("the form must be sent as application/x-www-form-urlencoded")
	}
	v, err := url.ParseQuery(body)
	if err != nil {
		return nil, errors.New("the form was not readable")
	}
	return v, nil
}

func invalidLink() page {
	return page{Title: "Link not valid", Message: "This decision link is not valid. Links work only as sent; check you opened the whole link from your message.", Tone: "bad"}
}

func verb(s access.Status) string {
	switch s {
	case access.Approved:
		return "approved"
	case access.Denied:
		return "denied"
	}
	return string(s)
}

func tone(s access.Status) string {
	switch s {
	case access.Approved, access.Active:
		return "good"
	case access.Denied, access.Failed:
		return "bad"
	}
	return "warn"
}

func statusSentence(r *access.Request) string {
	by := ""
	if r.DecidedBy != "" {
		by = " by " + r.DecidedBy
	}
	switch r.Status {
	case access.Approved, access.Active, access.Expired, access.Revoked:
		return "This request was already approved" + by + "."
	case access.Denied:
		return "This request was denied" + by + "."
	case access.Cancelled:
		return "The requester cancelled this request."
	case access.TimedOut:
		return "This request timed out without a decision."
	case access.Failed:
		return "This request failed; no access was granted."
	}
	return "This request is " + string(r.Status) + "."
}

func who(principal string) string { return principal[strings.LastIndex(principal, "/")+1:] }
