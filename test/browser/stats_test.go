package browser

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chartFacts are what the test reads from one chart of the stats page.
type chartFacts struct {
	ID      string `json:"id"`
	Heading string `json:"heading"`
	Desc    string `json:"desc"`
	Data    int    `json:"data"`
	Rows    int    `json:"rows"`
	Width   int    `json:"width"`
	Label   string `json:"label"`
}

type statsFacts struct {
	H1       string       `json:"h1"`
	Charts   []chartFacts `json:"charts"`
	Overflow bool         `json:"overflow"`
}

const statsMeasure = `(() => ({
  h1: (document.querySelector('h1') || {}).textContent || '',
  charts: [...document.querySelectorAll('figure.chart')].map(f => {
    const svg = f.querySelector('svg');
    const ids = svg ? (svg.getAttribute('aria-labelledby') || '').split(' ') : [];
    return {
      id: f.id,
      heading: (f.querySelector('h2') || {}).textContent || '',
      desc: ids.length > 1 && document.getElementById(ids[1]) ? document.getElementById(ids[1]).textContent : '',
      label: svg ? svg.getAttribute('role') + ':' + (document.getElementById(ids[0]) || {}).textContent : '',
      data: f.querySelectorAll('svg .datum').length,
      rows: f.querySelectorAll('table tbody tr').length,
      width: svg ? Math.round(svg.getBoundingClientRect().width) : 0,
    };
  }),
  overflow: document.documentElement.scrollWidth > window.innerWidth,
}))()`

// The stats page draws every chart with data and a text alternative, at
// phone and desktop widths, without scrolling sideways.
func TestStatsChartsInBrowser(t *testing.T) {
	needChromium(t)
	// A person's decision (denied), an auto-approval (granted at once),
	// a pending request: every chart has something to draw.
	code, a := call(t, "alice", "POST", "/v1/requests", map[string]string{"resource": "sandbox-admin", "duration": "15m", "reason": "stats chart: to be denied"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, a)
	}
	id := a["id"].(string)
	mail := inboxMessage(t, lc.Inbox, "email", "carol@example.com", id)
	var link string
	for _, l := range mail.Links {
		if strings.HasPrefix(l, lc.APIURL+"/d/") {
			link = strings.SplitN(l, "?", 2)[0]
		}
	}
	if link == "" {
		t.Fatalf("no decision link in %+v", mail)
	}
	resp, err := http.PostForm(link, url.Values{"decision": {"deny"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	waitFor(t, "the denial", 20*time.Second, func() bool { return request(t, id)["status"] == "denied" })
	if code, b := call(t, "alice", "POST", "/v1/requests", map[string]string{"resource": "auto-short", "duration": "1m", "reason": "stats chart: auto-approved"}); code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, b)
	}

	ctx := browser(t)
	signIn := auditSignIn(t, "frank")
	if err := chromedp.Do(ctx, chromedp.Navigate(signIn), chromedp.WaitVisible(chromedp.CSS(`form[aria-label="Sign in"] button`)),
		chromedp.Click(chromedp.CSS(`form[aria-label="Sign in"] button`)), chromedp.WaitVisible(chromedp.CSS("#results-heading"))); err != nil {
		t.Fatalf("sign in: %v", err)
	}
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"phone", 390, 844, true}, {"desktop", 1280, 900, false}} {
		opts := []chromedp.EmulateViewportOption{chromedp.EmulateScale(2)}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
		}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height, opts...),
			chromedp.Navigate(lc.APIURL+"/audit/stats"), chromedp.WaitVisible(chromedp.CSS("#chart-requesters"))); err != nil {
			t.Fatalf("%s: open the stats page: %v", size.name, err)
		}
		f, err := chromedp.Run(ctx, chromedp.Evaluate[statsFacts](statsMeasure))
		if err != nil {
			t.Fatal(err)
		}
		if f.H1 != "Usage and speed" || len(f.Charts) != 5 {
			t.Fatalf("%s: h1 %q, %d charts", size.name, f.H1, len(f.Charts))
		}
		for _, c := range f.Charts {
			if c.Data == 0 || c.Rows == 0 {
				t.Errorf("%s: %s draws %d data points, tabulates %d rows", size.name, c.ID, c.Data, c.Rows)
			}
			if !strings.HasPrefix(c.Label, "img:") || len(c.Label) < 8 || len(c.Desc) < 20 {
				t.Errorf("%s: %s text alternative: label %q, description %q", size.name, c.ID, c.Label, c.Desc)
			}
			if c.Width < 300 || c.Width > int(size.width) {
				t.Errorf("%s: %s is %d px wide", size.name, c.ID, c.Width)
			}
		}
		if f.Overflow {
			t.Errorf("%s: the stats page scrolls sideways", size.name)
		}
		fullPage(t, ctx, "audit-stats-"+size.name+".png")
	}
}

// fullPage saves a PNG of the whole page, not only the viewport
// (quality 100 is PNG; below it, JPEG).
func fullPage(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	saveScreenshot(t, ctx, name, chromedp.FullScreenshot(100))
}
