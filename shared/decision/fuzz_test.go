package decision

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/htmlpage"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/store/storetest"
	"github.com/jitaccess/jit/shared/target"
	"github.com/jitaccess/jit/shared/workflow"
)

// fuzzNow is the fixed clock of the fuzz target.
var fuzzNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// Tokens the fake store knows: live decides a pending request; spent was
// used; expired is past its expiry; self is the requester's own link.
var (
	liveToken    = mustToken(1)
	spentToken   = mustToken(2)
	expiredToken = mustToken(3)
	selfToken    = mustToken(4)
)

func mustToken(b byte) link.Token {
	t, err := link.New(bytes.NewReader(bytes.Repeat([]byte{b}, link.Size)))
	if err != nil {
		panic(err)
	}
	return t
}

// newFuzzStore holds one request per known link, live, spent, expired
// and the requester's own.
func newFuzzStore() *storetest.Memory {
	s := storetest.New()
	add := func(tok link.Token, id, approver, requester string, expires time.Time, used bool) {
		s.Requests[id] = &access.Request{
			ID: id, Resource: "db", Requester: requester, Reason: "fix <b>prod</b>",
			Duration: 15 * time.Minute, Status: access.Pending, CreatedAt: fuzzNow.Add(-time.Minute),
			Target: target.New(target.IAMRoleTrust, target.RoleARN, "arn:aws:iam::123456789012:role/db"),
		}
		s.ApprovalTokens[id] = "task-token"
		l := store.Link{Hash: tok.Hash(), RequestID: id, Approver: approver, Channel: "email",
			CreatedAt: fuzzNow.Add(-time.Minute), ExpiresAt: expires}
		if used {
			at := fuzzNow.Add(-30 * time.Second)
			l.UsedAt, l.UsedOutcome = &at, access.Denied
			s.Requests[id].Status = access.Denied
		}
		s.Links = append(s.Links, l)
	}
	alice := "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
	add(liveToken, "01m8h2vc7v9a4e39t9w0bj74t1", "carol@example.com", alice, fuzzNow.Add(time.Hour), false)
	add(spentToken, "01m8h2vc7v9a4e39t9w0bj74t2", "carol@example.com", alice, fuzzNow.Add(time.Hour), true)
	add(expiredToken, "01m8h2vc7v9a4e39t9w0bj74t3", "carol@example.com", alice, fuzzNow.Add(-time.Second), false)
	add(selfToken, "01m8h2vc7v9a4e39t9w0bj74t4", "Alice@Example.com", alice, fuzzNow.Add(time.Hour), false)
	return s
}

type fuzzWorkflow struct{ completed []workflow.Decision }

func (w *fuzzWorkflow) Complete(_ context.Context, _ string, d workflow.Decision) error {
	w.completed = append(w.completed, d)
	return nil
}

// FuzzHandle throws arbitrary paths, methods, headers and bodies at the
// decision handler. It must never panic or fail with 5xx, must always
// answer an HTML page with its security headers that never repeats a
// token, and may commit only a well-formed, same-origin form POST on the
// one live link; only an approve form may yield the 200 approval page.
func FuzzHandle(f *testing.F) {
	form := "application/x-www-form-urlencoded"
	for _, s := range []struct {
		sel                         uint8
		token, method, ct, body     string
		b64                         bool
		origin, site, domain, query string
	}{
		{1, "", "POST", form, "decision=approve", false, "", "", "api.example.com", ""},
		{1, "", "POST", form, "decision=deny&comment=no", true, "https://api.example.com", "same-origin", "api.example.com", ""},
		{1, "", "GET", "", "", false, "", "", "api.example.com", "approve"},
		{2, "", "POST", form, "decision=approve", false, "", "", "api.example.com", ""},
		{3, "", "POST", form, "decision=approve", false, "", "none", "api.example.com", ""},
		{4, "", "POST", form, "decision=approve", false, "", "", "api.example.com", ""},
		{1, "", "POST", form, "decision=approve", false, "https://evil.example", "cross-site", "api.example.com", ""},
		{1, "", "POST", "application/json", `{"decision":"approve"}`, false, "", "", "api.example.com", ""},
		{1, "", "POST", form, "decision=approve&%zz", false, "", "", "api.example.com", ""},
		{1, "", "PUT", form, "decision=approve", false, "", "", "api.example.com", ""},
		{0, liveToken.Reveal()[:42], "POST", form, "decision=approve", false, "", "", "api.example.com", ""},
		{0, liveToken.Reveal() + "A", "GET", "", "", false, "", "", "", ""},
		{0, "../../etc/passwd", "GET", "", "", false, "", "", "", ""},
		{0, "", "POST", "", "", false, "null", "", "", ""},
	} {
		f.Add(s.sel, s.token, s.method, s.ct, s.body, s.b64, s.origin, s.site, s.domain, s.query)
	}

	known := []link.Token{liveToken, spentToken, expiredToken, selfToken}
	f.Fuzz(func(t *testing.T, sel uint8, token, method, contentType, body string, b64 bool, origin, site, domain, query string) {
		// sel 1..4 picks a known token, anything else the fuzzed one.
		if i := int(sel % 8); i >= 1 && i <= 4 {
			token = known[i-1].Reveal()
		}
		st, wf := newFuzzStore(), &fuzzWorkflow{}
		h := &Handler{Store: st, Workflow: wf, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow }}
		req := events.APIGatewayV2HTTPRequest{
			PathParameters: map[string]string{"token": token},
			Headers:        map[string]string{},
			Body:           body,
		}
		if b64 {
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		}
		for k, v := range map[string]string{"content-type": contentType, "origin": origin, "sec-fetch-site": site} {
			if v != "" {
				req.Headers[k] = v
			}
		}
		if query != "" {
			req.QueryStringParameters = map[string]string{"decision": query}
		}
		req.RequestContext.HTTP.Method = method
		req.RequestContext.DomainName = domain

		resp, err := h.Handle(context.Background(), req)
		if err != nil {
			t.Fatalf("Handle returned an error: %v", err)
		}
		switch resp.StatusCode {
		case http.StatusOK, http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound,
			http.StatusMethodNotAllowed, http.StatusConflict:
		default:
			t.Fatalf("status %d\n%s", resp.StatusCode, resp.Body)
		}
		for k, v := range htmlpage.Headers() {
			if resp.Headers[k] != v {
				t.Fatalf("header %s = %q, want %q", k, resp.Headers[k], v)
			}
		}
		if !strings.HasPrefix(resp.Body, "<!doctype html>") {
			t.Fatalf("not a page: %q", resp.Body)
		}
		for _, k := range known {
			if strings.Contains(resp.Body, k.Reveal()) {
				t.Fatal("the page repeats a link token")
			}
		}

		// What committed, and whether it was allowed to.
		approvedPage := resp.StatusCode == http.StatusOK && strings.Contains(resp.Body, "You approved")
		deniedPage := resp.StatusCode == http.StatusOK && strings.Contains(resp.Body, "You denied")
		if len(st.Decided) > 1 || len(wf.completed) != len(st.Decided) {
			t.Fatalf("%d decisions, %d resumed", len(st.Decided), len(wf.completed))
		}
		if len(st.Decided) == 0 {
			if approvedPage || deniedPage {
				t.Fatalf("a decision page without a decision:\n%s", resp.Body)
			}
			if _, err := link.Parse(token); err != nil && resp.StatusCode != http.StatusNotFound {
				t.Fatalf("malformed token %q answered %d", token, resp.StatusCode)
			}
			return
		}
		// Something was decided: it must be the live link, by POST, with a
		// readable form from this origin naming exactly that decision.
		if token != liveToken.Reveal() {
			t.Fatalf("decided through token %q, not the live link", token)
		}
		if method != http.MethodPost {
			t.Fatalf("decided by %q", method)
		}
		if !strings.HasPrefix(strings.ToLower(contentType), form) {
			t.Fatalf("decided from Content-Type %q", contentType)
		}
		values, err := url.ParseQuery(body)
		if err != nil || len(body) > maxFormBytes {
			t.Fatalf("decided from an unreadable form %q", body)
		}
		if !refSameOrigin(origin, site, domain) {
			t.Fatalf("decided from origin %q, site %q on %q", origin, site, domain)
		}
		want := map[string]access.Status{"approve": access.Approved, "deny": access.Denied}[values.Get("decision")]
		if st.Decided[0] != want {
			t.Fatalf("form decision %q committed %s", values.Get("decision"), st.Decided[0])
		}
		if (want == access.Approved) != approvedPage || (want == access.Denied) != deniedPage {
			t.Fatalf("committed %s, answered %d:\n%s", want, resp.StatusCode, resp.Body)
		}
		if wf.completed[0].Outcome != string(want) || wf.completed[0].By != "carol@example.com" {
			t.Fatalf("resumed with %+v", wf.completed[0])
		}
	})
}

// refSameOrigin is the rule a decision POST must pass, written out
// independently of sameOrigin: no cross-site or same-site fetch metadata,
// and an Origin, when present and not "null", naming this host; "null" or
// none only with fetch metadata present or both absent.
func refSameOrigin(origin, site, domain string) bool {
	if site != "" && site != "same-origin" && site != "none" {
		return false
	}
	switch origin {
	case "":
		return true
	case "null":
		return site != ""
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == domain
}

// TestSettledLinksNeverDecide: the spent, expired and self links refuse a
// well-formed approval with 409 or 403, write nothing, and say why.
func TestSettledLinksNeverDecide(t *testing.T) {
	for _, tt := range []struct {
		name  string
		tok   link.Token
		code  int
		words string
	}{
		{"spent", spentToken, http.StatusConflict, "You already denied"},
		{"expired", expiredToken, http.StatusConflict, "Link expired"},
		{"self", selfToken, http.StatusForbidden, "cannot decide on your own request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, wf := newFuzzStore(), &fuzzWorkflow{}
			h := &Handler{Store: st, Workflow: wf, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow }}
			req := events.APIGatewayV2HTTPRequest{
				PathParameters: map[string]string{"token": tt.tok.Reveal()},
				Headers:        map[string]string{"content-type": "application/x-www-form-urlencoded"},
				Body:           "decision=approve",
			}
			req.RequestContext.HTTP.Method = "POST"
			resp, err := h.Handle(context.Background(), req)
			if err != nil || resp.StatusCode != tt.code || !strings.Contains(resp.Body, tt.words) {
				t.Fatalf("%v %d\n%s", err, resp.StatusCode, resp.Body)
			}
			if len(st.Decided) != 0 || len(wf.completed) != 0 {
				t.Fatal("a settled link decided")
			}
		})
	}
}

// TestLostRaceShowsWinner: when the store refuses the decision (another tap
// won in between), the page shows what won and nothing is resumed.
func TestLostRaceShowsWinner(t *testing.T) {
	st, wf := newFuzzStore(), &fuzzWorkflow{}
	racing := &racingStore{Memory: st}
	h := &Handler{Store: racing, Workflow: wf, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return fuzzNow }}
	req := events.APIGatewayV2HTTPRequest{
		PathParameters: map[string]string{"token": liveToken.Reveal()},
		Headers:        map[string]string{"content-type": "application/x-www-form-urlencoded"},
		Body:           "decision=deny",
	}
	req.RequestContext.HTTP.Method = "POST"
	resp, _ := h.Handle(context.Background(), req)
	if resp.StatusCode != http.StatusConflict || !strings.Contains(resp.Body, "You already approved") {
		t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
	}
	if len(wf.completed) != 0 {
		t.Fatal("the loser resumed the workflow")
	}
}

// racingStore lets another approval win just before Decide.
type racingStore struct{ *storetest.Memory }

func (s *racingStore) Decide(ctx context.Context, l *store.Link, _ *access.Request, outcome access.Status, at time.Time, c string) (*store.Decision, error) {
	if _, err := s.Memory.Decide(ctx, l, nil, access.Approved, at, "the other tap"); err != nil {
		return nil, err
	}
	s.Memory.Decided = nil
	return nil, store.ErrLinkSpent
}
