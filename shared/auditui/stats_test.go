package auditui

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jitaccess/jit/shared/access"
	"github.com/jitaccess/jit/shared/audit"
	"github.com/jitaccess/jit/shared/policy"
	"github.com/jitaccess/jit/shared/store/storetest"
)

// statsHistory is three days of requests with known times (day 1 is
// 2026-11-25): on day 1 two decisions (60 s, 180 s), on day 3 one
// (600 s) and an auto-approval; a denial; sources cli, api, web.
func statsHistory() *storetest.Memory {
	day := func(d int, s int) time.Time {
		return now.Add(time.Duration(d-4)*24*time.Hour + time.Duration(s)*time.Second)
	}
	at := func(t time.Time) *time.Time { return &t }
	bob := "arn:aws:sts::123456789012:assumed-role/Engineer/bob@example.com"
	return storetest.New(
		&access.Request{ID: "01m8h2vc7v9a4e39t9w0bj7401", Resource: "db", Requester: alice, Status: access.Expired, Source: access.SourceCLI,
			CreatedAt: day(1, 0), DecidedAt: at(day(1, 60)), GrantedAt: at(day(1, 62))},
		&access.Request{ID: "01m8h2vc7v9a4e39t9w0bj7402", Resource: "db", Requester: bob, Status: access.Denied, Source: access.SourceWeb,
			CreatedAt: day(1, 100), DecidedAt: at(day(1, 280))},
		&access.Request{ID: "01m8h2vc7v9a4e39t9w0bj7403", Resource: "web", Requester: alice, Status: access.Active, Source: access.SourceAPI,
			CreatedAt: day(3, 0), DecidedAt: at(day(3, 0)), GrantedAt: at(day(3, 1)), AutoApprovedBy: "short"},
		&access.Request{ID: "01m8h2vc7v9a4e39t9w0bj7404", Resource: "db", Requester: alice, Status: access.Active, Source: access.SourceCLI,
			CreatedAt: day(3, 10), DecidedAt: at(day(3, 610)), GrantedAt: at(day(3, 615))},
	)
}

func TestStatsPageDrawsEveryChartWithItsWords(t *testing.T) {
	f := statsHistory()
	h := newHandler(f)
	h.Policy = func(context.Context) (*policy.Document, error) { return nil, nil }
	resp := get(h, "/audit/stats", "/audit/stats", []string{storeSession(t, f, frank)}, nil, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", resp.StatusCode, resp.Body)
	}
	body := resp.Body
	for _, want := range []string{
		"<dt>Requests</dt><dd>4</dd>",
		"<dt>Time to decision</dt><dd>median 3m, 90th percentile 10m (3)</dd>",
		"<dt>Requesters</dt><dd>2 (2 new, 0 returning)</dd>",
		// The decision chart's words: first and last day with decisions.
		"median 1m and 90th percentile 3m on 2026-11-25; median 10m and 90th percentile 10m on 2026-11-27",
		"4 request(s) by source: cli 2, api 1, web 1.",
		`<th scope="row">2026-11-25</th><td>2</td><td>1m</td><td>3m</td>`,
		`aria-current="page">Usage and speed`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, id := range []string{"decision", "grant", "outcomes", "sources", "requesters"} {
		fig := between(body, `<figure class="card chart" id="chart-`+id+`"`, "</figure>")
		if fig == "" {
			t.Errorf("no %s chart", id)
			continue
		}
		if !strings.Contains(fig, `role="img" aria-labelledby="chart-`+id+`-title chart-`+id+`-desc"`) ||
			!regexp.MustCompile(`<desc id="chart-`+id+`-desc">[^<]{20,}</desc>`).MatchString(fig) ||
			!strings.Contains(fig, "<figcaption>") || !strings.Contains(fig, "<table>") {
			t.Errorf("%s chart lacks its title, description, caption or table:\n%s", id, fig)
		}
		if n := strings.Count(fig, `class="datum"`); n == 0 {
			t.Errorf("%s chart draws no data", id)
		}
	}
}

func TestStatsPageOfAnEmptyPeriodAndBadInput(t *testing.T) {
	f := statsHistory()
	h := newHandler(f)
	cookie := []string{storeSession(t, f, frank)}
	resp := get(h, "/audit/stats", "/audit/stats", cookie, map[string]string{"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}, nil)
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Body, "<svg") ||
		!strings.Contains(resp.Body, "No time to decision was measured in this period.") || !strings.Contains(resp.Body, "<dt>Requests</dt><dd>0</dd>") {
		t.Errorf("empty period: %d\n%s", resp.StatusCode, resp.Body)
	}
	for name, q := range map[string]map[string]string{
		"unknown parameter": {"action": "created"},
		"bad time":          {"from": "yesterday"},
		"too long":          {"from": "2026-01-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"},
	} {
		resp := get(h, "/audit/stats", "/audit/stats", cookie, q, nil)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, `role="alert"`) || strings.Contains(resp.Body, "<svg") {
			t.Errorf("%s: %d\n%s", name, resp.StatusCode, resp.Body)
		}
	}
}

func TestChartGeometry(t *testing.T) {
	by := map[string]audit.Stats{
		"2026-11-01": {TimeToDecision: audit.Spread{Count: 2, MedianSeconds: 60, P90Seconds: 240}},
		"2026-11-02": {},
		"2026-11-03": {TimeToDecision: audit.Spread{Count: 1, MedianSeconds: 120, P90Seconds: 120}},
	}
	c := spreadChart("d", "T", "time to decision", []string{"2026-11-01", "2026-11-02", "2026-11-03"}, by, func(s audit.Stats) audit.Spread { return s.TimeToDecision })
	// Two days measured: points at the plot's left and right edges; 240 s
	// reads as 4 minutes at the top of a 5-minute axis.
	if len(c.Lines) != 2 || c.Lines[0].Points != "56,57 624,138" || c.Lines[1].Points != "56,179 624,138" {
		t.Errorf("lines = %+v", c.Lines)
	}
	if c.YLabels[4].Text != "5m" || len(c.Rows) != 2 || c.Empty {
		t.Errorf("axis %+v rows %v", c.YLabels, c.Rows)
	}
	one := spreadChart("d", "T", "time to decision", []string{"2026-11-03"}, by, func(s audit.Stats) audit.Spread { return s.TimeToDecision })
	if one.Lines[0].Dots[0].X != 340 {
		t.Errorf("a single day sits in the middle: %+v", one.Lines[0].Dots)
	}
	bars := barChart("o", "T", "outcome", map[string]int{"denied": 1, "expired": 4, "pending": 0}, outcomeOrder)
	if len(bars.Bars) != 2 || bars.Bars[0].Label != "denied" || bars.Bars[1].W <= bars.Bars[0].W {
		t.Errorf("bars = %+v", bars.Bars)
	}
	if niceCeil(0.5) != 1 || niceCeil(3) != 5 || niceCeil(21) != 25 || niceCeil(101) != 200 {
		t.Error("niceCeil")
	}
}
