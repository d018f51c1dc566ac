package browser

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browser starts a fresh headless Chromium (its own profile directory)
// with a phone-sized viewport.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		// Containers give /dev/shm 64 MB, too little for a renderer.
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(390, 844),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	// The first action starts the browser, which lives as long as ctx:
	// no timeout on it, only on what follows.
	// iPhone 12–15 class: 390x844 CSS pixels at 3x; 2x keeps the PNG small.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch)); err != nil {
		cancelCtx()
		cancelAlloc()
		t.Fatalf("start chromium (%s): %v", chromium, err)
	}
	limited, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
	})
	return limited
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	saveScreenshot(t, ctx, name, chromedp.CaptureScreenshot())
}

// saveScreenshot takes the screenshot shot and keeps it as an artifact.
func saveScreenshot(t *testing.T, ctx context.Context, name string, shot chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(artifacts, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// pageFacts are what the test measures in the rendered page.
type pageFacts struct {
	Lang          string  `json:"lang"`
	Title         string  `json:"title"`
	H1            string  `json:"h1"`
	ButtonHeights []int   `json:"buttonHeights"`
	ButtonWidths  []int   `json:"buttonWidths"`
	ButtonBottom  int     `json:"buttonBottom"`
	Viewport      int     `json:"viewport"`
	SummaryHeight int     `json:"summaryHeight"`
	Overflow      bool    `json:"overflow"`
	CommentLabel  string  `json:"commentLabel"`
	FontSize      float64 `json:"fontSize"`
	Text          string  `json:"text"`
}

const measure = `(() => {
  const b = [...document.querySelectorAll('button')].map(x => x.getBoundingClientRect());
  const label = document.querySelector('label[for="comment"]');
  return {
    lang: document.documentElement.lang,
    title: document.title,
    h1: (document.querySelector('h1') || {}).textContent || '',
    buttonHeights: b.map(r => Math.round(r.height)),
    buttonWidths: b.map(r => Math.round(r.width)),
    buttonBottom: Math.round(Math.max(0, ...b.map(r => r.bottom + window.scrollY))),
    viewport: window.innerHeight,
    summaryHeight: Math.round((document.querySelector('summary') || {getBoundingClientRect: () => ({height: 0})}).getBoundingClientRect().height),
    overflow: document.documentElement.scrollWidth > window.innerWidth,
    commentLabel: label ? label.textContent : '',
    fontSize: parseFloat(getComputedStyle(document.body).fontSize),
    text: document.body.innerText,
  };
})()`

// open loads url and waits for the element ready to be visible.
func open(ctx context.Context, url, ready string) (pageFacts, error) {
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
		return pageFacts{}, err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[pageFacts](measure))
}

// submit types comment (if any), taps the button and waits for the page
// the form leads to (it carries a note; the form page does not).
func submit(ctx context.Context, comment, button string) (pageFacts, error) {
	steps := []chromedp.Action[chromedp.Void]{}
	if comment != "" {
		// The comment field sits in a <details> that starts closed.
		steps = append(steps, chromedp.Click(chromedp.CSS("summary")), chromedp.WaitVisible(chromedp.CSS("#comment")), chromedp.SendKeys(chromedp.CSS("#comment"), comment))
	}
	steps = append(steps, chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS("p.note")))
	if err := chromedp.Do(ctx, steps...); err != nil {
		return pageFacts{}, err
	}
	return chromedp.Run(ctx, chromedp.Evaluate[pageFacts](measure))
}

func TestApproveInBrowser(t *testing.T) {
	needChromium(t)
	code, created := call(t, "alice", "POST", "/v1/requests", map[string]string{
		"resource": "two-levels", "duration": "30m", "reason": "browser test: check the deploy logs", "ticket": "INC-4242",
	})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, created)
	}
	id := created["id"].(string)
	mail := inboxMessage(t, lc.Inbox, "email", "carol@example.com", id)
	var link string
	for _, l := range mail.Links {
		if strings.HasPrefix(l, lc.APIURL+"/d/") && strings.HasSuffix(l, "?decision=approve") {
			link = l
		}
	}
	if link == "" {
		t.Fatalf("no approve link in %+v", mail)
	}

	ctx := browser(t)
	f, err := open(ctx, link, "button.approve")
	if err != nil {
		t.Fatalf("open decision page: %v", err)
	}
	screenshot(t, ctx, "decision-page.png")

	if f.Lang != "en" || f.H1 != "Approve access?" || !strings.Contains(f.Title, "Approve access?") {
		t.Errorf("page: lang %q, h1 %q, title %q", f.Lang, f.H1, f.Title)
	}
	for _, want := range []string{"alice@example.com", "two-levels", "30m", "INC-4242", "Level 1 of 2 (team lead): 0 of 1 approvals", "check the deploy logs", "arn:aws:iam::123456789012:role/jit-prod-readonly", "Deciding as carol@example.com", "You chose Approve"} {
		if !strings.Contains(f.Text, want) {
			t.Errorf("page text lacks %q:\n%s", want, f.Text)
		}
	}
	if len(f.ButtonHeights) != 2 {
		t.Fatalf("buttons: %v", f.ButtonHeights)
	}
	for i, h := range f.ButtonHeights {
		if h < 44 || f.ButtonWidths[i] < 44 {
			t.Errorf("button %d is %dx%d CSS px; tap targets need 44x44", i, f.ButtonWidths[i], h)
		}
	}
	if f.ButtonBottom > f.Viewport {
		t.Errorf("the buttons end at %dpx, below the first screen (%dpx): not one tap", f.ButtonBottom, f.Viewport)
	}
	if f.SummaryHeight < 44 {
		t.Errorf("the comment toggle is %dpx tall; tap targets need 44", f.SummaryHeight)
	}
	if f.Overflow {
		t.Error("the page scrolls sideways at 390px")
	}
	if f.FontSize < 16 {
		t.Errorf("body text %.0fpx; phones zoom into inputs under 16px", f.FontSize)
	}
	if !strings.Contains(f.CommentLabel, "Comment") {
		t.Errorf("comment label = %q", f.CommentLabel)
	}

	// Opening the page (the GET a mail scanner would make) decided
	// nothing; it is audited as link_opened.
	req := request(t, id)
	opened := strings.Join(historyTypes(req), " ")
	if req["status"] != "pending" || strings.Contains(opened, "approval ") || strings.Contains(opened, "approved") || !strings.Contains(opened, "link_opened") {
		t.Fatalf("after opening the page: status %v, history %v", req["status"], historyTypes(req))
	}

	// Tap Approve: the form posts same-origin and the outcome page shows.
	outcome, err := submit(ctx, "looks fine", "button.approve")
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	screenshot(t, ctx, "outcome-page.png")
	if outcome.H1 != "Approved at this level" || !strings.Contains(outcome.Text, "level 1 of 2") || len(outcome.ButtonHeights) != 0 {
		t.Errorf("outcome page: h1 %q, buttons %v\n%s", outcome.H1, outcome.ButtonHeights, outcome.Text)
	}
	waitFor(t, id+" at level 2", 20*time.Second, func() bool {
		r := request(t, id)
		return r["status"] == "pending" && r["level"] == float64(1)
	})
	hist := request(t, id)["history"].([]any)
	var levelApproved map[string]any
	for _, e := range hist {
		if m := e.(map[string]any); m["type"] == "level_approved" {
			levelApproved = m
		}
	}
	if levelApproved == nil || levelApproved["actor"] != "carol@example.com" || levelApproved["detail"].(map[string]any)["channel"] != "email" {
		t.Errorf("level_approved event = %v", levelApproved)
	}

	// The link is spent: opening it again says so, with no form.
	again, err := open(ctx, strings.TrimSuffix(link, "?decision=approve"), "h1")
	if err != nil {
		t.Fatal(err)
	}
	if again.H1 != "Already decided" || len(again.ButtonHeights) != 0 {
		t.Errorf("reopened link: h1 %q, buttons %v", again.H1, again.ButtonHeights)
	}

	// Level 2 (dave) denies, from the browser too, so the request ends.
	mail2 := inboxMessage(t, lc.Inbox, "email", "dave@example.com", id)
	var deny string
	for _, l := range mail2.Links {
		if strings.HasSuffix(l, "?decision=deny") {
			deny = l
		}
	}
	if _, err := open(ctx, deny, "button.deny"); err != nil {
		t.Fatalf("open deny link: %v", err)
	}
	denied, err := submit(ctx, "", "button.deny")
	if err != nil {
		t.Fatalf("deny: %v", err)
	}
	if denied.H1 != "Denied" {
		t.Errorf("deny outcome h1 = %q", denied.H1)
	}
	waitFor(t, id+" denied", 20*time.Second, func() bool { return request(t, id)["status"] == "denied" })
}
