package browser

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/jitaccess/jit/shared/audit"
	"github.com/jitaccess/jit/shared/local/devsignin"
)

// auditRow is one row of the auditor page's results table.
type auditRow struct {
	Type     string `json:"type"`
	Resource string `json:"resource"`
	ID       string `json:"id"`
	Change   string `json:"change"`
}

// auditFacts are what the test reads from an auditor page.
type auditFacts struct {
	H1       string     `json:"h1"`
	Brand    string     `json:"brand"`
	Text     string     `json:"text"`
	Rows     []auditRow `json:"rows"`
	Overflow bool       `json:"overflow"`
	Cookie   string     `json:"cookie"`
}

const auditMeasure = `(() => ({
  h1: (document.querySelector('h1') || {}).textContent || '',
  brand: (document.querySelector('.brand') || {}).textContent || '',
  text: document.body.innerText,
  rows: [...document.querySelectorAll('table tbody tr')].map(tr => {
    const td = tr.querySelectorAll('td');
    return {type: td[1].innerText.trim(), resource: td[4].innerText.trim(), id: td[5].innerText.trim(), change: td[6].innerText.trim()};
  }),
  overflow: document.documentElement.scrollWidth > window.innerWidth,
  cookie: document.cookie,
}))()`

func auditPage(ctx context.Context) (auditFacts, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[auditFacts](auditMeasure))
}

// waitPage waits until cond holds in the page a click is navigating to.
// (chromedp.Poll fails when the navigation replaces the page it polls.)
func waitPage(ctx context.Context, cond string) error {
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("condition never held: " + cond)
			}
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// auditSignIn asks the API for a sign-in link as who, as `jit audit open`
// does.
func auditSignIn(t *testing.T, who string) string {
	t.Helper()
	code, body := call(t, who, "POST", "/v1/audit/sessions", nil)
	if code != http.StatusCreated {
		t.Fatalf("POST /v1/audit/sessions as %s: %d %v", who, code, body)
	}
	u, _ := body["url"].(string)
	if !strings.HasPrefix(u, lc.APIURL+"/audit/session/") {
		t.Fatalf("sign-in url = %q", u)
	}
	return u
}

func ids(rows []auditRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func TestAuditPageInBrowser(t *testing.T) {
	needChromium(t)
	// Two requests by alice: one on sandbox-admin that she cancels, one on
	// two-levels with text a page must escape.
	code, a := call(t, "alice", "POST", "/v1/requests", map[string]string{"resource": "sandbox-admin", "duration": "15m", "reason": "audit page browser test"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, a)
	}
	idA := a["id"].(string)
	if code, body := call(t, "alice", "POST", "/v1/requests/"+idA+"/cancel", nil); code != http.StatusOK {
		t.Fatalf("cancel: %d %v", code, body)
	}
	hostile := `check <b>bold</b> "quoted" <script>alert(1)</script>`
	code, b := call(t, "alice", "POST", "/v1/requests", map[string]string{"resource": "two-levels", "duration": "10m", "reason": hostile, "ticket": "INC-77"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, b)
	}
	idB := b["id"].(string)

	// Without a session the page explains how to sign in.
	resp, err := http.Get(lc.APIURL + "/audit")
	if err != nil {
		t.Fatal(err)
	}
	page401, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(page401), "jit audit open") || !strings.Contains(string(page401), `href="/_local/signin"`) {
		t.Errorf("GET /audit without a session: %d\n%s", resp.StatusCode, page401)
	}

	signIn := auditSignIn(t, "frank")
	ctx := browser(t)
	// Opening the link only asks; the button signs in and redirects to
	// the search with the session cookie set.
	if err := chromedp.Do(ctx, chromedp.Navigate(signIn), chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Sign in"] button`))); err != nil {
		t.Fatalf("open sign-in link: %v", err)
	}
	screenshot(t, ctx, "audit-signin-confirm.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`form[aria-label="Sign in"] button`)), chromedp.WaitVisible(chromedp.CSS("#results-heading"))); err != nil {
		t.Fatalf("confirm the sign-in: %v", err)
	}
	screenshot(t, ctx, "audit-search.png")
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if loc != lc.APIURL+"/audit" {
		t.Errorf("after sign-in the browser is at %s", loc)
	}
	f, err := auditPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.H1 != "Audit trail" || !strings.Contains(f.Brand, "signed in as frank@example.com") {
		t.Errorf("h1 %q, brand %q", f.H1, f.Brand)
	}
	for _, id := range []string{idA, idB} {
		if !slices.Contains(ids(f.Rows), id) {
			t.Errorf("results lack request %s: %v", id, f.Rows)
		}
	}
	if f.Overflow {
		t.Error("the search page scrolls sideways at 390px (the table should scroll in its own region)")
	}
	// The session cookie: set over http://127.0.0.1 although Secure
	// (loopback is a secure context), and out of scripts' reach.
	if f.Cookie != "" {
		t.Errorf("document.cookie = %q; the session cookie must be HttpOnly", f.Cookie)
	}
	cookies, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{lc.APIURL + "/audit"}})
	if err != nil {
		t.Fatal(err)
	}
	var session *network.Cookie
	for _, c := range cookies.Cookies {
		if c.Name == "jit_audit" {
			session = c
		}
	}
	if session == nil || !session.Secure || !session.HTTPOnly || session.SameSite != network.CookieSameSiteStrict || session.Path != "/audit" {
		t.Errorf("session cookie = %+v", session)
	}

	// Filter: sandbox-admin's cancellations. Only matching rows remain.
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#f-resource"), "sandbox-admin"),
		chromedp.SendKeys(chromedp.CSS("#f-action"), "cancelled"),
		chromedp.Click(chromedp.CSS(`form button[type="submit"]`)),
	); err != nil {
		t.Fatalf("search: %v", err)
	}
	if err := waitPage(ctx, `location.search.includes("action=cancelled") && document.readyState === "complete" && !!document.querySelector("#results-heading")`); err != nil {
		t.Fatalf("wait for the filtered page: %v", err)
	}
	f, err = auditPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "audit-filtered.png")
	if !slices.Contains(ids(f.Rows), idA) || slices.Contains(ids(f.Rows), idB) {
		t.Errorf("filtered rows = %v", f.Rows)
	}
	for _, r := range f.Rows {
		if r.Resource != "sandbox-admin" || r.Type != "cancelled" {
			t.Errorf("row does not match the filter: %+v", r)
		}
	}

	// Export the filtered search: the link carries the same filters.
	dir := t.TempDir()
	progress := chromedp.Events(ctx, cdpbrowser.DownloadProgress)
	allow := true
	if err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, EventsEnabled: &allow,
			})
			return err
		}),
		chromedp.Click(chromedp.CSS(`a[href^="/audit/export?"]`)),
	); err != nil {
		t.Fatalf("export: %v", err)
	}
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatal("download canceled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			break
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "jit-audit-*.csv"))
	if len(files) != 1 {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("downloaded files: %v", entries)
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
	if err != nil {
		t.Fatalf("the download is not CSV: %v\n%s", err, raw)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != strings.Join(audit.Columns, ",") {
		t.Fatalf("csv = %v", rows)
	}
	var exported []string
	for _, r := range rows[1:] {
		exported = append(exported, r[1])
		if r[2] != "cancelled" || r[5] != "sandbox-admin" {
			t.Errorf("csv row does not match the filter: %v", r)
		}
	}
	if !slices.Contains(exported, idA) || slices.Contains(exported, idB) || len(rows)-1 != len(f.Rows) {
		t.Errorf("csv requests %v, page rows %d", exported, len(f.Rows))
	}

	// The timeline of request B: its summary, escaped, and its events.
	if err := chromedp.Do(ctx, chromedp.Navigate(lc.APIURL+"/audit?resource=two-levels"), chromedp.WaitVisible(chromedp.CSS("#results-heading")),
		chromedp.Click(chromedp.CSS(`a[href="/audit/requests/`+idB+`"]`)), chromedp.WaitVisible(chromedp.CSS("#events-heading"))); err != nil {
		t.Fatalf("open timeline: %v", err)
	}
	screenshot(t, ctx, "audit-timeline.png")
	f, err = auditPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.H1 != "Request "+idB || f.Overflow {
		t.Errorf("timeline h1 %q, overflow %v", f.H1, f.Overflow)
	}
	for _, want := range []string{hostile, "alice@example.com asked for two-levels for 10m", "INC-77", "Level 1 (team lead): 1 of carol@example.com", "pending", "created"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("timeline lacks %q:\n%s", want, f.Text)
		}
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('script, b').length`)); n != 0 {
		t.Errorf("the reason became %d elements", n)
	}
	if c, p := strings.Index(f.Text, "created"), strings.Index(f.Text, "policy_evaluated"); c < 0 || p < c {
		t.Error("the timeline is not oldest first")
	}

	// The sign-in link works once.
	again, err := chromedp.Run(ctx, chromedp.NavigateResponse(signIn))
	if err != nil {
		t.Fatal(err)
	}
	f, _ = auditPage(ctx)
	if again.Status != http.StatusGone || f.H1 != "Sign-in link not valid" {
		t.Errorf("second use of the sign-in link: %d %q", again.Status, f.H1)
	}
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(signIn)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusGone || resp.Header.Get("Set-Cookie") != "" {
		t.Errorf("third use: %d, Set-Cookie %q", resp.StatusCode, resp.Header.Get("Set-Cookie"))
	}
}

// TestAuditDevSignIn signs in through the local dev sign-in page, served
// here against the local cloud's gateway (the local cloud mounts the same
// handler at /_local/signin).
func TestAuditDevSignIn(t *testing.T) {
	needChromium(t)
	mux := http.NewServeMux()
	mux.Handle(devsignin.Path, devsignin.New(lc.Identities, lc.APIURL))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+devsignin.Path), chromedp.WaitVisible(chromedp.CSS(`button[value="frank"]`))); err != nil {
		t.Fatalf("open dev sign-in: %v", err)
	}
	screenshot(t, ctx, "audit-dev-signin.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`button[value="erin"]`)), chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Sign in"] button`)),
		chromedp.Click(chromedp.CSS(`form[aria-label="Sign in"] button`))); err != nil {
		t.Fatal(err)
	}
	if err := waitPage(ctx, `location.pathname === "/audit" && document.readyState === "complete" && !!document.querySelector("#results-heading")`); err != nil {
		f, _ := auditPage(ctx)
		t.Fatalf("after the dev sign-in: %v\n%s", err, f.Text)
	}
	f, err := auditPage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f.H1 != "Audit trail" || !strings.Contains(f.Brand, "signed in as erin@example.com") {
		t.Errorf("h1 %q, brand %q", f.H1, f.Brand)
	}
}
