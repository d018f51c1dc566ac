package auditui

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/audit"
	"github.com/jitaccess/jit/shared/link"
	"github.com/jitaccess/jit/shared/store"
	"github.com/jitaccess/jit/shared/store/storetest"
)

var now = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const (
	frank = "arn:aws:sts::123456789012:assumed-role/Auditor/frank@example.com"
	erin  = "arn:aws:sts::123456789012:assumed-role/JitAdmin/erin@example.com"
	alice = "arn:aws:sts::123456789012:assumed-role/Engineer/alice@example.com"
)

// storeSignIn stores a sign-in link for principal and returns its token.
func storeSignIn(t *testing.T, f *storetest.Memory, principal string) link.Token {
	t.Helper()
	tok, err := link.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.SignIns[tok.Hash()] = storetest.SignIn{Principal: principal, Expires: now.Add(5 * time.Minute)}
	return tok
}

// storeSession stores a live session for principal and returns its cookie.
func storeSession(t *testing.T, f *storetest.Memory, principal string) string {
	t.Helper()
	tok, err := link.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	f.Sessions[tok.Hash()] = storetest.Session{Principal: principal, Expires: now.Add(time.Hour)}
	return CookieName + "=" + tok.Reveal()
}

func newHandler(f *storetest.Memory) *Handler {
	h := New(f, slog.New(slog.DiscardHandler), []string{"arn:aws:sts::123456789012:assumed-role/JitAdmin/*"}, []string{frank})
	h.Now = func() time.Time { return now }
	return h
}

func get(h *Handler, route, path string, cookies []string, query map[string]string, params map[string]string) events.APIGatewayV2HTTPResponse {
	req := events.APIGatewayV2HTTPRequest{RouteKey: "GET " + route, RawPath: path, Cookies: cookies,
		QueryStringParameters: query, PathParameters: params, Headers: map[string]string{"x-forwarded-proto": "https"}}
	req.RequestContext.DomainName = "jit.example.com"
	req.RequestContext.HTTP.Method = http.MethodGet
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		panic(err)
	}
	return resp
}

// post sends a form to route as the page's own form would (same origin).
func post(h *Handler, route, path string, cookies []string, headers map[string]string, params map[string]string) events.APIGatewayV2HTTPResponse {
	hd := map[string]string{"x-forwarded-proto": "https", "origin": "https://jit.example.com", "sec-fetch-site": "same-origin",
		"content-type": "application/x-www-form-urlencoded"}
	for k, v := range headers {
		hd[k] = v
	}
	req := events.APIGatewayV2HTTPRequest{RouteKey: "POST " + route, RawPath: path, Cookies: cookies, PathParameters: params, Headers: hd}
	req.RequestContext.DomainName = "jit.example.com"
	req.RequestContext.HTTP.Method = http.MethodPost
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		panic(err)
	}
	return resp
}

// TestSignInGetOnlyAsks: link previewers and mail scanners fetch links;
// a GET shows a confirmation and spends nothing.
func TestSignInGetOnlyAsks(t *testing.T) {
	f := storetest.New()
	h := newHandler(f)
	tok := storeSignIn(t, f, frank)
	for i := 0; i < 2; i++ {
		resp := get(h, "/audit/session/{token}", "/audit/session/x", nil, nil, map[string]string{"token": tok.Reveal()})
		if resp.StatusCode != http.StatusOK || len(resp.Cookies) != 0 || !strings.Contains(resp.Body, `<form method="post"`) ||
			!strings.Contains(resp.Body, ">Sign in</button>") {
			t.Fatalf("GET %d: %d cookies %v\n%s", i, resp.StatusCode, resp.Cookies, resp.Body)
		}
	}
	if f.SignIns[tok.Hash()].Used || len(f.Sessions) != 0 {
		t.Fatal("a GET spent the sign-in link")
	}
	if r := get(h, "/audit/session/{token}", "/audit/session/x", nil, nil, map[string]string{"token": "not-a-token"}); r.StatusCode != http.StatusNotFound {
		t.Errorf("malformed token: %d", r.StatusCode)
	}
	// A link that can no longer sign in says so on the GET, no button.
	unknown, _ := link.New(nil)
	spent := storeSignIn(t, f, frank)
	f.SignIns[spent.Hash()] = storetest.SignIn{Principal: frank, Expires: now.Add(time.Minute), Used: true}
	expired := storeSignIn(t, f, frank)
	f.SignIns[expired.Hash()] = storetest.SignIn{Principal: frank, Expires: now}
	for name, c := range map[string]struct {
		tok  link.Token
		want int
	}{"never issued": {unknown, http.StatusNotFound}, "used": {spent, http.StatusGone}, "expired": {expired, http.StatusGone}} {
		r := get(h, "/audit/session/{token}", "/audit/session/x", nil, nil, map[string]string{"token": c.tok.Reveal()})
		if r.StatusCode != c.want || strings.Contains(r.Body, ">Sign in</button>") || !strings.Contains(r.Body, "Sign-in link not valid") {
			t.Errorf("GET of a %s link: %d, want %d without a button\n%s", name, r.StatusCode, c.want, r.Body)
		}
	}
}

func TestSignInPostSetsCookieOnceAndRedirects(t *testing.T) {
	f := storetest.New()
	h := newHandler(f)
	tok := storeSignIn(t, f, frank)
	params := map[string]string{"token": tok.Reveal()}
	resp := post(h, "/audit/session/{token}", "/audit/session/x", nil, nil, params)
	if resp.StatusCode != http.StatusSeeOther || resp.Headers["Location"] != "/audit" {
		t.Fatalf("sign-in: %d Location %q\n%s", resp.StatusCode, resp.Headers["Location"], resp.Body)
	}
	if len(resp.Cookies) != 1 {
		t.Fatalf("cookies = %v", resp.Cookies)
	}
	c := resp.Cookies[0]
	for _, want := range []string{"; Path=/audit", "; HttpOnly", "; Secure", "; SameSite=Strict", "; Max-Age=3600"} {
		if !strings.Contains(c, want) {
			t.Errorf("cookie %q lacks %q", c, want)
		}
	}
	if strings.Contains(c, tok.Reveal()) {
		t.Error("the cookie carries the sign-in token instead of a new session token")
	}
	for hash, s := range f.Sessions {
		if !s.Expires.Equal(now.Add(time.Hour)) || s.Principal != frank {
			t.Errorf("session %s = %+v, want frank's until %s", hash, s, now.Add(time.Hour))
		}
	}
	// The cookie opens the search, which offers to sign out.
	value := strings.SplitN(c, ";", 2)[0]
	r := get(h, "/audit", "/audit", []string{"other=1", value}, nil, nil)
	if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, `action="/audit/logout"`) {
		t.Fatalf("search with the new cookie: %d\n%s", r.StatusCode, r.Body)
	}

	// The link works once.
	again := post(h, "/audit/session/{token}", "/audit/session/x", nil, nil, params)
	if again.StatusCode != http.StatusGone || len(again.Cookies) != 0 || !strings.Contains(again.Body, "already used") {
		t.Errorf("second use: %d cookies %v", again.StatusCode, again.Cookies)
	}
	for _, token := range []string{"not-a-token", strings.Repeat("A", 43)} {
		r := post(h, "/audit/session/{token}", "/audit/session/x", nil, nil, map[string]string{"token": token})
		if r.StatusCode != http.StatusNotFound || len(r.Cookies) != 0 {
			t.Errorf("token %q: %d cookies %v", token, r.StatusCode, r.Cookies)
		}
	}
}

// TestSignInPostFromAnotherSite: a page elsewhere cannot sign a browser
// in (login CSRF) with a link of its own.
func TestSignInPostFromAnotherSite(t *testing.T) {
	f := storetest.New()
	h := newHandler(f)
	tok := storeSignIn(t, f, frank)
	for _, hd := range []map[string]string{
		{"origin": "https://evil.example", "sec-fetch-site": "cross-site"},
		{"origin": "https://evil.example", "sec-fetch-site": ""},
	} {
		resp := post(h, "/audit/session/{token}", "/audit/session/x", nil, hd, map[string]string{"token": tok.Reveal()})
		if resp.StatusCode != http.StatusForbidden || len(resp.Cookies) != 0 {
			t.Errorf("%v: %d cookies %v", hd, resp.StatusCode, resp.Cookies)
		}
	}
	if f.SignIns[tok.Hash()].Used {
		t.Error("a cross-site post spent the link")
	}
}

func TestLogout(t *testing.T) {
	f := storetest.New()
	h := newHandler(f)
	cookie := storeSession(t, f, frank)
	resp := post(h, "/audit/logout", "/audit/logout", []string{cookie}, nil, nil)
	if resp.StatusCode != http.StatusOK || len(resp.Cookies) != 1 || !strings.Contains(resp.Body, "signed out") {
		t.Fatalf("logout: %d cookies %v\n%s", resp.StatusCode, resp.Cookies, resp.Body)
	}
	c := resp.Cookies[0]
	for _, want := range []string{CookieName + "=;", "; Path=/audit", "; Max-Age=0", "; HttpOnly", "; Secure", "; SameSite=Strict"} {
		if !strings.Contains(c, want) {
			t.Errorf("logout cookie %q lacks %q", c, want)
		}
	}
	// The session ends on the server too: the old cookie opens nothing.
	if len(f.Sessions) != 0 {
		t.Errorf("sessions left: %v", f.Sessions)
	}
	if r := get(h, "/audit", "/audit", []string{cookie}, nil, nil); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("search after logout: %d", r.StatusCode)
	}
	// Without a session, or from another site: nothing to end, still no cookie kept.
	if r := post(h, "/audit/logout", "/audit/logout", nil, nil, nil); r.StatusCode != http.StatusOK || !strings.Contains(strings.Join(r.Cookies, ""), "Max-Age=0") {
		t.Errorf("logout without a session: %d %v", r.StatusCode, r.Cookies)
	}
	other := storeSession(t, f, frank)
	if r := post(h, "/audit/logout", "/audit/logout", []string{other}, map[string]string{"origin": "https://evil.example", "sec-fetch-site": "cross-site"}, nil); r.StatusCode != http.StatusForbidden || len(f.Sessions) != 1 {
		t.Errorf("cross-site logout: %d sessions %d", r.StatusCode, len(f.Sessions))
	}
}

func TestSignInRefusesNonAuditor(t *testing.T) {
	f := storetest.New()
	h := newHandler(f)
	tok := storeSignIn(t, f, alice)
	resp := post(h, "/audit/session/{token}", "/audit/session/x", nil, nil, map[string]string{"token": tok.Reveal()})
	if resp.StatusCode != http.StatusForbidden || len(resp.Cookies) != 0 {
		t.Errorf("alice signs in: %d cookies %v", resp.StatusCode, resp.Cookies)
	}
}

func TestPagesNeedSession(t *testing.T) {
	f := storetest.New()
	h := newHandler(f)
	expired, _ := link.New(nil)
	f.Sessions[expired.Hash()] = storetest.Session{Principal: frank, Expires: now.Add(-time.Second)}
	routes := []struct{ route, path string }{
		{"/audit", "/audit"}, {"/audit/export", "/audit/export"}, {"/audit/requests/{id}", "/audit/requests/01m8h2vc7v9a4e39t9w0bj74tr"},
		{"/audit/stats", "/audit/stats"},
	}
	tests := []struct {
		name    string
		cookies []string
		want    int
	}{
		{"no cookie", nil, http.StatusUnauthorized},
		{"malformed cookie", []string{CookieName + "=<script>"}, http.StatusUnauthorized},
		{"expired session", []string{CookieName + "=" + expired.Reveal()}, http.StatusUnauthorized},
		{"unknown session", []string{CookieName + "=" + mustToken(t).Reveal()}, http.StatusUnauthorized},
		{"other cookie name", []string{"jit_audit2=" + mustToken(t).Reveal()}, http.StatusUnauthorized},
		{"requester's session", []string{storeSession(t, f, alice)}, http.StatusForbidden},
		{"auditor", []string{storeSession(t, f, frank)}, 0},
		{"admin by pattern", []string{storeSession(t, f, erin)}, 0},
	}
	for _, tt := range tests {
		for _, r := range routes {
			resp := get(h, r.route, r.path, tt.cookies, nil, map[string]string{"id": "01m8h2vc7v9a4e39t9w0bj74tr"})
			if tt.want == 0 {
				if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
					t.Errorf("%s %s: %d", tt.name, r.route, resp.StatusCode)
				}
				continue
			}
			if resp.StatusCode != tt.want {
				t.Errorf("%s %s: %d, want %d", tt.name, r.route, resp.StatusCode, tt.want)
			}
			if tt.want == http.StatusUnauthorized && !strings.Contains(resp.Body, "jit audit open") {
				t.Errorf("%s %s: the 401 page does not say how to sign in", tt.name, r.route)
			}
			if resp.Headers["Content-Security-Policy"] == "" || len(resp.Cookies) != 0 {
				t.Errorf("%s %s: headers %v cookies %v", tt.name, r.route, resp.Headers, resp.Cookies)
			}
		}
	}
}

func mustToken(t *testing.T) link.Token {
	tok, err := link.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestSignInPageOffersDevSignInOnlyLocally(t *testing.T) {
	h := newHandler(storetest.New())
	for host, want := range map[string]bool{"127.0.0.1:3000": true, "localhost:3000": true, "jit.example.com": false, "abc.execute-api.us-east-1.amazonaws.com": false} {
		req := events.APIGatewayV2HTTPRequest{RouteKey: "GET /audit"}
		req.RequestContext.DomainName = host
		resp, _ := h.Handle(context.Background(), req)
		if got := strings.Contains(resp.Body, `href="/_local/signin"`); got != want {
			t.Errorf("%s: dev sign-in link shown = %v", host, got)
		}
	}
}

// hostile is text an attacker controls: a reason, a comment, a user agent.
const hostile = `"><script>alert(1)</script><img src=x onerror=alert(2)>`

func seed(f *storetest.Memory) {
	id1, id2 := "01m8h2vc7v9a4e39t9w0bj74tr", "01m8h2vc7v9a4e39t9w0bj74ts"
	f.Requests[id1] = &access.Request{ID: id1, Resource: "prod-readonly", Requester: alice, Reason: hostile, Status: access.Denied,
		Duration: 30 * time.Minute, CreatedAt: now.Add(-2 * time.Hour), Approvers: []string{"carol@example.com"},
		Chain: []access.Level{{Name: "team lead", Approvers: []string{"carol@example.com"}, MinApprovals: 1}}}
	f.Events = append(f.Events,
		access.Event{RequestID: id1, Type: "created", Actor: alice, At: now.Add(-2 * time.Hour), Resource: "prod-readonly", Requester: alice,
			To: access.Pending, SourceIP: "203.0.113.7", UserAgent: hostile, Detail: map[string]string{"reason": hostile}},
		access.Event{RequestID: id1, Type: "denied", Actor: "carol@example.com", At: now.Add(-time.Hour), Resource: "prod-readonly", Requester: alice,
			From: access.Pending, To: access.Denied, Detail: map[string]string{"comment": "=HYPERLINK(\"http://evil\")" + hostile}},
		access.Event{RequestID: id2, Type: "created", Actor: alice, At: now.Add(-30 * time.Minute), Resource: "sandbox-admin", Requester: alice, To: access.Pending},
	)
}

func TestSearchRendersEscapedRowsAndLinks(t *testing.T) {
	f := storetest.New()
	seed(f)
	h := newHandler(f)
	resp := get(h, "/audit", "/audit", []string{storeSession(t, f, frank)}, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
	}
	body := resp.Body
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(body, bad) {
			t.Errorf("page contains unescaped %q", bad)
		}
	}
	for _, want := range []string{
		"signed in as frank@example.com",
		`<a href="/audit/requests/01m8h2vc7v9a4e39t9w0bj74tr">01m8h2vc7v9a4e39t9w0bj74tr</a>`,
		`<a href="/audit/requests/01m8h2vc7v9a4e39t9w0bj74ts">`,
		"pending → denied", "3 events", "prod-readonly", "sandbox-admin", "carol@example.com",
		"&lt;script&gt;alert(1)&lt;/script&gt;",
		`href="/audit/export?from=2026-10-29T12%3A00%3A00Z&amp;to=2026-11-28T12%3A00%3A00Z"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "Next page") {
		t.Error("a complete search offers a next page")
	}
	if resp.Headers["Content-Security-Policy"] != "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" ||
		resp.Headers["Referrer-Policy"] != "no-referrer" || resp.Headers["X-Content-Type-Options"] != "nosniff" {
		t.Errorf("headers = %v", resp.Headers)
	}
}

func TestSearchFiltersAndPages(t *testing.T) {
	f := storetest.New()
	seed(f)
	h := newHandler(f)
	cookie := []string{storeSession(t, f, frank)}
	// Empty fields (a submitted form) are no filters; resource is.
	resp := get(h, "/audit", "/audit", cookie, map[string]string{"resource": "sandbox-admin", "actor": "", "status": "", "from": " "}, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Body, "01m8h2vc7v9a4e39t9w0bj74tr") || !strings.Contains(resp.Body, "1 event<") {
		t.Fatalf("filtered: %d\n%s", resp.StatusCode, resp.Body)
	}
	if !strings.Contains(resp.Body, `value="sandbox-admin"`) {
		t.Error("the form does not keep the filter")
	}
	// A page of one: the next link carries the cursor and the same period.
	resp = get(h, "/audit", "/audit", cookie, map[string]string{"limit": "1"}, nil)
	next := between(resp.Body, `<a class="button" href="`, `"`)
	if next == "" {
		t.Fatalf("no next link:\n%s", resp.Body)
	}
	u, err := url.Parse(strings.ReplaceAll(next, "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Path != "/audit" || q.Get("cursor") != "1" || q.Get("limit") != "1" || q.Get("to") != "2026-11-28T12:00:00Z" || q.Get("from") != "2026-10-29T12:00:00Z" {
		t.Errorf("next = %s", u)
	}
	params := map[string]string{}
	for k := range q {
		params[k] = q.Get(k)
	}
	page2 := get(h, "/audit", "/audit", cookie, params, nil)
	if page2.StatusCode != http.StatusOK || !strings.Contains(page2.Body, `>01m8h2vc7v9a4e39t9w0bj74tr</a>`) || !strings.Contains(page2.Body, "on this page") {
		t.Errorf("page 2: %d", page2.StatusCode)
	}
}

func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	j := strings.Index(s, end)
	if j < 0 {
		return ""
	}
	return s[:j]
}

func TestBadFilterIsShownNextToItsField(t *testing.T) {
	tests := []struct {
		name      string
		give      map[string]string
		wantField string
		wantText  string
	}{
		{"bad time", map[string]string{"from": "yesterday"}, "from", "must be an RFC 3339 time"},
		{"bad status", map[string]string{"status": "lost"}, "status", "must be one of"},
		{"bad requester", map[string]string{"requester": "<b>x</b>"}, "requester", "must be 1 to 256 characters"},
		{"period backwards", map[string]string{"from": "2026-11-28T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "from", "must not be after to"},
		{"unknown parameter", map[string]string{"colour": "red"}, "", "is not a parameter here"},
		{"stale cursor", map[string]string{"cursor": "zzz"}, "", "cursor: this page link belongs to another search"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := storetest.New()
			seed(f)
			h := newHandler(f)
			before := f.Searches
			resp := get(h, "/audit", "/audit", []string{storeSession(t, f, frank)}, tt.give, nil)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", resp.StatusCode)
			}
			if !strings.Contains(resp.Body, tt.wantText) {
				t.Errorf("page lacks %q", tt.wantText)
			}
			if tt.wantField != "" {
				describedBy := `aria-describedby="f-` + tt.wantField + `-hint f-` + tt.wantField + `-error"`
				if tt.wantField == "status" {
					describedBy = `aria-describedby="f-status-error"`
				}
				for _, want := range []string{`id="f-` + tt.wantField + `-error" class="error"`, describedBy, `aria-invalid="true"`} {
					if !strings.Contains(resp.Body, want) {
						t.Errorf("page lacks %q", want)
					}
				}
			}
			if strings.Contains(resp.Body, "<table") || strings.Contains(resp.Body, "<script") {
				t.Error("a refused search shows results or unescaped input")
			}
			if tt.name != "stale cursor" && f.Searches != before {
				t.Errorf("a refused search ran %d searches", f.Searches-before)
			}
		})
	}
	// The export refuses the same input the same way.
	f := storetest.New()
	h := newHandler(f)
	resp := get(h, "/audit/export", "/audit/export", []string{storeSession(t, f, frank)}, map[string]string{"to": "soon"}, nil)
	if resp.StatusCode != http.StatusBadRequest || f.Searches != 0 || !strings.Contains(resp.Body, `id="f-to-error"`) {
		t.Errorf("export with a bad filter: %d, %d searches", resp.StatusCode, f.Searches)
	}
}

func TestExportCSV(t *testing.T) {
	f := storetest.New()
	seed(f)
	h := newHandler(f)
	resp := get(h, "/audit/export", "/audit/export", []string{storeSession(t, f, frank)},
		map[string]string{"resource": "prod-readonly", "from": "2026-11-01T00:00:00Z", "to": "2026-11-28T12:00:00Z", "cursor": "1", "limit": "1"}, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
	}
	if got := resp.Headers["Content-Disposition"]; got != `attachment; filename="jit-audit-20261101T000000Z-20261128T120000Z.csv"` {
		t.Errorf("Content-Disposition = %q", got)
	}
	if resp.Headers["Content-Type"] != "text/csv; charset=utf-8" || resp.Headers["Cache-Control"] != "no-store" {
		t.Errorf("headers = %v", resp.Headers)
	}
	rows, err := csv.NewReader(strings.NewReader(resp.Body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(audit.Columns, ",") {
		t.Fatalf("rows = %v", rows)
	}
	// Newest first, every page (cursor and limit are the page's, not the
	// export's), and formulas defused.
	if rows[1][2] != "denied" || rows[2][2] != "created" || !strings.HasPrefix(rows[1][10], `{"comment":"=HYPERLINK`) {
		t.Errorf("rows = %v", rows[1:])
	}
	for _, r := range rows[1:] {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q starts a formula", cell)
			}
		}
	}
}

func TestExportCompressesWhenAccepted(t *testing.T) {
	f := storetest.New()
	seed(f)
	h := newHandler(f)
	req := events.APIGatewayV2HTTPRequest{RouteKey: "GET /audit/export", Cookies: []string{storeSession(t, f, frank)},
		Headers: map[string]string{"accept-encoding": "gzip, deflate, br"}}
	resp, _ := h.Handle(context.Background(), req)
	if resp.StatusCode != http.StatusOK || !resp.IsBase64Encoded || resp.Headers["Content-Encoding"] != "gzip" {
		t.Fatalf("%d base64 %v headers %v", resp.StatusCode, resp.IsBase64Encoded, resp.Headers)
	}
	raw, err := base64.StdEncoding.DecodeString(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), strings.Join(audit.Columns, ",")+"\n") || strings.Count(string(b), "\n") != 4 {
		t.Errorf("csv = %s", b)
	}
	for give, want := range map[string]bool{"": false, "br": false, "gzip;q=0": false, "GZIP": true, "deflate, gzip;q=0.5": true} {
		if got := acceptsGzip(give); got != want {
			t.Errorf("acceptsGzip(%q) = %v", give, got)
		}
	}
}

func TestExportCap(t *testing.T) {
	for _, tt := range []struct {
		name   string
		events int
		want   int
	}{
		{"exactly the cap", ExportMax, http.StatusOK},
		{"one more", ExportMax + 1, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := storetest.New()
			for i := range tt.events {
				f.Events = append(f.Events, access.Event{RequestID: fmt.Sprintf("01m8h2vc7v9a4e39t9w%07d", i), Type: "created", Actor: alice,
					At: now.Add(-time.Duration(i+1) * time.Second), Resource: "sandbox-admin", Requester: alice})
			}
			h := newHandler(f)
			resp := get(h, "/audit/export", "/audit/export", []string{storeSession(t, f, frank)}, map[string]string{"resource": "sandbox-admin"}, nil)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d\n%.500s", resp.StatusCode, resp.Body)
			}
			if tt.want == http.StatusOK {
				if n := strings.Count(resp.Body, "\n"); n != ExportMax+1 {
					t.Errorf("%d lines, want %d", n, ExportMax+1)
				}
				return
			}
			for _, want := range []string{"more than 10,000 events", "jit audit export", "Nothing was downloaded",
				`href="/audit?from=2026-10-29T12%3A00%3A00Z&amp;resource=sandbox-admin&amp;to=2026-11-28T12%3A00%3A00Z"`} {
				if !strings.Contains(resp.Body, want) {
					t.Errorf("413 page lacks %q", want)
				}
			}
			if resp.Headers["Content-Disposition"] != "" || resp.Headers["Content-Type"] != "text/html; charset=utf-8" {
				t.Errorf("413 headers = %v", resp.Headers)
			}
		})
	}
}

func TestTimeline(t *testing.T) {
	f := storetest.New()
	seed(f)
	h := newHandler(f)
	cookie := []string{storeSession(t, f, frank)}
	resp := get(h, "/audit/requests/{id}", "/audit/requests/x", cookie, nil, map[string]string{"id": "01m8h2vc7v9a4e39t9w0bj74tr"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
	}
	body := resp.Body
	for _, bad := range []string{"<script>", "<img"} {
		if strings.Contains(body, bad) {
			t.Errorf("timeline contains unescaped %q", bad)
		}
	}
	for _, want := range []string{"<strong>alice@example.com</strong> asked for <strong>prod-readonly</strong> for <strong>30m</strong>",
		"Level 1 (team lead): 1 of carol@example.com", "denied", "from 203.0.113.7", alice} {
		if !strings.Contains(body, want) {
			t.Errorf("timeline lacks %q", want)
		}
	}
	if c, d := strings.Index(body, `<span class="type">created</span>`), strings.Index(body, `<span class="type">denied</span>`); c < 0 || d < c {
		t.Error("events are not oldest first")
	}
	for _, id := range []string{"nope", "01m8h2vc7v9a4e39t9w0bj7400", "../../etc/passwd"} {
		if r := get(h, "/audit/requests/{id}", "/audit/requests/x", cookie, nil, map[string]string{"id": id}); r.StatusCode != http.StatusNotFound {
			t.Errorf("id %q: %d", id, r.StatusCode)
		}
	}
}

type failingStore struct{ *storetest.Memory }

func (failingStore) SearchAudit(context.Context, store.AuditQuery) (*store.AuditPage, error) {
	return nil, errors.New("dynamodb: secret internals")
}

func TestInternalErrorsAreNotShown(t *testing.T) {
	f := storetest.New()
	h := newHandler(f)
	cookie := []string{storeSession(t, f, frank)}
	h.Store = failingStore{f}
	resp := get(h, "/audit", "/audit", cookie, nil, nil)
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(resp.Body, "secret internals") {
		t.Errorf("%d\n%s", resp.StatusCode, resp.Body)
	}
}
