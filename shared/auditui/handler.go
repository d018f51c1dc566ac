package auditui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/audit"
	"github.com/jitaccess/jit/shared/htmlpage"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store"
)

// Store is what the auditor page needs from the table.
type Store interface {
	SearchAudit(ctx context.Context, q store.AuditQuery) (*store.AuditPage, error)
	History(ctx context.Context, id string) ([]access.Event, error)
	GetRequest(ctx context.Context, id string) (*access.Request, error)
	RedeemSignIn(ctx context.Context, signInHash, sessionHash string, at, sessionExpires time.Time) (string, error)
	CheckSignIn(ctx context.Context, signInHash string, at time.Time) error
	AuditSession(ctx context.Context, sessionHash string, at time.Time) (string, error)
	EndAuditSession(ctx context.Context, sessionHash string, at time.Time) error
	// RequestsCreated and FirstRequest give the stats page its figures.
	audit.Requests
}

// Handler serves the auditor page's routes.
type Handler struct {
	Store  Store
	Logger *slog.Logger
	Now    func() time.Time
	// Random draws session tokens (crypto/rand when nil).
	Random io.Reader
	// Admins and Auditors are the principal patterns allowed to read the
	// trail, checked on every page: a session outlives nobody's removal.
	Admins, Auditors []string
	// Directory returns the current identity model, so that email
	// patterns match identified people only; nil matches by ARN only.
	Directory func(context.Context) access.Directory
	// Policy returns the policy in force, for the stats page's adoption
	// figures (who each requester is, whom the policy names); nil, or a
	// nil document, counts every requester by principal.
	Policy func(context.Context) (*policy.Document, error)
	// SessionValidity is how long a session lasts (DefaultSessionValidity
	// when zero).
	SessionValidity time.Duration
}

// DefaultSessionValidity is how long an auditor page session lasts: the
// cookie reads the whole trail, so it is kept to an hour; `jit audit open`
// gives a new one.
const DefaultSessionValidity = time.Hour

// New returns a Handler on the real clock and crypto/rand.
func New(s Store, log *slog.Logger, admins, auditors []string) *Handler {
	return &Handler{Store: s, Logger: log, Now: time.Now, Admins: admins, Auditors: auditors}
}

// CookieName is the session cookie; its Path keeps it to the page.
const (
	CookieName = "jit_audit"
	cookiePath = "/audit"
)

// Handle serves one /audit... event. It never returns an error: every
// outcome is a page.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	switch req.RouteKey {
	case "GET /audit/session/{token}":
		return h.confirmSignIn(ctx, req), nil
	case "POST /audit/session/{token}":
		return h.signIn(ctx, req), nil
	case "POST /audit/logout":
		return h.logout(ctx, req), nil
	}
	principal, refused := h.session(ctx, req)
	if refused != nil {
		return *refused, nil
	}
	switch req.RouteKey {
	case "GET /audit":
		return h.search(ctx, req, principal), nil
	case "GET /audit/export":
		return h.export(ctx, req, principal), nil
	case "GET /audit/requests/{id}":
		return h.timeline(ctx, req, principal), nil
	case "GET /audit/stats":
		return h.stats(ctx, req, principal), nil
	}
	return render(http.StatusNotFound, page{Title: "Not found", Principal: principal, Message: "There is no such page. The search is at /audit.", Tone: "warn", Back: true}), nil
}

func spentSignIn(req events.APIGatewayV2HTTPRequest) page {
	return page{Title: "Sign-in link not valid", Tone: "bad", SignIn: signInHelp(req),
		Message: "This sign-in link was already used, has expired (links last 5 minutes), or was never issued. Each link works once."}
}

// confirmSignIn answers a GET of a sign-in link with a button that signs
// in. It spends nothing: link previewers in chats and mail scanners fetch
// links, and must not take the session.
func (h *Handler) confirmSignIn(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	in, err := link.Parse(req.PathParameters["token"])
	if err != nil {
		return render(http.StatusNotFound, spentSignIn(req))
	}
	// Say at once that a link can no longer sign in, rather than offer a
	// button that will only refuse; reading it spends nothing.
	switch err := h.Store.CheckSignIn(ctx, in.Hash(), h.Now().UTC()); {
	case errors.Is(err, store.ErrSignInSpent):
		return render(http.StatusGone, spentSignIn(req))
	case errors.Is(err, access.ErrNotFound):
		return render(http.StatusNotFound, spentSignIn(req))
	case err != nil:
		return h.internal(ctx, "", err)
	}
	return render(http.StatusOK, page{Title: "Sign in to the audit trail", ConfirmSignIn: true,
		Message: "This link signs you in once, for an hour. Sign in only if you asked for it (jit audit open)."})
}

// signIn spends a sign-in link and opens a session for its principal,
// when the page's own form posts it.
func (h *Handler) signIn(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	if !htmlpage.SameOrigin(req) {
		return render(http.StatusForbidden, page{Title: "Refused", Tone: "bad", Message: "This sign-in was sent from another site. Open your sign-in link and sign in there."})
	}
	in, err := link.Parse(req.PathParameters["token"])
	if err != nil {
		return render(http.StatusNotFound, spentSignIn(req))
	}
	sess, err := link.New(h.Random)
	if err != nil {
		return h.internal(ctx, "", err)
	}
	now := h.Now().UTC()
	validity := h.validity()
	principal, err := h.Store.RedeemSignIn(ctx, in.Hash(), sess.Hash(), now, now.Add(validity))
	switch {
	case errors.Is(err, store.ErrSignInSpent):
		return render(http.StatusGone, spentSignIn(req))
	case errors.Is(err, access.ErrNotFound):
		return render(http.StatusNotFound, spentSignIn(req))
	case err != nil:
		return h.internal(ctx, "", err)
	}
	if !h.mayAudit(ctx, principal) {
		h.Logger.WarnContext(ctx, "auditor page sign-in refused", "principal", principal)
		return render(http.StatusForbidden, notAuditor(principal))
	}
	h.Logger.InfoContext(ctx, "auditor page session opened", "principal", principal, "source_ip", req.RequestContext.HTTP.SourceIP, "expires", now.Add(validity))
	// The post came from our own page, so the redirect is a same-site
	// navigation and the SameSite=Strict cookie goes with it.
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusSeeOther,
		Headers:    map[string]string{"Location": cookiePath, "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
		Cookies:    []string{sessionCookie(sess, validity)},
	}
}

// logout ends the session on the server and clears its cookie.
func (h *Handler) logout(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	if !htmlpage.SameOrigin(req) {
		return render(http.StatusForbidden, page{Title: "Refused", Tone: "bad", Message: "Signing out was asked from another site; your session is unchanged."})
	}
	if tok, ok := sessionToken(req.Cookies); ok {
		if err := h.Store.EndAuditSession(ctx, tok.Hash(), h.Now().UTC()); err != nil {
			return h.internal(ctx, "", err)
		}
		h.Logger.InfoContext(ctx, "auditor page session ended")
	}
	resp := render(http.StatusOK, page{Title: "Signed out", Tone: "good", SignIn: signInHelp(req),
		Message: "You are signed out of the audit trail."})
	resp.Cookies = []string{CookieName + "=; Path=" + cookiePath + "; Max-Age=0; HttpOnly; Secure; SameSite=Strict"}
	return resp
}

// sessionCookie is the session token as a cookie only this page gets:
// HttpOnly (no script could read it anyway), Secure, SameSite=Strict (no
// other site can make the browser send it), Path=/audit. Secure works on
// the local cloud's http://127.0.0.1 too: browsers treat loopback as a
// secure context and keep Secure cookies it sets (test/browser checks it
// in Chromium).
func sessionCookie(t link.Token, validity time.Duration) string {
	return CookieName + "=" + t.Reveal() + "; Path=" + cookiePath + "; Max-Age=" + strconv.Itoa(int(validity.Seconds())) +
		"; HttpOnly; Secure; SameSite=Strict"
}

func (h *Handler) validity() time.Duration {
	if h.SessionValidity > 0 {
		return h.SessionValidity
	}
	return DefaultSessionValidity
}

// session returns the principal of the request's session, or the page
// that refuses it.
func (h *Handler) session(ctx context.Context, req events.APIGatewayV2HTTPRequest) (string, *events.APIGatewayV2HTTPResponse) {
	tok, ok := sessionToken(req.Cookies)
	if !ok {
		resp := render(http.StatusUnauthorized, signInPage(req, "You are not signed in."))
		return "", &resp
	}
	principal, err := h.Store.AuditSession(ctx, tok.Hash(), h.Now().UTC())
	if errors.Is(err, access.ErrNotFound) {
		resp := render(http.StatusUnauthorized, signInPage(req, "Your session has ended or is not valid."))
		return "", &resp
	}
	if err != nil {
		resp := h.internal(ctx, "", err)
		return "", &resp
	}
	if !h.mayAudit(ctx, principal) {
		h.Logger.WarnContext(ctx, "auditor page refused", "principal", principal)
		resp := render(http.StatusForbidden, notAuditor(principal))
		return "", &resp
	}
	return principal, nil
}

// sessionToken finds the session cookie among the request's cookies
// ("name=value" each, as API Gateway delivers them).
func sessionToken(cookies []string) (link.Token, bool) {
	for _, c := range cookies {
		name, value, _ := strings.Cut(strings.TrimSpace(c), "=")
		if name != CookieName {
			continue
		}
		if tok, err := link.Parse(value); err == nil {
			return tok, true
		}
	}
	return "", false
}

func (h *Handler) mayAudit(ctx context.Context, principal string) bool {
	if principal == "" {
		return false
	}
	var dir access.Directory
	if h.Directory != nil {
		dir = h.Directory(ctx)
	}
	a := access.Staff{Admins: h.Admins, Auditors: h.Auditors}.Actor(dir.Identify(principal))
	return a.Auditor || a.Admin
}

func signInPage(req events.APIGatewayV2HTTPRequest, why string) page {
	return page{Title: "Sign in to the audit trail", Message: why, Tone: "warn", SignIn: signInHelp(req)}
}

// signInHelp says how to get a sign-in link; the dev sign-in page exists
// only in the local cloud, so it is offered only to loopback hosts.
func signInHelp(req events.APIGatewayV2HTTPRequest) *signIn {
	host := req.RequestContext.DomainName
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	return &signIn{Local: host == "127.0.0.1" || host == "localhost" || host == "[::1]" || strings.HasPrefix(host, "[::1]:")}
}

func notAuditor(principal string) page {
	return page{Title: "Not allowed", Tone: "bad",
		Message: "You are signed in as " + principal + ", which is not an auditor or admin of this deployment. Ask an admin to add you to AuditorPrincipals."}
}

// internal logs err and shows a page that says nothing about it.
func (h *Handler) internal(ctx context.Context, principal string, err error) events.APIGatewayV2HTTPResponse {
	h.Logger.ErrorContext(ctx, "auditor page failed", "principal", principal, "error", err.Error())
	return render(http.StatusInternalServerError, page{Title: "Something went wrong", Principal: principal, Tone: "bad",
		Message: "The page could not be loaded. Try again in a moment.", Back: principal != ""})
}
